"""The plan as files: the DOCX annex (docxtpl, from a template an official can restyle in
Word) and an XLSX workbook with every figure and the verification.

Both are written in Vietnamese whatever the caller's language (the province's records);
each export is audited (``export.plan``), and the caller commits.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate, RichText
from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from scoring.spreadsheet import append_row
from scoring.text import printable
from survey_app import localtime
from survey_app.i18n import day, number
from survey_app.models import PlanRow, RemediationPlan
from survey_app.services import audit
from survey_app.services.plans.editing import STATUS_LABELS, plan_period
from survey_app.services.plans.verification import RULE, FollowUp, RowCheck, verify
from survey_app.services.weighting_settings import current as current_settings

TEMPLATE = (
    Path(__file__).resolve().parents[2] / "templates" / "documents" / "ke-hoach-khac-phuc.docx"
)
FONT = "Times New Roman"
TABLE_SIZE = 24  # half-points: 12 pt
ROMAN = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def roman(value: int) -> str:
    """I, II, III... as the seeds number the fields (lĩnh vực)."""
    out = []
    for size, letters in ROMAN:
        count, value = divmod(value, size)
        out.append(letters * count)
    return "".join(out)


def pct(share: float | None, decimals: int = 2) -> str:
    return "" if share is None else number(share * 100, decimals)


@dataclass(frozen=True)
class Group:
    code: str
    label: str
    rows: list[PlanRow]


def groups(plan: RemediationPlan) -> list[Group]:
    """The rows by field (the criterion's parent: I, II ...), criteria in code order."""
    found: dict[str, Group] = {}
    for row in sorted(plan.rows, key=lambda r: _code_key(r.criterion)):
        group = found.setdefault(row.group_code, Group(row.group_code, row.group_label, []))
        group.rows.append(row)
    return sorted(found.values(), key=lambda g: _code_key(g.code))


def _code_key(code: str) -> list[tuple[int, object]]:
    # "II.10" after "II.2": numbers compare as numbers, the rest as text.
    return [(0, int(p)) if p.isdigit() else (1, p) for p in code.split(".")]


def baseline_text(row: PlanRow, period_label: str) -> str:
    if row.baseline_estimate is None:
        return f"Chưa có phiếu trả lời trong {period_label.lower()}"
    text = f"Chỉ số {period_label.lower()}: {pct(row.baseline_estimate)}%"
    if row.baseline_ci_low is not None and row.baseline_ci_high is not None:
        text += f" (KTC: {pct(row.baseline_ci_low)} – {pct(row.baseline_ci_high)}%"
        text += f"; n = {row.baseline_n})"
    return text


def gap(row: PlanRow) -> float | None:
    """Target minus the starting index, in points (điểm %)."""
    if row.target is None or row.baseline_estimate is None:
        return None
    return float(row.target) - row.baseline_estimate * 100


def target_text(row: PlanRow) -> str:
    if row.target is None:
        return ""
    text = f"Chỉ số đạt từ {number(row.target, 2)}% trở lên"
    points = gap(row)
    if points is not None and points > 0:
        text += f" (tăng {number(points, 2)} điểm % so với hiện tại)"
    return text


def _rich(text: str, *, bold: bool = False, italic: bool = False) -> RichText:
    rich = RichText()
    if text:
        rich.add(printable(text), bold=bold, italic=italic, font=FONT, size=TABLE_SIZE)
    return rich


def annex_context(plan: RemediationPlan) -> dict[str, Any]:
    """What the template's fields show (texts in Vietnamese, numbers the Vietnamese way)."""
    label = plan_period(plan).label
    agency = plan.agency
    parent = agency.parent.name if agency.parent is not None else ""
    rows: list[dict[str, Any]] = []
    for index, group in enumerate(groups(plan), start=1):
        rows.append(
            {
                "field": True,
                "tt": _rich(roman(index), bold=True),
                "criterion": _rich(group.label.upper(), bold=True),
            }
        )
        for number_in_group, row in enumerate(group.rows, start=1):
            criterion = _rich(f"Tiêu chí {row.criterion}. {row.criterion_label}", bold=True)
            criterion.add("\n" + baseline_text(row, label), italic=True, font=FONT, size=TABLE_SIZE)
            rows.append(
                {
                    "field": False,
                    "tt": _rich(str(number_in_group)),
                    "criterion": criterion,
                    "target": _rich(target_text(row)),
                    "tasks": _rich(row.tasks),
                    "lead": _rich(row.lead_agency.name),
                    "cooperating": _rich(row.cooperating),
                    "time": _rich(day(row.deadline) if row.deadline else ""),
                }
            )
    year = localtime.today().year
    level = number(current_settings(plan.campaign).level * 100, 0)
    return {
        "parent_name": printable(parent.upper()),
        "agency_name": printable(agency.name.upper()),
        "place_date": f"……, ngày …… tháng …… năm {year}",
        "title": "MỤC TIÊU, NHIỆM VỤ VÀ GIẢI PHÁP KHẮC PHỤC CÁC TIÊU CHÍ THẤP ĐIỂM",
        "subtitle": printable(f"CHỈ SỐ HÀI LÒNG CỦA {agency.name.upper()} - {label.upper()}"),
        "attached": printable(
            f"(Kèm theo Kế hoạch số …/KH-… ngày … tháng … năm {year} của {agency.name}; "
            f"kết quả {plan.campaign.name}, {label.lower()})"
        ),
        "rows": rows,
        "note": (
            "Ghi chú: Chỉ số là tỷ lệ (%) ý kiến hài lòng và rất hài lòng trong số ý kiến hợp "
            f"lệ; KTC là khoảng tin cậy {level}% của chỉ số; n là số phiếu trả lời tiêu chí. "
            "Mục tiêu là chỉ số cần đạt ở kỳ khảo sát tiếp theo."
        ),
    }


def _audit(plan: RemediationPlan, fmt: str) -> None:
    audit.record(
        "export.plan",
        plan.campaign.code,
        format=fmt,
        agency=plan.agency.code,
        period=plan.period,
        rows=len(plan.rows),
    )


def plan_docx(plan: RemediationPlan, template: Path = TEMPLATE) -> bytes:
    """The annex as DOCX bytes, from ``template``."""
    with force_locale("vi"):
        document = DocxTemplate(str(template))
        document.render(annex_context(plan), autoescape=True)
    out = io.BytesIO()
    document.save(out)
    _audit(plan, "docx")
    return out.getvalue()


PLAN_HEADERS = [
    "TT",
    "Lĩnh vực",
    "Mã tiêu chí",
    "Tiêu chí",
    "Chỉ số lúc lập kế hoạch (%)",
    "KTC dưới (%)",
    "KTC trên (%)",
    "n",
    "Mục tiêu (%)",
    "Khoảng cách đến mục tiêu (điểm %)",
    "Nhiệm vụ, giải pháp",
    "Đơn vị chủ trì thực hiện",
    "Cơ quan phối hợp thực hiện",
    "Thời hạn",
    "Trạng thái",
    "Ghi chú",
    "Chỉ số kỳ sau (%)",
    "KTC kỳ sau dưới (%)",
    "KTC kỳ sau trên (%)",
    "n kỳ sau",
    "Thay đổi (điểm %)",
    "KTC thay đổi dưới (điểm %)",
    "KTC thay đổi trên (điểm %)",
    "p",
    "Kết luận",
]


def _share(value: float | None) -> float | None:
    return None if value is None or value != value else round(value * 100, 6)


def _row_values(index: int, row: PlanRow, check: RowCheck | None) -> list[object]:
    values: list[object] = [
        index,
        row.group_label,
        row.criterion,
        row.criterion_label,
        _share(row.baseline_estimate),
        _share(row.baseline_ci_low),
        _share(row.baseline_ci_high),
        row.baseline_n,
        float(row.target) if isinstance(row.target, Decimal) else None,
        None if gap(row) is None else round(gap(row) or 0.0, 6),
        row.tasks,
        row.lead_agency.name,
        row.cooperating,
        row.deadline,
        str(STATUS_LABELS[row.status]),
        row.notes,
    ]
    now = check.current if check is not None else None
    test = check.test if check is not None else None
    interval = check.interval if check is not None else None
    values += [
        _share(now.estimate) if now else None,
        _share(now.ci_low) if now else None,
        _share(now.ci_high) if now else None,
        now.n if now else None,
        _share(test.difference) if test else None,
        _share(interval[0]) if interval else None,
        _share(interval[1]) if interval else None,
        round(test.p_value, 6) if test and test.p_value == test.p_value else None,
        check.verdict_label if check is not None else None,
    ]
    return values


def plan_xlsx(plan: RemediationPlan) -> bytes:
    """Sheet "Kế hoạch" (a row per criterion, with the verification) and "Thông tin"."""
    with force_locale("vi"):
        follow, checks = verify(plan)
        by_row = {c.row.id: c for c in checks}
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Kế hoạch"
        append_row(sheet, PLAN_HEADERS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        index = 0
        for group in groups(plan):
            for row in group.rows:
                index += 1
                append_row(sheet, _row_values(index, row, by_row.get(row.id)))
                sheet.cell(sheet.max_row, 14).number_format = "DD/MM/YYYY"
        for column, width in (("B", 30), ("D", 45), ("K", 60), ("L", 25), ("M", 30), ("P", 30)):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "E2"
        info = book.create_sheet("Thông tin")
        period = plan_period(plan)
        details = [
            ("Đợt khảo sát", f"{plan.campaign.name} ({plan.campaign.code})"),
            ("Phạm vi", f"{plan.agency.name} ({plan.agency.code}) và các đơn vị trực thuộc"),
            ("Kỳ lập kế hoạch", period.label),
            ("Kỳ đánh giá", _follow_label(follow)),
            ("Quy tắc kết luận", str(RULE)),
        ]
        baseline = _baseline_text(follow)
        if baseline:
            details.insert(4, ("Cách tính kỳ lập kế hoạch", baseline))
        for key, value in details:
            append_row(info, [key, value])
        info.column_dimensions["A"].width = 22
        info.column_dimensions["B"].width = 100
        _audit(plan, "xlsx")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _baseline_text(follow: FollowUp | None) -> str:
    """How the plan's period was computed for the changes (the page's note, in the file's
    Vietnamese): said only when it and the follow-up are set to be computed differently."""
    if follow is None or not follow.settings.differ:
        return ""
    compared, q = follow.settings, follow.questionnaire
    text = (
        f"Hai đợt được cài đặt tính khác nhau (kỳ lập kế hoạch: {compared.own.describe(q)}; "
        f"kỳ đánh giá: {compared.current.describe(q)}). "
    )
    if compared.like_with_like:
        return text + (
            "Để so sánh cùng một cách tính, kỳ lập kế hoạch được tính lại với cài đặt của kỳ "
            "đánh giá (cột Thay đổi); cột Chỉ số lúc lập kế hoạch là số liệu lúc lập kế hoạch."
        )
    own = (
        "được tính với cài đặt riêng của nó: một phần chênh lệch có thể do cách tính trọng số "
        "chứ không do thay đổi thực tế."
    )
    if compared.refused:
        return text + (
            "Không áp dụng được cài đặt của kỳ đánh giá cho số liệu của kỳ lập kế hoạch, nên kỳ "
            f"lập kế hoạch {own}"
        )
    return text + f"Kỳ lập kế hoạch {own}"


def _follow_label(follow: FollowUp | None) -> str:
    if follow is None:
        return "Chưa có số liệu của kỳ sau trong phạm vi kế hoạch"
    return follow.comparison.label
