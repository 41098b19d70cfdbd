"""The dossier-code route /c/<code> and the code typed on the landing page: the same form,
answerable once per dossier."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import struct
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select, update

from survey_app.extensions import db, limiter
from survey_app.models import DossierCode, Submission, utcnow
from survey_app.services import dossier_codes, organisation, short_codes
from tests.citizen_support import Survey, full_answers, read_form, running_survey, walk


@pytest.fixture
def survey(app: Flask) -> Survey:
    return running_survey(app)


def _issue(app: Flask, survey: Survey, ref: str = "000.00.23.H23-250101-0001") -> str:
    with app.app_context():
        code = dossier_codes.issue(survey.desk_code, ref)
        db.session.commit()
        return code


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
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    code = _issue(app, survey)
    with app.app_context():
        db.session.execute(update(DossierCode).values(expires_at=utcnow()))
        db.session.commit()
    response = client.get(f"/c/{code}")
    assert response.status_code == 410
    assert "Mã đánh giá đã hết hạn" in response.get_data(as_text=True)


def test_a_code_printed_before_the_short_codes_still_answers_once(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    ref = "000.00.23.H23-250101-0002"
    with app.app_context():
        desk_id = organisation.desk_by_code(survey.desk_code).id
        payload = struct.pack(">I16s", desk_id, dossier_codes.dossier_id(ref))
        signer = TimestampSigner(
            app.config["DOSSIER_CODE_KEY"], salt="dossier-code-v2", digest_method=hashlib.sha256
        )
        token = signer.sign(base64.urlsafe_b64encode(payload).rstrip(b"=")).decode()
    response, _ = walk(client, f"/c/{token}", full_answers())
    assert response.status_code == 303
    # A new short code for the same dossier finds it answered.
    assert client.get(f"/c/{_issue(app, survey, ref)}").status_code == 409


# The code typed on the landing page ---------------------------------------------------------


def test_the_landing_page_has_a_code_box_that_works_without_javascript(
    client: FlaskClient,
) -> None:
    page = client.get("/").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/c">(.*?)</form>', page, re.S)
    assert form is not None
    assert 'name="ma"' in form.group(1)
    assert 'autocapitalize="characters"' in form.group(1)
    assert "<script" not in form.group(1) and "onsubmit" not in form.group(1)


@pytest.mark.parametrize(
    "typing",
    [
        lambda code: code,
        lambda code: code.lower(),
        lambda code: code.replace("-", ""),
        lambda code: " " + " ".join(code.replace("-", "")).lower() + " ",
        lambda code: f"http://survey.test/c/{code}",
    ],
)
def test_a_code_typed_on_the_landing_page_opens_the_dossier_form(
    app: Flask, client: FlaskClient, survey: Survey, typing: Callable[[str], str]
) -> None:
    code = _issue(app, survey)
    response = client.get("/c", query_string={"ma": typing(code)})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/c/{code}"
    stored, last = walk(client, response.headers["Location"], full_answers())
    assert stored.status_code == 303
    assert last.action == f"/c/{code}/submit"
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        assert submission.dossier_code == dossier_codes.stored_hash("000.00.23.H23-250101-0001")


def _refused_on_landing(client: FlaskClient, typed: str) -> str:
    response = client.get("/c", query_string={"ma": typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert f'value="{html.escape(typed)}"' in page  # what was typed stays in the box
    return page


def test_a_typo_in_a_typed_code_is_told_as_a_typo(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    code = _issue(app, survey)
    wrong = "2" if code[3] != "2" else "3"
    page = _refused_on_landing(client, code[:3] + wrong + code[4:])
    assert "có thể một ký tự bị gõ nhầm hoặc đổi chỗ" in page


def test_letters_codes_never_hold_are_named(client: FlaskClient) -> None:
    page = _refused_on_landing(client, "BKQ7M-X4TOI")
    assert "Mã đánh giá không có ký tự O I." in page
    assert "không có chữ O, chữ I, số 0, số 1" in page


def test_a_code_too_short_or_empty_is_told(client: FlaskClient) -> None:
    assert "mã vừa nhập có 9 ký tự" in _refused_on_landing(client, "BKQ7M-X4T2")
    assert "Vui lòng nhập mã đánh giá" in _refused_on_landing(client, "")


def test_a_well_formed_code_never_issued_is_not_found(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    _issue(app, survey)
    assert "Không tìm thấy mã đánh giá BKQ7M-X4T2J" in _refused_on_landing(client, "bkq7mx4t2j")


def test_a_spent_or_expired_code_typed_goes_to_the_page_that_says_so(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    code = _issue(app, survey)
    walk(client, f"/c/{code}", full_answers())
    response = client.get("/c", query_string={"ma": code.lower()}, follow_redirects=True)
    assert response.status_code == 409
    assert "Mã này đã được dùng để đánh giá" in response.get_data(as_text=True)


def test_guessing_codes_is_stopped_while_typos_cost_nothing(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CODE_MISSES="3 per minute")
    with app.app_context():
        db.create_all()
        limiter.reset()
    survey = running_survey(app)
    code = _issue(app, survey)
    phone = app.test_client()
    typo = code[:3] + ("2" if code[3] != "2" else "3") + code[4:]
    for _ in range(10):
        assert phone.get("/c", query_string={"ma": typo}).status_code == 400
    assert phone.get("/c", query_string={"ma": code}).status_code == 303
    # Well-formed codes never issued: typed, or opened as links.
    guesses = [short_codes.grouped(short_codes.new_code()) for _ in range(3)]
    assert phone.get("/c", query_string={"ma": guesses[0]}).status_code == 400
    assert phone.get(f"/c/{guesses[1]}").status_code == 400
    assert phone.get("/c", query_string={"ma": guesses[2]}).status_code == 400
    refused = phone.get("/c", query_string={"ma": code})
    assert refused.status_code == 429
    assert phone.get(f"/c/{code}").status_code == 429
    # Another address is not held back by this one's guesses.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert other.get(f"/c/{code}").status_code == 200
