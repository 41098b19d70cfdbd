"""The survey report as a Word document (python-docx): the PDF's content, tables instead
of charts, in styles an official can restyle (Heading 1-2, Table Grid, Times New Roman)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from docx.text.font import Font
from docx.text.paragraph import Paragraph

from survey_app.charts import fmt, p_value
from survey_app.i18n import day
from survey_app.services.analysis import GroupRow, NodeResult
from survey_app.services.docx_tables import fixed_widths, keep_together, no_borders, repeat_header
from survey_app.services.report.content import Count, CriterionRow, Report, SampleAnnex

FONT = "Times New Roman"
WARN = " ⚠"


def _font(font: Font, size: float, bold: bool | None = None) -> None:
    font.name = FONT
    font.size = Pt(size)
    font.color.rgb = RGBColor(0, 0, 0)
    if bold is not None:
        font.bold = bold


def _set_fonts(style: ParagraphStyle) -> None:
    # Word picks the font per script; name it for every slot so that no theme font shows.
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), FONT)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(theme), None)


def _paragraph_style(doc: DocumentType, name: str) -> ParagraphStyle:
    style = doc.styles[name]
    assert isinstance(style, ParagraphStyle)
    return style


def _styles(doc: DocumentType) -> None:
    normal = _paragraph_style(doc, "Normal")
    _font(normal.font, 13)
    _set_fonts(normal)
    normal.paragraph_format.space_after = Pt(4)
    for name, size in (("Title", 14), ("Heading 1", 13), ("Heading 2", 13)):
        style = _paragraph_style(doc, name)
        _font(style.font, size, bold=True)
        _set_fonts(style)
        style.paragraph_format.space_before = Pt(10)
        style.paragraph_format.space_after = Pt(4)
    _paragraph_style(doc, "Heading 2").font.italic = True
    title = _paragraph_style(doc, "Title")
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The Title style's bottom border (a blue rule) is not part of an administrative document.
    p_pr = title.element.get_or_add_pPr()
    for border in p_pr.findall(qn("w:pBdr")):
        p_pr.remove(border)


def _page(doc: DocumentType) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)


def _para(
    target: DocumentType | _Cell,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    center: bool = False,
) -> Paragraph:
    p = target.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
    return p


def _masthead(doc: DocumentType, report: Report) -> None:
    table = doc.add_table(rows=1, cols=2)
    no_borders(table)
    fixed_widths(table, (Mm(68), Mm(97)))
    left, right = table.rows[0].cells
    lines = report.issuer.header_lines
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = left.paragraphs[0].add_run(lines[0])
    run.font.size = Pt(12.5)
    run.bold = len(lines) == 1
    for line in lines[1:]:
        _para(left, line, bold=True, size=12.5, center=True)
    _para(left, "―――――", size=8, center=True)
    _para(left, "Số:       /BC-KS", size=13, center=True)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    motto = right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    motto.bold = True
    motto.font.size = Pt(12.5)
    _para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, center=True)
    _para(right, "――――――――――", size=8, center=True)
    date = report.date
    _para(
        right,
        f"{report.issuer.place}, ngày {date.day:02d} tháng {date.month:02d} năm {date.year}",
        italic=True,
        size=13,
        center=True,
    )


def _grid(
    doc: DocumentType,
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: set[int],
    widths: Sequence[float] | None = None,
) -> Table:
    table: Table = doc.add_table(rows=1, cols=len(head))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        run.font.size = Pt(11)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    repeat_header(table.rows[0])
    for values in rows:
        row = table.add_row()  # type: ignore[no-untyped-call]  # python-docx: untyped
        keep_together(row)
        cells = row.cells
        for k, (cell, text) in enumerate(zip(cells, values, strict=True)):
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(text)
            run.font.size = Pt(11)
            if k in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths:
        fixed_widths(table, [Mm(width) for width in widths])
    return table


def pct(node: NodeResult) -> str:
    return fmt(node.pct())


def ci(node: NodeResult) -> str:
    text = f"{fmt(node.pct('ci_low'))} – {fmt(node.pct('ci_high'))}"
    return text + (WARN if node.wide else "")


def _counts(doc: DocumentType, head: str, counts: list[Count], total: int) -> None:
    rows = [[c.label, str(c.count), fmt(c.share(total), 1)] for c in counts]
    rows.append(["Tổng số", str(total), fmt(100, 1)])
    table = _grid(doc, [head, "Số phiếu", "Tỷ lệ (%)"], rows, {1, 2}, (95, 30, 30))
    for cell in table.rows[-1].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True


def _groups(doc: DocumentType, head: str, rows: list[GroupRow]) -> None:
    _grid(
        doc,
        ["Mức*", head, "Chỉ số (%)", "KTC", "n"],
        [[r.tier, r.label, pct(r.result), ci(r.result), str(r.result.n)] for r in rows],
        {0, 2, 4},
        (16, 69, 25, 40, 15),
    )


def _annex(doc: DocumentType, head: str, units: list[CriterionRow]) -> None:
    rows: list[list[str]] = []
    bold_rows = []
    for unit in units:
        bold_rows.append(len(rows) + 1)
        rows.append([f"{unit.label} ({unit.code})", "", "", ""])
        for n in unit.criteria:
            rows.append([f"{n.code} {n.label}", pct(n), ci(n), str(n.n)])
    table = _grid(
        doc, [f"{head} / Tiêu chí", "Chỉ số (%)", "KTC", "n"], rows, {1, 3}, (92, 24, 34, 15)
    )
    for index, row in enumerate(table.rows):
        if index and index not in bold_rows:
            row.cells[0].paragraphs[0].paragraph_format.left_indent = Mm(3)
    for index in bold_rows:
        row = table.rows[index]
        merged = row.cells[0].merge(row.cells[-1])
        # Merging keeps each cell's (empty) paragraph: one line is enough.
        for extra in merged.paragraphs[1:]:
            element = extra._element
            element.getparent().remove(element)
        for run in merged.paragraphs[0].runs:
            run.bold = True


def _heading(doc: DocumentType, text: str, level: int = 1) -> None:
    doc.add_heading(text, level=level)


def _annex_heading(doc: DocumentType, text: str) -> None:
    """An annex starts on a new page, its title centred."""
    heading = doc.add_heading(text, level=1)
    heading.paragraph_format.page_break_before = True
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _sample_annex(doc: DocumentType, sample: SampleAnnex) -> None:
    """Annex 4: the probability sample's response rates and walk-in against sampled."""
    _annex_heading(
        doc, "PHỤ LỤC 4. MẪU XÁC SUẤT HỒ SƠ: TỶ LỆ TRẢ LỜI VÀ SO SÁNH VỚI PHIẾU TỰ NGUYỆN"
    )
    doc.add_paragraph(
        "Hồ sơ được chọn ngẫu nhiên khi trả kết quả, với xác suất chọn biết trước; số liệu của "
        "toàn đợt khảo sát. Tỷ lệ trả lời RR1 = phiếu trả lời / (hồ sơ được mời − hồ sơ không "
        "thuộc diện); COOP1 = phiếu trả lời / hồ sơ đã nhận mã; CON1 = hồ sơ đã nhận mã / (hồ "
        "sơ được mời − hồ sơ không thuộc diện) (định nghĩa chuẩn AAPOR)."
    )
    rows = [sample.agencies, [sample.overall] if sample.overall else []]
    if sample.agencies:
        _grid(
            doc,
            [
                "Cơ quan",
                "Được mời",
                "Không thuộc diện",
                "Đã nhận mã",
                "Đã trả lời",
                "RR1 (%)",
                "COOP1 (%)",
                "CON1 (%)",
            ],
            [
                [
                    "Tổng số" if k else r.label,
                    str(r.invited),
                    str(r.ineligible),
                    str(r.delivered),
                    str(r.answered),
                    fmt(r.rr1 * 100, 1),
                    fmt(r.coop1 * 100, 1),
                    fmt(r.con1 * 100, 1),
                ]
                for k, part in enumerate(rows)
                for r in part
            ],
            {1, 2, 3, 4, 5, 6, 7},
            (45, 17, 19, 17, 17, 17, 17, 17),
        )
    else:
        doc.add_paragraph("Chưa có hồ sơ nào được chọn vào mẫu.")
    if sample.problem:
        doc.add_paragraph(sample.problem)
    elif sample.versus:
        doc.add_paragraph(
            "Chỉ số chung tính từ phiếu tự nguyện (quét mã QR, phiếu giấy) và từ mẫu xác suất "
            "(trọng số thiết kế, điều chỉnh không trả lời, hiệu chỉnh theo khung mẫu); chênh "
            "lệch = tự nguyện − mẫu, kiểm định hai phía ở mức 5%."
        )
        _grid(
            doc,
            ["Cơ quan", "Tự nguyện (%)", "Mẫu (%)", "Chênh lệch (điểm)", "p", "Kết luận"],
            [
                [
                    name,
                    fmt(v.walk_in * 100),
                    fmt(v.sample * 100),
                    fmt(v.difference * 100, 2, signed=True),
                    fmt(v.p_value, 3),
                    sample.verdict(v),
                ]
                for _, name, v in sample.versus
            ],
            {1, 2, 3, 4},
            (40, 22, 20, 24, 15, 45),
        )


