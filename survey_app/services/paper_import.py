"""Paper-survey import (nhập phiếu khảo sát giấy): templates, validation, storage.

The template of a questionnaire version has one row per paper form and the columns

- ``form_id``: the number written on the paper form (số phiếu), required: a form already
  imported into the campaign at the same desk is not stored again, whatever file it
  comes in (``PaperForm``, UNIQUE per campaign, desk and number);
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
file with a per-row report (problems ``paper.at_cell``, texts in
``survey_app.messages.paper``), and only a clean file is stored, in the
caller's transaction. A file already imported into the campaign (same sha256)
is refused (``ImportBatch`` is UNIQUE on campaign and file hash), and so is a file
holding any form already imported (same number at the same desk): the whole file, with
the numbers already stored, so that nothing is half-written.

Officers and viewers see the batches of their own agencies' desks only: a batch
imported for another agency is neither listed nor named in a refusal.

The file is read within budgets (``paper_files``): rows, columns, cells, unpacked size.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flask import has_app_context
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import exists, select, tuple_
from sqlalchemy.exc import IntegrityError

from scoring.questionnaire import Questionnaire
from scoring.spreadsheet import append_row, csv_row
from scoring.text import find_refused
from survey_app import localtime
from survey_app.extensions import db
from survey_app.messages import texts
from survey_app.models import Campaign, Desk, ImportBatch, PaperForm, StaffUser, Submission
from survey_app.questions import kind_of
from survey_app.services import audit, paper_checks
from survey_app.services.errors import Conflict, Problem, ServiceError
from survey_app.services.paper_files import Budgets, FileRefused
from survey_app.services.paper_files import read_rows as read_file_rows
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import AnswersRefused, record_submission, validate_answers
from survey_app.settings import settings

FORM_ID, DESK, SUBMITTED_ON = "form_id", "desk", "submitted_on"
META_COLUMNS = (FORM_ID, DESK, SUBMITTED_ON)
DATA_SHEET, GUIDE_SHEET, DESK_SHEET = "Phiếu", "Hướng dẫn", "Bộ phận một cửa"
MAX_ROWS = Budgets.rows
FORM_ID_MAX_CHARS = 64
MAX_NAMED_DUPLICATES = 50
MAX_REPORTED_ERRORS = 200
# Row uids are uuid5 in this namespace: re-running the same row gives the same uid.
UID_NAMESPACE = uuid.UUID("6f1d3c52-6a4e-5b55-9d3c-2f1a5a0c9e11")


class PaperImportError(ServiceError):
    """An import that stores nothing (codes ``paper.*``)."""


class ImportRejected(PaperImportError):
    """The file has errors: one problem per error, placed on a line or a cell."""

    @property
    def errors(self) -> list[str]:
        """The problems in words, lines such as "Dòng 7, cột II.2.1: ..."."""
        return texts(self)


class UnreadableFile(ImportRejected):
    """The file cannot be read as a table, or exceeds a budget (one problem)."""


class DuplicateImport(PaperImportError, Conflict):
    """This exact file was already imported into the campaign.

    The earlier batch is named (time, file, forms) only to whom may see it; another
    agency's import is refused in the same words without them.
    """

    def __init__(self, batch: ImportBatch, *, named: bool = True) -> None:
        if named:
            super().__init__(
                _problem(
                    "paper.file_imported_named",
                    at=batch.imported_at,
                    filename=batch.filename,
                    forms=batch.row_count,
                )
            )
        else:
            super().__init__(_problem("paper.file_imported"))
        self.batch = batch


class DuplicateForms(PaperImportError, Conflict):
    """Forms of the file were already imported (same number at the same desk)."""

    def __init__(self, present: Sequence[tuple[str, str]], total: int) -> None:
        named = ", ".join(f"{form_id} ({desk})" for desk, form_id in present[:MAX_NAMED_DUPLICATES])
        more = len(present) - MAX_NAMED_DUPLICATES
        listing: str | Problem = (
            _problem("paper.forms_and_more", forms=named, more=more) if more > 0 else named
        )
        if len(present) == total:
            problem = _problem("paper.all_forms_imported", total=total, listing=listing)
        else:
            problem = _problem(
                "paper.some_forms_imported", count=len(present), total=total, listing=listing
            )
        super().__init__(problem)
        self.present = list(present)


def _problem(code: str, /, **params: Any) -> Problem:
    return Problem(code, MappingProxyType(params))


def _at(line: int, column: str, code: str, /, **params: Any) -> Problem:
    """A problem of one cell: "Dòng 7, cột II.2.1: <what is wrong>"."""
    return _problem("paper.at_cell", line=line, column=column, problem=_problem(code, **params))


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
        [
            FORM_ID,
            "Số phiếu ghi trên phiếu giấy",
            "Văn bản",
            "có",
            "",
            f"Mỗi phiếu một số, không trùng trong cùng bộ phận một cửa (tối đa "
            f"{FORM_ID_MAX_CHARS} ký tự); phiếu đã nhập sẽ không được nhập lại",
        ],
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
    desks = list(desks)
    for code, name in desks:
        append_row(desk_sheet, [code, name])
    _add_checks(sheet, questionnaire, len(desks))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _add_checks(sheet: Worksheet, questionnaire: Questionnaire, desks: int) -> None:
    """Data validation on the template's rows (``paper_checks``): the meta columns', then
    each item's."""
    meta = [
        paper_checks.check(
            None, FORM_ID, f"Số phiếu ghi trên phiếu giấy, tối đa {FORM_ID_MAX_CHARS} ký tự"
        ),
        paper_checks.check(
            "list" if desks else None,
            DESK,
            "Mã bộ phận một cửa: chọn trong danh sách (trang “Bộ phận một cửa”)",
            first=f"'{DESK_SHEET}'!$A$2:$A${desks + 1}" if desks else None,
        ),
        paper_checks.check(None, SUBMITTED_ON, "Ngày trên phiếu: 2026-03-15 hoặc 15/03/2026"),
    ]
    paper_checks.apply(sheet, [*meta, *paper_checks.item_checks(questionnaire)], 1 + MAX_ROWS)


