"""Table settings both Word and LibreOffice keep, for the documents officials edit in Word
(the survey report, the remediation plan's annex).

python-docx has no API for these; each sets one element of the table's WordprocessingML.
"""

from __future__ import annotations

from collections.abc import Sequence

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length
from docx.table import Table, _Row


def _flag(row: _Row, name: str) -> None:
    element = OxmlElement(name)
    element.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(element)


def repeat_header(row: _Row) -> None:
    """The row repeats at the top of every page the table runs onto."""
    _flag(row, "w:tblHeader")


def keep_together(row: _Row) -> None:
    """The row is never split across two pages."""
    _flag(row, "w:cantSplit")


def no_borders(table: Table) -> None:
    """A layout table: no lines at all (the masthead beside the national motto)."""
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def fixed_widths(table: Table, widths: Sequence[Length]) -> None:
    """Column widths that Word and LibreOffice both keep: the grid, every cell, a fixed
    layout (without it LibreOffice shares the width out equally) and the table's total."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    properties = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    properties.append(layout)
    total = properties.find(qn("w:tblW"))
    if total is None:
        total = OxmlElement("w:tblW")
        properties.append(total)
    total.set(qn("w:type"), "dxa")
    total.set(qn("w:w"), str(sum(width.twips for width in widths)))
