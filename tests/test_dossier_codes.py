"""Single-use dossier codes: only genuine, fresh codes verify; the signed API issues them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from survey_app.extensions import db
from survey_app.services import dossier_codes, organisation
from survey_app.services.dossier_codes import CodeExpired, CodeInvalid

API_SECRET = "onestop-test-secret"


@pytest.fixture
def desk_app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    """An app with one agency and one desk, and the one-stop API secret configured."""
    app = make_app(ONESTOP_API_SECRET=API_SECRET)
    with app.app_context():
        db.create_all()
        organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        organisation.add_desk("HT-01", "Bộ phận một cửa", "HT")
        db.session.commit()
    return app


def test_issued_code_verifies_to_its_desk_and_dossier(desk_app: Flask) -> None:
    with desk_app.app_context():
        token = dossier_codes.issue("HT-01", " 000.00.23.H23-250101-0001 ")
        claim = dossier_codes.verify(token)
        assert claim.desk_id == organisation.desk_by_code("HT-01").id
        assert claim.code == dossier_codes.stored_hash("000.00.23.H23-250101-0001")
    assert claim.legacy_code is None
    assert abs(claim.issued_at.timestamp() - time.time()) < 5
    assert len(claim.code) <= 64
    # Short enough for a small QR on a receipt.
    assert len(token) < 120
    assert all(c.isalnum() or c in "-_." for c in token)


def test_reissued_codes_for_one_dossier_spend_the_same_dossier(desk_app: Flask) -> None:
    """A reprinted receipt gets a new code, but the dossier is still answered once."""
    with desk_app.app_context():
        first = dossier_codes.verify(dossier_codes.issue("HT-01", "HS-1"))
        second = dossier_codes.verify(dossier_codes.issue("HT-01", "HS-1"))
        other = dossier_codes.verify(dossier_codes.issue("HT-01", "HS-2"))
    assert first.code == second.code != other.code


def test_claim_code_is_stable_for_one_token(desk_app: Flask) -> None:
    with desk_app.app_context():
        token = dossier_codes.issue("HT-01", "HS-1")
        assert dossier_codes.verify(token).code == dossier_codes.verify(token).code


def test_tampered_code_is_invalid(desk_app: Flask) -> None:
    with desk_app.app_context():
        token = dossier_codes.issue("HT-01", "HS-1")
        payload, rest = token.split(".", 1)
        flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
        for bad in (flipped + "." + rest, token[:-2], token + "x", "", "abc", "a.b.c"):
            with pytest.raises(CodeInvalid):
                dossier_codes.verify(bad)


def test_code_signed_with_another_key_is_invalid(desk_app: Flask) -> None:
    forged = URLSafeTimedSerializer("not-our-secret", salt="dossier-code").dumps(
        ["HT-01", "HS-1", "nonce123"]
    )
    with desk_app.app_context(), pytest.raises(CodeInvalid):
        dossier_codes.verify(forged)


def test_code_signed_for_another_purpose_is_invalid(desk_app: Flask) -> None:
    # Same key, other salt: a token minted elsewhere in the app is no dossier code.
    other = URLSafeTimedSerializer("test-secret", salt="something-else").dumps(
        ["HT-01", "HS-1", "nonce123"]
    )
    with desk_app.app_context(), pytest.raises(CodeInvalid):
        dossier_codes.verify(other)


def test_code_older_than_max_age_is_expired(
    desk_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_time = time.time
    with desk_app.app_context():
        max_days = desk_app.config["DOSSIER_CODE_MAX_AGE_DAYS"]
        monkeypatch.setattr(time, "time", lambda: real_time() - (max_days + 1) * 86400)
        old = dossier_codes.issue("HT-01", "HS-1")
        monkeypatch.setattr(time, "time", lambda: real_time() - (max_days - 1) * 86400)
        recent = dossier_codes.issue("HT-01", "HS-2")
        monkeypatch.setattr(time, "time", real_time)
        with pytest.raises(CodeExpired):
            dossier_codes.verify(old)
        assert dossier_codes.verify(recent).code == dossier_codes.stored_hash("HS-2")


def test_expired_code_with_a_bad_signature_is_invalid_not_expired(
    desk_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 400 * 86400)
    forged = URLSafeTimedSerializer("not-our-secret", salt="dossier-code").dumps(
        ["HT-01", "x", "n"]
    )
    monkeypatch.setattr(time, "time", real_time)
    with desk_app.app_context(), pytest.raises(CodeInvalid):
        dossier_codes.verify(forged)


def test_issue_refuses_unknown_desk_and_bad_reference(desk_app: Flask) -> None:
    with desk_app.app_context():
        with pytest.raises(dossier_codes.UnknownDesk):
            dossier_codes.issue("NOPE", "HS-1")
        with pytest.raises(dossier_codes.IssueError):
            dossier_codes.issue("HT-01", "   ")
        with pytest.raises(dossier_codes.IssueError):
            dossier_codes.issue("HT-01", "x" * 65)


def test_survey_url_is_public_base_and_token(desk_app: Flask) -> None:
    with desk_app.app_context():
        assert dossier_codes.survey_url("abc.def") == "http://survey.test/c/abc.def"


# The signed API of the one-stop software --------------------------------------------------


def _signed_post(
    client: FlaskClient,
    body: bytes,
    *,
    secret: str = API_SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
):  # type: ignore[no-untyped-def]
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if signature is None:
        message = ts.encode() + b"\n" + body
        signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return client.post(
        "/api/v1/dossier-codes",
        data=body,
        headers={"X-Timestamp": ts, "X-Signature": signature, "Content-Type": "application/json"},
    )


def _body(desk: str = "HT-01", dossier: str = "HS-2026-0001") -> bytes:
    return json.dumps({"desk": desk, "dossier": dossier}).encode()


def test_signed_api_call_returns_a_code_that_verifies(desk_app: Flask) -> None:
    response = _signed_post(desk_app.test_client(), _body())
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()
    assert data["url"] == "http://survey.test/c/" + data["code"]
    assert data["qr_svg"].startswith("<svg") or data["qr_svg"].startswith("<?xml")
    assert "<path" in data["qr_svg"]
    with desk_app.app_context():
        claim = dossier_codes.verify(data["code"])
        assert claim.desk_id == organisation.desk_by_code("HT-01").id
        assert claim.code == dossier_codes.stored_hash("HS-2026-0001")


def test_signed_api_rejects_a_bad_signature(desk_app: Flask) -> None:
    client = desk_app.test_client()
    for response in (
        _signed_post(client, _body(), secret="wrong-secret"),
        _signed_post(client, _body(), signature="00" * 32),
        _signed_post(client, _body(), signature="not hex"),
        client.post("/api/v1/dossier-codes", data=_body(), content_type="application/json"),
    ):
        assert response.status_code == 401
        assert "error" in response.get_json()


def test_signed_api_rejects_a_signature_over_another_body(desk_app: Flask) -> None:
    client = desk_app.test_client()
    ts = int(time.time())
    good = hmac.new(
        API_SECRET.encode(), f"{ts}\n".encode() + _body(dossier="A"), hashlib.sha256
    ).hexdigest()
    response = _signed_post(client, _body(dossier="B"), timestamp=ts, signature=good)
    assert response.status_code == 401


def test_signed_api_rejects_an_old_or_future_timestamp(desk_app: Flask) -> None:
    client = desk_app.test_client()
    now = int(time.time())
    assert _signed_post(client, _body(), timestamp=now - 301).status_code == 401
    assert _signed_post(client, _body(), timestamp=now + 301).status_code == 401
    assert _signed_post(client, _body(), timestamp=now - 250).status_code == 201
    bad_ts = client.post(
        "/api/v1/dossier-codes",
        data=_body(),
        headers={"X-Timestamp": "yesterday", "X-Signature": "00"},
        content_type="application/json",
    )
    assert bad_ts.status_code == 401


def test_signed_api_answers_404_for_an_unknown_desk(desk_app: Flask) -> None:
    response = _signed_post(desk_app.test_client(), _body(desk="NOPE"))
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_signed_api_answers_400_for_bad_json(desk_app: Flask) -> None:
    client = desk_app.test_client()
    for body in (
        b"{not json",
        b"[1, 2]",
        b'{"desk": "HT-01"}',
        b'{"desk": 1, "dossier": 2}',
        _body(dossier="   "),
    ):
        response = _signed_post(client, body)
        assert response.status_code == 400, body
        assert "error" in response.get_json()


def test_signed_api_is_unavailable_without_a_configured_secret(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    app.config.pop("ONESTOP_API_SECRET", None)
    response = _signed_post(app.test_client(), _body())
    assert response.status_code == 503
    assert "ONESTOP_API_SECRET" in response.get_json()["error"]


def test_signed_api_needs_no_csrf_token(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(ONESTOP_API_SECRET=API_SECRET, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        organisation.add_desk("HT-01", "Bộ phận một cửa", "HT")
        db.session.commit()
    assert _signed_post(app.test_client(), _body()).status_code == 201
