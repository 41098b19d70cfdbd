"""YAML read with the line of every value, for messages like ``file:87 a.b[3].c: ...``.

The questionnaire loader and the PAR mapping loader both read through here, so a
problem is named the same way in every file an official edits.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

YamlPath = tuple[str | int, ...]

# What an official's YAML file may hold. The largest questionnaire (PAPI, 51 items) is
# 22 KB, about 2,500 nodes, nested 7 deep; none uses an anchor or alias. Aliases are
# refused outright: an "alias bomb" of 400 bytes expands to gigabytes once constructed.
# Depth is checked before PyYAML's recursive composer recurses (else RecursionError).
MAX_YAML_CHARS = 1_000_000
MAX_YAML_DEPTH = 40
MAX_YAML_NODES = 100_000


class YamlSyntaxError(ValueError):
    """The text is not YAML, or exceeds a budget; ``str()`` is ``file:line: message``."""


class _BudgetExceeded(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else 1
        self.message = message


class _BudgetLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, and counts nodes and depth while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0
        # Anchors of the nodes being composed: an alias to one of them is a cycle, which
        # the composer below reports by its own words and does not follow.
        self.open_anchors: list[str | None] = []

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                return super().compose_node(parent, index)
            raise _BudgetExceeded(
                event.start_mark,
                f"không được dùng bí danh YAML (*{event.anchor}) trong tệp này; hãy viết đầy đủ "
                "giá trị (aliases are not allowed)",
            )
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise _BudgetExceeded(
                event.start_mark,
                f"tệp có quá nhiều phần tử: tối đa {MAX_YAML_NODES} "
                f"(more than {MAX_YAML_NODES} nodes)",
            )
        self.depth += 1
        anchor = getattr(event, "anchor", None)
        self.open_anchors.append(anchor)
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise _BudgetExceeded(
                    event.start_mark,
                    f"lồng nhau quá sâu: tối đa {MAX_YAML_DEPTH} cấp "
                    f"(nested deeper than {MAX_YAML_DEPTH} levels)",
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.open_anchors.pop()


def format_path(path: YamlPath) -> str:
    """``("sections", 1, "items", 3, "scale")`` -> ``sections[1].items[3].scale``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def type_name(v: object) -> str:
    """How a message names the type of a value an official wrote."""
    if v is None:
        return "nothing"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(v), type(v).__name__)


def is_number(v: object) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


class LineMap:
    """Line (1-based) of every mapping entry and sequence element, keyed by path."""

    def __init__(self) -> None:
        self.by_path: dict[YamlPath, int] = {}

    def line(self, path: YamlPath) -> int:
        # A missing entry (e.g. a defaulted key) falls back to its nearest recorded parent.
        while path not in self.by_path and path:
            path = path[:-1]
        return self.by_path.get(path, 1)


class _Composer:
    """Turn a composed node tree into plain Python values, recording lines and duplicate keys."""

    def __init__(
        self, loader: yaml.SafeLoader, lines: LineMap, problems: list[tuple[YamlPath, str]]
    ):
        self.loader = loader
        self.lines = lines
        self.problems = problems

    def value(self, node: yaml.Node, path: YamlPath, stack: frozenset[int] = frozenset()) -> Any:
        if id(node) in stack:
            self.problems.append((path, "an alias refers to a node that contains it"))
            return None
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            stack = stack | {id(node)}
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    self.lines.by_path.setdefault(path + (str(key),), key_node.start_mark.line + 1)
                    self.problems.append((path + (str(key),), "keys must be strings"))
                    continue
                sub = path + (key,)
                line = key_node.start_mark.line + 1
                if key in out:
                    first = self.lines.by_path.get(sub, line)
                    self.lines.by_path[sub] = line
                    self.problems.append((sub, f"duplicate key {key!r} (first at line {first})"))
                    continue
                self.lines.by_path[sub] = line
                out[key] = self.value(value_node, sub, stack)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.lines.by_path[path + (i,)] = child.start_mark.line + 1
                items.append(self.value(child, path + (i,), stack))
            return items
        return self.loader.construct_object(node, deep=True)


def compose(text: str, filename: str) -> tuple[Any, LineMap, list[tuple[YamlPath, str]]]:
    """Parse ``text``: the plain value, the line of every path, and structural problems.

    Structural problems (duplicate keys, non-string keys, self-containing aliases)
    are returned for the caller's report; a syntax error raises
    :class:`YamlSyntaxError` naming the file and line.
    """
    lines = LineMap()
    problems: list[tuple[YamlPath, str]] = []
    if len(text) > MAX_YAML_CHARS:
        raise YamlSyntaxError(
            f"{filename}:1: tệp quá lớn: tối đa {MAX_YAML_CHARS:,} ký tự "
            f"(larger than {MAX_YAML_CHARS:,} characters)".replace(",", ".")
        )
    try:
        loader = _BudgetLoader(text)
        try:
            root = loader.get_single_node()
            data = _Composer(loader, lines, problems).value(root, ()) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = exc.problem or str(exc)
        if exc.context:
            message = f"{exc.context}: {message}"
        if exc.context and "flow" in exc.context:
            # The usual cause: an unquoted Vietnamese text with a comma inside {vi: ..., en: ...}.
            message += " (quote texts that contain ',', ':', '?' or '#')"
        raise YamlSyntaxError(f"{filename}:{line}: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"{filename}:1: {exc}") from None
    except _BudgetExceeded as exc:
        raise YamlSyntaxError(f"{filename}:{exc.line}: {exc.message}") from None
    except RecursionError:
        # Deep flow collections nest in PyYAML's parser too; never a traceback.
        raise YamlSyntaxError(
            f"{filename}:1: lồng nhau quá sâu (nested too deep to read)"
        ) from None
    return data, lines, problems


def load_plain(text: str, filename: str) -> Any:
    """The plain value of a YAML text, within the budgets; raises :class:`YamlSyntaxError`
    for a syntax error, an exceeded budget or a structural problem (duplicate key...)."""
    data, lines, problems = compose(text, filename)
    if problems:
        path, message = problems[0]
        where = format_path(path)
        raise YamlSyntaxError(f"{filename}:{lines.line(path)} {where}: {message}")
    return data


class ProblemLog:
    """Collects every problem of a file, reported in file order as ``file:line path: message``."""

    def __init__(self, filename: str, lines: LineMap) -> None:
        self.filename = filename
        self.lines = lines
        self.problems: list[tuple[int, YamlPath, str]] = []

    def err(self, path: YamlPath, message: str) -> None:
        self.problems.append((self.lines.line(path), path, message))

    def messages(self) -> list[str]:
        out = []
        # Stable sort: file order, and within a line the order the checks ran.
        for line, path, message in sorted(self.problems, key=lambda p: p[0]):
            where = f"{self.filename}:{line}"
            p = format_path(path)
            out.append(f"{where} {p}: {message}" if p else f"{where}: {message}")
        return out

    def mapping(
        self, value: object, path: YamlPath, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """``value`` if it is a mapping with the required keys and no unknown ones."""
        if not isinstance(value, dict):
            self.err(path, f"expected a mapping, got {type_name(value)}")
            return None
        for key in required:
            if key not in value:
                self.err(path, f"missing required key {key!r}")
        allowed = required + optional
        for key in value:
            if key not in allowed:
                self.err(
                    path + (key,), f"unknown key {key!r} (expected one of: {', '.join(allowed)})"
                )
        return value
