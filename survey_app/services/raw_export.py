"""Anonymised raw responses of a campaign (dữ liệu thô), the app's export layout.

``responses_frame(campaign)`` is the layout every consumer reads (the raw export
files, the dashboard, the scoring CLI). One row per submission, ordered by day and,
within a day, in a keyed order that says nothing of the submission time (the row's
place beside its desk must not tell who came when), with these columns, in this order:

=================  ==========================================================
``response_id``    opaque sequential number 1..n within this export (not the
                   database id, not the receipt)
``desk``           desk code (mã bộ phận một cửa)
``agency``         code of the desk's agency
``route``          ``desk_qr`` | ``dossier`` | ``paper``
``submitted_on``   date only (day precision, ``YYYY-MM-DD``)
``language``       the language the form was answered in
item columns       one per item of the questionnaire version, in form order
                   (sections, then the respondent block), named by item code:
                   ``single`` -> the option code (Int64, <NA> if unanswered or
                   skipped); ``number`` -> float; ``text`` -> string;
                   ``multiple`` -> one 0/1 column per option, named
                   ``CODE__OPTION`` (e.g. ``II.0.1__3``), all <NA> when the
                   respondent chose nothing
=================  ==========================================================

Never exported: client hashes, dossier codes, receipts, uids, import batches,
exact times. For ``masked=True`` (agency officers: the comments page's rule, see
services/comments.py) free texts have what can identify a person, a desk or a moment
replaced by ``[…]``. ``codebook_frame(questionnaire)`` describes each column in
Vietnamese (item wording, type, option codes and labels, whether a code is a
valid answer for the indices).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from typing import Any

import pandas as pd
from flask_babel import lazy_gettext
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from scoring.questionnaire import Item, Questionnaire
from scoring.spreadsheet import append_row, csv_frame
from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, Submission
from survey_app.questions import kind_of
from survey_app.services.comments import order_in_day
from survey_app.services.questionnaires import definition
from survey_app.services.report.comments import mask

META_COLUMNS = ("response_id", "desk", "agency", "route", "submitted_on", "language")
ROUTE_LABELS = {
    "desk_qr": lazy_gettext("Quét mã QR tại quầy"),
    "dossier": lazy_gettext("Mã hồ sơ"),
    "paper": lazy_gettext("Phiếu giấy"),
}
META_DESCRIPTIONS = {
    "response_id": "Số thứ tự phiếu trong tệp (không phải mã biên nhận)",
    "desk": "Mã bộ phận một cửa",
    "agency": "Mã cơ quan của bộ phận một cửa",
    "route": "Hình thức: desk_qr = quét mã QR tại quầy; dossier = mã hồ sơ; paper = phiếu giấy",
    "submitted_on": "Ngày gửi phiếu (năm-tháng-ngày)",
    "language": "Ngôn ngữ trả lời",
}
DATA_SHEET = "Dữ liệu"
CODEBOOK_SHEET = "Mã hóa"


def item_columns(item: Item) -> list[str]:
    """The column names of one item in the export layout."""
    return kind_of(item).export_columns(item)


def responses_frame(
    campaign: Campaign, desk_ids: Collection[int] | None = None, *, masked: bool = False
) -> pd.DataFrame:
    """The campaign's submissions in the export layout (see the module docstring).

    ``desk_ids`` limits the rows to those desks (an officer's share of a
    province-wide campaign: ``access.visible_desks``); None exports every desk.
    ``masked`` masks the free texts as an officer reads comments.
    """
    questionnaire = definition(campaign.questionnaire_version)
    where = [Submission.campaign_id == campaign.id]
    if desk_ids is not None:
        where.append(Submission.desk_id.in_(list(desk_ids)))
    subs = db.session.execute(
        select(
            Submission.id,
            Desk.code,
            Agency.code,
            Submission.route,
            Submission.submitted_at,
            Submission.language,
            Submission.answers,
        )
        .join(Desk, Submission.desk_id == Desk.id)
        .join(Agency, Desk.agency_id == Agency.id)
        .where(*where)
    ).all()
    dated = [(localtime.to_local(s[4]).date(), order_in_day(s[0]), s) for s in subs]
    dated.sort(key=lambda d: d[:2])
    desk_words = _desk_words(campaign) if masked else []

    items = questionnaire.items
    records: list[dict[str, Any]] = []
    for number, (day, _, (_, desk, agency, route, _, language, answers)) in enumerate(
        dated, start=1
    ):
        row: dict[str, Any] = {
            "response_id": number,
            "desk": desk,
            "agency": agency,
            "route": route,
            "submitted_on": day.isoformat(),
            "language": language,
        }
        for item in items:
            answer = answers.get(item.code)
            if masked and kind_of(item).comment and isinstance(answer, str):
                answer = mask(answer, desk_words, limit=None)
            row.update(kind_of(item).export_cells(item, answer))
        records.append(row)

    columns = list(META_COLUMNS) + [c for item in items for c in item_columns(item)]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["response_id"] = frame["response_id"].astype("int64")
    for column in ("desk", "agency", "route", "submitted_on", "language"):
        frame[column] = frame[column].astype("string")
    for item in items:
        for column in item_columns(item):
            frame[column] = frame[column].astype(kind_of(item).export_dtype)
    return frame


def _desk_words(campaign: Campaign) -> list[str]:
    """The codes and names of the campaign's desks, masked wherever a text names them."""
    return [w for d in campaign.desks for w in (d.code, d.name)]


