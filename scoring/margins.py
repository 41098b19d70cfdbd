"""Population margins (số lượng tổng thể): the one file format for post-stratification and raking.

A margins table has a count column, named ``count``, ``N``, ``n``, ``population``,
``Freq`` or ``freq`` (R's ``population=`` data frames), and one of two layouts:

- wide, one margin: a column per variable and a row per cell,
  ``gender,age_group,count`` then ``1,1,1200`` (R ``postStratify(design, ~gender+age_group,
  population)``);
- long, one margin per variable: the columns ``variable,value,count``, e.g.
  ``gender,1,5200`` (the margins of R ``rake(design, list(~gender, ~age_group), ...)``).

Cell values are kept as text as written (stripped); the caller matches them to its
data (the command line as text, the app as answer codes). Every fault is a
:class:`~scoring.errors.MarginsError` whose ``code`` and ``params`` name the line
(1 is the header) and the value, so an application can say it in its own language.

The command line (``python -m scoring --poststratify/--rake FILE``) reads files with
:func:`read_margins`, the app reads an uploaded CSV with :func:`parse_margins`: the same
CSV gives the same margins.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scoring.errors import MarginsError
from scoring.io import _as_text, read_table

__all__ = [
    "COUNT_COLUMNS",
    "LONG_COLUMNS",
    "Margin",
    "margins_from_rows",
    "parse_margins",
    "read_margins",
]

#: Names of the population count column, in order of preference (R's ``Freq`` included).
COUNT_COLUMNS: tuple[str, ...] = ("count", "N", "n", "population", "Freq", "freq")
#: The largest population count of a cell: float64 holds whole numbers exactly up to 2**53.
MAX_COUNT = 2.0**53
#: The variable and value columns of the long layout (several single-variable margins).
LONG_COLUMNS: tuple[str, str] = ("variable", "value")


@dataclass(frozen=True)
class Margin:
    """Population counts over the cells of one or more variables.

    ``cells`` maps a tuple of labels (one per variable) to the cell's population count;
    ``lines``, when the margin was read from a file, the cell to its line (1: the header),
    so a caller that checks the labels can name the line.
    """

    variables: tuple[str, ...]
    cells: Mapping[tuple[Hashable, ...], float]
    lines: Mapping[tuple[Hashable, ...], int] = field(default_factory=dict, compare=False)

    @property
    def by(self) -> str | list[str]:
        """The variable, or the crossed variables: ``by`` of post-stratification and raking."""
        return self.variables[0] if len(self.variables) == 1 else list(self.variables)

    def population(self) -> dict[object, float]:
        """Counts keyed as post-stratification and raking take them (a label, or a tuple)."""
        return {
            (cell[0] if len(self.variables) == 1 else cell): count
            for cell, count in self.cells.items()
        }

    def total(self) -> float:
        return float(sum(self.cells.values()))


def parse_margins(text: str, name: str = "margins") -> tuple[Margin, ...]:
    """The margins in CSV text (UTF-8, a BOM from Excel accepted); ``name`` names it in errors."""
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error as error:
        raise MarginsError(
            f"{name}: not readable as CSV ({error})", code="unreadable", detail=str(error)
        ) from None
    return margins_from_rows(rows, name)


def read_margins(path: str | os.PathLike[str]) -> tuple[Margin, ...]:
    """The margins in a CSV, TSV, XLSX or JSON file (CSV exactly as :func:`parse_margins`)."""
    p = Path(path)
    kind = p.suffix.lower().lstrip(".")
    if kind == "csv":
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            raise MarginsError(
                f"{p.name}: not UTF-8 text ({error.reason})", code="unreadable", detail=error.reason
            ) from None
        return parse_margins(text, p.name)
    if kind == "tsv":
        text = p.read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
        return margins_from_rows(rows, p.name)
    frame = read_table(p)
    cells = [_as_text(frame[c]).fillna("") for c in frame.columns]
    rows = [list(frame.columns), *(list(map(str, row)) for row in zip(*cells, strict=True))]
    return margins_from_rows(rows, p.name)


def margins_from_rows(rows: Sequence[Sequence[str]], name: str = "margins") -> tuple[Margin, ...]:
    """The margins of a table given as rows of text, the header first (line 1)."""
    numbered = [
        (line, row) for line, row in enumerate(rows, start=1) if any(c.strip() for c in row)
    ]
    if len(numbered) < 2:
        raise MarginsError(
            f"{name}: a margins table needs a header and at least one row of counts", code="empty"
        )
    header = [h.strip() for h in numbered[0][1]]
    count = next((c for c in COUNT_COLUMNS if c in header), None)
    if count is None:
        raise MarginsError(
            f"{name}: no population count column ({', '.join(COUNT_COLUMNS)})",
            code="no_count",
            names=COUNT_COLUMNS,
        )
    at = header.index(count)
    for line, row in numbered[1:]:
        if len(row) != len(header):
            raise MarginsError(
                f"{name}:{line}: {len(row)} columns, the header has {len(header)}",
                code="row_width",
                line=line,
                found=len(row),
                expected=len(header),
            )
    body = [
        (line, [c.strip() for c in row], _count(row[at], line, count, name))
        for line, row in numbered[1:]
    ]
    variables = [h for h in header if h != count]
    if variables == list(LONG_COLUMNS):
        return _long(body, header, name)
    if not variables:
        raise MarginsError(
            f"{name}: a margins table needs a column of the data", code="no_variables"
        )
    cells: dict[tuple[Hashable, ...], float] = {}
    lines: dict[tuple[Hashable, ...], int] = {}
    where = [header.index(v) for v in variables]
    for line, row, value in body:
        cell = tuple(_label(row[k], header[k], line, name) for k in where)
        if cell in cells:
            raise _duplicate(name, line, variables, cell)
        cells[cell], lines[cell] = value, line
    return (Margin(tuple(variables), cells, lines),)


def _long(
    body: list[tuple[int, list[str], float]], header: list[str], name: str
) -> tuple[Margin, ...]:
    """One margin per variable of a ``variable,value,count`` table, in order of appearance."""
    v_at, l_at = header.index(LONG_COLUMNS[0]), header.index(LONG_COLUMNS[1])
    margins: dict[str, dict[tuple[Hashable, ...], float]] = {}
    lines: dict[str, dict[tuple[Hashable, ...], int]] = {}
    for line, row, value in body:
        variable = _label(row[v_at], LONG_COLUMNS[0], line, name)
        cell = (_label(row[l_at], LONG_COLUMNS[1], line, name),)
        cells = margins.setdefault(variable, {})
        if cell in cells:
            raise _duplicate(name, line, [variable], cell)
        cells[cell] = value
        lines.setdefault(variable, {})[cell] = line
    return tuple(Margin((v,), cells, lines[v]) for v, cells in margins.items())


def _count(raw: str, line: int, column: str, name: str) -> float:
    """A population count: a number (spaces as thousands separators allowed) above zero,
    finite and at most 2**53 (beyond, counts are no longer whole numbers in float64)."""
    text = raw.strip().replace(" ", "")
    try:
        value = float(text)
    except ValueError:
        raise MarginsError(
            f"{name}:{line}: population count {column!r} is not a number",
            code="count_not_number",
            line=line,
            value=text,
        ) from None
    if not value > 0 or not math.isfinite(value) or value > MAX_COUNT:
        raise MarginsError(
            f"{name}:{line}: population count {column!r} must be a finite number above 0 "
            "and at most 2**53",
            code="count_not_positive" if not value > 0 else "count_too_large",
            line=line,
            value=text,
        )
    return value


def _label(raw: str, column: str, line: int, name: str) -> str:
    if not raw:
        raise MarginsError(
            f"{name}:{line}: column {column!r} is empty",
            code="empty_value",
            line=line,
            column=column,
        )
    return raw


def _duplicate(
    name: str, line: int, variables: Sequence[str], cell: tuple[Hashable, ...]
) -> MarginsError:
    shown = ", ".join(f"{v}={c}" for v, c in zip(variables, cell, strict=True))
    return MarginsError(
        f"{name}:{line}: cell {shown} is given twice",
        code="duplicate_cell",
        line=line,
        variables=tuple(variables),
        cell=cell,
    )
