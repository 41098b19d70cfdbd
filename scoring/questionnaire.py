"""Questionnaire YAML loader (phiếu khảo sát): validates a file into typed, frozen objects.

The format is specified in README.md ("Questionnaire YAML format"). The loader checks the whole
file and raises one :class:`QuestionnaireError` listing every problem as
``file:line path: message``, e.g.
``sipas-2023.yaml:87 sections[1].items[3].scale: unknown scale 'likert7'``.

Line numbers come from composing the YAML node tree (which keeps marks) and converting it to
plain values ourselves, recording the line of every mapping entry and sequence element.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, cast

from scoring.yaml_source import (
    MAX_YAML_CHARS,
    LineMap,
    ProblemLog,
    YamlPath,
    YamlSyntaxError,
    compose,
    is_number,
    type_name,
)

__all__ = [
    "SCHEMA_VERSION",
    "IndexNode",
    "Item",
    "Option",
    "Questionnaire",
    "QuestionnaireError",
    "Section",
    "ShowIf",
    "load_questionnaire",
    "parse_questionnaire",
]

SCHEMA_VERSION = 1
DEFAULT_TEXT_MAX_LENGTH = 500

ItemType = Literal["single", "multiple", "number", "text"]
Aggregate = Literal["item", "mean", "weighted_mean", "pooled", "sum"]
Answer = int | list[int] | tuple[int, ...] | None

_ITEM_TYPES: tuple[str, ...] = ("single", "multiple", "number", "text")
_AGGREGATES: tuple[str, ...] = ("mean", "weighted_mean", "pooled", "sum")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class QuestionnaireError(ValueError):
    """A questionnaire file is invalid; ``problems`` lists every ``file:line path: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in questionnaire"
        super().__init__(head + ":\n" + "\n".join(self.problems))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Option:
    """One answer option; ``valid=False`` marks e.g. "Không có ý kiến", outside every index."""

    code: int
    label: dict[str, str]
    valid: bool = True


@dataclass(frozen=True)
class ShowIf:
    """Skip logic: the item is shown only when earlier item ``item`` has one of ``codes``."""

    item: str
    codes: frozenset[int]


@dataclass(frozen=True)
class Item:
    """A question (câu hỏi); options are resolved from the named scale or given inline."""

    code: str
    text: dict[str, str]
    type: ItemType
    options: tuple[Option, ...] = ()
    scale: str | None = None
    required: bool = False
    show_if: ShowIf | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    max_length: int | None = None
    help: dict[str, str] | None = None

    @cached_property  # checked for every answer of every submission
    def codes(self) -> frozenset[int]:
        """All option codes."""
        return frozenset(o.code for o in self.options)

    @property
    def valid_codes(self) -> frozenset[int]:
        """Codes that count in index denominators."""
        return frozenset(o.code for o in self.options if o.valid)

    @property
    def invalid_codes(self) -> frozenset[int]:
        """Codes such as "Không có ý kiến / Không biết" that are answers but not valid ones."""
        return frozenset(o.code for o in self.options if not o.valid)

    def option(self, code: int) -> Option:
        """The option with this code (KeyError if the item has none)."""
        for o in self.options:
            if o.code == code:
                return o
        raise KeyError(f"item {self.code!r} has no option with code {code}")

    def is_shown(self, answers: Mapping[str, object]) -> bool:
        """Whether skip logic shows this item, given answers ``code -> int | list[int] | None``.

        An unanswered (missing or ``None``) controlling item hides the item; a multiple choice
        answer shows it when any chosen code is among ``show_if.codes``.
        """
        if self.show_if is None:
            return True
        answer = answers.get(self.show_if.item)
        if answer is None or isinstance(answer, bool):
            return False
        if isinstance(answer, int):
            return answer in self.show_if.codes
        if isinstance(answer, list | tuple | set | frozenset):
            return any(
                isinstance(a, int) and not isinstance(a, bool) and a in self.show_if.codes
                for a in answer
            )
        return False