def codebook_frame(questionnaire: Questionnaire) -> pd.DataFrame:
    """One row per column value: column, item, wording, type, code, label, valid (Vietnamese)."""
    lang = questionnaire.default_language
    rows: list[dict[str, Any]] = [
        {
            "cot": c,
            "ma_cau_hoi": "",
            "noi_dung": META_DESCRIPTIONS[c],
            "loai": "",
            "ma_tra_loi": "",
            "nhan": "",
            "hop_le": "",
        }
        for c in META_COLUMNS
    ]
    for item in questionnaire.items:
        text = item.text.get(lang, "")
        kind = kind_of(item)
        rows.extend(
            {
                "cot": entry.column,
                "ma_cau_hoi": item.code,
                "noi_dung": text,
                "loai": kind.label,
                "ma_tra_loi": entry.code,
                "nhan": entry.label,
                "hop_le": entry.valid,
            }
            for entry in kind.codebook(item, lang)
        )
    frame = pd.DataFrame(rows)
    frame.columns = pd.Index(CODEBOOK_HEADERS)
    return frame


CODEBOOK_HEADERS = ["Cột", "Mã câu hỏi", "Nội dung", "Loại", "Mã trả lời", "Nhãn", "Hợp lệ"]


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    # utf-8-sig: Excel needs the BOM to read Vietnamese diacritics correctly.
    text = csv_frame(frame).to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return text.encode("utf-8-sig")


def responses_csv(
    campaign: Campaign, desk_ids: Collection[int] | None = None, *, masked: bool = False
) -> bytes:
    return _csv_bytes(responses_frame(campaign, desk_ids, masked=masked))


def codebook_csv(campaign: Campaign) -> bytes:
    return _csv_bytes(codebook_frame(definition(campaign.questionnaire_version)))


def write_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    """Write a frame to an openpyxl sheet: bold frozen header, <NA> as empty cells, text
    as inert text (``scoring.spreadsheet``)."""
    append_row(sheet, [str(c) for c in frame.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in frame.itertuples(index=False, name=None):
        append_row(sheet, row)


def responses_xlsx(
    campaign: Campaign, desk_ids: Collection[int] | None = None, *, masked: bool = False
) -> bytes:
    """Workbook with sheets "Dữ liệu" (responses) and "Mã hóa" (codebook)."""
    book = Workbook()
    data = book.active
    data.title = DATA_SHEET
    write_sheet(data, responses_frame(campaign, desk_ids, masked=masked))
    write_sheet(
        book.create_sheet(CODEBOOK_SHEET),
        codebook_frame(definition(campaign.questionnaire_version)),
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
