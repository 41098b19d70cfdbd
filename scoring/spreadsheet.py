"""Cells of the spreadsheets we write (CSV, XLSX): text that neither breaks the file nor
runs as a formula, numbers that stay numbers.

A spreadsheet program runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``), also after a leading tab, carriage
return or line feed, and a citizen's comment, a paper form's cell or a questionnaire's
label can begin so. Following OWASP's guidance on CSV injection:

- in CSV, which has no cell types, such text is written with a leading apostrophe
  (:data:`FORMULA_PREFIX`), which spreadsheet programs show as text; removing that one
  character gives the text back. A text that itself begins with an apostrophe gets one
  too, so that removing a leading apostrophe is always right;
- in XLSX, every text is written as a string cell, never a formula, and those that begin
  so also carry Excel's quote-prefix flag (kept as text when the cell is edited); the cell
  holds exactly the text.

A text that is a plain decimal number (``-3.5``, ``+2``, ``-1e-05``) is read by a
spreadsheet as that number and runs nothing, so it is left alone: a negative number
stays a number. Numbers given as numbers are written as numbers.

Every text goes through :func:`scoring.text.printable` first, so text stored before the
rules of :mod:`scoring.text` (an ESC, a vertical tab, a lone surrogate) cannot make an
export fail: XML, and so XLSX, has no way to write those characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from scoring.text import printable

__all__ = [
    "FORMULA_PREFIX",
    "append_row",
    "csv_cell",
    "csv_frame",
    "csv_row",
    "formula_like",
    "xlsx_value",
]

FORMULA_PREFIX = "'"
# Leading characters that start a formula, after any run of leading white space and
# controls; the full-width forms too, which some spreadsheet programs read as the others.
_FORMULA = re.compile("[\\s\x00-\x1f]*[=+\\-@\uff1d\uff0b\uff0d\uff20]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def formula_like(text: str) -> bool:
    """Whether a spreadsheet program could read ``text`` as a formula (see the module)."""
    if not text:
        return False
    if text[0] in "\t\r\n":
        return True
    return _FORMULA.match(text) is not None and _PLAIN_NUMBER.fullmatch(text) is None


def _csv_text(text: str) -> str:
    text = printable(text)
    if formula_like(text) or text.startswith(FORMULA_PREFIX):
        return FORMULA_PREFIX + text
    return text


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def csv_cell(value: object) -> object:
    """One CSV cell: text printable and inert, a missing value empty, anything else as is."""
    if isinstance(value, str):
        return _csv_text(value)
    if _missing(value):
        return ""
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    """A row of CSV cells (:func:`csv_cell`), for ``csv.writer.writerow``."""
    return [csv_cell(v) for v in values]


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the text of its text columns as :func:`csv_cell` writes it, for
    ``DataFrame.to_csv``; number columns are untouched, missing values stay missing."""
    out = frame.copy(deep=False)
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        out[column] = values.map(
            lambda v: _csv_text(v) if isinstance(v, str) else v, na_action="ignore"
        )
    out.columns = pd.Index([_csv_text(str(c)) for c in out.columns])
    return out


def xlsx_value(value: object) -> object:
    """A value openpyxl writes as is: numpy scalars as Python numbers, missing and empty
    text as None, text printable (write it with :func:`append_row`, which types it)."""
    if isinstance(value, str):
        return printable(value) or None
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def append_row(sheet: Any, values: Iterable[object]) -> None:
    """Append a row to an openpyxl worksheet: text as string cells (never a formula, the
    formula-like ones with the quote prefix), numbers as numbers, missing values empty."""
    from openpyxl.cell import Cell

    row: list[object] = []
    for value in values:
        value = xlsx_value(value)
        if isinstance(value, str):
            cell = Cell(sheet, value=value)
            cell.data_type = "s"  # openpyxl makes "=..." a formula unless told
            if formula_like(value):
                cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(value)
    sheet.append(row)
