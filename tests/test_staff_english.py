"""The staff interface in English: every page, its messages, numbers and dates.

Vietnamese stays the default and is asserted by the other staff tests; here an official
has chosen English with the header switch, and nothing but data may read Vietnamese.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app import i18n
from tests.dashboard_setup import province
from tests.english_support import data_values, vietnamese_left, visible_text
from tests.staff_support import csrf_token, sign_in

CAMPAIGN = "/staff/campaigns/SIPAS-2026"
# Every page an administrator reaches, with the heading it must show in English.
PAGES = {
    "/staff/": "Staff area",
    "/staff/agencies": "Agencies",
    "/staff/questionnaires": "Questionnaires",
    "/staff/users": "Staff accounts",
    "/staff/audit": "System audit log",
    "/staff/account/password": "Change password",
    "/staff/users/analyst/password": "Reset the password of analyst",
    "/staff/desks/STP-01/poster": "QR poster of Quầy STP-01",
    "/staff/desks/new": "Add a one-stop desk",
    "/staff/desks/STP-01": "Quầy STP-01",
    "/staff/desks/STP-01/edit": "Rename the one-stop desk",
    "/staff/desks/STP-01/deactivate": "Close the desk “Quầy STP-01”?",
    "/staff/desks/STP-01/activate": "Reopen the desk “Quầy STP-01”?",
    "/staff/campaigns/new": "Create a campaign",
    "/staff/campaigns/new?agency=HT": "Create a campaign",
    CAMPAIGN: "Khảo sát SIPAS năm 2026",
    f"{CAMPAIGN}/edit": "Edit campaign",
    f"{CAMPAIGN}/import": "Import paper survey forms",
    f"{CAMPAIGN}/dashboard": "Khảo sát SIPAS năm 2026",
    f"{CAMPAIGN}/dashboard?period=2026-Q1": "Khảo sát SIPAS năm 2026",
    f"{CAMPAIGN}/dashboard?period=2026-03&page=2": "Khảo sát SIPAS năm 2026",
    f"{CAMPAIGN}/criteria/II.2": "II.2",
    f"{CAMPAIGN}/comments": "Citizens",
    f"{CAMPAIGN}/comments?criterion=II.2&max_score=2&handled=no": "Citizens",
    f"{CAMPAIGN}/comments?criterion=ZZ&max_score=x&handled=maybe&desk=NO": "Cannot filter",
    f"{CAMPAIGN}/weighting": "Weighting and confidence interval settings",
    "/staff/no-such-page": "Not found",
}


@pytest.fixture
def english(app: Flask, client: FlaskClient) -> FlaskClient:
    province(app, 300, previous=200)
    sign_in(client, "admin")
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/language/en", data={"csrf_token": token}).status_code == 302
    return client


def _english_page(app: Flask, client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    with app.app_context():
        left = vietnamese_left(visible_text(page), data_values())
    assert left == [], f"{path} still reads Vietnamese"
    return page


def test_every_staff_page_reads_english_but_its_data(app: Flask, english: FlaskClient) -> None:
    for path, heading in PAGES.items():
        response = english.get(path)
        wanted = 404 if "no-such" in path else 400 if "criterion=ZZ" in path else 200
        assert response.status_code == wanted, path
        page = _english_page(app, english, path)
        assert '<html lang="en">' in page
        assert f">{heading}" in page, path


def test_an_officer_and_a_viewer_see_their_pages_in_english(
    app: Flask, english: FlaskClient
) -> None:
    for user in ("stp", "viewer"):
        sign_in(english, user)
        for path in ("/staff/", "/staff/agencies", f"{CAMPAIGN}/dashboard", "/staff/users"):
            _english_page(app, english, path)
    assert english.get("/staff/users").status_code == 403


def test_english_pages_write_numbers_and_dates_the_english_way(english: FlaskClient) -> None:
    home = english.get("/staff/").get_data(as_text=True)
    assert "1 Jan 2026 – 30 Jun 2026" in home and "01/01/2026" not in home
    dashboard = english.get(f"{CAMPAIGN}/dashboard").get_data(as_text=True)
    big = dashboard.split('<p class="big">')[1].split("</p>")[0]
    assert big.endswith("%") and "." in big and "," not in big
    assert "Weights: none (every response counts the same); CI 95% logit" in dashboard
    assert "Compared with Khảo sát SIPAS năm 2025 (whole campaign):" in dashboard
    assert '<option value="2026-Q1" >Q1 2026</option>' in dashboard


def test_messages_and_form_errors_follow_the_english_choice(english: FlaskClient) -> None:
    token = csrf_token(english, "/staff/desks/new")
    refused = english.post(
        "/staff/desks/new", data={"csrf_token": token, "agency": "HT-STP", "code": "", "name": ""}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Not saved: please correct the 2 errors below" in page
    assert "Please fill in this field." in page
    added = english.post(
        "/staff/desks/new",
        data={"csrf_token": token, "agency": "HT-STP", "code": "STP-09", "name": "Quầy mới"},
        follow_redirects=True,
    )
    assert "One-stop desk STP-09 added. Print the QR poster" in added.get_data(as_text=True)


def test_exports_stay_vietnamese_whatever_the_page_language(english: FlaskClient) -> None:
    body = english.get(f"{CAMPAIGN}/indices.csv").get_data(as_text=True)
    assert "Trọng số: không (mỗi phiếu như nhau); KTC 95% logit" in body
    assert "Weights" not in body


def test_vietnamese_figures_round_as_before(app: Flask) -> None:
    """72.45 is stored as 72.4500000000000028...: f"{x:.1f}" gave 72,5, and so must Babel."""
    with app.test_request_context("/staff/"):
        assert i18n.number(72.45) == "72,5"
        assert i18n.number(2.675, 2) == "2,67"
        assert i18n.number(-0.0001, 2, signed=True) == "-0,00"
