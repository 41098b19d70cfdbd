"""The citizen form against hostile clients and faults: junk and stuffing against a desk's
limit, database connections killed under it, dossier codes read by whoever holds them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from survey_app import connections, localtime
from survey_app.extensions import db, limiter
from survey_app.models import Submission
from survey_app.services import desk_surveys, dossier_codes, submissions
from tests.citizen_support import (
    FormPage,
    Survey,
    full_answers,
    read_form,
    running_survey,
    walk,
)
from tests.conftest import POSTGRES_URL
from tests.staff_support import add_user, login

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
LAST_STEP = "10"  # SIPAS 2023: ten criteria groups, then the respondent block


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Submission.id))) or 0


def _limited_app(make_app: Callable[..., Flask], **limits: str) -> tuple[Flask, Survey]:
    """An app with the rate limits on (the defaults unless given) and a running survey."""
    app = make_app(RATELIMIT_ENABLED=True, **limits)
    with app.app_context():
        db.create_all()
    return app, running_survey(app)


def _phone(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _final_post(
    client: FlaskClient,
    survey: Survey,
    answers: Mapping[str, str | list[str]],
    **fields: str,
) -> TestResponse:
    """What a script posts: one page fetched for its CSRF token and submission id, then
    straight to the final step with ``answers`` (``fields`` overrides hidden fields)."""
    page = read_form(client.get(f"/s/{survey.public_id}"))
    data = MultiDict([(k, v) for k, v in page.hidden if k not in fields and k != "step"])
    data["step"] = LAST_STEP
    for key, value in fields.items():
        data[key] = value
    for code, value in answers.items():
        for v in [value] if isinstance(value, str) else value:
            data.add("a_" + code, v)
    data["action"] = "next"
    return client.post(f"/s/{survey.public_id}/submit", data=data)


# Kinds of junk a script posts to a desk's final step; none of them stores anything.
JUNK: dict[str, Callable[[FlaskClient, Survey], TestResponse]] = {
    "empty": lambda c, s: _final_post(c, s, {}),
    "half": lambda c, s: _final_post(c, s, {"I.1.1": "4", "I.1.2": "5"}),
    "bad_option": lambda c, s: _final_post(c, s, full_answers(**{"II.2.1": "7"})),
    "unknown_item": lambda c, s: _final_post(c, s, full_answers(**{"Z.9": "1"})),
    "bad_uid": lambda c, s: _final_post(c, s, full_answers(), uid="not-a-uuid"),
    "old_campaign": lambda c, s: _final_post(c, s, full_answers(), campaign="999999"),
}
JUNK_STATUS = {"empty": 422, "half": 422, "bad_option": 422, "unknown_item": 422}
JUNK_STATUS |= {"bad_uid": 400, "old_campaign": 410}


# --------------------------------------------------------------------------- desk limits


def test_junk_from_three_addresses_does_not_close_the_desk_to_a_citizen(
    make_app: Callable[..., Flask],
) -> None:
    """The issue's case with the default limits: 3 addresses post 10 junk final steps
    each (the desk's 30 a minute); a citizen then finishes all 11 pages and is stored.
    The junk is still refused per address: after 10 posts no page of the form sends
    (RATELIMIT_REFUSED), an 11th from one of them gets 429. A form of a campaign that
    ended is a citizen's, not a script's, and is not counted."""
    app, survey = _limited_app(make_app)
    for n in range(3):
        phone = _phone(app, f"203.0.113.{n + 1}")
        assert JUNK["old_campaign"](phone, survey).status_code == JUNK_STATUS["old_campaign"]
        kinds = [kind for kind in JUNK if kind != "old_campaign"]
        for i in range(10):
            kind = kinds[i % len(kinds)]
            assert JUNK[kind](phone, survey).status_code == JUNK_STATUS[kind], kind
        assert JUNK["empty"](phone, survey).status_code == 429
    response, _ = walk(_phone(app, "198.51.100.7"), f"/s/{survey.public_id}", full_answers())
    assert response.status_code == 303
    assert _count(app) == 1


def test_stuffing_valid_forms_from_many_addresses_is_stopped_at_the_desk_limit(
    make_app: Callable[..., Flask],
) -> None:
    """A script with valid answers and a fresh address per form: the desk stores its
    30 a minute (the default) and refuses the rest, whatever the address."""
    app, survey = _limited_app(make_app)
    codes = [
        _final_post(_phone(app, f"10.0.0.{n + 1}"), survey, full_answers()).status_code
        for n in range(36)
    ]
    assert codes[:30] == [303] * 30 and codes[30:] == [429] * 6
    assert _count(app) == 30


def test_the_daily_cap_counts_stored_forms_not_junk(make_app: Callable[..., Flask]) -> None:
    app, survey = _limited_app(make_app, RATELIMIT_DESK="1000 per minute;3 per day")
    for n in range(6):  # 60 junk posts: twenty times the day's cap
        phone = _phone(app, f"203.0.113.{n + 1}")
        for _ in range(10):
            assert JUNK["empty"](phone, survey).status_code == 422
    stored = [
        _final_post(_phone(app, f"198.51.100.{n + 1}"), survey, full_answers()).status_code
        for n in range(4)
    ]
    assert stored == [303, 303, 303, 429]
    assert _count(app) == 3


def test_a_retry_of_a_stored_form_reaches_its_receipt_when_the_desk_is_closed(
    make_app: Callable[..., Flask],
) -> None:
    app, survey = _limited_app(make_app, RATELIMIT_DESK="1 per minute")
    phone = _phone(app, "198.51.100.1")
    _response, last = walk(phone, f"/s/{survey.public_id}", full_answers(), submit=False)
    first = phone.post(last.action, data=last.data(full_answers()))
    assert first.status_code == 303
    other = _final_post(_phone(app, "198.51.100.2"), survey, full_answers())
    assert other.status_code == 429  # the desk has its one for this minute
    again = phone.post(last.action, data=last.data(full_answers()))
    assert (again.status_code, again.headers["Location"]) == (303, first.headers["Location"])
    assert phone.get(again.headers["Location"]).status_code == 200
    # The same submission id with another answer (the review carries them as hidden fields).
    other = last.data({})
    other.setlist("a_gender", ["1"])
    changed = phone.post(last.action, data=other)
    assert changed.status_code == 409
    assert _count(app) == 1


def test_a_retry_does_not_count_against_the_desk(make_app: Callable[..., Flask]) -> None:
    app, survey = _limited_app(make_app, RATELIMIT_DESK="2 per minute")
    phone = _phone(app, "198.51.100.1")
    _response, last = walk(phone, f"/s/{survey.public_id}", full_answers(), submit=False)
    receipts = {phone.post(last.action, data=last.data(full_answers())).location for _ in range(3)}
    assert len(receipts) == 1
    assert _final_post(_phone(app, "198.51.100.2"), survey, full_answers()).status_code == 303
    assert _final_post(_phone(app, "198.51.100.3"), survey, full_answers()).status_code == 429
    assert _count(app) == 2


def test_a_desk_counts_its_stored_forms_by_either_route(make_app: Callable[..., Flask]) -> None:
    """Dossier codes are no way around a desk's limit, and spent ones do not count."""
    app, survey = _limited_app(make_app, RATELIMIT_DESK="2 per minute")
    with app.app_context():
        first = dossier_codes.issue(survey.desk_code, "000.00.23.H23-251201-0101")
        second = dossier_codes.issue(survey.desk_code, "000.00.23.H23-251201-0102")
        db.session.commit()
    late = _phone(app, "198.51.100.2")
    _response, page = walk(late, f"/c/{first}", full_answers(), submit=False)
    answered, _ = walk(_phone(app, "198.51.100.1"), f"/c/{first}", full_answers())
    assert answered.status_code == 303
    assert late.post(page.action, data=page.data(full_answers())).status_code == 409
    assert _final_post(_phone(app, "198.51.100.3"), survey, full_answers()).status_code == 303
    refused, _ = walk(_phone(app, "198.51.100.4"), f"/c/{second}", full_answers())
    assert refused.status_code == 429
    assert _count(app) == 2


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    junk=st.lists(
        st.tuples(st.integers(min_value=1, max_value=4), st.sampled_from(sorted(JUNK))),
        min_size=1,
        max_size=40,
    )
)
def test_no_mix_of_junk_closes_a_small_desk_to_a_citizen(
    junk_app: tuple[Flask, Survey], junk: list[tuple[int, str]]
) -> None:
    """Junk of every kind from up to four addresses, in any order, against a desk that
    stores only 2 a minute: the next citizen is stored, and the desk then closes on
    stored forms."""
    app, survey = junk_app
    limiter.reset()
    before = _count(app)
    phones = {n: _phone(app, f"203.0.113.{n}") for n in range(1, 5)}
    for address, kind in junk:
        assert JUNK[kind](phones[address], survey).status_code in (JUNK_STATUS[kind], 429)
    citizen, _ = walk(_phone(app, "198.51.100.9"), f"/s/{survey.public_id}", full_answers())
    assert citizen.status_code == 303
    second = _final_post(_phone(app, "198.51.100.10"), survey, full_answers())
    third = _final_post(_phone(app, "198.51.100.11"), survey, full_answers())
    assert (second.status_code, third.status_code) == (303, 429)
    assert _count(app) == before + 2


