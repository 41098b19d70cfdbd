"""The comments page's list as a file (xuất góp ý): CSV and XLSX, in Vietnamese.

The rows are exactly those of the page under the same filters, all pages, under the same
privacy rule (:mod:`survey_app.services.comments`): the time column exists only for the
roles that see it, texts are masked as on the page. Texts are written inert
(:mod:`scoring.spreadsheet`: a comment beginning with ``=`` is no formula). Every export
records an audit event with its filters and row count (the caller's request commits it).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from scoring.spreadsheet import append_row, csv_row
from scoring.text import printable
from survey_app import localtime
from survey_app.services import audit
from survey_app.services.comments import CommentRow, Comments

SHEET = "Góp ý"
HEADERS_TIME = ("Ngày", "Giờ (giờ Việt Nam)")
HEADERS = (
    "Mã quầy",
    "Quầy",
    "Cơ quan",
    "Góp ý",
    "Đã xử lý",
    "Ghi chú xử lý",
    "Người đánh dấu",
    "Đánh dấu lúc (giờ Việt Nam)",
)
RULE_TIME = (
    "Quản trị viên và chuyên viên phân tích thấy ngày, giờ và quầy; "
    "thông tin cá nhân trong góp ý được che bằng […]."
)
RULE_DAY = (
    "Cán bộ cơ quan và người xem chỉ thấy ngày, không thấy giờ; "
    "góp ý trong một ngày không xếp theo giờ; thông tin cá nhân, ngày giờ và số quầy "
    "trong góp ý được che bằng […]."
)


def headers(comments: Comments) -> tuple[str, ...]:
    return (*HEADERS_TIME[: 2 if comments.with_time else 1], *HEADERS)


def _filters(comments: Comments) -> str:
    f = comments.filters
    parts = []
    if f.criterion is not None:
        parts.append(
            f"tiêu chí {f.criterion}: có ít nhất một câu hỏi được chấm ≤ {f.max_score} điểm"
        )
    if f.desk:
        parts.append(f"quầy {f.desk}")
    if f.q:
        parts.append(f"có “{f.q}”")
    if f.handled is not None:
        parts.append("đã xử lý" if f.handled else "chưa xử lý")
    return "; ".join(parts) or "không"


def preamble(comments: Comments) -> list[tuple[str, str]]:
    """What the file holds, as (name, value) pairs."""
    view = comments.view
    scope = view.agency_codes
    return [
        ("Đợt khảo sát", f"{view.campaign.name} ({view.campaign.code})"),
        ("Kỳ", view.period.label),
        ("Phạm vi", "Tất cả cơ quan" if scope is None else ", ".join(sorted(scope))),
        ("Lọc", _filters(comments)),
        ("Số góp ý", str(comments.total)),
        ("Riêng tư", RULE_TIME if comments.with_time else RULE_DAY),
    ]


def _values(row: CommentRow, with_time: bool) -> list[Any]:
    review = row.review
    marked = None
    if review is not None:
        marked = localtime.to_local(review.updated_at).strftime("%d/%m/%Y %H:%M")
    return [
        row.day,
        *([row.time] if with_time else []),
        row.desk_code,
        row.desk,
        row.agency,
        row.text,
        "có" if row.handled else "chưa",
        review.note if review is not None else None,
        review.user.username if review is not None and review.user is not None else None,
        marked,
    ]


def _audit(comments: Comments, fmt: str) -> None:
    view = comments.view
    audit.record(
        "export.comments",
        view.campaign.code,
        format=fmt,
        period=view.period.code,
        filters=comments.filters.args(),
        rows=comments.total,
        agencies=None if view.agency_codes is None else sorted(view.agency_codes),
    )


def comments_csv(comments: Comments) -> bytes:
    """UTF-8 CSV with a BOM; '#' lines first say what it holds and the privacy rule."""
    out = io.StringIO()
    for name, value in preamble(comments):
        # Comment lines, written raw: they begin with '#', so no formula.
        out.write(printable(f"# {name}: {value}").replace("\n", " ") + "\r\n")
    writer = csv.writer(out)
    writer.writerow(csv_row(headers(comments)))
    for row in comments.rows:
        values = _values(row, comments.with_time)
        values[0] = row.day.strftime("%d/%m/%Y")
        writer.writerow(csv_row(values))
    _audit(comments, "csv")
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def comments_xlsx(comments: Comments) -> bytes:
    """Sheet "Góp ý" (dates as date cells, long texts wrapped) and "Thông tin"."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    names = headers(comments)
    append_row(sheet, names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    text_column = names.index("Góp ý") + 1
    for row in comments.rows:
        append_row(sheet, _values(row, comments.with_time))
        sheet.cell(sheet.max_row, 1).number_format = "DD/MM/YYYY"
        sheet.cell(sheet.max_row, text_column).alignment = Alignment(wrap_text=True)
    widths = {"Ngày": 12, "Giờ (giờ Việt Nam)": 10, "Quầy": 28, "Cơ quan": 28, "Góp ý": 80}
    widths |= {"Ghi chú xử lý": 40, "Đánh dấu lúc (giờ Việt Nam)": 18}
    for k, name in enumerate(names, start=1):
        letter = sheet.cell(1, k).column_letter
        sheet.column_dimensions[letter].width = widths.get(name, 14)
    info = book.create_sheet("Thông tin")
    for pair in preamble(comments):
        append_row(info, pair)
    info.column_dimensions["A"].width = 16
    info.column_dimensions["B"].width = 100
    _audit(comments, "xlsx")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
