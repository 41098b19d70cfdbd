"""An administrator resets another account's password from the users page: the password to
hand over is shown once, the account's sessions end, its next sign-in must choose a new one,
and the reset is in the audit log."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, StaffSession, StaffUser
from survey_app.services import accounts
from tests.staff_support import add_user, csrf_token, login

NEW_PASSWORD = "ba-con-meo-tren-mai-nha"
_TEMPORARY = re.compile(r'class="temporary-password mono">([^<]+)</code>')


def _users(app: Flask) -> tuple[FlaskClient, FlaskClient]:
    """An administrator and Lan (an analyst), both signed in, each in a browser."""
    with app.app_context():
        add_user("quantri", "admin")
        add_user("lan", "analyst")
    admin, lan = app.test_client(), app.test_client()
    assert login(admin, "quantri").status_code == 302
    assert login(lan, "lan").status_code == 302
    return admin, lan


def _reset(admin: FlaskClient, password: str = "") -> str:
    page = "/staff/users/lan/password"
    response = admin.post(page, data={"password": password, "csrf_token": csrf_token(admin, page)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_the_users_page_links_a_reset_for_others_and_not_for_oneself(
    app: Flask, client: FlaskClient
) -> None:
    admin, _ = _users(app)
    page = admin.get("/staff/users").get_data(as_text=True)
    assert "/staff/users/lan/password" in page
    assert "/staff/users/quantri/password" not in page
    # One's own password is changed on one's own page, with the current password.
    own = admin.get("/staff/users/quantri/password")
    assert own.status_code == 302 and own.headers["Location"] == "/staff/account/password"
    assert admin.get("/staff/users/nobody/password").status_code == 404


def test_a_temporary_password_is_shown_once_and_ends_the_accounts_sessions(app: Flask) -> None:
    admin, lan = _users(app)
    assert lan.get("/staff/").status_code == 200
    page = _reset(admin)
    match = _TEMPORARY.search(page)
    assert match, page
    temporary = match.group(1)
    assert re.fullmatch(r"([A-Za-z2-9]{4}-){3}[A-Za-z2-9]{4}", temporary)
    # Lan's open session has ended: the next request is sent to the login page.
    ended = lan.get("/staff/")
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/staff/login")
    with app.app_context():
        user = db.session.scalars(select(StaffUser).filter_by(username="lan")).one()
        assert user.must_change_password
        assert temporary not in user.password_hash
        sessions = db.session.scalars(select(StaffSession).filter_by(user_id=user.id)).all()
        assert sessions and all(s.end_reason == "password" for s in sessions)
        event = db.session.scalars(select(AuditEvent).filter_by(action="user.password.reset")).one()
        assert (event.username, event.target) == ("quantri", "lan")
        assert event.detail["sessions_ended"] == 1 and event.detail["temporary"] is True
        assert temporary not in str(event.detail)
    # Shown once: the page of the account afterwards has the form, not the password.
    assert temporary not in admin.get("/staff/users/lan/password").get_data(as_text=True)
    assert "Phải đổi mật khẩu" in admin.get("/staff/users").get_data(as_text=True)


def test_the_next_sign_in_must_choose_a_new_password_first(app: Flask) -> None:
    admin, _ = _users(app)
    temporary = _TEMPORARY.search(_reset(admin)).group(1)  # type: ignore[union-attr]
    lan = app.test_client()
    response = login(lan, "lan", temporary)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/account/password"
    page = lan.get("/staff/account/password").get_data(as_text=True)
    assert "vừa được quản trị viên đặt lại" in page
    # Every other page and the API wait for the new password.
    for path in ("/staff/", "/staff/campaigns/SXD-2026/dashboard", "/staff/questionnaires"):
        blocked = lan.get(path)
        assert blocked.status_code == 302, path
        assert blocked.headers["Location"] == "/staff/account/password"
    api = lan.get("/api/v1/campaigns/SXD-2026/indices")
    assert api.status_code == 403 and "đặt mật khẩu mới" in api.get_json()["error"]
    token = csrf_token(lan, "/staff/account/password")
    changed = lan.post(
        "/staff/account/password",
        data={
            "current": temporary,
            "new": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert changed.status_code == 302 and changed.headers["Location"] == "/staff/"
    assert lan.get("/staff/").status_code == 200
    with app.app_context():
        user = db.session.scalars(select(StaffUser).filter_by(username="lan")).one()
        assert not user.must_change_password


def test_an_administrator_may_type_the_password_and_a_weak_one_is_refused(app: Flask) -> None:
    admin, _ = _users(app)
    weak = _reset(admin, "1234567890")
    assert "Mật khẩu quá dễ đoán" in weak
    assert "temporary-password" not in weak
    with app.app_context():
        user = db.session.scalars(select(StaffUser).filter_by(username="lan")).one()
        assert not user.must_change_password
        assert (
            db.session.scalars(select(AuditEvent).filter_by(action="user.password.reset")).all()
            == []
        )
    page = _reset(admin, "mot-mat-khau-tam-thoi-7")
    assert "mot-mat-khau-tam-thoi-7" in page
    lan = app.test_client()
    response = login(lan, "lan", "mot-mat-khau-tam-thoi-7")
    assert response.headers["Location"] == "/staff/account/password"


def test_temporary_passwords_pass_the_strength_rules() -> None:
    for _ in range(20):
        password = accounts.temporary_password()
        accounts.check_password_strength(password, "lan")
