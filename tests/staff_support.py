"""Helpers for tests of the staff workspace: a demo province, users of every role, login.

Usable by any staff test (the dashboard's too)::

    from tests.staff_support import PASSWORD, login, seed_province, add_user

``seed_province()`` (inside an app context) loads sipas-2023 and the demo province,
plus two department campaigns: ``STP-2026`` (Sở Tư pháp, desk HT-STP-01) and
``SXD-2026`` (Sở Xây dựng, desk HT-SXD-01). ``add_answers(campaign, desk, *stamps)``
stores one valid submission per time stamp.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from survey_app import localtime
from survey_app.demo import load_demo
from survey_app.extensions import db
from survey_app.models import Campaign, Desk, StaffUser
from survey_app.services import (
    accounts,
    organisation,
    paper_import,
    questionnaires,
    staff_sessions,
)
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import record_submission, validate_answers

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "mat-khau-thu-nghiem"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def seed_province() -> None:
    """The demo province; the two departments' centre desks run a 2026 campaign of their
    own each (STP-2026, SXD-2026), and the province's SIPAS-2026 runs at a second desk of
    each department instead (a desk runs one campaign a day)."""
    questionnaires.load_file(ROOT / "questionnaires" / "sipas-2023.yaml")
    load_demo()
    sipas = db.session.scalar(select(Campaign).filter_by(code="SIPAS-2026"))
    own = {"HT-STP-01": ("HT-STP-VP", "Sở Tư pháp"), "HT-SXD-01": ("HT-SXD-VP", "Sở Xây dựng")}
    desks = []
    for desk in sipas.desks:
        if desk.code in own:
            code, name = own[desk.code]
            desk = organisation.add_desk(code, f"Quầy tại trụ sở {name}", desk.agency.code)
        desks.append(desk)
    sipas.desks = desks
    for code, agency, desk in (
        ("STP-2026", "HT-STP", "HT-STP-01"),
        ("SXD-2026", "HT-SXD", "HT-SXD-01"),
    ):
        organisation.add_campaign(
            code,
            f"Khảo sát {agency} 2026",
            agency,
            "sipas-2023",
            "2023.1",
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
            [desk],
        )
    db.session.commit()


def add_answers(campaign_code: str, desk_code: str, *stamps: dt.datetime) -> None:
    """One valid SIPAS submission per time stamp (local time), stored as the citizen form
    stores it."""
    campaign = db.session.scalar(select(Campaign).filter_by(code=campaign_code))
    desk = db.session.scalar(select(Desk).filter_by(code=desk_code))
    questionnaire = definition(campaign.questionnaire_version)
    raw = {i.code: "4" for i in questionnaire.items if i.required and i.show_if is None}
    raw["II.4.0"] = "2"
    answers = validate_answers(questionnaire, raw)
    for stamp in stamps:
        record_submission(
            db.session.connection(),
            uid=str(uuid.uuid4()),
            campaign=campaign,
            desk=desk,
            route="desk_qr",
            answers=answers,
            language="vi",
            submitted_at=localtime.to_utc(stamp),
        )
    db.session.commit()


def add_user(username: str, role: str, agency: str | None = None, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    user = accounts.create_user(username, password, role, agency)
    db.session.commit()
    return user


def sign_in(client: FlaskClient, username: str) -> None:
    """Sign ``client`` in without the login form (tested on its own, and slow by design):
    a server-side session and the session cookie's keys, as the form makes them."""
    with client.application.app_context():
        user = db.session.scalars(select(StaffUser).filter_by(username=username)).one()
        token, user_id = staff_sessions.start(user), str(user.id)
        db.session.commit()
    with client.session_transaction() as session:
        session.update({"_user_id": user_id, "_fresh": True, "sid": token})


def csrf_token(client: FlaskClient, path: str = "/staff/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    token = csrf_token(client)
    return client.post(
        "/staff/login", data={"username": username, "password": password, "csrf_token": token}
    )


def paper_csv(campaign_code: str, rows: list[tuple[str, str]], day: str = "2025-06-01") -> bytes:
    """A paper CSV of forms (form number, desk code), all answered 4 (inside an app context)."""
    campaign = db.session.scalar(select(Campaign).filter_by(code=campaign_code))
    questionnaire = definition(campaign.questionnaire_version)
    header = paper_import.template_columns(questionnaire)
    answers = {i.code: "4" for i in questionnaire.items if i.required and i.show_if is None}
    answers.update({"II.4.0": "2", "gender": "2"})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for form_id, desk in rows:
        values = {"form_id": form_id, "desk": desk, "submitted_on": day, **answers}
        writer.writerow([values.get(h, "") for h in header])
    return out.getvalue().encode("utf-8")


def import_paper(
    campaign_code: str, rows: list[tuple[str, str]], day: str = "2026-03-02", name: str = "p.csv"
) -> int:
    """Import a paper CSV of ``rows`` as the command line does; the batch's id."""
    campaign = db.session.scalar(select(Campaign).filter_by(code=campaign_code))
    result = paper_import.import_file(campaign, name, paper_csv(campaign_code, rows, day))
    db.session.commit()
    return result.batch.id