def campaign_desks(campaign: Campaign) -> list[tuple[str, str]]:
    return sorted((d.code, d.name) for d in campaign.desks)


# --------------------------------------------------------------------------- reading


def read_rows(filename: str, data: bytes) -> list[list[str]]:
    """The rows of a CSV or XLSX file as text cells (first row = header), within the
    budgets of the settings ``PAPER_MAX_*``; raises ``UnreadableFile``."""
    budgets = settings().paper_budgets if has_app_context() else Budgets()
    try:
        return read_file_rows(filename, data, budgets)
    except FileRefused as refused:
        raise UnreadableFile(*refused.problems) from None


def form_key(text: str) -> str:
    """The form number as compared and stored: "0017", " 17" and 17.0 are form 17.

    NFC, inner white space as one space, upper case; digits alone lose leading zeros,
    which Excel drops when it re-saves a CSV.
    """
    key = " ".join(unicodedata.normalize("NFC", text).split()).upper()
    if key.isascii() and key.isdigit():
        key = key.lstrip("0") or "0"
    return key


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
    form_id: str
    desk_id: int
    submitted_on: dt.date
    answers: dict[str, Any]


# The question kinds' refusals of a cell (answer.*), as said of paper (paper.cell.*): in
# lower case, the end of "Dòng 7, cột II.2.1: ...", and "empty" where the form says
# "please answer".
PAPER_CELL_CODES = {
    "answer.out_of_range": "paper.cell.between",
    "answer.below_minimum": "paper.cell.at_least",
    "answer.above_maximum": "paper.cell.at_most",
    "answer.bad_text": "paper.cell.refused_text",
}


def paper_cell_code(code: str) -> str:
    """The paper code of a question kind's ``answer.*`` code."""
    return PAPER_CELL_CODES.get(code, "paper.cell." + code.removeprefix("answer."))


def _cell_problem(line: int, column: str, problem: Problem) -> Problem:
    """A cell's problem, placed on its line and column."""
    params = dict(problem.params)
    if "allowed" in params:
        params["allowed"] = ", ".join(str(c) for c in params["allowed"])
    return _at(line, column, paper_cell_code(problem.code), **params)


