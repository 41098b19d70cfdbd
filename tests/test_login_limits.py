"""Login throttling: only failed password checks count; a stranger cannot lock an official
out of their usual browser, while guessing stays throttled. On in-memory and redis
storage, SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from survey_app.extensions import db
from survey_app.staff.login_limits import DEVICE_COOKIE
from tests.staff_support import PASSWORD, add_user, csrf_token, login

WRONG = "sai-mat-khau-roi"
REDIS = "redis://127.0.0.1:6379"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory://", REDIS])
def limited(request: pytest.FixtureRequest, make_app: Callable[..., Flask]) -> Flask:
    if request.param == REDIS and not _redis_answers():
        pytest.skip("redis is not reachable at 127.0.0.1:6379")
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=request.param,
        RATELIMIT_KEY_PREFIX=uuid.uuid4().hex,  # the redis counters of other runs stay apart
    )
    with app.app_context():
        db.create_all()
        add_user("lan", "analyst")
        add_user("an", "analyst")
    return app


def _browser(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_successful_logins_do_not_use_up_the_address_budget(limited: Flask) -> None:
    for n in range(12):  # an office behind one address, each in a fresh browser
        assert login(_browser(limited, "10.0.0.1"), "lan" if n % 2 else "an").status_code == 302
    for _ in range(5):
        assert login(_browser(limited, "10.0.0.1"), "lan", WRONG).status_code == 200
    assert login(_browser(limited, "10.0.0.1"), "an").status_code == 429


def test_failures_from_one_address_are_throttled_whatever_the_account(limited: Flask) -> None:
    for n in range(5):
        assert login(_browser(limited, "10.0.0.1"), f"khach{n}", WRONG).status_code == 200
    assert login(_browser(limited, "10.0.0.1"), "lan").status_code == 429
    assert login(_browser(limited, "10.0.0.2"), "lan").status_code == 302


def test_a_stranger_cannot_lock_an_official_out_of_their_usual_browser(limited: Flask) -> None:
    usual = _browser(limited, "10.0.0.1")
    assert login(usual, "lan").status_code == 302  # an earlier day
    _logout(usual)
    for n in range(30):  # someone guessing from thirty addresses
        response = login(_browser(limited, f"172.16.0.{n}"), "lan", WRONG)
        assert response.status_code == (200 if n < 5 else 429)
    assert login(_browser(limited, "10.0.0.9"), "lan").status_code == 429  # a new browser
    assert login(usual, "lan").status_code == 302  # Lan at her usual browser


def test_guessing_from_a_browser_with_the_device_cookie_is_throttled_as_well(
    limited: Flask,
) -> None:
    usual = _browser(limited, "10.0.0.1")
    assert login(usual, "lan").status_code == 302
    _logout(usual)
    for n in range(5):
        usual.environ_base["REMOTE_ADDR"] = f"10.0.1.{n}"  # and moving address each time
        assert login(usual, "lan", WRONG).status_code == 200
    usual.environ_base["REMOTE_ADDR"] = "10.0.1.99"
    assert login(usual, "lan").status_code == 429


@pytest.mark.parametrize("cookie", ["forged", "other account", "garbage"])
def test_a_forged_or_foreign_device_cookie_counts_as_an_unknown_browser(
    limited: Flask, cookie: str
) -> None:
    def value() -> str:
        if cookie == "forged":
            return URLSafeTimedSerializer("not-the-secret", salt="login-device").dumps(
                {"id": "x", "users": ["lan"]}
            )
        if cookie == "other account":
            an = _browser(limited, "10.9.9.9")
            assert login(an, "an").status_code == 302
            return an.get_cookie(DEVICE_COOKIE, path="/staff/").value  # type: ignore[union-attr]
        return "không phải cookie"

    for n in range(5):
        guesser = _browser(limited, f"172.16.1.{n}")
        guesser.set_cookie(DEVICE_COOKIE, value(), path="/staff/")
        assert login(guesser, "lan", WRONG).status_code == 200
    assert login(_browser(limited, "10.0.0.9"), "lan").status_code == 429


def test_parallel_guesses_cannot_overrun_a_budget(limited: Flask) -> None:
    """Each attempt takes from the budget before its password is checked."""
    browsers = [_browser(limited, "10.0.0.1") for _ in range(16)]
    tokens = [csrf_token(b) for b in browsers]
    start = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def guess(browser: FlaskClient, token: str) -> None:
        start.wait()
        data = {"username": "lan", "password": WRONG, "csrf_token": token}
        statuses.append(browser.post("/staff/login", data=data).status_code)

    threads = [
        threading.Thread(target=guess, args=pair) for pair in zip(browsers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [429] * 11


def test_guesses_at_the_current_password_of_a_signed_in_account_are_throttled(
    limited: Flask,
) -> None:
    browser = _browser(limited, "10.0.0.1")
    assert login(browser, "lan").status_code == 302
    page = "/staff/account/password"
    new = "mot-mat-khau-moi-hoan-toan"
    statuses = []
    for current in [WRONG] * 5 + [PASSWORD]:
        data = {"current": current, "new": new, "confirm": new}
        response = browser.post(page, data={**data, "csrf_token": csrf_token(browser, page)})
        statuses.append(response.status_code)
    assert statuses == [200] * 5 + [429]


def test_the_device_cookie_is_signed_httponly_strict_and_only_for_staff_pages(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        db.create_all()
        add_user("lan", "analyst")
    response = login(app.test_client(), "lan")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(DEVICE_COOKIE)]
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/staff/", "Max-Age="):
        assert attribute in cookie


def _logout(client: FlaskClient) -> None:
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
