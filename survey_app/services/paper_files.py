"""Reading a paper-survey file (CSV or XLSX) within budgets, streaming.

A paper file comes from any officer, so a small file must not be able to hold a worker or
its memory: an XLSX is a zip of XML that can unpack to gigabytes, declare a sheet of
16,384 x 1,048,576 cells, or hold a million rows in 150 KB. Every budget is checked
while reading, before the next piece is read:

- the zip: number of members (from the end record, before the member list is read),
  each member's unpacked size and packing ratio, the unpacked total, the shared strings;
  zipfile itself holds each member to its declared size and CRC;
- the XML: no document type declaration at all (a workbook never has one; without it
  there can be no entity expansion and no external entity), whatever parser openpyxl uses;
- the data sheet, cell by cell with our own loop over openpyxl's cell parser: rows, cells
  in a row, cells in the file; the declared ``<dimension>`` is never read (openpyxl's
  read-only sheet trusts it and pads every row to it, and fills gaps between row numbers);
- a CSV: its rows, fields per row and field length.

Everything wrong gives :class:`FileRefused` with a problem code (``paper.*``, texts in
``survey_app.messages.paper``) whose parameters name the limit; nothing here touches the
database.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import struct
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from xml.etree.ElementTree import Element, iterparse

from survey_app.services.errors import Grouped, ServiceError

DATA_SHEET = "Phiếu"
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ROW_TAG, CELL_TAG = f"{MAIN_NS}row", f"{MAIN_NS}c"
# A workbook from Excel, LibreOffice or openpyxl has 10-30 members (sheets, styles, theme,
# printer settings); a few images more are possible.
MAX_ZIP_MEMBERS = 200
# Spreadsheet XML packs 5-30 times; far beyond that a member is made to unpack, not saved.
MAX_PACKING_RATIO = 150
RATIO_CHECKED_ABOVE = 1_000_000
# The shared strings are read whole by openpyxl: every distinct text of the file.
MAX_SHARED_STRINGS_BYTES = 30_000_000
# Any member other than a worksheet or the shared strings (styles, workbook, theme).
MAX_OTHER_MEMBER_BYTES = 10_000_000
MAX_FIELD_CHARS = 100_000
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_SCAN_CHUNK = 1 << 16


@dataclass(frozen=True)
class Budgets:
    """What one paper file may hold (settings ``PAPER_MAX_*``, see survey_app.config)."""

    rows: int = 20_000
    columns: int = 300
    cells: int = 2_000_000
    unpacked_bytes: int = 150_000_000


class FileRefused(ServiceError):
    """The file cannot be read, or exceeds a budget (codes ``paper.*``)."""


def _mb(value: int) -> str:
    return f"{value / 1_000_000:g} MB"


def too_many_rows(budgets: Budgets) -> FileRefused:
    return FileRefused.of("paper.too_many_rows", rows=Grouped(budgets.rows))


def _too_many_columns(line: int, budgets: Budgets) -> FileRefused:
    return FileRefused.of("paper.too_many_columns", line=line, columns=Grouped(budgets.columns))


def _too_many_cells(budgets: Budgets) -> FileRefused:
    return FileRefused.of("paper.too_many_cells", cells=Grouped(budgets.cells))


def _not_xlsx() -> FileRefused:
    return FileRefused.of("paper.not_xlsx")


def _broken_xlsx() -> FileRefused:
    return FileRefused.of("paper.broken_xlsx")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


# --------------------------------------------------------------------------- XLSX


def _zip_entry_count(data: bytes) -> int | None:
    """Entries announced by the zip's end record (None: no end record found)."""
    tail = data[-(22 + 0xFFFF) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    entries = struct.unpack("<4s4H2LH", tail[at : at + 22])[4]
    return int(entries)


def _check_archive(archive: zipfile.ZipFile, budgets: Budgets) -> None:
    total = 0
    for info in archive.infolist():
        size, packed = info.file_size, info.compress_size
        name = info.filename.lower()
        total += size
        if total > budgets.unpacked_bytes:
            raise FileRefused.of("paper.unpacked_too_big", size=_mb(budgets.unpacked_bytes))
        if size > RATIO_CHECKED_ABOVE and size > MAX_PACKING_RATIO * max(packed, 1):
            raise FileRefused.of(
                "paper.packed_oddly", member=info.filename[:80], ratio=MAX_PACKING_RATIO
            )
        if name.endswith("sharedstrings.xml"):
            if size > MAX_SHARED_STRINGS_BYTES:
                raise FileRefused.of("paper.too_much_text", size=_mb(MAX_SHARED_STRINGS_BYTES))
        elif "worksheets/" not in name and size > MAX_OTHER_MEMBER_BYTES:
            raise FileRefused.of(
                "paper.member_too_big",
                member=info.filename[:80],
                size=_mb(MAX_OTHER_MEMBER_BYTES),
            )
    for info in archive.infolist():
        if info.filename.lower().endswith(_XML_SUFFIXES):
            _refuse_doctype(archive, info)


def _refuse_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A DTD (entities, external references) has no place in a workbook: refuse it."""
    tail = b""
    with archive.open(info) as member:
        while chunk := member.read(_SCAN_CHUNK):
            window = (tail + chunk).upper()
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                raise FileRefused.of("paper.doctype")
            tail = chunk[-16:]


def _open_workbook(data: bytes, budgets: Budgets) -> tuple[Any, str]:
    """openpyxl's reader with the workbook, strings and styles read, and the data sheet's path."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    if not data.startswith(b"PK"):
        raise _not_xlsx()
    entries = _zip_entry_count(data)
    if entries is None:
        raise _broken_xlsx()
    if entries > MAX_ZIP_MEMBERS:
        raise FileRefused.of(
            "paper.too_many_members", members=Grouped(entries), maximum=MAX_ZIP_MEMBERS
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _broken_xlsx() from None
    _check_archive(archive, budgets)
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    sheets = [
        (sheet.name, rel.target)
        for sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type
    ]
    if not sheets:
        raise FileRefused.of("paper.no_sheet")
    path = dict(sheets).get(DATA_SHEET, sheets[0][1])
    return reader, path


def _sheet_rows(reader: Any, path: str, budgets: Budgets) -> Iterator[tuple[int, list[str]]]:
    """(row number, text cells) of the rows holding a value, within the budgets."""
    from openpyxl.worksheet._reader import WorkSheetParser

    wb = reader.wb
    cells = WorkSheetParser(
        None,
        reader.shared_strings,
        data_only=True,
        epoch=wb.epoch,
        date_formats=wb._date_formats,
        timedelta_formats=wb._timedelta_formats,
    )
    rows_seen = cells_seen = 0
    row_number = 0
    parent: Element | None = None
    current: dict[int, str] = {}
    with reader.archive.open(path) as source:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == ROW_TAG:
                    given = element.get("r")
                    row_number = int(given) if given is not None else row_number + 1
                    cells.row_counter, cells.col_counter = row_number, 0
                    current = {}
                    rows_seen += 1
                    # Rows without a value count too: a million empty rows take time as well.
                    if rows_seen > 2 * budgets.rows + 1000:
                        raise too_many_rows(budgets)
                elif element.tag.endswith("sheetData"):
                    parent = element
                continue
            if element.tag == CELL_TAG:
                cell = cells.parse_cell(element)
                element.clear()
                cells_seen += 1
                if cells_seen > 2 * budgets.cells:
                    raise _too_many_cells(budgets)
                if cell["column"] > budgets.columns or len(current) >= budgets.columns:
                    if cell["value"] is not None:
                        raise _too_many_columns(row_number, budgets)
                    continue
                text = cell_text(cell["value"])
                if text:
                    current[cell["column"]] = text
            elif element.tag == ROW_TAG:
                element.clear()
                if parent is not None:
                    parent.remove(element)
                if current:
                    width = max(current)
                    yield row_number, [current.get(c, "") for c in range(1, width + 1)]


def _xlsx_table(data: bytes, budgets: Budgets) -> list[list[str]]:
    try:
        with warnings.catch_warnings():
            # Workbooks from other spreadsheet programs make openpyxl warn about styles.
            warnings.simplefilter("ignore")
            reader, path = _open_workbook(data, budgets)
            try:
                return _gather(_sheet_rows(reader, path, budgets), budgets)
            finally:
                reader.archive.close()
    except FileRefused:
        raise
    except MemoryError:
        raise
    except Exception:
        # Anything else an invalid package raises (zip, XML, openpyxl's own checks).
        raise _broken_xlsx() from None


def _gather(rows: Iterator[tuple[int, list[str]]], budgets: Budgets) -> list[list[str]]:
    """The table with row numbers kept (empty rows between), within the budgets."""
    table: list[list[str]] = []
    data_rows = cells = 0
    for number, cells_of_row in rows:
        if number > 50 * budgets.rows:
            raise FileRefused.of(
                "paper.data_far_down", line=Grouped(number), rows=Grouped(budgets.rows)
            )
        if table:
            data_rows += 1
            if data_rows > budgets.rows:
                raise too_many_rows(budgets)
        cells += len(cells_of_row)
        if cells > budgets.cells:
            raise _too_many_cells(budgets)
        empty: list[str] = []
        table.extend(empty for _ in range(len(table), number - 1))
        table.append(cells_of_row)
    return table


# --------------------------------------------------------------------------- CSV


def _csv_table(data: bytes, budgets: Budgets) -> list[list[str]]:
    try:
        text = codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused.of("paper.csv_not_utf8") from None
    end = text.find("\n")
    first = text[: end if end >= 0 else MAX_FIELD_CHARS]
    # Excel in Vietnamese locales separates CSV fields with ';'.
    delimiter = max(",;\t", key=first.count)
    table: list[list[str]] = []
    cells = data_rows = 0
    reader = csv.reader(_lines(text), delimiter=delimiter)
    try:
        for row in reader:
            line = reader.line_num
            if len(row) > budgets.columns:
                if any(c.strip() for c in row[budgets.columns :]):
                    raise _too_many_columns(line, budgets)
                row = row[: budgets.columns]
            cells_of_row = [c.strip() for c in row]
            if table and any(cells_of_row):
                data_rows += 1
                if data_rows > budgets.rows:
                    raise too_many_rows(budgets)
            if len(table) > 50 * budgets.rows:
                raise too_many_rows(budgets)
            cells += len(cells_of_row)
            if cells > budgets.cells:
                raise _too_many_cells(budgets)
            table.append(cells_of_row)
    except csv.Error:
        raise FileRefused.of(
            "paper.csv_malformed", line=reader.line_num, chars=Grouped(MAX_FIELD_CHARS)
        ) from None
    return table


def _lines(text: str) -> Iterator[str]:
    """The text's lines, each refused when longer than a row may be."""
    longest = MAX_FIELD_CHARS * 4
    stream: IO[str] = io.StringIO(text, newline="")
    while line := stream.readline(longest + 1):
        if len(line) > longest and not line.endswith(("\n", "\r")):
            raise FileRefused.of("paper.csv_line_too_long", chars=Grouped(longest))
        yield line


def read_rows(filename: str, data: bytes, budgets: Budgets | None = None) -> list[list[str]]:
    """The rows of a CSV or XLSX file as text cells (first row = header), within budgets.

    Row *n* of the list is line *n + 1* of the file, so messages name the line a person
    sees in the spreadsheet. Raises :class:`FileRefused`.
    """
    budgets = budgets or Budgets()
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_table(data, budgets)
    if name.endswith(".csv"):
        return _csv_table(data, budgets)
    raise FileRefused.of("paper.not_csv_or_xlsx")