@dataclass(frozen=True)
class Section:
    """A page of the form: one criteria group (nhóm tiêu chí)."""

    code: str
    title: dict[str, str]
    items: tuple[Item, ...]
    description: dict[str, str] | None = None


@dataclass(frozen=True)
class IndexNode:
    """A node of the index tree (lĩnh vực > tiêu chí > tiêu chí thành phần).

    Leaves have ``aggregate == 'item'``, ``item`` set and ``code`` equal to the item code;
    ``satisfied`` is already inherited from the nearest ancestor that sets it.
    """

    code: str
    label: dict[str, str]
    aggregate: Aggregate
    children: tuple[IndexNode, ...] = ()
    item: str | None = None
    weight: float | None = None
    satisfied: frozenset[int] = frozenset()
    range: tuple[float, float] | None = None

    @property
    def is_leaf(self) -> bool:
        return self.aggregate == "item"

    def walk(self) -> Iterator[IndexNode]:
        """This node and all nodes beneath it, depth-first, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> Iterator[IndexNode]:
        """The item leaves beneath (or equal to) this node, in order."""
        return (n for n in self.walk() if n.is_leaf)

    def item_codes(self) -> tuple[str, ...]:
        """Codes of the items beneath this node, in order."""
        return tuple(cast(str, n.item) for n in self.leaves())


@dataclass(frozen=True)
class Questionnaire:
    """A validated questionnaire version.

    ``content_hash`` is the sha256 of the canonical JSON of the validated content (defaults
    filled in, scales resolved into options, texts NFC-normalised, keys sorted): comments,
    whitespace, key order, quoting style and spelling out a default leave it unchanged; any
    change of wording, code, option, rule or index changes it. ``source`` is the YAML text
    exactly as read (for storing verbatim), ``filename`` the name used in messages.
    """

    schema: int
    id: str
    version: str
    title: dict[str, str]
    languages: tuple[str, ...]
    sections: tuple[Section, ...]
    respondent: tuple[Item, ...]
    index: IndexNode | None
    scales: dict[str, tuple[Option, ...]]
    content_hash: str
    source: str
    filename: str = ""
    description: dict[str, str] | None = None
    _items: tuple[Item, ...] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        items = tuple(i for s in self.sections for i in s.items) + self.respondent
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_by_code", {i.code: i for i in items})

    @property
    def items(self) -> tuple[Item, ...]:
        """All items: those of the sections in order, then the respondent block."""
        return self._items

    def has_item(self, code: str) -> bool:
        return code in self._by_code

    def shown_items(self, answers: Mapping[str, object]) -> tuple[Item, ...]:
        """The items skip logic shows, in form order.

        Chains are followed: the answer to an item that is itself hidden counts as no answer,
        so a stale answer cannot show the items beneath it.
        """
        shown: list[Item] = []
        visible: dict[str, object] = {}
        for item in self.items:
            if item.is_shown(visible):
                shown.append(item)
                visible[item.code] = answers.get(item.code)
        return tuple(shown)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def item(self, code: str) -> Item:
        """The item with this code; KeyError naming the questionnaire if there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(
                f"questionnaire {self.id!r} version {self.version!r} has no item {code!r}"
            ) from None


# --------------------------------------------------------------------------- validation


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_FRACTION_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


def _fraction(v: object) -> float | None:
    """A number, or a string fraction such as "10/3" (exact thirds do not fit in decimals)."""
    if is_number(v):
        return float(cast(float, v))
    if isinstance(v, str) and (m := _FRACTION_RE.match(v)) and float(m.group(2)) != 0:
        return float(m.group(1)) / float(m.group(2))
    return None