def write_docx(report: Report) -> bytes:
    """The report as a .docx document."""
    view = report.view
    q = view.questionnaire
    tree = report.tree
    doc = Document()
    _styles(doc)
    _page(doc)
    _masthead(doc, report)
    doc.add_paragraph(style="Title").add_run("BÁO CÁO")
    for line in (
        "Kết quả khảo sát sự hài lòng của người dân, tổ chức đối với sự phục vụ "
        "của cơ quan hành chính nhà nước (SIPAS)",
        f"{view.campaign.name} · {view.period.label}",
        report.scope_label,
    ):
        _para(doc, line, bold=True, center=True)
    _para(doc, "―――――――", size=8, center=True)

    _heading(doc, "I. MỤC ĐÍCH VÀ PHƯƠNG PHÁP")
    doc.add_paragraph(
        "Báo cáo trình bày kết quả đo lường sự hài lòng của người dân, tổ chức khi giải quyết "
        f"thủ tục hành chính tại bộ phận một cửa trong phạm vi: {report.scope_label}, kỳ báo cáo: "
        f"{view.period.label} (từ {day(view.period.start)} đến {day(view.period.end)}), làm "
        "căn cứ xác định các tiêu chí thấp điểm và xây dựng kế hoạch khắc phục."
    )
    for label, text in (
        ("Bộ câu hỏi: ", f"{q.title.get('vi', q.id)} (mã {q.id}, phiên bản {q.version})."),
        (
            "Cách tiếp cận người trả lời: ",
            "người dân tự trả lời trên điện thoại bằng mã QR dán tại quầy, qua mã hồ sơ in trên "
            "giấy hẹn hoặc biên nhận, hoặc trên phiếu giấy được nhập vào hệ thống (số phiếu "
            "theo hình thức ở mục II).",
        ),
        (
            "Trọng số và khoảng tin cậy: ",
            f"{view.settings_text}. Chỉ số của một câu hỏi là tỷ lệ (có trọng số) câu trả lời "
            "“Hài lòng” hoặc “Rất hài lòng” trong các câu trả lời hợp lệ; chỉ số tiêu chí, nhóm "
            "và chỉ số chung được tổng hợp theo cây chỉ số của bộ câu hỏi. " + report.interval_text,
        ),
        (
            "n ",
            "là số người trả lời hợp lệ: ở câu hỏi, số câu trả lời hợp lệ; ở tiêu chí và nhóm, số "
            "người có ít nhất một câu trả lời hợp lệ trong đó. “Không có ý kiến” không được tính.",
        ),
        (
            "⚠ ",
            "Khoảng tin cậy rộng, chưa đủ cơ sở kết luận (n < 30 hoặc nửa khoảng tin cậy > 5 "
            "điểm). Các đơn vị cùng “nhóm” có khoảng tin cậy chồng lấn: không khác biệt có ý "
            "nghĩa, không xếp hạng trong nhóm.",
        ),
    ):
        p = doc.add_paragraph(style="List Bullet")
        p.add_run(label).bold = True
        p.add_run(text)

    _heading(doc, "II. MẪU KHẢO SÁT")
    if view.n == 0:
        doc.add_paragraph("Chưa có phiếu nào trong kỳ này.")
    else:
        doc.add_paragraph(f"Tổng số phiếu trong kỳ: {view.n}.")
        for k, (title, head, counts) in enumerate(
            (
                ("Theo hình thức trả lời", "Hình thức", report.by_route),
                ("Theo cơ quan", "Cơ quan", report.by_agency),
                ("Theo quầy (bộ phận một cửa)", "Quầy", report.by_desk),
                ("Theo tháng", "Tháng", report.by_month),
            ),
            start=1,
        ):
            _heading(doc, f"{k}. {title}", 2)
            _counts(doc, head, counts, view.n)

    _heading(doc, "III. CHỈ SỐ SIPAS")
    if view.n == 0:
        doc.add_paragraph("Chưa có phiếu nào trong kỳ này.")
    else:
        p = doc.add_paragraph(f"{tree.label}: ")
        p.add_run(f"{pct(tree)}%").bold = True
        p.add_run(f", khoảng tin cậy {ci(tree)}%, n = {tree.n} phiếu")
        table = _grid(
            doc,
            ["Mã", "Nội dung", "Chỉ số (%)", "KTC", "n"],
            [[n.code, n.label, pct(n), ci(n), str(n.n)] for n in tree.walk()],
            {2, 4},
            (16, 79, 22, 34, 14),
        )
        for row, node in zip(table.rows[1:], tree.walk(), strict=True):
            if node.depth <= 1:
                for cell in row.cells:
                    for run in cell.paragraphs[0].runs:
                        run.bold = True
            else:
                label = row.cells[1].paragraphs[0]
                label.paragraph_format.left_indent = Mm(3 * (node.depth - 1))
                for run in label.runs:
                    run.italic = node.is_leaf

    _heading(doc, "IV. CÁC TIÊU CHÍ THẤP ĐIỂM")
    if report.weak:
        doc.add_paragraph(f"{len(report.weak)} tiêu chí có chỉ số thấp nhất (xếp từ thấp đến cao):")
        _grid(
            doc,
            ["Tiêu chí", "Chỉ số (%)", "KTC", "n"],
            [[f"{n.code} {n.label}", pct(n), ci(n), str(n.n)] for n in report.weak],
            {1, 3},
            (91, 25, 34, 15),
        )
    else:
        doc.add_paragraph("Chưa có số liệu.")

    _heading(doc, "V. THAY ĐỔI SO VỚI KỲ TRƯỚC")
    if report.comparison is None:
        doc.add_paragraph("Không có kỳ trước để so sánh.")
    elif report.previous is None:
        doc.add_paragraph(
            f"Kỳ so sánh ({report.comparison.label}) chưa có số liệu trong phạm vi này."
        )
    else:
        doc.add_paragraph(
            f"So với {report.comparison.label}. Kiểm định hai phía: chênh lệch / √(SE₁² + SE₂²), "
            "mức ý nghĩa 5%. Chênh lệch tính bằng điểm phần trăm (72% → 75% là +3 điểm)."
        )
        if report.compared_text:
            _para(doc, report.compared_text, italic=True, size=11)
        _grid(
            doc,
            ["Chỉ số", "Kỳ này", "Kỳ trước", "Chênh lệch (điểm)", "p", "Kết luận"],
            [
                [
                    f"{c.code} {c.label}",
                    pct(c.current),
                    pct(c.previous),
                    fmt(c.test.difference * 100, 2, signed=True),
                    p_value(c.test.p_value, named=False),
                    "Có ý nghĩa" if c.test.significant() else "Không khác biệt có ý nghĩa",
                ]
                for c in report.changes
            ],
            {1, 2, 3, 4},
            (60, 20, 20, 22, 16, 27),
        )

    _heading(doc, "VI. SO SÁNH CÁC CƠ QUAN VÀ QUẦY")
    if view.n:
        _heading(doc, "1. Theo cơ quan", 2)
        _groups(doc, "Cơ quan", report.agencies)
        _heading(doc, "2. Theo quầy", 2)
        _groups(doc, "Quầy", report.desks)
        _para(
            doc,
            "* Mức A cao nhất. Các dòng cùng mức có khoảng tin cậy chồng lấn: không khác biệt có "
            "ý nghĩa, không xếp hạng trong cùng mức.",
            italic=True,
            size=11,
        )
    else:
        doc.add_paragraph("Chưa có số liệu.")

    _heading(doc, "VII. THEO NHÓM NGƯỜI TRẢ LỜI")
    if report.breakdowns:
        for k, (label, rows) in enumerate(report.breakdowns, start=1):
            _heading(doc, f"{k}. {label}", 2)
            _groups(doc, label, rows)
    else:
        doc.add_paragraph("Bộ câu hỏi không có thông tin nhóm người trả lời, hoặc chưa có số liệu.")

    _heading(doc, "VIII. Ý KIẾN GÓP Ý CỦA NGƯỜI DÂN")
    if report.comments:
        doc.add_paragraph(
            f"Trích {len(report.comments)} ý kiến, không kèm quầy, thời gian hay thông tin cá "
            "nhân; số điện thoại, tên, giờ, ngày, số quầy trong ý kiến được thay bằng […]."
        )
        for text in report.comments:
            doc.add_paragraph(style="List Number").add_run(f"“{text}”").italic = True
    elif report.comments_withheld:
        doc.add_paragraph("Phạm vi có dưới 10 phiếu: không trích ý kiến để bảo vệ người trả lời.")
    else:
        doc.add_paragraph("Chưa có góp ý trong kỳ này.")

    closing = doc.add_table(rows=1, cols=2)
    no_borders(closing)
    fixed_widths(closing, (Mm(80), Mm(85)))
    left, right = closing.rows[0].cells
    head = left.paragraphs[0].add_run("Nơi nhận:")
    head.bold = head.italic = True
    head.font.size = Pt(12)
    _para(left, "- Như trên;", size=11)
    _para(left, "- Lưu: VT.", size=11)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    right.paragraphs[0].add_run("THỦ TRƯỞNG CƠ QUAN").bold = True
    _para(right, "(Ký, ghi rõ họ tên)", italic=True, center=True)

    _annex_heading(doc, "PHỤ LỤC 1. CHỈ SỐ THEO CƠ QUAN VÀ TIÊU CHÍ")
    if report.agency_annex:
        _annex(doc, "Cơ quan", report.agency_annex)
    else:
        doc.add_paragraph("Chưa có số liệu.")
    _annex_heading(doc, "PHỤ LỤC 2. CHỈ SỐ THEO QUẦY VÀ TIÊU CHÍ")
    if report.desk_annex:
        _annex(doc, "Quầy", report.desk_annex)
    else:
        doc.add_paragraph("Chưa có số liệu.")
    _annex_heading(doc, "PHỤ LỤC 3. BẢNG ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH (PAR INDEX)")
    if len(report.par):
        doc.add_paragraph("Điểm = chỉ số (%) × điểm tối đa / 100, theo bộ tiêu chí CCHC.")
        _grid(
            doc,
            ["Cơ quan", "Tiêu chí CCHC", "Điểm tối đa", "Chỉ số (%)", "Điểm đạt"],
            [
                [
                    str(p["agency_name"]),
                    f"{p['criterion']} {p['label']}",
                    fmt(float(p["max_points"]), 2),
                    fmt(float(p["index_percent"]), 2),
                    fmt(float(p["points"]), int(p["decimals"])),
                ]
                for p in report.par.to_dict("records")
            ],
            {2, 3, 4},
            (45, 60, 20, 20, 20),
        )
    else:
        doc.add_paragraph(
            "Không có bộ tiêu chí CCHC nào dùng bộ câu hỏi này, hoặc chưa có số liệu."
        )
    if report.sample is not None:
        _sample_annex(doc, report.sample)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