def validate_rows(
    campaign: Campaign, table: list[list[str]], visible_agency_ids: set[int] | None
) -> tuple[list[_Row], list[Problem]]:
    """Check every row; return the clean rows and the problems (``paper.*``)."""
    questionnaire = definition(campaign.questionnaire_version)
    if not table or not any(table[0]):
        return [], [_problem("paper.empty_file")]
    header = [h.strip() for h in table[0]]
    errors: list[Problem] = []
    known = set(template_columns(questionnaire))
    seen: set[str] = set()
    for name in header:
        if name and name not in known:
            errors.append(
                _problem(
                    "paper.unknown_column",
                    column=name,
                    questionnaire=questionnaire.id,
                    version=questionnaire.version,
                )
            )
        if name and name in seen:
            errors.append(_problem("paper.repeated_column", column=name))
        seen.add(name)
    for required in (FORM_ID, DESK, SUBMITTED_ON):
        if required not in header:
            errors.append(_problem("paper.missing_column", column=required))
    if errors:
        return [], errors
    desks = {d.code: d for d in campaign.desks}
    items = {item.code: item for item in questionnaire.items}
    rows: list[_Row] = []
    form_ids: dict[str, int] = {}
    data_lines = [(n, r) for n, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if len(data_lines) > MAX_ROWS:
        return [], [_problem("paper.too_many_forms", count=len(data_lines), maximum=MAX_ROWS)]
    if not data_lines:
        return [], [_problem("paper.no_forms")]
    for line, cells in data_lines:
        values = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
        row_errors: list[Problem] = []
        form_id = form_key(values.get(FORM_ID, ""))
        refused = find_refused(form_id, multiline=False)
        if not form_id:
            row_errors.append(_at(line, FORM_ID, "paper.cell.form_id_missing"))
        elif refused is not None or len(form_id) > FORM_ID_MAX_CHARS:
            row_errors.append(
                _at(line, FORM_ID, "paper.cell.form_id_invalid", maximum=FORM_ID_MAX_CHARS)
            )
        else:
            # Per desk, as stored (PaperForm): two desks may each have a form 1.
            key = f"{values.get(DESK, '').strip()}\n{form_id}"
            if key in form_ids:
                row_errors.append(
                    _at(
                        line,
                        FORM_ID,
                        "paper.cell.form_id_repeated",
                        form_id=form_id,
                        line=form_ids[key],
                    )
                )
            form_ids.setdefault(key, line)
        desk_code = values.get(DESK, "").strip()
        desk = desks.get(desk_code)
        if not desk_code:
            row_errors.append(_at(line, DESK, "paper.cell.desk_missing"))
        elif desk is None or (
            visible_agency_ids is not None and desk.agency_id not in visible_agency_ids
        ):
            row_errors.append(_at(line, DESK, "paper.cell.desk_unknown", desk=desk_code))
        date_text = values.get(SUBMITTED_ON, "").strip()
        submitted_on = _parse_date(date_text)
        if submitted_on is None:
            row_errors.append(_at(line, SUBMITTED_ON, "paper.cell.date_invalid", text=date_text))
        elif not campaign.starts_on <= submitted_on <= campaign.ends_on:
            row_errors.append(
                _at(
                    line,
                    SUBMITTED_ON,
                    "paper.cell.date_outside",
                    day=submitted_on,
                    starts_on=campaign.starts_on,
                    ends_on=campaign.ends_on,
                )
            )
        raw: dict[str, str | list[str]] = {}
        refused_cells: set[str] = set()
        for code, item in items.items():
            text = values.get(code, "").strip()
            if not text:
                continue
            cell, problem = kind_of(item).read_paper_cell(item, text)
            if problem is not None:
                row_errors.append(_cell_problem(line, code, problem))
                refused_cells.add(code)
                continue
            raw[code] = cell
        try:
            answers, problems = validate_answers(questionnaire, raw), {}
        except AnswersRefused as refused:
            answers, problems = refused.answers, refused.by_item()
        for code, problem in problems.items():
            if code not in refused_cells:
                row_errors.append(_cell_problem(line, code, problem))
        for code in raw:
            item = items[code]
            if code not in answers and code not in problems and item.show_if is not None:
                # Skip logic hid the item: storing nothing silently would lose what was typed.
                wanted = ", ".join(str(c) for c in sorted(item.show_if.codes))
                row_errors.append(
                    _at(line, code, "paper.cell.hidden", item=item.show_if.item, codes=wanted)
                )
        errors.extend(row_errors)
        if not row_errors and desk is not None and submitted_on is not None:
            rows.append(_Row(line, form_id, desk.id, submitted_on, answers))
    return rows, errors


def _limit(errors: list[Problem]) -> list[Problem]:
    if len(errors) <= MAX_REPORTED_ERRORS:
        return errors
    hidden = len(errors) - MAX_REPORTED_ERRORS
    return errors[:MAX_REPORTED_ERRORS] + [_problem("paper.more_errors", count=hidden)]


def visible_batches(campaign: Campaign, visible_agency_ids: set[int] | None) -> list[ImportBatch]:
    """The campaign's import batches, newest first, that a user may see.

    All of them for ``None`` (administrators, analysts, the CLI); otherwise the batches
    whose forms are all at desks of the visible agencies, whoever imported them.
    """
    statement = select(ImportBatch).filter_by(campaign_id=campaign.id)
    if visible_agency_ids is not None:
        forms = select(Submission.id).join(Desk, Submission.desk_id == Desk.id)
        forms = forms.where(Submission.import_batch_id == ImportBatch.id)
        statement = statement.where(
            exists(forms.where(Desk.agency_id.in_(visible_agency_ids))),
            ~exists(forms.where(Desk.agency_id.not_in(visible_agency_ids))),
        )
    return list(db.session.scalars(statement.order_by(ImportBatch.id.desc())))


def _duplicate(
    campaign: Campaign, batch: ImportBatch, visible_agency_ids: set[int] | None
) -> DuplicateImport:
    visible = {b.id for b in visible_batches(campaign, visible_agency_ids)}
    return DuplicateImport(batch, named=batch.id in visible)


def _forms_present(campaign: Campaign, rows: list[_Row]) -> list[tuple[str, str]]:
    """(desk code, form number) of the rows whose form is already stored, in file order.

    Every row's desk is one the importer may see (``validate_rows``), so naming these
    numbers tells nothing about another agency's forms.
    """
    wanted = {(row.desk_id, row.form_id) for row in rows}
    present: set[tuple[int, str]] = set()  # (desk id, form number)
    pairs = sorted(wanted)
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        present.update(
            (desk_id, form_id)
            for desk_id, form_id in db.session.execute(
                select(PaperForm.desk_id, PaperForm.form_id).where(
                    PaperForm.campaign_id == campaign.id,
                    tuple_(PaperForm.desk_id, PaperForm.form_id).in_(chunk),
                )
            ).all()
        )
    desks = {d.id: d.code for d in campaign.desks}
    return [(desks[r.desk_id], r.form_id) for r in rows if (r.desk_id, r.form_id) in present]


def import_file(
    campaign: Campaign,
    filename: str,
    data: bytes,
    *,
    user: StaffUser | None = None,
    visible_agency_ids: set[int] | None = None,
) -> ImportResult:
    """Validate a paper-survey file and store every row, or nothing; flush, do not commit.

    Raises ``ImportRejected`` with a problem per error for an unreadable file or
    any invalid row, ``DuplicateImport`` for a file already imported into this campaign,
    and ``DuplicateForms`` when any of its forms (number at a desk) is already stored;
    nothing is added to the session then. ``visible_agency_ids`` limits the desks rows
    may name and the earlier batches a refusal may describe
    (``access.visible_agency_ids(user)``; None for all).
    """
    digest = hashlib.sha256(data).hexdigest()
    rows, errors = validate_rows(campaign, read_rows(filename, data), visible_agency_ids)
    if errors:
        raise ImportRejected(*_limit(errors))
    earlier = db.session.scalar(
        select(ImportBatch).filter_by(campaign_id=campaign.id, file_sha256=digest)
    )
    if earlier is not None:
        raise _duplicate(campaign, earlier, visible_agency_ids)
    present = _forms_present(campaign, rows)
    if present:
        raise DuplicateForms(present, len(rows))
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
        db.session.add_all(
            PaperForm(
                campaign_id=campaign.id,
                desk_id=row.desk_id,
                form_id=row.form_id,
                import_batch_id=batch.id,
            )
            for row in rows
        )
        db.session.flush()
    except IntegrityError:
        # Another upload won the race on UNIQUE(campaign_id, file_sha256) or on
        # UNIQUE(campaign_id, desk_id, form_id): say which, from what it committed.
        db.session.rollback()
        winner = db.session.scalar(
            select(ImportBatch).filter_by(campaign_id=campaign.id, file_sha256=digest)
        )
        if winner is not None:
            raise _duplicate(campaign, winner, visible_agency_ids) from None
        present = _forms_present(campaign, rows)
        if present:
            raise DuplicateForms(present, len(rows)) from None
        raise
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
