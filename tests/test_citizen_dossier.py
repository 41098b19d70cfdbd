"""The dossier-code route /c/<token>: the same form, answerable once per printed code."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Submission
from survey_app.services import dossier_codes
from tests.citizen_support import Survey, full_answers, read_form, running_survey, walk


@pytest.fixture
def survey(app: Flask) -> Survey:
    return running_survey(app)


def _issue(app: Flask, survey: Survey, ref: str = "000.00.23.H23-250101-0001") -> str:
    with app.app_context():
        return dossier_codes.issue(survey.desk_code, ref)


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Submission.id))) or 0


def test_a_dossier_code_answers_the_desk_form_once_and_spends_the_code(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    token = _issue(app, survey)
    response, last = walk(client, f"/c/{token}", full_answers())
    assert response.status_code == 303
    assert last.action == f"/c/{token}/submit"
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        claim = dossier_codes.verify(token)
        assert submission.route == "dossier"
        assert submission.dossier_code == claim.code
        assert submission.campaign_id == survey.campaign_id

    spent = client.get(f"/c/{token}")
    assert spent.status_code == 409
    assert "Mã này đã được dùng để đánh giá" in spent.get_data(as_text=True)


def test_an_exact_retry_with_a_spent_code_returns_the_same_receipt(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    token = _issue(app, survey)
    answers = full_answers()
    response, last = walk(client, f"/c/{token}", answers)
    again = client.post(last.action, data=last.data(answers))
    assert again.status_code == 303
    assert again.headers["Location"] == response.headers["Location"]
    assert _count(app) == 1


def test_a_second_form_with_the_same_code_is_refused_at_the_final_post(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    """Two phones opened the same receipt's QR; the second to send is told the code is spent."""
    token = _issue(app, survey)
    other = app.test_client()
    _response, late = walk(other, f"/c/{token}", full_answers(), submit=False)
    first, _ = walk(client, f"/c/{token}", full_answers())
    assert first.status_code == 303
    refused = other.post(late.action, data=late.data(full_answers(gender="1")))
    assert refused.status_code == 409
    assert "Mã này đã được dùng để đánh giá" in refused.get_data(as_text=True)
    assert _count(app) == 1


def test_a_forged_code_gets_a_vietnamese_400_page(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    token = _issue(app, survey)
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "abc"):
        response = client.get(f"/c/{forged}")
        assert response.status_code == 400
        assert "Mã đánh giá không hợp lệ" in response.get_data(as_text=True)
    page = read_form(client.get(f"/c/{token}"))
    posted = client.post(f"/c/{token[:-2]}xx/submit", data=page.data(full_answers()))
    assert posted.status_code == 400
    assert _count(app) == 0


def test_an_expired_code_gets_a_vietnamese_410_page(
    app: Flask, client: FlaskClient, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    max_age = int(app.config["DOSSIER_CODE_MAX_AGE_DAYS"]) * 86400
    with monkeypatch.context() as m:
        m.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - max_age - 60)
        token = _issue(app, survey)
    response = client.get(f"/c/{token}")
    assert response.status_code == 410
    assert "Mã đánh giá đã hết hạn" in response.get_data(as_text=True)
