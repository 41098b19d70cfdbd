"""Raw-response export: anonymised, read back equals what was stored, CSV with BOM, XLSX sheets."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign, Desk, Submission
from survey_app.services import organisation, questionnaires, raw_export
from survey_app.services.submissions import record_submission, validate_answers
from tests.staff_support import add_user, login, seed_province

SMALL = """\
schema: 1
id: small-test
version: "1"
title: {vi: Phiếu thử nghiệm}
languages: [vi]
scales:
  sat:
    options:
      - {code: 1, label: {vi: Không hài lòng}}
      - {code: 2, label: {vi: Hài lòng}}
      - {code: 9, label: {vi: Không có ý kiến}, valid: false}
sections:
  - code: A
    title: {vi: Phần A}
    items:
      - {code: A.1, text: {vi: Thái độ công chức}, type: single, scale: sat, required: true}
      - code: A.2
        text: {vi: "Ông/bà biết thủ tục qua kênh nào?"}
        type: multiple
        options:
          - {code: 1, label: {vi: Cổng dịch vụ công}}
          - {code: 2, label: {vi: Niêm yết tại quầy}}
          - {code: 3, label: {vi: Người quen}}
      - {code: A.3, text: {vi: Số lần đi lại}, type: number, min: 0, max: 20, integer: true}
      - code: A.4
        text: {vi: Mức độ hài lòng với việc đi lại}
        type: single
        scale: sat
        show_if: {item: A.2, in: [3]}
      - {code: A.5, text: {vi: Góp ý khác}, type: text}
