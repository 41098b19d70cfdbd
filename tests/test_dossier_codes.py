"""Single-use dossier codes: short codes that reveal nothing, typed with typos caught; codes
printed before still verify; the signed API issues them with their QR and slips."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import struct
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select, update

from survey_app import localtime, models
from survey_app.caching import clear_app_caches
from survey_app.extensions import db
from survey_app.models import DossierCode
from survey_app.services import dossier_codes, organisation, short_codes
from survey_app.services.dossier_codes import CodeExpired, CodeInvalid
from tests.pdf_support import page_images, qr_codes
from tests.test_posters import decode_qr_codes

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


CODE = re.compile(r"[23456789BCFGHJKLMNPQRTVX]{5}-[23456789BCFGHJKLMNPQRTVX]{5}")


def _signed_v2(app: Flask, desk_id: int, ref: str) -> str:
    """A code as printed before the short codes: the desk and the dossier's keyed hash,
    signed and timestamped with DOSSIER_CODE_KEY (written out here, not issued)."""
    with app.app_context():
        payload = struct.pack(">I16s", desk_id, dossier_codes.dossier_id(ref))
        signer = TimestampSigner(
            app.config["DOSSIER_CODE_KEY"], salt="dossier-code-v2", digest_method=hashlib.sha256
        )
        return signer.sign(base64.urlsafe_b64encode(payload).rstrip(b"=")).decode()


def _desk_id(app: Flask) -> int:
    with app.app_context():
        return organisation.desk_by_code("HT-01").id


def test_issued_code_is_short_and_verifies_to_its_desk_and_dossier(desk_app: Flask) -> None:
    before = int(time.time())  # issued_at is kept to the second
    with desk_app.app_context():
        code = dossier_codes.issue("HT-01", " 000.00.23.H23-250101-0001 ")
        db.session.commit()
        after = time.time()
        claim = dossier_codes.verify(code)
        assert claim.desk_id == organisation.desk_by_code("HT-01").id
        assert claim.code == dossier_codes.stored_hash("000.00.23.H23-250101-0001")
        assert dossier_codes.survey_url(code) == f"http://survey.test/c/{code}"
    assert CODE.fullmatch(code), code
    assert claim.legacy_code is None
    assert before <= claim.issued_at.timestamp() <= after


def test_a_code_reveals_nothing_of_its_dossier(desk_app: Flask) -> None:
    """Not the number, nor its hash, nor even that two codes are of one dossier; and the
    database keeps neither the number nor the codes themselves."""
    ref = "000.00.23.H23-250101-0001"
    with desk_app.app_context():
        first = dossier_codes.issue("HT-01", ref)
        second = dossier_codes.issue("HT-01", ref)
        db.session.commit()
        url = dossier_codes.survey_url(first)
        rows = db.session.execute(select(DossierCode)).scalars().all()
        stored = [
            str(getattr(row, column.key)) for row in rows for column in DossierCode.__table__.c
        ]
        dossier_hash = dossier_codes.stored_hash(ref)
    assert first != second
    for text in (first, url):
        assert ref not in text
        assert "0001" not in text.replace("-", "")
        assert dossier_hash[:8].upper() not in text.upper()
    assert len(rows) == 2
    for value in stored:
        assert ref not in value
        assert first.replace("-", "") not in value.upper()
        assert second.replace("-", "") not in value.upper()


def test_reissued_codes_for_one_dossier_spend_the_same_dossier(desk_app: Flask) -> None:
    """A reprinted receipt gets a new code, but the dossier is still answered once."""
    with desk_app.app_context():
        codes = [dossier_codes.issue("HT-01", ref) for ref in ("HS-1", "HS-1", "HS-2")]
        db.session.commit()
        first, second, other = (dossier_codes.verify(code) for code in codes)
    assert first.code == second.code != other.code


def test_a_code_verifies_as_typed_or_pasted(desk_app: Flask) -> None:
    with desk_app.app_context():
        code = dossier_codes.issue("HT-01", "HS-1")
        db.session.commit()
        expected = dossier_codes.verify(code).code
        plain = code.replace("-", "")
        wide = "".join(chr(ord(c) + 0xFEE0) for c in plain)  # full-width, as some keyboards
        for typed in (
            plain,
            code.lower(),
            f"  {plain[:3]} {plain[3:6]} {plain[6:]} ",
            f"{code[:5]} – {code[6:]}",
            wide,
        ):
            assert dossier_codes.verify(typed).code == expected, typed
            assert dossier_codes.find_short(typed) == code
        # The landing page's box also takes a whole link pasted into it.
        assert dossier_codes.find_short(f"http://survey.test/c/{code}/") == code


def test_a_code_never_issued_or_malformed_is_invalid(desk_app: Flask) -> None:
    with desk_app.app_context():
        code = dossier_codes.issue("HT-01", "HS-1")
        db.session.commit()
        body = code.replace("-", "")[:-1]
        never = next(
            body[:-1] + c + short_codes.check_character(body[:-1] + c)
            for c in short_codes.ALPHABET
            if c != body[-1]
        )
        typo = code[:-1] + ("2" if code[-1] != "2" else "3")
        for bad in (never, typo, "", "abc", code + "B", "O" * 10):
            with pytest.raises(CodeInvalid):
                dossier_codes.verify(bad)


def test_a_code_past_its_last_day_is_expired(desk_app: Flask) -> None:
    with desk_app.app_context():
        [issued] = dossier_codes.issue_many("HT-01", ["HS-1"])
        db.session.commit()
        max_days = desk_app.config["DOSSIER_CODE_MAX_AGE_DAYS"]
        assert issued.last_day == localtime.today() + dt.timedelta(days=max_days)
        # Valid to the end of that local day, and not a moment after.
        assert localtime.to_local(issued.expires_at) == dt.datetime.combine(
            issued.last_day + dt.timedelta(days=1), dt.time()
        )
        db.session.execute(
            update(DossierCode).values(expires_at=models.utcnow() - dt.timedelta(seconds=1))
        )
        db.session.commit()
        clear_app_caches(desk_app)
        with pytest.raises(CodeExpired):
            dossier_codes.verify(issued.shown)


def test_codes_printed_before_the_short_codes_still_verify(desk_app: Flask) -> None:
    token = _signed_v2(desk_app, _desk_id(desk_app), "HS-7")
    with desk_app.app_context():
        claim = dossier_codes.verify(token)
        assert claim.desk_id == organisation.desk_by_code("HT-01").id
        assert claim.code == dossier_codes.stored_hash("HS-7")
        payload, rest = token.split(".", 1)
        flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
        for bad in (flipped + "." + rest, token[:-2], token + "x", "a.b.c"):
            with pytest.raises(CodeInvalid):
                dossier_codes.verify(bad)


def test_a_code_printed_before_expires_as_it_did(
    desk_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_time = time.time
    max_days = desk_app.config["DOSSIER_CODE_MAX_AGE_DAYS"]
    desk_id = _desk_id(desk_app)
    monkeypatch.setattr(time, "time", lambda: real_time() - (max_days + 1) * 86400)
    old = _signed_v2(desk_app, desk_id, "HS-1")
    monkeypatch.setattr(time, "time", lambda: real_time() - (max_days - 1) * 86400)
    recent = _signed_v2(desk_app, desk_id, "HS-2")
    monkeypatch.setattr(time, "time", real_time)
    with desk_app.app_context():
        with pytest.raises(CodeExpired):
            dossier_codes.verify(old)
        assert dossier_codes.verify(recent).code == dossier_codes.stored_hash("HS-2")


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
        with pytest.raises(dossier_codes.IssueError):
            dossier_codes.issue_many("HT-01", ["HS-1", ""])
        assert db.session.scalar(select(func.count(DossierCode.id))) == 0


# Short codes as typed ----------------------------------------------------------------------


def test_every_single_mistyped_character_is_caught() -> None:
    """Luhn mod 24: each of the 23 wrong characters at each of the 10 places fails."""
    for _ in range(20):
        code = short_codes.new_code()
        assert short_codes.parse(code) == code
        for place in range(short_codes.LENGTH):
            for wrong in short_codes.ALPHABET.replace(code[place], ""):
                typo = code[:place] + wrong + code[place + 1 :]
                with pytest.raises(short_codes.ShortCodeError) as refused:
                    short_codes.parse(typo)
                assert refused.value.problem.code == "dossier.short_check"


def test_most_swaps_of_neighbours_are_caught() -> None:
    caught = swapped = 0
    for _ in range(300):
        code = short_codes.new_code()
        for place in range(short_codes.LENGTH - 1):
            if code[place] == code[place + 1]:
                continue
            swapped += 1
            swap = code[:place] + code[place + 1] + code[place] + code[place + 2 :]
            try:
                short_codes.parse(swap)
            except short_codes.ShortCodeError:
                caught += 1
    assert caught / swapped > 0.95


@pytest.mark.parametrize(
    ("typed", "problem", "params"),
    [
        ("   ", "dossier.short_empty", {}),
        ("BKQ7M-X4T20", "dossier.short_characters", {"characters": "0"}),
        ("bkq7m-x4t2j-io", "dossier.short_characters", {"characters": "I O"}),
        ("BKQ7M-X4T2", "dossier.short_length", {"expected": 10, "length": 9}),
        ("BKQ7M-X4T2P", "dossier.short_check", {}),
        ("BKQ7M-X4TJ2", "dossier.short_check", {}),
    ],
)
def test_what_is_not_a_code_is_told_why(
    typed: str, problem: str, params: dict[str, object]
) -> None:
    with pytest.raises(short_codes.ShortCodeError) as refused:
        short_codes.parse(typed)
    assert refused.value.problem.code == problem
    assert dict(refused.value.problem.params) == params


def test_the_example_printed_in_the_messages_is_a_well_formed_code() -> None:
    assert short_codes.parse("bkq7m x4t2j") == "BKQ7MX4T2J"


def test_no_code_holds_a_vowel_or_a_letter_vietnamese_keyboards_change() -> None:
    assert not set(short_codes.ALPHABET) & set("AEIOUYDWS01Z")


# The signed API of the one-stop software --------------------------------------------------


def _signed_post(
    client: FlaskClient,
    body: bytes,
    *,
    secret: str = API_SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
    path: str = "/api/v1/dossier-codes",
):  # type: ignore[no-untyped-def]
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if signature is None:
        message = ts.encode() + b"\n" + body
        signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return client.post(
        path,
        data=body,
        headers={"X-Timestamp": ts, "X-Signature": signature, "Content-Type": "application/json"},
    )


def _body(desk: str = "HT-01", dossier: str = "HS-2026-0001") -> bytes:
    return json.dumps({"desk": desk, "dossier": dossier}).encode()


def test_signed_api_call_returns_a_short_code_its_link_and_qr(desk_app: Flask) -> None:
    response = _signed_post(desk_app.test_client(), _body())
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()
    assert CODE.fullmatch(data["code"]), data["code"]
    assert data["url"] == "http://survey.test/c/" + data["code"]
    assert "HS-2026-0001" not in response.get_data(as_text=True)
    assert decode_qr_codes(data["qr_svg"], width_px=400) == [data["url"]]
    assert data["instruction"].startswith("Quét mã QR, hoặc vào survey.test và nhập mã")
    with desk_app.app_context():
        claim = dossier_codes.verify(data["code"])
        assert claim.desk_id == organisation.desk_by_code("HT-01").id
        assert claim.code == dossier_codes.stored_hash("HS-2026-0001")
        max_days = desk_app.config["DOSSIER_CODE_MAX_AGE_DAYS"]
        last_day = localtime.today() + dt.timedelta(days=max_days)
    assert data["last_day"] == last_day.isoformat()


def test_signed_api_prints_a_list_of_dossiers_as_one_pdf_of_slips(
    desk_app: Flask, tmp_path: Path
) -> None:
    refs = [f"000.00.23.H23-250101-{n:04d}" for n in range(1, 11)] + ["000.00.23.H23-250101-0001"]
    body = json.dumps({"desk": "HT-01", "dossiers": refs}).encode()
    response = _signed_post(desk_app.test_client(), body, path="/api/v1/dossier-slips")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    pages = page_images(response.data, tmp_path)
    assert len(pages) == 2  # ten distinct dossiers, eight slips a page
    decoded = [qr_codes(page) for page in pages]
    assert [len(found) for found in decoded] == [8, 2]
    with desk_app.app_context():
        claims = [dossier_codes.verify(url.rsplit("/", 1)[1]) for url in sum(decoded, [])]
        expected = [dossier_codes.stored_hash(ref) for ref in refs[:10]]
    assert [claim.code for claim in claims] == expected


def test_signed_api_refuses_a_list_with_a_bad_line_and_issues_nothing(desk_app: Flask) -> None:
    body = json.dumps({"desk": "HT-01", "dossiers": ["HS-1", "x" * 65, "HS-\x1b"]}).encode()
    response = _signed_post(desk_app.test_client(), body, path="/api/v1/dossier-slips")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "2" in error.splitlines()[0] and "3" in error.splitlines()[1], error
    with desk_app.app_context():
        assert db.session.scalar(select(func.count(DossierCode.id))) == 0


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
