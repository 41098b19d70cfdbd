"""The sample plan as files (CSV, XLSX): Vietnamese headers, every digit of the figures."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from scoring.spreadsheet import append_row, csv_row
from survey_app.models import Campaign
from survey_app.services.sample_estimates.service import Plan

PLAN_HEADERS = (
    "Cơ quan",
    "Tầng",
    "Hồ sơ trả kết quả (N)",
    "Chỉ số dùng để tính (p)",
    "Hệ số thiết kế",
    "Tỷ lệ trả lời dự kiến",
    "Phiếu trả lời cần có",
    "Số hồ sơ mời",
    "Xác suất chọn",
    "Chọn toàn bộ",
)
PLAN_COLUMNS = (
    "domain",
    "stratum",
    "N",
    "p",
    "deff",
    "response_rate",
    "respondents",
    "invitations",
    "probability",
    "certainty",
)


def _plan_rows(made: Plan) -> list[list[Any]]:
    return [
        [bool(record[c]) if c == "certainty" else record[c] for c in PLAN_COLUMNS]
        for record in made.strata.to_dict("records")
    ]


def plan_csv(made: Plan) -> bytes:
    """UTF-8 CSV with a BOM (Excel opens Vietnamese text correctly), one row per stratum."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_row(PLAN_HEADERS))
    for row in _plan_rows(made):
        writer.writerow(csv_row(repr(v) if isinstance(v, float) else v for v in row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def plan_xlsx(campaign: Campaign, made: Plan, source: str) -> bytes:
    """The plan's sheet and a sheet saying what it was made from (``source`` in words)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Kế hoạch"
    append_row(sheet, PLAN_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _plan_rows(made):
        append_row(sheet, row)
    sheet.freeze_panes = "A2"
    info = book.create_sheet("Thông tin")
    for key, value in (
        ("Đợt khảo sát", f"{campaign.name} ({campaign.code})"),
        ("Sai số mục tiêu (điểm %)", made.targets.moe * 100),
        ("Độ tin cậy", made.targets.level),
        ("Nguồn ước lượng", source),
    ):
        append_row(info, [key, value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
