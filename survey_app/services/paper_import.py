"""Paper-survey import (nhập phiếu khảo sát giấy): templates, validation, storage.

The template of a questionnaire version has one row per paper form and the columns

- ``form_id`` (optional): the number written on the paper form (số phiếu);
- ``desk``: the desk code (mã bộ phận một cửa) where the form was collected;
- ``submitted_on``: the date on the form (``YYYY-MM-DD`` or ``DD/MM/YYYY``);
- one column per item code (sections, then the respondent block), holding the
  option code for single choice, the codes separated by ``;`` for multiple
  choice, a number, or a text. An empty cell is "no answer".

The XLSX template has the sheets "Phiếu" (the data), "Hướng dẫn" (the codebook:
wording, type, codes and labels, skip logic) and "Bộ phận một cửa" (desk codes
of the campaign). The CSV template is the header row; its codebook is a CSV too.

``import_file`` is all-or-nothing: every row is validated first (with the
citizen form's ``submissions.validate_answers``), any error rejects the whole
file with a per-row Vietnamese report, and only a clean file is stored, in the
caller's transaction. A file already imported into the campaign (same sha256)
is refused (``ImportBatch`` is UNIQUE on campaign and file hash).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import uuid
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scoring.questionnaire import Questionnaire
from scoring.spreadsheet import append_row, csv_row
from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Campaign, ImportBatch, StaffUser
from survey_app.questions import Problem, kind_of
from survey_app.services import audit
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import record_submission, validate_answers

FORM_ID, DESK, SUBMITTED_ON = "form_id", "desk", "submitted_on"
META_COLUMNS = (FORM_ID, DESK, SUBMITTED_ON)
DATA_SHEET, GUIDE_SHEET, DESK_SHEET = "Phiếu", "Hướng dẫn", "Bộ phận một cửa"
MAX_ROWS = 50_000
MAX_REPORTED_ERRORS = 200
# Row uids are uuid5 in this namespace: re-running the same row gives the same uid.
UID_NAMESPACE = uuid.UUID("6f1d3c52-6a4e-5b55-9d3c-2f1a5a0c9e11")


class PaperImportError(Exception):
    """An import that stores nothing; the message is Vietnamese."""


class ImportRejected(PaperImportError):
    """The file has errors; ``errors`` are Vietnamese lines such as "Dòng 7, cột II.2.1: ..."."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} lỗi")
        self.errors = errors


class DuplicateImport(PaperImportError):
    """This exact file was already imported into the campaign."""

    def __init__(self, batch: ImportBatch) -> None:
        super().__init__(
            f"Tệp này đã được nhập vào đợt khảo sát lúc "
            f"{batch.imported_at:%H:%M %d/%m/%Y} (tệp {batch.filename}, {batch.row_count} phiếu); "
            "không lưu thêm phiếu nào."
        )
        self.batch = batch


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    rows: int


# --------------------------------------------------------------------------- templates


def template_columns(questionnaire: Questionnaire) -> list[str]:
    return list(META_COLUMNS) + [item.code for item in questionnaire.items]


def guide_rows(questionnaire: Questionnaire) -> list[list[str]]:
    """The codebook of the template, in Vietnamese: one row per column."""
    lang = questionnaire.default_language
    rows = [
        ["Cột", "Nội dung", "Loại", "Bắt buộc", "Điều kiện", "Mã và nhãn / cách ghi"],
        [FORM_ID, "Số phiếu ghi trên phiếu giấy (không bắt buộc)", "Văn bản", "không", "", ""],
        [
            DESK,
            "Mã bộ phận một cửa nơi thu phiếu",
            "Văn bản",
            "có",
            "",
            "Xem trang tính “Bộ phận một cửa”",
        ],
        [
            SUBMITTED_ON,
            "Ngày ghi trên phiếu",
            "Ngày",
            "có",
            "",
            "Năm-tháng-ngày (2026-03-15) hoặc ngày/tháng/năm (15/03/2026)",
        ],
    ]
    for item in questionnaire.items:
        condition = ""
        if item.show_if is not None:
            codes = ", ".join(str(c) for c in sorted(item.show_if.codes))
            condition = f"Chỉ trả lời khi câu {item.show_if.item} có mã {codes}"
        rows.append(
            [
                item.code,
                item.text.get(lang, ""),
                kind_of(item).label,
                "có" if item.required else "không",
                condition,
                kind_of(item).paper_guide(item, lang),
            ]
        )
    return rows


def template_csv(questionnaire: Questionnaire) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(csv_row(template_columns(questionnaire)))
    return out.getvalue().encode("utf-8-sig")


