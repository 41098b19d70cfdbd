"""A loaded questionnaire previewed as a citizen sees it, before any campaign uses it: the
citizen form's own steps, checks and review, under a "Xem trước — không lưu" banner, and
nothing stored, whatever is posted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app.extensions import db
from survey_app.services import questionnaires
from tests.citizen_support import SIPAS_2023, SMALL, full_answers
from tests.http_support import row_counts
from tests.staff_support import add_user, sign_in

BANNER = "Xem trước — không lưu"


@pytest.fixture
def versions(app: Flask, client: FlaskClient) -> dict[str, int]:
    """SIPAS 2023 and a small questionnaire loaded, no campaign at all; a viewer signed in."""
    with app.app_context():
        sipas, _ = questionnaires.load_file(SIPAS_2023)
        small, _ = questionnaires.load_text(SMALL, "small.yaml")
        db.session.commit()
        add_user("quantri", "admin")
        ids = {"sipas": sipas.id, "small": small.id}
    sign_in(client, "quantri")
    return ids


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, name
    return match.group(1)


def _post(client: FlaskClient, url: str, page: str, answers: dict[str, Any], **fields: str):  # type: ignore[no-untyped-def]
    data: dict[str, Any] = {
        "csrf_token": _token(page),
        "uid": _hidden(page, "uid"),
        "lang": _hidden(page, "lang"),
        "campaign": _hidden(page, "campaign"),
        **{f"a_{code}": value for code, value in answers.items()},
        **fields,
    }
    return client.post(url, data=data)


def test_the_questionnaires_page_links_each_version_to_its_preview(
    client: FlaskClient, versions: dict[str, int]
) -> None:
    page = client.get("/staff/questionnaires").text
    for version_id in versions.values():
        assert f"/staff/questionnaires/{version_id}/preview" in page


def test_the_first_step_is_the_citizens_under_a_banner(
    client: FlaskClient, versions: dict[str, int]
) -> None:
    url = f"/staff/questionnaires/{versions['sipas']}/preview"
    page = client.get(url).text
    assert BANNER in page and "<body data-preview>" in page
    assert f'<form class="survey" method="post" action="{url}"' in page
    assert "Phần 1/" in page and "I.1.1." in page
    assert "Chính quyền cung cấp, giải thích thông tin chính sách" in page
    english = client.get(f"{url}?lang=en").text
    assert "The government provides and explains policy information" in english
    assert client.get("/staff/questionnaires/999/preview").status_code == 404


def test_every_step_is_checked_and_the_final_send_stores_nothing(
    app: Flask, client: FlaskClient, versions: dict[str, int]
) -> None:
    url = f"/staff/questionnaires/{versions['small']}/preview"
    with app.app_context():
        before = row_counts()
    first = client.get(url).text
    # A required question left empty: the citizen's own message, on the same step.
    missing = _post(client, url, first, {}, step="0", action="next")
    assert missing.status_code == 422
    assert "Có 1 câu cần sửa" in missing.text and BANNER in missing.text
    answers = {"a": "1", "why": "2", "m": ["1", "3"], "visits": "3", "hours": "1,5", "t": "Tốt"}
    review = _post(client, url, first, answers, step="0", action="next")
    assert review.status_code == 200
    assert "Xem lại phiếu trước khi gửi" in review.text
    assert f'action="{url}/submit"' in review.text
    done = _post(client, f"{url}/submit", review.text, answers, step="1", action="next")
    assert done.status_code == 200
    assert "Đây là bản xem trước nên không có gì được lưu" in done.text
    # An answer out of range on the final send: shown on its step, never stored.
    wrong = _post(client, f"{url}/submit", review.text, {**answers, "visits": "40"}, step="1")
    assert wrong.status_code == 422 and "không có gì được lưu" not in wrong.text
    with app.app_context():
        assert row_counts() == before


def test_a_full_sipas_form_is_accepted_in_the_preview(
    app: Flask, client: FlaskClient, versions: dict[str, int]
) -> None:
    url = f"/staff/questionnaires/{versions['sipas']}/preview"
    page = client.get(url).text
    with app.app_context():
        before = row_counts()
    done = _post(client, f"{url}/submit", page, full_answers(), step="0", action="next")
    assert done.status_code == 200, done.text
    assert "Đây là bản xem trước nên không có gì được lưu" in done.text
    with app.app_context():
        assert row_counts() == before


def test_anonymous_is_sent_to_the_login_page(app: Flask, versions: dict[str, int]) -> None:
    anonymous = app.test_client().get(f"/staff/questionnaires/{versions['small']}/preview")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]