class _Validator(ProblemLog):
    def __init__(self, filename: str, lines: LineMap) -> None:
        super().__init__(filename, lines)
        self.languages: tuple[str, ...] = ()
        self.scales: dict[str, tuple[Option, ...]] = {}

    # -- generic helpers

    def string(self, value: object, path: YamlPath, pattern: re.Pattern[str] | None = None) -> str:
        if isinstance(value, str) and value.strip():
            if pattern is not None and not pattern.match(value):
                self.err(path, f"invalid code {value!r} (letters, digits, '.', '_', '-')")
            return value
        if is_number(value) and pattern is not None:
            self.err(path, f'expected a string, got {type_name(value)} (quote it: "{value}")')
            return str(value)
        self.err(path, f"expected a non-empty string, got {type_name(value)}")
        return ""

    def boolean(self, value: object, path: YamlPath) -> bool:
        if isinstance(value, bool):
            return value
        self.err(path, f"expected true or false, got {type_name(value)}")
        return False

    def number(self, value: object, path: YamlPath) -> float | None:
        if is_number(value):
            return float(cast(float, value))
        self.err(path, f"expected a number, got {type_name(value)}")
        return None

    def texts(self, value: object, path: YamlPath) -> dict[str, str]:
        """A multilingual text: every language of ``languages`` and no other."""
        if not isinstance(value, dict):
            self.err(
                path, f"expected a text per language {{vi: ..., en: ...}}, got {type_name(value)}"
            )
            return {}
        out: dict[str, str] = {}
        for lang in self.languages:
            if lang not in value:
                self.err(path, f"missing language {lang!r}")
        for lang, text in value.items():
            if lang not in self.languages:
                self.err(
                    path + (lang,),
                    f"language {lang!r} is not in languages [{', '.join(self.languages)}]",
                )
                continue
            if not isinstance(text, str) or not text.strip():
                # YAML 1.1 reads unquoted Yes/No/On/Off as booleans.
                hint = ' (quote it: "Yes")' if isinstance(text, bool) else ""
                self.err(path + (lang,), f"expected a non-empty text, got {type_name(text)}{hint}")
                continue
            out[lang] = unicodedata.normalize("NFC", text.strip())
        return out

    # -- parts

    def options(self, value: object, path: YamlPath) -> tuple[Option, ...]:
        if not isinstance(value, list) or not value:
            self.err(path, f"expected a non-empty list of options, got {type_name(value)}")
            return ()
        out: list[Option] = []
        seen: dict[int, int] = {}
        for i, raw in enumerate(value):
            p = path + (i,)
            m = self.mapping(raw, p, ("code", "label"), ("valid",))
            if m is None:
                continue
            code = m.get("code")
            if "code" in m and not _is_int(code):
                self.err(p + ("code",), f"option code must be an integer, got {type_name(code)}")
                code = None
            label = self.texts(m["label"], p + ("label",)) if "label" in m else {}
            valid = self.boolean(m["valid"], p + ("valid",)) if "valid" in m else True
            if isinstance(code, int):
                if code in seen:
                    self.err(
                        p + ("code",),
                        f"duplicate option code {code} (first at line "
                        f"{self.lines.line(path + (seen[code],))})",
                    )
                    continue
                seen[code] = i
                out.append(Option(code=code, label=label, valid=valid))
        return tuple(out)

    def scales_(self, value: object, path: YamlPath) -> None:
        if not isinstance(value, dict):
            self.err(path, f"expected a mapping of named scales, got {type_name(value)}")
            return
        for name, raw in value.items():
            p = path + (name,)
            if not _CODE_RE.match(name):
                self.err(p, f"invalid scale name {name!r} (letters, digits, '.', '_', '-')")
            m = self.mapping(raw, p, ("options",), ())
            if m is None or "options" not in m:
                self.scales[name] = ()
                continue
            self.scales[name] = self.options(m["options"], p + ("options",))

    def item(self, raw: object, path: YamlPath) -> tuple[Item | None, dict[str, Any]]:
        m = self.mapping(
            raw,
            path,
            ("code", "text", "type"),
            (
                "scale",
                "options",
                "required",
                "show_if",
                "min",
                "max",
                "integer",
                "max_length",
                "help",
            ),
        )
        if m is None:
            return None, {}
        code = self.string(m["code"], path + ("code",), _CODE_RE) if "code" in m else ""
        text = self.texts(m["text"], path + ("text",)) if "text" in m else {}
        help_ = self.texts(m["help"], path + ("help",)) if "help" in m else None
        required = self.boolean(m["required"], path + ("required",)) if "required" in m else False
        type_ = m.get("type")
        if "type" in m and type_ not in _ITEM_TYPES:
            self.err(
                path + ("type",),
                f"unknown type {type_!r} (expected one of: {', '.join(_ITEM_TYPES)})",
            )
            type_ = None

        choice_keys = ("scale", "options")
        number_keys = ("min", "max", "integer")
        text_keys = ("max_length",)
        own_keys = {
            "single": choice_keys,
            "multiple": choice_keys,
            "number": number_keys,
            "text": text_keys,
        }
        options: tuple[Option, ...] = ()
        scale: str | None = None
        minimum = maximum = None
        integer = False
        max_length: int | None = None
        if isinstance(type_, str):
            for key in choice_keys + number_keys + text_keys:
                if key in m and key not in own_keys[type_]:
                    self.err(path + (key,), f"{key!r} does not apply to a {type_} item")
        if type_ in ("single", "multiple"):
            if "scale" in m and "options" in m:
                self.err(path, "give either 'scale' or 'options', not both")
            elif "scale" not in m and "options" not in m:
                self.err(path, f"a {type_} item needs 'scale' or 'options'")
            if "scale" in m:
                name = m["scale"]
                if not isinstance(name, str):
                    self.err(path + ("scale",), f"expected a scale name, got {type_name(name)}")
                elif name not in self.scales:
                    self.err(path + ("scale",), f"unknown scale {name!r}")
                else:
                    scale = name
                    options = self.scales[name]
            elif "options" in m:
                options = self.options(m["options"], path + ("options",))
        elif type_ == "number":
            if "min" in m:
                minimum = self.number(m["min"], path + ("min",))
            if "max" in m:
                maximum = self.number(m["max"], path + ("max",))
            if "integer" in m:
                integer = self.boolean(m["integer"], path + ("integer",))
            if minimum is not None and maximum is not None and minimum > maximum:
                self.err(path + ("max",), f"max {maximum:g} is below min {minimum:g}")
        elif type_ == "text":
            max_length = DEFAULT_TEXT_MAX_LENGTH
            if "max_length" in m:
                v = m["max_length"]
                if not _is_int(v) or v <= 0:
                    self.err(
                        path + ("max_length",),
                        f"expected a positive integer, got {type_name(v)} {v!r}",
                    )
                else:
                    max_length = v
        if not code or type_ is None:
            return None, m
        return (
            Item(
                code=code,
                text=text,
                type=cast(ItemType, type_),
                options=options,
                scale=scale,
                required=required,
                minimum=minimum,
                maximum=maximum,
                integer=integer,
                max_length=max_length,
                help=help_,
            ),
            m,
        )

    def show_if(
        self,
        raw: object,
        path: YamlPath,
        earlier: dict[str, Item],
        later: set[str],
    ) -> ShowIf | None:
        m = self.mapping(raw, path, ("item", "in"), ())
        if m is None or "item" not in m:
            return None
        target = m["item"]
        if not isinstance(target, str):
            self.err(path + ("item",), f"expected an item code, got {type_name(target)}")
            return None
        if target not in earlier:
            if target in later:
                self.err(
                    path + ("item",),
                    f"item {target!r} does not come earlier in the form "
                    "(show_if may only refer to earlier items)",
                )
            else:
                self.err(path + ("item",), f"unknown item {target!r}")
            return None
        controlling = earlier[target]
        if controlling.type not in ("single", "multiple"):
            self.err(
                path + ("item",),
                f"item {target!r} is a {controlling.type} item; "
                "show_if needs a single or multiple choice item",
            )
            return None
        if "in" not in m:
            return None
        codes = m["in"]
        if _is_int(codes):
            codes = [codes]
        if not isinstance(codes, list) or not codes:
            self.err(path + ("in",), f"expected a non-empty list of codes, got {type_name(codes)}")
            return None
        good: set[int] = set()
        for i, c in enumerate(codes):
            if not controlling.options:
                break  # its scale or options are already reported
            if not _is_int(c):
                self.err(path + ("in", i), f"expected an integer code, got {type_name(c)}")
            elif c not in controlling.codes:
                self.err(path + ("in", i), f"code {c} is not an option of item {target!r}")
            else:
                good.add(c)
        return ShowIf(item=target, codes=frozenset(good))

    def satisfied(self, value: object, path: YamlPath) -> frozenset[int] | None:
        if _is_int(value):
            value = [value]
        if not isinstance(value, list) or not value or not all(_is_int(c) for c in value):
            self.err(path, f"expected a non-empty list of integer codes, got {type_name(value)}")
            return None
        return frozenset(value)

    def index_node(
        self,
        raw: object,
        path: YamlPath,
        inherited: frozenset[int] | None,
        items: dict[str, Item],
        seen: dict[str, YamlPath],
        parent_aggregate: str | None,
    ) -> IndexNode | None:
        m = self.mapping(
            raw,
            path,
            ("code", "label", "aggregate"),
            ("satisfied", "children", "items", "weight", "range"),
        )
        if m is None:
            return None
        code = self.string(m["code"], path + ("code",), _CODE_RE) if "code" in m else ""
        label = self.texts(m["label"], path + ("label",)) if "label" in m else {}
        aggregate = m.get("aggregate")
        if "aggregate" in m and aggregate not in _AGGREGATES:
            self.err(
                path + ("aggregate",),
                f"unknown aggregate {aggregate!r} (expected one of: {', '.join(_AGGREGATES)})",
            )
            aggregate = None
        weight = self.weight(m, path, parent_aggregate)
        range_ = self.range_(m["range"], path + ("range",)) if "range" in m else None
        satisfied = inherited
        if "satisfied" in m:
            satisfied = self.satisfied(m["satisfied"], path + ("satisfied",)) or inherited
        if code:
            self.claim(code, path + ("code",), seen)

        children: list[IndexNode] = []
        if "children" in m and "items" in m:
            self.err(path, "give either 'children' or 'items', not both")
        elif "children" not in m and "items" not in m:
            self.err(path, "an index node needs 'children' or 'items'")
        elif "children" in m:
            raw_children = m["children"]
            if not isinstance(raw_children, list) or not raw_children:
                self.err(
                    path + ("children",),
                    f"expected a non-empty list of nodes, got {type_name(raw_children)}",
                )
            else:
                for i, c in enumerate(raw_children):
                    node = self.index_node(
                        c, path + ("children", i), satisfied, items, seen, aggregate
                    )
                    if node is not None:
                        children.append(node)
        else:
            raw_items = m["items"]
            if not isinstance(raw_items, list) or not raw_items:
                self.err(
                    path + ("items",),
                    f"expected a non-empty list of item codes, got {type_name(raw_items)}",
                )
            else:
                for i, c in enumerate(raw_items):
                    leaf = self.leaf(c, path + ("items", i), satisfied, items, seen, aggregate)
                    if leaf is not None:
                        children.append(leaf)
        if not code or aggregate is None:
            return None
        return IndexNode(
            code=code,
            label=label,
            aggregate=cast(Aggregate, aggregate),
            children=tuple(children),
            weight=weight,
            satisfied=satisfied or frozenset(),
            range=range_,
        )

    def weight(
        self, m: dict[str, Any], path: YamlPath, parent_aggregate: str | None
    ) -> float | None:
        if "weight" not in m:
            if parent_aggregate == "weighted_mean":
                self.err(path, "missing 'weight' (weighted_mean needs a weight on every child)")
            return None
        w = self.number(m["weight"], path + ("weight",))
        if parent_aggregate != "weighted_mean":
            self.err(path + ("weight",), "'weight' is only used under a weighted_mean node")
        elif w is not None and w <= 0:
            self.err(path + ("weight",), f"weight must be positive, got {w:g}")
        return w

    def range_(self, value: object, path: YamlPath) -> tuple[float, float] | None:
        bounds = [_fraction(v) for v in value] if isinstance(value, list) else []
        if len(bounds) != 2 or bounds[0] is None or bounds[1] is None:
            self.err(path, f'expected [low, high] (numbers or fractions like "1/3"), got {value!r}')
            return None
        low, high = bounds[0], bounds[1]
        if low >= high:
            self.err(path, f"low {low:g} must be below high {high:g}")
            return None
        return (low, high)

    def claim(self, code: str, path: YamlPath, seen: dict[str, YamlPath]) -> None:
        if code in seen:
            self.err(
                path, f"duplicate node code {code!r} (first at line {self.lines.line(seen[code])})"
            )
        else:
            seen[code] = path

    def leaf(
        self,
        raw: object,
        path: YamlPath,
        satisfied: frozenset[int] | None,
        items: dict[str, Item],
        seen: dict[str, YamlPath],
        parent_aggregate: str | None,
    ) -> IndexNode | None:
        weight: float | None = None
        code_path = path
        if isinstance(raw, dict):
            m = self.mapping(raw, path, ("item",), ("weight",))
            if m is None or "item" not in m:
                return None
            weight = self.weight(m, path, parent_aggregate)
            code, code_path = m["item"], path + ("item",)
        else:
            code = raw
            if parent_aggregate == "weighted_mean":
                self.err(
                    path,
                    "missing 'weight' (weighted_mean needs a weight on every child; "
                    "write {item: CODE, weight: W})",
                )
        if not isinstance(code, str):
            self.err(code_path, f"expected an item code, got {type_name(code)}")
            return None
        if code not in items:
            self.err(code_path, f"unknown item {code!r}")
            return None
        item = items[code]
        self.claim(code, code_path, seen)
        if item.type != "single":
            self.err(
                code_path,
                f"item {code!r} is a {item.type} item; index leaves must be single choice items",
            )
            return None
        if not item.options:
            pass  # its scale or options are already reported
        elif satisfied is None:
            self.err(
                code_path,
                f"no 'satisfied' codes for item {code!r} (set satisfied on this node or above)",
            )
        else:
            bad = sorted(satisfied - item.valid_codes)
            if bad:
                valid = ", ".join(map(str, sorted(item.valid_codes)))
                self.err(
                    code_path,
                    f"satisfied code{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))} "
                    f"not among the valid codes of item {code!r} ({valid})",
                )
        return IndexNode(
            code=code,
            label=item.text,
            aggregate="item",
            item=code,
            weight=weight,
            satisfied=satisfied or frozenset(),
        )