def guide_csv(questionnaire: Questionnaire) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        csv_row(row) for row in guide_rows(questionnaire)
    )
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(questionnaire: Questionnaire, desks: Iterable[tuple[str, str]] = ()) -> bytes:
    """The XLSX template: sheets "Phiếu", "Hướng dẫn" and "Bộ phận một cửa"."""
    book = Workbook()
    sheet = book.active
    sheet.title = DATA_SHEET
    append_row(sheet, template_columns(questionnaire))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(GUIDE_SHEET)
    for row in guide_rows(questionnaire):
        append_row(guide, row)
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEF", (12, 60, 12, 10, 30, 60), strict=True):
        guide.column_dimensions[column].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    desk_sheet = book.create_sheet(DESK_SHEET)
    append_row(desk_sheet, ["Mã", "Tên bộ phận một cửa"])
    for code, name in desks:
        append_row(desk_sheet, [code, name])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def campaign_desks(campaign: Campaign) -> list[tuple[str, str]]:
    return sorted((d.code, d.name) for d in campaign.desks)


# --------------------------------------------------------------------------- reading


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The rows of a CSV or XLSX file as text cells (first row = header)."""
    if filename.lower().endswith(".xlsx"):
        try:
            with warnings.catch_warnings():
                # Workbooks from other spreadsheet programs make openpyxl warn about styles.
                warnings.simplefilter("ignore")
                book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise ImportRejected(["Tệp không phải là tệp Excel (.xlsx) hợp lệ."]) from None
        try:
            sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else book.worksheets[0]
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
        return rows
    if filename.lower().endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportRejected(
                ["Tệp CSV phải được lưu với bảng mã UTF-8 (Excel: “CSV UTF-8”)."]
            ) from None
        first = text.splitlines()[0] if text else ""
        # Excel in Vietnamese locales separates CSV fields with ';'.
        delimiter = max(",;\t", key=first.count)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [[c.strip() for c in row] for row in reader]
    raise ImportRejected(["Chỉ nhận tệp .csv hoặc .xlsx."])


def _parse_date(text: str) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class _Row:
    line: int
    desk_id: int
    submitted_on: dt.date
    answers: dict[str, Any]


def _cell_message(problem: Problem) -> str:
    """A precise message for a code that is not on the item's scale (paper-specific)."""
    allowed = ", ".join(str(c) for c in problem.allowed)
    if problem.code == "not_a_code":
        return f"“{problem.value}” không phải là mã số (các mã hợp lệ: {allowed})"
    if problem.code == "unknown_code":
        return f"mã {problem.value} không có trong thang đo (các mã hợp lệ: {allowed})"
    return "chỉ được ghi một mã"


