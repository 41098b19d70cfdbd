"""Reading responses and index tables (CSV, XLSX, JSON) and writing results.

Two response layouts are read:

- **the app's export layout** (dữ liệu thô, ``survey_app/services/raw_export.py``): one row per
  submission with ``response_id`` (older files: ``id``), ``desk``, ``agency``, ``route``,
  ``submitted_on``, ``language``, then one column per item code holding the option code; a
  multiple choice item is one 0/1 column per option, named ``CODE__OPTION``. In an XLSX export
  the data are on the sheet ``Dữ liệu`` (the codebook on ``Mã hóa``).
- **a generic wide layout**: one row per respondent, one column per item code, plus whatever
  design columns (weights, strata, PSU, fpc, domains) the analyst names.

Both are the same to the estimators: item columns of answer codes, blank for no answer.
Columns that are identifiers (agency, desk, strata, PSU, domain) are read as text so that codes
such as ``001`` keep their leading zeros.

Every other column is numbers when every value in it is a number (``4``, ``-3.5``,
``1e-05``; an XLSX cell typed as a number), and text otherwise: int64 when it holds only
integers and no blank, else float64. A column of numbers that a float64 cannot hold exactly
(an integer from 2**53 on, such as an 18-digit dossier number with a blank cell) is read as
text instead, digit for digit. No column is ever read as dates, and an XLSX date cell in a
text column reads as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from scoring.spreadsheet import append_row, csv_frame

__all__ = [
    "EXPORT_META_COLUMNS",
    "EXPORT_SHEET",
    "MULTI_SEPARATOR",
    "OUTPUT_FORMATS",
    "InputFileError",
    "is_export_layout",
    "output_format",
    "read_table",
    "write_table",
]

EXPORT_META_COLUMNS: tuple[str, ...] = (
    "response_id",
    "desk",
    "agency",
    "route",
    "submitted_on",
    "language",
)
EXPORT_SHEET = "Dữ liệu"
MULTI_SEPARATOR = "__"
OUTPUT_FORMATS: tuple[str, ...] = ("csv", "xlsx", "json")
OutputFormat = Literal["csv", "xlsx", "json"]

# Identifier columns of the export layout: text, never numbers.
_EXPORT_TEXT_COLUMNS = ("desk", "agency", "route", "submitted_on", "language")


class InputFileError(ValueError):
    """A file that cannot be read or written: unknown extension, missing sheet, bad JSON."""


def _suffix(path: str | os.PathLike[str]) -> str:
    return Path(path).suffix.lower().lstrip(".")


def read_table(
    path: str | os.PathLike[str],
    *,
    text_columns: Iterable[str] = (),
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a CSV, TSV, XLSX or JSON table.

    Parameters
    ----------
    path : path-like
        ``.csv`` (UTF-8, a BOM from Excel is accepted), ``.tsv``, ``.xlsx`` or ``.json``
        (a list of records, or the ``{"columns": ..., "data": ...}`` split orientation).
    text_columns : iterable of str
        Columns read as text (identifiers such as agency or PSU codes), in addition to the
        export layout's identifier columns. Names absent from the file are ignored here; the
        caller reports them with its own context.
    sheet : str, optional
        XLSX sheet; by default ``Dữ liệu`` when the workbook has it (the app's export),
        else the first sheet.

    Returns
    -------
    DataFrame
        Column names as text; empty cells as missing values.

    Raises
    ------
    InputFileError
        Unknown extension, unreadable file, missing sheet or malformed JSON.
    """
    p = Path(path)
    kind = _suffix(p)
    text = set(text_columns) | set(_EXPORT_TEXT_COLUMNS)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    try:
        if kind in ("csv", "tsv"):
            frame = _read_csv(p, "\t" if kind == "tsv" else ",", text)
        elif kind in ("xlsx", "xlsm"):
            frame = _typed(_read_xlsx(p, sheet), text)
        elif kind == "json":
            frame = _read_json(p)
            for c in frame.columns:
                if c in text:
                    frame[c] = _as_text(frame[c])
        else:
            raise InputFileError(f"{p.name}: unknown file type {p.suffix!r} (csv, tsv, xlsx, json)")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{p.name}: not UTF-8 text ({exc.reason})") from None
    except pd.errors.ParserError as exc:
        raise InputFileError(f"{p.name}: cannot parse ({str(exc).strip()})") from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{p.name}: the file is empty") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _as_text(column: pd.Series) -> pd.Series:
    """Identifier values as text: 1.0 read from a spreadsheet becomes '1', a date cell
    '2026-03-15', missing stays missing."""

    def conv(v: object) -> object:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return pd.NA
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, dt.datetime):
            return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
        if isinstance(v, dt.date | dt.time):
            return v.isoformat()
        return str(v)

    return column.map(conv).astype("string")


_PLAIN_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_EXACT_INTEGER = 2**53


def _read_csv(path: Path, sep: str, text: set[str]) -> pd.DataFrame:
    """Text columns as text; the others as pandas' C parser reads numbers, each checked."""
    header = pd.read_csv(path, nrows=0, sep=sep, encoding="utf-8-sig")
    frame = pd.read_csv(
        path,
        sep=sep,
        encoding="utf-8-sig",
        dtype={c: "string" for c in header.columns if c in text},
        low_memory=False,
    )
    others = [c for c in frame.columns if c not in text and not _exact_numbers(frame[c])]
    if others:
        # Read again, as written, the columns that are not numbers kept exactly.
        raw = pd.read_csv(path, sep=sep, encoding="utf-8-sig", dtype=str, usecols=others)
        for c in others:
            frame[c] = raw[c].astype("string")
    return frame


