"""Hostile XLSX and CSV files for the paper import, built byte by byte."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _base() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Phiếu"
    book.active["A1"] = "x"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_with(
    replace: dict[str, bytes], extra: Iterable[tuple[str, bytes]] = (), level: int = 9
) -> bytes:
    """A valid openpyxl workbook whose members ``replace`` names are swapped, plus ``extra``."""
    source = zipfile.ZipFile(io.BytesIO(_base()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        names = set(source.namelist())
        for name, body in [*((n, b) for n, b in replace.items() if n not in names), *extra]:
            target.writestr(name, body)
    return out.getvalue()


def sheet_xml(rows: str, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (HEAD + dim + "<sheetData>" + rows + "</sheetData></worksheet>").encode()


def numbered_rows(count: int, start: int = 1) -> str:
    return "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{n}</t></is></c></row>'
        for n in range(start, start + count)
    )