def validate_rows(
    campaign: Campaign, table: list[list[str]], visible_agency_ids: set[int] | None
) -> tuple[list[_Row], list[str]]:
    """Check every row; return the clean rows and the Vietnamese error lines."""
    questionnaire = definition(campaign.questionnaire_version)
    if not table or not any(table[0]):
        return [], ["Tệp trống: dòng 1 phải là dòng tiêu đề với tên các cột."]
    header = [h.strip() for h in table[0]]
    errors: list[str] = []
    known = set(template_columns(questionnaire))
    seen: set[str] = set()
    for name in header:
        if name and name not in known:
            errors.append(
                f"Dòng 1: cột “{name}” không có trong phiếu "
                f"{questionnaire.id} {questionnaire.version}."
            )
        if name and name in seen:
            errors.append(f"Dòng 1: cột “{name}” bị lặp.")
        seen.add(name)
    for required in (DESK, SUBMITTED_ON):
        if required not in header:
            errors.append(f"Dòng 1: thiếu cột bắt buộc “{required}”.")
    if errors:
        return [], errors
    desks = {d.code: d for d in campaign.desks}
    items = {item.code: item for item in questionnaire.items}
    rows: list[_Row] = []
    form_ids: dict[str, int] = {}
    data_lines = [(n, r) for n, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if len(data_lines) > MAX_ROWS:
        return [], [f"Tệp có {len(data_lines)} phiếu, vượt quá giới hạn {MAX_ROWS} phiếu mỗi lần."]
    if not data_lines:
        return [], ["Tệp không có phiếu nào (chỉ có dòng tiêu đề)."]
    for line, cells in data_lines:
        values = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
        row_errors: list[str] = []
        form_id = values.get(FORM_ID, "").strip()
        if form_id:
            if form_id in form_ids:
                row_errors.append(
                    f"Dòng {line}, cột {FORM_ID}: số phiếu {form_id} trùng với "
                    f"dòng {form_ids[form_id]}"
                )
            form_ids.setdefault(form_id, line)
        desk_code = values.get(DESK, "").strip()
        desk = desks.get(desk_code)
        if not desk_code:
            row_errors.append(f"Dòng {line}, cột {DESK}: thiếu mã bộ phận một cửa")
        elif desk is None or (
            visible_agency_ids is not None and desk.agency_id not in visible_agency_ids
        ):
            row_errors.append(
                f"Dòng {line}, cột {DESK}: bộ phận một cửa “{desk_code}” không "
                "thuộc đợt khảo sát này hoặc ngoài phạm vi của bạn"
            )
        date_text = values.get(SUBMITTED_ON, "").strip()
        submitted_on = _parse_date(date_text)
        if submitted_on is None:
            row_errors.append(
                f"Dòng {line}, cột {SUBMITTED_ON}: ngày “{date_text}” không hợp lệ "
                "(ghi 2026-03-15 hoặc 15/03/2026)"
            )
        elif not campaign.starts_on <= submitted_on <= campaign.ends_on:
            row_errors.append(
                f"Dòng {line}, cột {SUBMITTED_ON}: ngày {submitted_on:%d/%m/%Y} nằm ngoài "
                f"thời gian đợt khảo sát ({campaign.starts_on:%d/%m/%Y} – "
                f"{campaign.ends_on:%d/%m/%Y})"
            )
        raw: dict[str, str | list[str]] = {}
        for code, item in items.items():
            text = values.get(code, "").strip()
            if not text:
                continue
            cell, problem = kind_of(item).read_paper_cell(item, text)
            if problem is not None:
                row_errors.append(f"Dòng {line}, cột {code}: {_cell_message(problem)}")
                continue
            raw[code] = cell
        answers, problems = validate_answers(questionnaire, raw)
        for code, message in problems.items():
            if not any(e.startswith(f"Dòng {line}, cột {code}:") for e in row_errors):
                row_errors.append(f"Dòng {line}, cột {code}: {_paper_message(message)}")
        for code in raw:
            item = items[code]
            if code not in answers and code not in problems and item.show_if is not None:
                # Skip logic hid the item: storing nothing silently would lose what was typed.
                wanted = ", ".join(str(c) for c in sorted(item.show_if.codes))
                row_errors.append(
                    f"Dòng {line}, cột {code}: chỉ trả lời khi câu {item.show_if.item} có mã "
                    f"{wanted}; hãy để trống ô này hoặc sửa câu {item.show_if.item}"
                )
        errors.extend(row_errors)
        if not row_errors and desk is not None and submitted_on is not None:
            rows.append(_Row(line, desk.id, submitted_on, answers))
    return rows, errors


def _paper_message(message: str) -> str:
    # The citizen form says "Vui lòng trả lời câu hỏi này"; on paper the cell is just empty.
    if message.startswith("Vui lòng trả lời"):
        return "câu bắt buộc nhưng ô để trống"
    return message[0].lower() + message[1:].rstrip(".")


def _limit(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_REPORTED_ERRORS:
        return errors
    hidden = len(errors) - MAX_REPORTED_ERRORS
    return errors[:MAX_REPORTED_ERRORS] + [f"… và {hidden} lỗi khác."]


def import_file(
    campaign: Campaign,
    filename: str,
    data: bytes,
    *,
    user: StaffUser | None = None,
    visible_agency_ids: set[int] | None = None,
) -> ImportResult:
    """Validate a paper-survey file and store every row, or nothing; flush, do not commit.

    Raises ``DuplicateImport`` for a file already imported into this campaign and
    ``ImportRejected`` with the Vietnamese error lines for any invalid row (nothing
    is added to the session then). ``visible_agency_ids`` limits the desks rows may
    name (``access.visible_agency_ids(user)``; None for all).
    """
    digest = hashlib.sha256(data).hexdigest()
    earlier = db.session.scalar(
        select(ImportBatch).filter_by(campaign_id=campaign.id, file_sha256=digest)
    )
    if earlier is not None:
        raise DuplicateImport(earlier)
    rows, errors = validate_rows(campaign, read_table(filename, data), visible_agency_ids)
    if errors:
        raise ImportRejected(_limit(errors))
    language = definition(campaign.questionnaire_version).default_language
    desks = {d.id: d for d in campaign.desks}
    batch = ImportBatch(
        campaign_id=campaign.id,
        file_sha256=digest,
        filename=filename[:255],
        row_count=len(rows),
        imported_by_id=user.id if user is not None else None,
    )
    db.session.add(batch)
    try:
        db.session.flush()
    except IntegrityError:
        # Another upload of the same file won the race on UNIQUE(campaign_id, file_sha256).
        db.session.rollback()
        winner = db.session.scalar(
            select(ImportBatch).filter_by(campaign_id=campaign.id, file_sha256=digest)
        )
        if winner is None:
            raise
        raise DuplicateImport(winner) from None
    for row in rows:
        record_submission(
            db.session.connection(),
            # Campaign id in the name: the same file imported into two campaigns gets new uids.
            uid=str(uuid.uuid5(UID_NAMESPACE, f"{campaign.id}:{digest}:{row.line}")),
            campaign=campaign,
            desk=desks[row.desk_id],
            route="paper",
            answers=row.answers,
            language=language,
            import_batch=batch,
            submitted_at=localtime.day_start(row.submitted_on),
        )
    audit.record(
        "import.paper",
        campaign.code,
        filename=filename[:255],
        rows=len(rows),
        batch=batch.id,
        sha256=digest,
    )
    return ImportResult(batch=batch, rows=len(rows))
