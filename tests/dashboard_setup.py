"""Shared set-up of the dashboard and export tests: a province, a campaign, responses, users."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bench.dashboard_data import generate
from scoring.questionnaire import Questionnaire
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, Submission
from survey_app.services import accounts, analysis, organisation, questionnaires
from survey_app.services.questionnaires import definition
from tests.staff_support import sign_in

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "mat-khau-rat-dai-2026"


def province(app: Flask, n: int = 400, previous: int = 0) -> None:
    """Province HT with two departments (two desks each) and a commune; SIPAS 2026 campaign."""
    analysis.clear_caches()
    with app.app_context():
        questionnaires.load_file(ROOT / "questionnaires" / "sipas-2023.yaml")
        organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        organisation.add_agency("HT-STP", "Sở Tư pháp", "department", "HT")
        organisation.add_agency("HT-SXD", "Sở Xây dựng", "department", "HT")
        organisation.add_agency("HT-TS", "Phường Thành Sen", "commune", "HT")
        desks = ["STP-01", "STP-02", "SXD-01", "SXD-02", "TS-01"]
        for code in desks:
            agency = {"STP": "HT-STP", "SXD": "HT-SXD", "TS-": "HT-TS"}[code[:3]]
            organisation.add_desk(code, f"Quầy {code}", agency)
        if previous:
            organisation.add_campaign(
                "SIPAS-2025",
                "Khảo sát SIPAS năm 2025",
                "HT",
                "sipas-2023",
                "2023.1",
                dt.date(2025, 1, 1),
                dt.date(2025, 12, 31),
                desks,
            )
        organisation.add_campaign(
            "SIPAS-2026",
            "Khảo sát SIPAS năm 2026",
            "HT",
            "sipas-2023",
            "2023.1",
            dt.date(2026, 1, 1),
            dt.date(2026, 6, 30),
            desks,
        )
        accounts.create_user("admin", PASSWORD, "admin")
        accounts.create_user("analyst", PASSWORD, "analyst")
        accounts.create_user("stp", PASSWORD, "officer", "HT-STP")
        accounts.create_user("viewer", PASSWORD, "viewer", "HT")
        db.session.commit()
        generate(campaign("SIPAS-2026"), n, seed=7)
        if previous:
            generate(campaign("SIPAS-2025"), previous, seed=8)


def campaign(code: str) -> Campaign:
    return db.session.scalars(db.select(Campaign).filter_by(code=code)).one()


def login(client: FlaskClient, username: str) -> None:
    """Sign in without the login form (tested elsewhere)."""
    sign_in(client, username)


def scoring_frame(app: Flask, code: str = "SIPAS-2026") -> tuple[pd.DataFrame, Questionnaire]:
    """The campaign's single-choice answers, one row per submission, built with pandas from
    the stored documents, independently of the app's loader (which reads them in SQL)."""
    with app.app_context():
        c = campaign(code)
        q = definition(c.questionnaire_version)
        rows = db.session.execute(
            db.select(Submission.id, Desk.code, Agency.code, Submission.answers)
            .join(Desk, Desk.id == Submission.desk_id)
            .join(Agency, Agency.id == Desk.agency_id)
            .where(Submission.campaign_id == c.id)
        ).all()
    singles = {i.code for i in (*q.items, *q.respondent) if i.type == "single"}
    meta = pd.DataFrame(
        [(sid, desk, agency) for sid, desk, agency, _ in rows], columns=["sid", "desk", "agency"]
    ).set_index("sid")
    wide = pd.DataFrame.from_records(
        [{k: v for k, v in answers.items() if k in singles} for *_, answers in rows],
        index=[sid for sid, *_ in rows],
    ).astype(float)
    return meta.join(wide).sort_index().reset_index(names="sid"), q


_CONFIRM = re.compile(r'name="confirm" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def confirm_weighting(client: FlaskClient, preview: TestResponse) -> TestResponse:
    """Confirm the settings a weighting POST previewed (the page's "Xác nhận và lưu")."""
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    token, csrf = _CONFIRM.search(page), _CSRF.search(page)
    assert token and csrf, "no confirmation form on the preview"
    url = preview.request.path
    return client.post(url, data={"confirm": token.group(1), "csrf_token": csrf.group(1)})