@pytest.fixture
def junk_app(make_app: Callable[..., Flask]) -> tuple[Flask, Survey]:
    return _limited_app(make_app, RATELIMIT_DESK="2 per minute")


# --------------------------------------------------------------------------- dead connections


@pytest.fixture
def pg_app(make_app: Callable[..., Flask], database_url: str) -> tuple[Flask, str]:
    """An app on PostgreSQL whose connections carry a name of their own (to kill them,
    and no one else's), with no cache in front of the database."""
    if not database_url.startswith("postgresql"):
        pytest.skip("terminates PostgreSQL connections (pg_terminate_backend)")
    name = f"faults-{uuid.uuid4().hex[:12]}"
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"{database_url}&application_name={name}",
        SURVEY_CACHE_SECONDS=0,
    )
    with app.app_context():
        db.create_all()
    return app, name


def _fill_pool(app: Flask, n: int = 4) -> None:
    """Open ``n`` pooled connections at once and give them back: all idle in the pool."""
    with app.app_context():
        connections = [db.engine.connect() for _ in range(n)]
        for connection in connections:
            connection.execute(text("SELECT 1"))
        for connection in connections:
            connection.close()


def _terminate(name: str) -> int:
    """pg_terminate_backend on every connection named ``name``; waits until they are gone."""
    return _terminate_where("application_name = :name", {"name": name})