def _exact_numbers(column: pd.Series) -> bool:
    """Whether the C parser read a column as the numbers written: int64, bool, or float64
    without a whole number from 2**53 on (a float rounds those to another number)."""
    kind = column.dtype
    if pd.api.types.is_bool_dtype(kind) or kind == np.dtype(np.int64):
        return True
    if kind != np.dtype(np.float64):
        return False  # text, mixed, or integers beyond int64
    values = column.to_numpy()
    large = np.isfinite(values) & (np.abs(values) >= _EXACT_INTEGER)
    return not bool((large & (values == np.round(values))).any())


def _number(value: object) -> float | int | None:
    """A spreadsheet cell's number, or None when the cell is not a number kept exactly."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return int(value) if abs(int(value)) < _EXACT_INTEGER else None
    if isinstance(value, float | np.floating):
        return float(value)
    if not isinstance(value, str) or not _PLAIN_NUMBER.fullmatch(value):
        return None
    text = value.strip()
    if text.lstrip("+-").isdigit():
        return int(text) if abs(int(text)) < _EXACT_INTEGER else None
    return float(text)


def _numbers(column: pd.Series) -> pd.Series | None:
    """A spreadsheet column as int64 or float64 when every cell given is a number, else None.

    Each distinct value is checked once, so a column of answer codes costs a few checks
    whatever its length.
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    numbers = [_number(v) for v in uniques]
    if any(n is None for n in numbers):
        return None
    if not (codes < 0).any() and all(isinstance(n, int) for n in numbers):
        return pd.Series(np.asarray(numbers, dtype=np.int64)[codes], index=column.index)
    table = np.append(np.asarray(numbers, dtype=np.float64), np.nan)
    return pd.Series(table[codes], index=column.index)  # code -1 takes the NaN


def _typed(frame: pd.DataFrame, text: set[str]) -> pd.DataFrame:
    """Text columns as text; the others as numbers where every cell is one."""
    for c in frame.columns:
        if c in text:
            frame[c] = _as_text(frame[c])
        else:
            numbers = _numbers(frame[c])
            if numbers is not None:
                frame[c] = numbers
    return frame


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputFileError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        names = book.sheetnames
        if sheet is None:
            sheet = EXPORT_SHEET if EXPORT_SHEET in names else names[0]
        elif sheet not in names:
            raise InputFileError(f"{path.name}: no sheet {sheet!r} (sheets: {', '.join(names)})")
        rows = book[sheet].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputFileError(f"{path.name}: sheet {sheet!r} is empty")
        columns = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
        data = [r for r in rows if any(v is not None for v in r)]
    finally:
        book.close()
    # Cells as openpyxl typed them (empty ones as None), one object column each.
    return pd.DataFrame.from_records(data, columns=columns, coerce_float=False).astype(object)


def _read_json(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path.name}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(data, dict) and "columns" in data and "data" in data:
        return pd.DataFrame(data["data"], columns=data["columns"])
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputFileError(
            f"{path.name}: expected a list of records (objects), or {{columns, data}}"
        )
    return pd.DataFrame.from_records(data)


def is_export_layout(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is in the app's export layout (its meta columns are all present)."""
    columns = set(frame.columns)
    ids = {"response_id", "id"} & columns
    return bool(ids) and set(EXPORT_META_COLUMNS[1:]) <= columns


def output_format(path: str | os.PathLike[str], format: str | None = None) -> OutputFormat:
    """The output format: ``format`` if given, else from the file extension.

    Raises
    ------
    InputFileError
        Neither names csv, xlsx or json.
    """
    kind = (format or _suffix(path)).lower()
    if kind not in OUTPUT_FORMATS:
        raise InputFileError(
            f"{Path(path).name}: cannot tell the output format from {kind or 'no extension'!r} "
            f"(use .csv, .xlsx or .json, or --format)"
        )
    return kind  # type: ignore[return-value]


def _json_value(v: object) -> object:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def write_table(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    sheet: str = "Kết quả",
    meta: dict[str, Any] | None = None,
) -> None:
    """Write ``frame`` as CSV (UTF-8), XLSX or JSON.

    Parameters
    ----------
    frame : DataFrame
    path : path-like
    format : {'csv', 'xlsx', 'json'}, optional
        Overrides the extension.
    sheet : str
        XLSX sheet name.
    meta : dict, optional
        JSON only: written beside the rows as ``{"meta": ..., "rows": [...]}``; without it
        the JSON is the plain list of row objects. Missing values are ``null``.

    Notes
    -----
    Floats are written with full precision (``repr``), so reading the file back gives the
    same numbers as the Python API. Text cells are written printable and inert, never as
    a formula (:mod:`scoring.spreadsheet`).
    """
    kind = output_format(path, format)
    p = Path(path)
    if kind == "csv":
        csv_frame(frame).to_csv(p, index=False, encoding="utf-8", lineterminator="\n")
    elif kind == "xlsx":
        _write_xlsx(frame, p, sheet)
    else:
        rows = [
            {str(k): _json_value(v) for k, v in zip(frame.columns, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)
        ]
        payload: object = rows if meta is None else {"meta": meta, "rows": rows}
        p.write_text(
            json.dumps(payload, ensure_ascii=False, indent=1, allow_nan=False) + "\n",
            encoding="utf-8",
        )


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    out = book.active
    out.title = sheet[:31]
    append_row(out, [str(c) for c in frame.columns])
    for cell in out[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False, name=None):
        append_row(out, row)
    book.save(path)


def missing_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The names among ``columns`` that ``frame`` lacks, in order."""
    present = set(frame.columns)
    return [c for c in columns if c not in present]