"""


def _store(
    campaign: Campaign,
    desk: Desk,
    raw: dict,
    route: str,
    at: dt.datetime,  # type: ignore[type-arg]
    **extra: object,
) -> None:
    from survey_app.services.questionnaires import definition

    answers = validate_answers(definition(campaign.questionnaire_version), raw)
    record_submission(
        db.session.connection(),
        uid=str(uuid.uuid4()),
        campaign=campaign,
        desk=desk,
        route=route,
        answers=answers,
        language="vi",
        submitted_at=at,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def stored(app: Flask, tmp_path: Path) -> Flask:
    with app.app_context():
        seed_province()
        path = tmp_path / "small.yaml"
        path.write_text(SMALL, encoding="utf-8")
        questionnaires.load_file(path)
        organisation.add_desk("HT-STP-02", "Quầy thử nghiệm", "HT-STP")
        campaign = organisation.add_campaign(
            "SMALL",
            "Thử nghiệm",
            "HT-STP",
            "small-test",
            "1",
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
            ["HT-STP-02"],
        )
        desk = campaign.desks[0]
        _store(
            campaign,
            desk,
            {"A.1": "2", "A.2": ["1", "3"], "A.3": "1", "A.4": "9", "A.5": "Rất tốt, cảm ơn"},
            "desk_qr",
            dt.datetime(2026, 2, 3, 9, 41, 7),
            client_hash="c" * 32,
        )
        _store(
            campaign,
            desk,
            {"A.1": "1", "A.3": "0"},
            "dossier",
            dt.datetime(2026, 2, 1, 15, 2, 0),
            dossier_code="d" * 32,
        )
        _store(campaign, desk, {"A.1": "9", "A.2": ["2"]}, "paper", dt.datetime(2026, 2, 5))
        add_user("an", "officer", "HT-STP")
        db.session.commit()
    return app


EXPECTED = pd.DataFrame(
    {
        "response_id": [1, 2, 3],
        "desk": ["HT-STP-02"] * 3,
        "agency": ["HT-STP"] * 3,
        "route": ["dossier", "desk_qr", "paper"],
        "submitted_on": ["2026-02-01", "2026-02-03", "2026-02-05"],
        "language": ["vi"] * 3,
        "A.1": pd.array([1, 2, 9], dtype="Int64"),
        "A.2__1": pd.array([None, 1, 0], dtype="Int64"),
        "A.2__2": pd.array([None, 0, 1], dtype="Int64"),
        "A.2__3": pd.array([None, 1, 0], dtype="Int64"),
        "A.3": pd.array([0.0, 1.0, None], dtype="Float64"),
        "A.4": pd.array([None, 9, None], dtype="Int64"),
        "A.5": pd.array([None, "Rất tốt, cảm ơn", None], dtype="string"),
    }
)


def test_responses_frame_is_the_documented_layout_of_what_was_stored(stored: Flask) -> None:
    with stored.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="SMALL"))
        frame = raw_export.responses_frame(campaign)
    expected = EXPECTED.astype(
        {c: "string" for c in ("desk", "agency", "route", "submitted_on", "language")}
    )
    pd.testing.assert_frame_equal(frame, expected)


def test_csv_export_has_a_bom_reads_back_equal_and_is_audited(
    stored: Flask, client: FlaskClient
) -> None:
    login(client, "an")
    response = client.get("/staff/campaigns/SMALL/responses.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    with stored.app_context():
        ids = [(s.uid, s.receipt) for s in db.session.scalars(select(Submission))]
    secrets = ["c" * 32, "d" * 32, "09:41"] + [x for pair in ids for x in pair]
    assert not [secret for secret in secrets if secret in text]
    back = pd.read_csv(
        io.BytesIO(response.data), encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    assert list(back.columns) == list(EXPECTED.columns)
    assert back["A.5"].tolist() == ["", "Rất tốt, cảm ơn", ""]
    assert back["A.2__1"].tolist() == ["", "1", "0"]
    assert back["A.3"].tolist() == ["0.0", "1.0", ""]
    with stored.app_context():
        [event] = db.session.scalars(select(AuditEvent).filter_by(action="export.responses"))
        assert event.target == "SMALL"
        assert event.detail == {"format": "csv", "desks": "HT-STP-02"}


def test_xlsx_export_has_data_and_codebook_sheets(stored: Flask, client: FlaskClient) -> None:
    login(client, "an")
    response = client.get("/staff/campaigns/SMALL/responses.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Dữ liệu", "Mã hóa"]
    rows = list(book["Dữ liệu"].iter_rows(values_only=True))
    assert list(rows[0]) == list(EXPECTED.columns)
    assert rows[2] == (
        2,
        "HT-STP-02",
        "HT-STP",
        "desk_qr",
        "2026-02-03",
        "vi",
        2,
        1,
        0,
        1,
        1,
        9,
        "Rất tốt, cảm ơn",
    )
    codebook = list(book["Mã hóa"].iter_rows(values_only=True))
    assert codebook[0] == ("Cột", "Mã câu hỏi", "Nội dung", "Loại", "Mã trả lời", "Nhãn", "Hợp lệ")
    assert (
        "A.1",
        "A.1",
        "Thái độ công chức",
        "Chọn một",
        9,
        "Không có ý kiến",
        "không",
    ) in codebook
    assert (
        "A.2__3",
        "A.2",
        "Ông/bà biết thủ tục qua kênh nào?",
        "Chọn nhiều",
        "1 = có chọn; 0 = không chọn",
        "Người quen",
        "có",
    ) in codebook


def test_viewer_may_not_download_raw_responses(stored: Flask, client: FlaskClient) -> None:
    with stored.app_context():
        add_user("xem", "viewer", "HT-STP")
    login(client, "xem")
    assert client.get("/staff/campaigns/SMALL/responses.csv").status_code == 403


def test_numbers_keep_their_stored_value(stored: Flask) -> None:
    with stored.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="SMALL"))
        frame = raw_export.responses_frame(campaign)
        assert Decimal(str(frame.loc[1, "A.3"])) == Decimal("1")


def test_an_officers_export_orders_a_day_by_a_key_and_masks_texts(
    stored: Flask, client: FlaskClient
) -> None:
    """A desk's rows of one day are not in the order citizens came (their place would tell
    who came when), and an officer reads the texts as on the comments page; an analyst's
    file keeps the texts whole."""
    from survey_app.services.comments import order_in_day

    with stored.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="SMALL"))
        desk = campaign.desks[0]
        for minute in range(12):
            _store(
                campaign,
                desk,
                {
                    "A.1": "2",
                    "A.5": f"phiếu {'abcdefghijkl'[minute]}, chị Lan quầy 3 lúc 9h{minute:02d}",
                },
                "desk_qr",
                dt.datetime(2026, 3, 2, 2, minute),  # 09:xx in Vietnam
            )
        db.session.commit()
        ids = db.session.scalars(
            select(Submission.id)
            .where(Submission.submitted_at >= dt.datetime(2026, 3, 2))
            .order_by(Submission.submitted_at)
        ).all()
        keyed = sorted(range(12), key=lambda m: order_in_day(ids[m]))
        add_user("phan-tich", "analyst", None)
        db.session.commit()
    login(client, "an")
    officer = pd.read_csv(
        io.BytesIO(client.get("/staff/campaigns/SMALL/responses.csv").data),
        encoding="utf-8-sig",
        dtype=str,
        keep_default_na=False,
    )
    day = officer[officer["submitted_on"] == "2026-03-02"]
    assert day["A.5"].str.startswith("phiếu").all() and len(day) == 12
    came = ["abcdefghijkl".index(t[6]) for t in day["A.5"]]  # the minute each came at
    assert came == keyed
    assert came != sorted(came)
    assert day["A.5"].tolist()[0].endswith("chị […] quầy […] lúc […]")
    assert list(officer["submitted_on"]) == sorted(officer["submitted_on"])
    analyst = stored.test_client()
    login(analyst, "phan-tich")
    text = analyst.get("/staff/campaigns/SMALL/responses.csv").data.decode("utf-8-sig")
    assert "phiếu f, chị Lan quầy 3 lúc 9h05" in text