def _terminate_pid(pid: int) -> int:
    return _terminate_where("pid = :pid", {"pid": pid})


def _terminate_where(condition: str, params: dict[str, object]) -> int:
    assert POSTGRES_URL is not None
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            killed = connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                    f"FROM pg_stat_activity WHERE {condition}"
                ),
                params,
            ).scalar_one()
    finally:
        admin.dispose()
    return int(killed)


def test_no_request_fails_on_a_dead_pooled_connection(pg_app: tuple[Flask, str]) -> None:
    """Every pooled connection is terminated before each request (as a restart of the
    database does): the citizen's pages, the final POST, a staff page and /healthz all
    answer, and the submission is stored once."""
    app, name = pg_app
    survey = running_survey(app)
    with app.app_context():
        add_user("quantri", "admin")
    staff = app.test_client()
    assert login(staff, "quantri").status_code == 302
    phone = app.test_client()

    def killed_first() -> None:
        _fill_pool(app)
        assert _terminate(name) >= 4

    killed_first()
    first = phone.get(f"/s/{survey.public_id}")
    assert first.status_code == 200
    page = read_form(first)
    answers = full_answers()
    while not page.action.endswith("/submit"):
        killed_first()
        step = phone.post(page.action, data=page.data(answers))
        assert step.status_code == 200
        page = read_form(step)
    killed_first()
    final = phone.post(page.action, data=page.data(answers))
    assert final.status_code == 303
    killed_first()
    assert phone.get(final.headers["Location"]).status_code == 200
    killed_first()
    assert staff.get(f"/staff/desks/{survey.desk_code}").status_code == 200
    killed_first()
    assert phone.get("/healthz").status_code == 200
    assert _count(app) == 1


