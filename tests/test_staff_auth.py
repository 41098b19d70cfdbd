"""Staff login: passwords, throttling, disabled users, cookies, no default account."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app import migrate
from survey_app.demo import load_demo
from survey_app.extensions import db
from survey_app.models import AuditEvent, StaffUser
from survey_app.services import questionnaires
from tests.staff_support import PASSWORD, ROOT, add_user, csrf_token, login, seed_province


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)))


def test_login_with_the_right_password_opens_the_workspace_and_is_audited(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        seed_province()
        add_user("lan", "analyst")
    response = login(client, "Lan", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/").get_data(as_text=True)
    assert "Đợt khảo sát" in page and "SIPAS-2025" in page
    with app.app_context():
        [event] = _events("login.success")
        assert event.username == "lan" and event.user_id is not None


def test_wrong_password_is_refused_and_the_attempt_logged_without_the_password(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    response = login(client, "lan", "sai-mat-khau-roi")
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    login(client, "khong-co-ai", "sai-mat-khau-roi")
    with app.app_context():
        events = _events("login.failure")
        assert [e.detail["username_tried"] for e in events] == ["lan", "khong-co-ai"]
        assert [e.detail["reason"] for e in events] == ["bad_password", "unknown_user"]
        assert all("sai-mat-khau" not in str(e.detail) for e in events)


def test_disabled_user_cannot_log_in(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_user("lan", "analyst")
        user = db.session.scalar(select(StaffUser).filter_by(username="lan"))
        user.active = False
        db.session.commit()
    response = login(client, "lan")
    assert response.status_code == 200
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        assert _events("login.failure")[0].detail["reason"] == "disabled"


def test_disabling_a_signed_in_user_ends_their_access(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    login(client, "lan")
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        db.session.scalar(select(StaffUser).filter_by(username="lan")).active = False
        db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_sixth_login_attempt_in_a_minute_gets_a_vietnamese_429_page(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        db.create_all()
        add_user("lan", "analyst")
    client = app.test_client()
    for _ in range(5):
        assert login(client, "lan", "sai-mat-khau-roi").status_code == 200
    throttled = login(client, "lan", PASSWORD)
    assert throttled.status_code == 429
    assert "Quá nhiều lần thử" in throttled.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        assert _events("login.throttled")[0].detail["username_tried"] == "lan"


def test_login_throttle_is_per_username_as_well_as_per_client(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        db.create_all()
        add_user("lan", "analyst")
    for address in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{address}"
        assert login(client, "lan", "sai-mat-khau-roi").status_code == 200
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    assert login(other, "lan", PASSWORD).status_code == 429


def test_session_cookie_is_httponly_and_samesite_lax(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    response = login(client, "lan")
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session
    assert "Secure" not in session


def test_session_cookie_is_secure_behind_https(make_app: Callable[..., Flask]) -> None:
    app = make_app(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        db.create_all()
        add_user("lan", "analyst")
    response = login(app.test_client(), "lan")
    session = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in session


def test_login_refuses_a_post_without_csrf_token(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    response = client.post("/staff/login", data={"username": "lan", "password": PASSWORD})
    assert response.status_code in (200, 400)
    assert client.get("/staff/").status_code == 302


def test_next_parameter_cannot_redirect_off_site(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    token = csrf_token(client)
    response = client.post(
        "/staff/login?next=//evil.example/x",
        data={"username": "lan", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/staff/"


def test_logout_needs_post_and_ends_the_session(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_user("lan", "analyst")
    login(client, "lan")
    assert client.get("/staff/logout").status_code == 405
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        assert [e.username for e in _events("logout")] == ["lan"]


def test_no_account_exists_after_migration_and_demo(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    migrate.upgrade(app)
    with app.app_context():
        for path in sorted((ROOT / "questionnaires").glob("*.yaml")):
            questionnaires.load_file(path)
        load_demo()
        db.session.commit()
        assert db.session.scalar(select(func.count(StaffUser.id))) == 0


def test_cli_creates_the_first_admin_from_stdin_and_audits_as_cli(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["user", "create-admin", "Admin", "--password-stdin"], input="mot-mat-khau-dai\n"
    )
    assert result.exit_code == 0, result.output
    short = runner.invoke(
        args=["user", "add", "x1", "--role", "analyst", "--password-stdin"], input="ngan\n"
    )
    assert short.exit_code != 0 and "ít nhất 10 ký tự" in short.output
    with app.app_context():
        user = db.session.scalar(select(StaffUser).filter_by(username="admin"))
        assert user.role == "admin" and user.password_hash.startswith("scrypt:")
        [event] = _events("user.create")
        assert event.username == "cli" and event.target == "admin"


def test_cli_adds_officers_lists_and_disables_users(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        seed_province()
    no_agency = runner.invoke(
        args=["user", "add", "an", "--role", "officer", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert no_agency.exit_code != 0
    result = runner.invoke(
        args=["user", "add", "an", "--role", "officer", "--agency", "HT-STP", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["user", "disable", "an"]).exit_code == 0
    listed = runner.invoke(args=["user", "list"]).output
    assert listed.strip() == "an\tofficer\tHT-STP\tdisabled"
    with app.app_context():
        assert [e.username for e in _events("user.disable")] == ["cli"]
