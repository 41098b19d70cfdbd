"""Staff sessions live on the server: a copied session cookie opens nothing once the session
ended (logout, password change, disabling) or timed out (idle, absolute lifetime).

The thief is a second test client given a copy of the victim's cookie, as a stolen cookie
would be replayed; time is injected (``staff_sessions.utcnow``), never slept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, StaffSession, StaffUser
from survey_app.services import staff_sessions
from tests.staff_support import PASSWORD, add_user, csrf_token, login

NEW_PASSWORD = "mot-mat-khau-moi-hoan-toan"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 1, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(staff_sessions, "utcnow", clock)
    return clock


@pytest.fixture
def lan(app: Flask, client: FlaskClient) -> FlaskClient:
    """Lan, an analyst, signed in; and an administrator account."""
    with app.app_context():
        add_user("lan", "analyst")
        add_user("quantri", "admin")
    assert login(client, "lan").status_code == 302
    return client


def _copy(client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = client.application.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)  # type: ignore[union-attr]
    return thief


def _signed_in(client: FlaskClient) -> bool:
    response = client.get("/staff/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


def _logout(client: FlaskClient) -> None:
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302


def test_a_copied_cookie_opens_nothing_after_logout(app: Flask, lan: FlaskClient) -> None:
    thief = _copy(lan)
    assert _signed_in(thief)
    _logout(lan)
    assert not _signed_in(lan) and not _signed_in(thief)
    assert [e.username for e in _events(app, "logout")] == ["lan"]
    with app.app_context():
        [row] = db.session.scalars(select(StaffSession))
        assert row.end_reason == "logout" and row.ended_at is not None


def test_changing_ones_password_ends_every_other_session_and_keeps_this_one(
    app: Flask, lan: FlaskClient
) -> None:
    other_browser = lan.application.test_client()
    assert login(other_browser, "lan").status_code == 302
    thief = _copy(lan)
    page = "/staff/account/password"
    response = lan.post(
        page,
        data={
            "current": PASSWORD,
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(lan, page),
        },
    )
    assert response.status_code == 302
    assert _signed_in(lan)
    assert not _signed_in(thief) and not _signed_in(other_browser)
    [event] = _events(app, "user.password")
    assert event.username == "lan" and event.detail["sessions_ended"] == 2
    assert login(app.test_client(), "lan", NEW_PASSWORD).status_code == 302


def test_a_wrong_current_password_changes_nothing_and_is_audited(
    app: Flask, lan: FlaskClient
) -> None:
    thief = _copy(lan)
    page = "/staff/account/password"
    response = lan.post(
        page,
        data={
            "current": "khong-phai-mat-khau",
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(lan, page),
        },
    )
    assert response.status_code == 200
    assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    assert _signed_in(thief)
    assert [e.username for e in _events(app, "user.password.failure")] == ["lan"]
    assert login(app.test_client(), "lan", PASSWORD).status_code == 302


@pytest.mark.parametrize("how", ["cli-password", "cli-disable", "web-disable"])
def test_an_administrators_change_ends_the_accounts_sessions(
    app: Flask, lan: FlaskClient, runner: FlaskCliRunner, how: str
) -> None:
    thief = _copy(lan)
    if how == "cli-password":
        result = runner.invoke(
            args=["user", "set-password", "lan", "--password-stdin"], input=NEW_PASSWORD + "\n"
        )
        assert result.exit_code == 0, result.output
    elif how == "cli-disable":
        assert runner.invoke(args=["user", "disable", "lan"]).exit_code == 0
    else:
        admin = app.test_client()
        assert login(admin, "quantri").status_code == 302
        token = csrf_token(admin, "/staff/users")
        admin.post("/staff/users/lan/disable", data={"csrf_token": token})
    assert not _signed_in(lan) and not _signed_in(thief)
    action = "user.password" if how == "cli-password" else "user.disable"
    [event] = _events(app, action)
    assert event.detail["sessions_ended"] == 1
    with app.app_context():
        [row] = db.session.scalars(select(StaffSession).join(StaffUser).filter_by(username="lan"))
        assert row.end_reason == ("password" if how == "cli-password" else "disabled")


def test_an_idle_session_ends_and_says_so(app: Flask, client: FlaskClient, clock: Clock) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    assert login(client, "lan").status_code == 302
    thief = _copy(client)
    clock.advance(minutes=29)
    assert _signed_in(client)  # seen again: the idle time starts over
    clock.advance(minutes=29)
    assert _signed_in(client)
    clock.advance(minutes=30)
    response = client.get("/staff/", follow_redirects=True)
    assert "không có thao tác trong 30 phút" in response.get_data(as_text=True)
    assert not _signed_in(client) and not _signed_in(thief)
    [event] = _events(app, "session.expire")
    assert event.username == "lan" and event.detail == {"reason": "idle"}


def test_a_session_ends_after_its_lifetime_however_busy(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    assert login(client, "lan").status_code == 302
    thief = _copy(client)
    for _ in range(12 * 60 // 20 - 1):  # a request every 20 minutes for 12 hours
        clock.advance(minutes=20)
        assert _signed_in(thief)
    clock.advance(minutes=20)
    assert not _signed_in(thief) and not _signed_in(client)
    assert [e.detail for e in _events(app, "session.expire")] == [{"reason": "lifetime"}]


def test_timeouts_are_settings(make_app: Callable[..., Flask], clock: Clock) -> None:
    app = make_app(SESSION_IDLE_MINUTES=5, SESSION_LIFETIME_HOURS=1)
    with app.app_context():
        db.create_all()
        add_user("lan", "analyst")
    client = app.test_client()
    assert login(client, "lan").status_code == 302
    clock.advance(minutes=4)
    assert _signed_in(client)
    clock.advance(minutes=6)
    assert not _signed_in(client)


def test_last_seen_is_written_at_most_once_a_minute(
    app: Flask, lan: FlaskClient, clock: Clock
) -> None:
    def last_seen() -> dt.datetime:
        with app.app_context():
            return db.session.scalars(select(StaffSession.last_seen_at)).one()

    # The session began before the clock was injected; start from a fresh one.
    _logout(lan)
    assert login(lan, "lan").status_code == 302
    with app.app_context():
        began = db.session.scalars(select(StaffSession.created_at).filter_by(ended_at=None)).one()
    seen = [last_seen()]
    for seconds in (10, 20, 29):  # 59 s after sign-in in all
        clock.advance(seconds=seconds)
        assert _signed_in(lan)
        seen.append(last_seen())
    assert seen == [began] * 4
    clock.advance(seconds=2)
    assert _signed_in(lan)
    assert last_seen() == clock.now


def test_nothing_from_before_login_survives_it(app: Flask, client: FlaskClient) -> None:
    """Session fixation: the CSRF secret and any planted key are replaced at login."""
    with app.app_context():
        add_user("lan", "analyst")
    old_token = csrf_token(client)
    with client.session_transaction() as session:
        old_secret = session["csrf_token"]
        session["planted"] = "by someone else"
    assert login(client, "lan").status_code == 302
    client.get("/staff/")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") not in (None, old_secret)
    # A form token issued before login does not serve after it.
    refused = client.post("/staff/logout", data={"csrf_token": old_token})
    assert _signed_in(client)
    assert refused.status_code in (302, 400)


def test_a_session_of_one_user_cannot_serve_another(app: Flask, lan: FlaskClient) -> None:
    """The cookie names a user and a session; a forged pair (another user id) is refused."""
    with app.app_context():
        other = db.session.scalars(select(StaffUser).filter_by(username="quantri")).one()
        other_id = str(other.id)
    with lan.session_transaction() as session:
        session["_user_id"] = other_id
    assert not _signed_in(lan)