def _last_step(app: Flask, survey: Survey) -> tuple[FlaskClient, FormPage]:
    phone = app.test_client()
    _response, last = walk(phone, f"/s/{survey.public_id}", full_answers(), submit=False)
    return phone, last


def _check_passes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's check at checkout passes the next connection whatever its state: the
    server ends it between the check and the statement."""
    check = connections._idle_and_open
    passed: list[object] = []

    def passes_once(connection: object) -> bool:
        if not passed:
            passed.append(connection)
            return True
        return check(connection)

    monkeypatch.setattr(connections, "_idle_and_open", passes_once)


def test_the_final_post_is_stored_once_when_its_connection_dies_before_the_insert(
    pg_app: tuple[Flask, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies between the check at checkout and the INSERT (the check passes
    it once): the INSERT fails on it and runs once more on a fresh connection."""
    app, name = pg_app
    app.config["SURVEY_CACHE_SECONDS"] = 30  # the final POST reads nothing before its INSERT
    survey = running_survey(app)
    phone, last = _last_step(app, survey)
    _fill_pool(app)
    _terminate(name)
    _check_passes_once(monkeypatch)
    response = phone.post(last.action, data=last.data(full_answers()))
    assert response.status_code == 303
    assert phone.get(response.headers["Location"]).status_code == 200
    assert _count(app) == 1


