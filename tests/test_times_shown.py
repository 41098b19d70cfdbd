"""Times shown to staff: one stored UTC instant reads as Vietnam's time (+7 h) everywhere it
appears, and every place says so (it used to read 11:04 in a message and 18:04 in a table
headed "UTC")."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, ImportBatch, Submission
from tests.staff_support import add_answers, add_user, login, seed_province, sign_in
from tests.test_paper_import import CAMPAIGN, DESK, _answers, _fill_xlsx, _upload

IMPORTED = dt.datetime(2026, 3, 15, 11, 4)  # UTC, as stored: 18:04 in Vietnam
ANSWERED = dt.datetime(2026, 3, 16, 18, 4)  # Vietnam's time of a citizen's answer


@pytest.fixture
def officer(app: Flask, client: FlaskClient) -> FlaskClient:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
        add_user("root", "admin")
    login(client, "an")
    return client


def test_one_utc_instant_reads_as_vietnam_time_everywhere(app: Flask, officer: FlaskClient) -> None:
    template = officer.get(f"/staff/campaigns/{CAMPAIGN}/import/template.xlsx").data
    with app.app_context():
        body = _fill_xlsx(
            template, [{"form_id": "1", "desk": DESK, "submitted_on": "2026-03-14", **_answers()}]
        )
    assert _upload(officer, body, "a.xlsx").status_code == 302
    with app.app_context():
        db.session.scalars(select(ImportBatch)).one().imported_at = IMPORTED
        event = db.session.scalars(select(AuditEvent).filter_by(action="import.paper")).one()
        event.at = IMPORTED + dt.timedelta(seconds=5)
        db.session.commit()
        add_answers(CAMPAIGN, DESK, ANSWERED)
        stored = db.session.scalar(select(Submission.submitted_at).filter_by(route="desk_qr"))
        assert stored == dt.datetime(2026, 3, 16, 11, 4)  # kept in UTC

    conflict = _upload(officer, body, "a-copy.xlsx")
    assert conflict.status_code == 409
    assert "lúc 15/03/2026 18:04 (giờ Việt Nam) (tệp a.xlsx, 1 phiếu)" in conflict.text
    imports = officer.get(f"/staff/campaigns/{CAMPAIGN}/import").text
    batches = imports[imports.index("Thời điểm (giờ Việt Nam)") :]
    assert "15/03/2026 18:04" in batches
    campaign = officer.get(f"/staff/campaigns/{CAMPAIGN}").text
    assert "Phiếu gần nhất (giờ Việt Nam)" in campaign and "16/03/2026 18:04" in campaign
    admin = app.test_client()
    sign_in(admin, "root")
    audit = admin.get("/staff/audit?action=import.paper").text
    assert "Thời điểm (giờ Việt Nam)" in audit and "15/03/2026 18:04:05" in audit
    questionnaires = admin.get("/staff/questionnaires").text
    assert "Nạp lúc (giờ Việt Nam)" in questionnaires
    for page in (conflict.text, imports, campaign, audit):
        assert "11:04" not in page and "(UTC)" not in page

    # In English the same instant, named as Vietnam time.
    with officer.session_transaction() as session:
        session["lang"] = "en"
    english = _upload(officer, body, "a-copy.xlsx").text
    assert "at 15 Mar 2026 18:04 (Vietnam time) (file a.xlsx, 1 forms)" in english
    assert "Time (Vietnam time)" in officer.get(f"/staff/campaigns/{CAMPAIGN}/import").text
