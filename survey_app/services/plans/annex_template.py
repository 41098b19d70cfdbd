"""The DOCX template of the plan annex, built with python-docx; rendered by docxtpl.

The committed file ``survey_app/templates/documents/ke-hoach-khac-phuc.docx`` is what
:mod:`survey_app.services.plans.documents` fills. An official may restyle it in Word
(fonts, widths, the header's wording) as long as the ``{{ ... }}`` fields and the
``{%tr ... %}`` rows of the table stay; to start again from this layout::

    python -m survey_app.services.plans.annex_template \
        survey_app/templates/documents/ke-hoach-khac-phuc.docx

Layout (Nghị định 30/2020/NĐ-CP, as seed 001's Phụ lục 1): A4 landscape; the agency's
name (under its parent's) beside the national motto; the annex's title naming the agency,
the campaign and the period; the table ``TT | Lĩnh vực/Tiêu chí/Tiêu chí thành phần |
Mục tiêu | Nhiệm vụ, giải pháp | Đơn vị chủ trì thực hiện | Cơ quan phối hợp thực hiện |
Thời gian thực hiện``; Times New Roman 13 pt, 12 pt in the table.
"""

from __future__ import annotations

import sys
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from survey_app.services.docx_tables import fixed_widths, keep_together, no_borders, repeat_header

FONT = "Times New Roman"
COLUMNS = (
    ("TT", 1.2),
    ("Lĩnh vực/Tiêu chí/Tiêu chí thành phần", 6.3),
    ("Mục tiêu", 4.2),
    ("Nhiệm vụ, giải pháp", 6.4),
    ("Đơn vị chủ trì thực hiện", 3.0),
    ("Cơ quan phối hợp thực hiện", 3.0),
    ("Thời gian thực hiện", 2.4),
)
CELLS = ("tt", "criterion", "target", "tasks", "lead", "cooperating", "time")


def _font(run_properties: Any) -> None:
    fonts = run_properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        run_properties.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)


def _line(
    paragraph: Paragraph,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 13,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
) -> Paragraph:
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.space_before = Pt(0)
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    _font(run._r.get_or_add_rPr())
    return paragraph


def build() -> DocxDocument:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    _font(normal.element.get_or_add_rPr())
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(2.0), Cm(1.5)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(1.5)

    header = document.add_table(rows=1, cols=2)
    no_borders(header)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = header.rows[0].cells
    fixed_widths(header, (Cm(10.0), Cm(16.2)))
    _line(left.paragraphs[0], "{{ parent_name }}", size=13)
    _line(left.add_paragraph(), "{{ agency_name }}", bold=True, size=13)
    _line(left.add_paragraph(), "───────", size=13)
    _line(right.paragraphs[0], "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=13)
    _line(right.add_paragraph(), "Độc lập - Tự do - Hạnh phúc", bold=True, size=14)
    _line(right.add_paragraph(), "───────────────", size=13)
    _line(right.add_paragraph(), "{{ place_date }}", italic=True, size=14)

    document.add_paragraph()
    _line(document.add_paragraph(), "Phụ lục", bold=True, size=14)
    _line(document.add_paragraph(), "{{ title }}", bold=True, size=14)
    _line(document.add_paragraph(), "{{ subtitle }}", bold=True, size=13)
    _line(document.add_paragraph(), "{{ attached }}", italic=True, size=13)
    document.add_paragraph().paragraph_format.space_after = Pt(0)

    # docxtpl: the rows holding {%tr %} tags are removed; of the two between them, the
    # first shows a field (lĩnh vực: I, II ...), across the table and kept with the next
    # row, the second a criterion.
    table = document.add_table(rows=7, cols=len(COLUMNS))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    fixed_widths(table, [Cm(width) for _, width in COLUMNS])
    for index, (label, _) in enumerate(COLUMNS):
        _line(table.rows[0].cells[index].paragraphs[0], label, bold=True, size=12)
    repeat_header(table.rows[0])
    tags = {1: "{%tr for r in rows %}", 2: "{%tr if r.field %}", 4: "{%tr else %}"}
    tags |= {6: "{%tr endif %}"}
    for index, tag in tags.items():
        _line(table.rows[index].cells[0].paragraphs[0], tag, size=12)
    field = table.rows[3]
    _line(field.cells[0].paragraphs[0], "{{r r.tt }}", size=12)
    label = field.cells[1].merge(field.cells[len(COLUMNS) - 1])
    _line(label.paragraphs[0], "{{r r.criterion }}", size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    for cell in (field.cells[0], label):
        cell.paragraphs[0].paragraph_format.keep_with_next = True
    keep_together(field)
    criterion = table.rows[5]
    for index, name in enumerate(CELLS):
        align = WD_ALIGN_PARAGRAPH.CENTER if name in ("tt", "time") else WD_ALIGN_PARAGRAPH.LEFT
        _line(criterion.cells[index].paragraphs[0], f"{{{{r r.{name} }}}}", size=12, align=align)
    keep_together(criterion)
    # The loop's closing tag, in a row of its own after the endif row.
    closing = table.add_row()
    _line(closing.cells[0].paragraphs[0], "{%tr endfor %}", size=12)

    document.add_paragraph()
    _line(
        document.add_paragraph(),
        "{{ note }}",
        italic=True,
        size=12,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    )
    return document


def main(argv: list[str]) -> None:
    build().save(argv[1])


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv)