def _check_items(
    v: _Validator,
    raw_items: object,
    path: YamlPath,
    all_items: dict[str, Item],
    item_paths: dict[str, YamlPath],
    pending: list[tuple[Item, dict[str, Any], YamlPath]],
) -> list[Item]:
    if not isinstance(raw_items, list) or not raw_items:
        v.err(path, f"expected a non-empty list of items, got {type_name(raw_items)}")
        return []
    out: list[Item] = []
    for i, raw in enumerate(raw_items):
        p = path + (i,)
        item, m = v.item(raw, p)
        if item is None:
            continue
        if item.code in all_items:
            v.err(
                p + ("code",),
                f"duplicate item code {item.code!r} (first at line "
                f"{v.lines.line(item_paths[item.code])})",
            )
            continue
        all_items[item.code] = item
        item_paths[item.code] = p + ("code",)
        pending.append((item, m, p))
        out.append(item)
    return out


def _canonical(q: dict[str, Any]) -> Any:
    def conv(x: Any) -> Any:
        if isinstance(x, Option | ShowIf | Item | Section | IndexNode):
            return {k: conv(getattr(x, k)) for k in x.__dataclass_fields__}
        if isinstance(x, dict):
            return {str(k): conv(val) for k, val in x.items()}
        if isinstance(x, frozenset):
            return sorted(x)
        if isinstance(x, tuple | list):
            return [conv(e) for e in x]
        return x

    return conv(q)