def test_the_retry_of_the_insert_takes_a_connection_opened_after_the_drop(
    pg_app: tuple[Flask, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart or a sweep of pg_terminate_backend ends connections one after another:
    the pooled connections still look alive when the INSERT's drops (here the check
    cannot see any of them dying), and the retry must not take one of them."""
    app, name = pg_app
    app.config["SURVEY_CACHE_SECONDS"] = 30
    survey = running_survey(app)
    phone, last = _last_step(app, survey)
    _fill_pool(app)
    _terminate(name)
    monkeypatch.setattr(connections, "_idle_and_open", lambda _connection: True)
    response = phone.post(last.action, data=last.data(full_answers()))
    assert response.status_code == 303
    assert _count(app) == 1


def test_citizen_pages_answer_when_their_connection_ends_after_the_check(
    pg_app: tuple[Flask, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads behind the citizen's pages run once more on a fresh connection."""
    app, name = pg_app
    survey = running_survey(app)
    with app.app_context():
        token = dossier_codes.issue(survey.desk_code, "000.00.23.H23-251201-0009")
        db.session.commit()
    phone = app.test_client()
    stored, _ = walk(phone, f"/s/{survey.public_id}", full_answers())
    page = read_form(phone.get(f"/s/{survey.public_id}"))
    pages: dict[str, Callable[[], TestResponse]] = {
        "form": lambda: phone.get(f"/s/{survey.public_id}"),
        "step": lambda: phone.post(page.action, data=page.data(full_answers())),
        "dossier form": lambda: phone.get(f"/c/{token}"),
        "receipt": lambda: phone.get(stored.headers["Location"]),
        "healthz": lambda: phone.get("/healthz"),
    }
    for what, request in pages.items():
        with monkeypatch.context() as patch:
            _fill_pool(app)
            _terminate(name)
            _check_passes_once(patch)
            assert request().status_code == 200, what


def _then_lose_the_session_connection(read: Callable[..., T]) -> Callable[..., T]:
    """``read``, after which the server ends the session's connection (still in its
    transaction)."""

    def read_then_lose_connection(*args: object) -> T:
        found = read(*args)
        pid = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        _terminate_pid(pid)
        return found

    return read_then_lose_connection


def test_a_page_answers_when_its_connection_ends_before_the_session_closes(
    pg_app: tuple[Flask, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the connection after the page's last read, while the session still
    holds its transaction: the ROLLBACK at the end of the request fails, the page stands;
    so does the final POST, which closes the session before its INSERT."""
    app, _name = pg_app
    survey = running_survey(app)
    phone = app.test_client()
    stored, _ = walk(phone, f"/s/{survey.public_id}", full_answers())
    _response, last = walk(phone, f"/s/{survey.public_id}", full_answers(), submit=False)
    with monkeypatch.context() as patch:
        lose = _then_lose_the_session_connection(submissions.submission_by_receipt)
        patch.setattr(submissions, "submission_by_receipt", lose)
        response = phone.get(stored.headers["Location"])
        assert response.status_code == 200
        assert "Cảm ơn Ông/Bà" in response.get_data(as_text=True)
    lose = _then_lose_the_session_connection(desk_surveys.desk_survey)
    monkeypatch.setattr(desk_surveys, "desk_survey", lose)
    final = phone.post(last.action, data=last.data(full_answers()))
    assert final.status_code == 303
    assert _count(app) == 2


def test_an_insert_whose_answer_is_lost_is_not_stored_twice(
    pg_app: tuple[Flask, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The INSERT commits, then the connection dies before the application hears back:
    the retry finds the row by its uid and the citizen gets that row's receipt."""
    app, _name = pg_app
    survey = running_survey(app)
    phone, last = _last_step(app, survey)
    real = submissions.record_submission
    first: list[submissions.StoredSubmission] = []

    def commit_then_drop(connection: Connection, **kwargs: object) -> submissions.StoredSubmission:
        stored = real(connection, **kwargs)  # type: ignore[arg-type]
        if not first:
            first.append(stored)
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            _terminate_pid(pid)
            connection.exec_driver_sql("SELECT 1")  # the connection is gone: raises
        return stored

    monkeypatch.setattr(submissions, "record_submission", commit_then_drop)
    response = phone.post(last.action, data=last.data(full_answers()))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{first[0].receipt}"
    assert _count(app) == 1


def test_an_error_that_is_no_disconnect_is_not_retried(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    survey = running_survey(app)
    phone, last = _last_step(app, survey)
    calls: list[object] = []

    def broken(connection: Connection, **kwargs: object) -> submissions.StoredSubmission:
        calls.append(kwargs)
        connection.exec_driver_sql("SELECT no_such_column FROM submissions")
        raise AssertionError("the statement above fails")

    monkeypatch.setattr(submissions, "record_submission", broken)
    with pytest.raises(DBAPIError):
        phone.post(last.action, data=last.data(full_answers()))
    assert len(calls) == 1
    assert _count(app) == 0


# --------------------------------------------------------------------------- dossier codes

# Dossier numbers as provincial one-stop systems write them, and any other text a desk
# might type as one (letters of every script, digits, punctuation, symbols, spaces).
DOSSIER_FORMAT = st.builds(
    "{}.{}.{}.H{}-{}-{}".format,
    st.from_regex(r"\A[0-9]{3}\Z"),
    st.from_regex(r"\A[0-9]{2}\Z"),
    st.from_regex(r"\A[0-9]{2}\Z"),
    st.from_regex(r"\A[0-9]{2}\Z"),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.from_regex(r"\A[0-9]{4}\Z"),
)
ANY_DOSSIER = (
    st.text(
        st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
        min_size=8,
        max_size=64,
    )
    .map(str.strip)
    .filter(lambda ref: len(ref) >= 8)
)
DOSSIERS = st.one_of(DOSSIER_FORMAT, ANY_DOSSIER)
# The app fixtures are built once per test, not per example: what the examples share
# (the app, its key) is what they test.
FIXTURES = [HealthCheck.function_scoped_fixture]


def _decodings(token: str) -> list[bytes]:
    """Everything the token and its dot-separated parts decode to as base64 (URL-safe or
    not), base32 or hex, and zlib-inflated where that works (itsdangerous compresses)."""
    parts = [token, *token.split(".")]
    out: list[bytes] = []
    for part in parts:
        raw = part.encode()
        for decode in (
            lambda p: base64.urlsafe_b64decode(p + b"=" * (-len(p) % 4)),
            lambda p: base64.b64decode(p + b"=" * (-len(p) % 4)),
            lambda p: base64.b32decode(p.upper() + b"=" * (-len(p) % 8)),
            binascii.unhexlify,
        ):
            try:
                decoded = decode(raw)
            except (binascii.Error, ValueError):
                continue
            out.append(decoded)
            try:
                out.append(zlib.decompress(decoded))
            except zlib.error:
                pass
    return out


def _runs(text_: str, length: int = 4) -> set[bytes]:
    return {text_[i : i + length].encode() for i in range(len(text_) - length + 1)}


@pytest.fixture
def code_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app(DOSSIER_CODE_KEY="dossier-key-one")
    with app.app_context():
        db.create_all()
    running_survey(app)
    return app


def test_the_leak_check_finds_the_dossier_in_a_code_of_the_old_kind(code_app: Flask) -> None:
    """The check below is no tautology: it finds the number in the old codes."""
    ref = "000.00.23.H23-251123-0001"
    with code_app.app_context():
        old = _legacy_token(code_app, "D1", ref)
    assert any(run in decoded for decoded in _decodings(old) for run in _runs(ref))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ref=DOSSIERS)
def test_no_code_reveals_its_dossier_number(code_app: Flask, ref: str) -> None:
    with code_app.app_context():
        token = dossier_codes.issue("D1", ref)
    assert ref not in token
    decodings = _decodings(token)
    for run in _runs(ref):
        assert not any(run in decoded for decoded in decodings), run


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ref=DOSSIERS, other=DOSSIERS)
def test_a_dossier_has_one_stored_hash_and_secrets_give_different_ones(
    make_app: Callable[..., Flask], ref: str, other: str
) -> None:
    hashes = {}
    for key in ("dossier-key-one", "dossier-key-two"):
        app = _keyed_apps.setdefault(key, make_app(DOSSIER_CODE_KEY=key))
        with app.app_context():
            hashes[key] = dossier_codes.stored_hash(ref)
            assert dossier_codes.stored_hash(ref) == hashes[key]  # stable
            assert (dossier_codes.stored_hash(other) == hashes[key]) == (other == ref)
            assert ref not in hashes[key]
    assert hashes["dossier-key-one"] != hashes["dossier-key-two"]


_keyed_apps: dict[str, Flask] = {}


@pytest.fixture(autouse=True)
def _forget_keyed_apps() -> Iterator[None]:
    yield
    _keyed_apps.clear()


def _legacy_token(app: Flask, desk_code: str, ref: str, nonce: str = "n0nce-1") -> str:
    """A code as issued before keyed codes: JSON [desk, dossier, nonce], SECRET_KEY."""
    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"],
        salt="dossier-code",
        serializer_kwargs={"separators": (",", ":"), "ensure_ascii": False},
    )
    return serializer.dumps([desk_code, ref, nonce])


def _legacy_unkeyed(desk_code: str, ref: str, nonce: str = "n0nce-1") -> str:
    """What a submission through such a code stored then (sha256, not keyed)."""
    return hashlib.sha256(f"{nonce}\n{desk_code}\n{ref}".encode()).hexdigest()[:32]


def _dossier_submissions(app: Flask) -> list[str | None]:
    with app.app_context():
        return list(db.session.scalars(select(Submission.dossier_code)))


def test_a_code_of_the_old_kind_stays_answerable_and_spends_its_dossier(
    code_app: Flask,
) -> None:
    ref = "000.00.23.H23-251123-0001"
    old = _legacy_token(code_app, "D1", ref)
    response, _ = walk(code_app.test_client(), f"/c/{old}", full_answers())
    assert response.status_code == 303
    with code_app.app_context():
        assert _dossier_submissions(code_app) == [dossier_codes.stored_hash(ref)]
        new = dossier_codes.issue("D1", ref)
        db.session.commit()
    again = code_app.test_client().get(f"/c/{new}")
    assert again.status_code == 409
    assert "Mã này đã được dùng để đánh giá" in again.get_data(as_text=True)
    assert code_app.test_client().get(f"/c/{old}").status_code == 409


def test_a_dossier_answered_through_a_new_code_refuses_its_old_code(code_app: Flask) -> None:
    ref = "000.00.23.H23-251123-0002"
    with code_app.app_context():
        new = dossier_codes.issue("D1", ref)
        db.session.commit()
    old = _legacy_token(code_app, "D1", ref)
    phone = code_app.test_client()
    _response, late = walk(phone, f"/c/{old}", full_answers(), submit=False)
    first, _ = walk(code_app.test_client(), f"/c/{new}", full_answers())
    assert first.status_code == 303
    assert phone.post(late.action, data=late.data(full_answers())).status_code == 409
    assert _count(code_app) == 1


def test_a_code_of_the_old_kind_spent_before_the_change_stays_spent(code_app: Flask) -> None:
    """A submission stored through an old code before the change holds the keyed form of
    the old stored value (migration 0006): the GET, every step and the final POST refuse
    the code, and the exact retry of that submission still ends on its receipt."""
    ref = "000.00.23.H23-251123-0003"
    old = _legacy_token(code_app, "D1", ref)
    phone = code_app.test_client()
    _response, last = walk(phone, f"/c/{old}", full_answers(), submit=False)
    late = code_app.test_client()
    _response, late_last = walk(late, f"/c/{old}", full_answers(), submit=False)
    with code_app.app_context():
        survey = desk_surveys.dossier_survey(old, localtime.today())[0]
        answers = submissions.validate_answers(
            survey.questionnaire,
            {k[2:]: v for k, v in last.data(full_answers()).lists() if k.startswith("a_")},
        )
        with db.engine.begin() as connection:
            stored = submissions.record_submission(
                connection,
                uid=last.field("uid"),
                campaign=survey.campaign,
                desk=survey.desk,
                route="dossier",
                answers=answers,
                language="vi",
                dossier_code=dossier_codes.legacy_stored_hash(_legacy_unkeyed("D1", ref)),
            )
    assert code_app.test_client().get(f"/c/{old}").status_code == 409
    assert late.post(late_last.action, data=late_last.data(full_answers())).status_code == 409
    retry = phone.post(last.action, data=last.data(full_answers()))
    assert (retry.status_code, retry.headers["Location"]) == (303, f"/r/{stored.receipt}")
    assert _count(code_app) == 1


def test_codes_of_the_old_kind_expire_and_forged_ones_are_refused(
    code_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    max_age = int(code_app.config["DOSSIER_CODE_MAX_AGE_DAYS"]) * 86400
    with monkeypatch.context() as m:
        m.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - max_age - 60)
        expired = _legacy_token(code_app, "D1", "HS-1")
    assert code_app.test_client().get(f"/c/{expired}").status_code == 410
    forged = URLSafeTimedSerializer("not-our-secret", salt="dossier-code").dumps(
        ["D1", "HS-1", "n"]
    )
    unknown_desk = _legacy_token(code_app, "NO-SUCH-DESK", "HS-1")
    for token in (forged, unknown_desk):
        assert code_app.test_client().get(f"/c/{token}").status_code == 400


# --------------------------------------------------------------------------- the fault trial


def test_the_fault_trial_in_short_loses_nothing(tmp_path: Path) -> None:
    """bench/fault_bench.py --smoke: a few seconds of citizens on gunicorn and PostgreSQL,
    one worker killed, the database's connections terminated. Nothing acknowledged is
    lost or stored twice, and no request failed on a closed connection. No timing is
    asserted: a slow machine only takes longer."""
    if POSTGRES_URL is None:
        pytest.skip("PostgreSQL is not reachable; set TEST_DATABASE_URL")
    server = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1).rsplit("/", 1)[0]
    name = f"bench_faults_test_{uuid.uuid4().hex[:8]}"
    figures = tmp_path / "figures.json"
    try:
        run = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "fault_bench.py"),
                "--smoke",
                "--database-url",
                f"{server}/{name}",
                "--json",
                str(figures),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert figures.exists(), run.stderr[-3000:]
    result = json.loads(figures.read_text())
    assert result["receipts acknowledged"] > 0
    assert result["rows stored"] == result["receipts acknowledged"]
    assert (result["lost"], result["duplicated"]) == (0, 0)
    assert result["of them on a closed database connection"] == 0, result
    assert result["5xx seen by citizens (second, page, status)"] == []
    assert run.returncode == 0, run.stderr[-3000:]