def parse_questionnaire(text: str, filename: str) -> Questionnaire:
    """Validate questionnaire YAML ``text``; ``filename`` names it in messages.

    Raises QuestionnaireError listing every problem found.
    """
    try:
        data, lines, compose_problems = compose(text, filename)
    except YamlSyntaxError as exc:
        raise QuestionnaireError([str(exc)]) from None

    v = _Validator(filename, lines)
    for path, message in compose_problems:
        v.err(path, message)
    if data is None:
        v.err((), "empty file, expected a questionnaire mapping")
        raise QuestionnaireError(v.messages())
    if not isinstance(data, dict):
        v.err((), f"expected a questionnaire mapping, got {type_name(data)}")
        raise QuestionnaireError(v.messages())

    # The schema decides how everything else reads, so an unknown one stops here.
    if "schema" not in data:
        v.err((), f"missing required key 'schema' (this program reads {SCHEMA_VERSION})")
        raise QuestionnaireError(v.messages())
    if data["schema"] != SCHEMA_VERSION or not _is_int(data["schema"]):
        v.err(
            ("schema",),
            f"unknown schema version {data['schema']!r} (this program reads {SCHEMA_VERSION})",
        )
        raise QuestionnaireError(v.messages())

    m = v.mapping(
        data,
        (),
        ("schema", "id", "version", "title", "languages", "sections"),
        ("description", "scales", "respondent", "index"),
    )
    assert m is not None
    qid = v.string(m["id"], ("id",)) if "id" in m else ""
    if qid and not _ID_RE.match(qid):
        v.err(("id",), f"invalid id {qid!r} (letters, digits, '-', '_')")
    version = ""
    if "version" in m:
        raw_version = m["version"]
        if isinstance(raw_version, str) and raw_version.strip():
            version = raw_version
        else:
            hint = f' (quote it: "{raw_version}")' if is_number(raw_version) else ""
            v.err(("version",), f"expected a string, got {type_name(raw_version)}{hint}")

    languages: list[str] = []
    raw_langs = m.get("languages")
    if "languages" in m:
        if not isinstance(raw_langs, list) or not raw_langs:
            v.err(
                ("languages",),
                f"expected a non-empty list of language codes, got {type_name(raw_langs)}",
            )
        else:
            for i, lang in enumerate(raw_langs):
                if not isinstance(lang, str) or not lang.strip():
                    v.err(("languages", i), f"expected a language code, got {type_name(lang)}")
                elif lang in languages:
                    v.err(("languages", i), f"duplicate language {lang!r}")
                else:
                    languages.append(lang)
    v.languages = tuple(languages)
    title = v.texts(m["title"], ("title",)) if "title" in m else {}
    description = v.texts(m["description"], ("description",)) if "description" in m else None
    if "scales" in m:
        v.scales_(m["scales"], ("scales",))

    all_items: dict[str, Item] = {}
    item_paths: dict[str, YamlPath] = {}
    pending: list[tuple[Item, dict[str, Any], YamlPath]] = []
    sections: list[Section] = []
    if "sections" in m:
        raw_sections = m["sections"]
        if not isinstance(raw_sections, list) or not raw_sections:
            v.err(
                ("sections",),
                f"expected a non-empty list of sections, got {type_name(raw_sections)}",
            )
            raw_sections = []
        section_paths: dict[str, YamlPath] = {}
        for i, raw in enumerate(raw_sections):
            p: YamlPath = ("sections", i)
            sm = v.mapping(raw, p, ("code", "title", "items"), ("description",))
            if sm is None:
                continue
            scode = v.string(sm["code"], p + ("code",), _CODE_RE) if "code" in sm else ""
            if scode in section_paths:
                v.err(
                    p + ("code",),
                    f"duplicate section code {scode!r} (first at line "
                    f"{lines.line(section_paths[scode])})",
                )
            elif scode:
                section_paths[scode] = p + ("code",)
            stitle = v.texts(sm["title"], p + ("title",)) if "title" in sm else {}
            sdesc = (
                v.texts(sm["description"], p + ("description",)) if "description" in sm else None
            )
            sitems = (
                _check_items(v, sm["items"], p + ("items",), all_items, item_paths, pending)
                if "items" in sm
                else []
            )
            sections.append(
                Section(code=scode, title=stitle, items=tuple(sitems), description=sdesc)
            )
    respondent: list[Item] = []
    if "respondent" in m:
        respondent = _check_items(
            v, m["respondent"], ("respondent",), all_items, item_paths, pending
        )

    # Skip logic needs the order of the whole form, so it is resolved after every item is known.
    order = [item.code for item, _, _ in pending]
    resolved: dict[str, Item] = {}
    for pos, (item, raw_item, p) in enumerate(pending):
        if "show_if" in raw_item:
            earlier = {c: all_items[c] for c in order[:pos]}
            later = set(order[pos:])
            cond = v.show_if(raw_item["show_if"], p + ("show_if",), earlier, later)
            if cond is not None:
                resolved[item.code] = Item(**{**_fields(item), "show_if": cond})

    def final(it: Item) -> Item:
        return resolved.get(it.code, it)

    sections = [
        Section(
            code=s.code,
            title=s.title,
            items=tuple(final(i) for i in s.items),
            description=s.description,
        )
        for s in sections
    ]
    respondent = [final(i) for i in respondent]
    all_items = {c: final(i) for c, i in all_items.items()}

    index: IndexNode | None = None
    if "index" in m:
        index = v.index_node(m["index"], ("index",), None, all_items, {}, None)

    if v.problems:
        raise QuestionnaireError(v.messages())

    content = {
        "schema": SCHEMA_VERSION,
        "id": qid,
        "version": version,
        "title": title,
        "description": description,
        "languages": languages,
        "scales": v.scales,
        "sections": sections,
        "respondent": respondent,
        "index": index,
    }
    canonical = json.dumps(
        _canonical(content), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return Questionnaire(
        schema=SCHEMA_VERSION,
        id=qid,
        version=version,
        title=title,
        languages=tuple(languages),
        sections=tuple(sections),
        respondent=tuple(respondent),
        index=index,
        scales=dict(v.scales),
        content_hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        source=text,
        filename=filename,
        description=description,
    )


def _fields(item: Item) -> dict[str, Any]:
    return {k: getattr(item, k) for k in item.__dataclass_fields__}


def load_questionnaire(path: str | os.PathLike[str]) -> Questionnaire:
    """Read and validate a questionnaire file (UTF-8); messages name the file by its base name."""
    p = Path(path)
    try:
        # Refused before reading: a huge file is not read whole to be refused afterwards.
        if p.stat().st_size > 4 * MAX_YAML_CHARS:
            raise QuestionnaireError(
                [f"{p.name}:1: tệp quá lớn (larger than {4 * MAX_YAML_CHARS:,} bytes)"]
            )
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError([f"{p.name}:1: not UTF-8 text ({exc.reason})"]) from None
    return parse_questionnaire(text, p.name)
