"""Audit log: events for every audited action, and the administrators-only page."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, StaffUser
from survey_app.services import audit
from tests.staff_support import PASSWORD, ROOT, add_user, csrf_token, login, seed_province


def _actions() -> list[tuple[str | None, str, str | None]]:
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    return [(e.username, e.action, e.target) for e in events]


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    with app.app_context():
        seed_province()
        add_user("quantri", "admin")
    login(client, "quantri")
    return client


def test_admin_creates_disables_and_enables_users_in_the_web_ui(
    app: Flask, admin: FlaskClient
) -> None:
    token = csrf_token(admin, "/staff/users")
    created = admin.post(
        "/staff/users",
        data={
            "csrf_token": token,
            "username": "Binh",
            "password": PASSWORD,
            "role": "officer",
            "agency": "HT-SXD",
        },
    )
    assert created.status_code == 302
    assert "Đã tạo tài khoản binh" in admin.get("/staff/users").get_data(as_text=True)
    refused = admin.post(
        "/staff/users",
        data={
            "csrf_token": token,
            "username": "chi",
            "password": "ngan",
            "role": "analyst",
            "agency": "",
        },
    )
    assert "Mật khẩu phải có ít nhất 10 ký tự." in refused.get_data(as_text=True)
    assert admin.post("/staff/users/binh/disable", data={"csrf_token": token}).status_code == 302
    assert admin.post("/staff/users/binh/enable", data={"csrf_token": token}).status_code == 302
    admin.post("/staff/users/quantri/disable", data={"csrf_token": token})
    with app.app_context():
        user = db.session.scalar(select(StaffUser).filter_by(username="binh"))
        assert user.role == "officer" and user.agency.code == "HT-SXD" and user.active
        assert db.session.scalar(select(StaffUser).filter_by(username="quantri")).active
        assert _actions()[-3:] == [
            ("quantri", "user.create", "binh"),
            ("quantri", "user.disable", "binh"),
            ("quantri", "user.enable", "binh"),
        ]


def test_issuing_a_dossier_code_is_audited_without_the_dossier_reference(
    app: Flask, admin: FlaskClient
) -> None:
    token = csrf_token(admin, "/staff/desks/HT-STP-01")
    response = admin.post(
        "/staff/desks/HT-STP-01/dossier-codes",
        data={"csrf_token": token, "dossier_ref": "000.00.23.H23-0001"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "http://survey.test/" in page
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).filter_by(action="dossier_code.issue"))
        assert event.target == "HT-STP-01" and "H23" not in str(event.detail)


def test_cli_set_up_changes_are_audited_as_cli(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    steps = [
        ["questionnaire", "load", str(ROOT / "questionnaires" / "sipas-2023.yaml")],
        ["agency", "add", "QT", "Tỉnh Quảng Trị", "--kind", "province"],
        ["agency", "add", "QT-STP", "Sở Tư pháp", "--parent", "QT"],
        ["desk", "add", "QT-STP-01", "Quầy Sở Tư pháp", "--agency", "QT-STP"],
        [
            "campaign",
            "add",
            "QT-2026",
            "SIPAS 2026",
            "--agency",
            "QT",
            "--questionnaire",
            "sipas-2023",
            "--version",
            "2023.1",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--desk",
            "QT-STP-01",
        ],
    ]
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert _actions() == [
            ("cli", "questionnaire.loaded", "sipas-2023 2023.1"),
            ("cli", "agency.create", "QT"),
            ("cli", "agency.create", "QT-STP"),
            ("cli", "desk.create", "QT-STP-01"),
            ("cli", "campaign.create", "QT-2026"),
        ]
        campaign = db.session.scalars(select(AuditEvent).filter_by(action="campaign.create")).one()
        assert campaign.detail["desks"] == ["QT-STP-01"]
        assert campaign.detail["starts_on"] == "2026-01-01"


def test_audit_page_is_newest_first_filtered_and_paginated(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        start = dt.datetime(2026, 1, 1)
        for n in range(60):
            event = audit.record("export.responses", f"C-{n:02d}", format="csv")
            event.at = start + dt.timedelta(minutes=n)
        db.session.commit()
    first = admin.get("/staff/audit?action=export.responses").get_data(as_text=True)
    assert "Trang 1 / 2" in first
    assert first.index("C-59") < first.index("C-58") and "C-09" not in first
    second = admin.get("/staff/audit?action=export.responses&page=2").get_data(as_text=True)
    assert "C-09" in second and "C-59" not in second and "Trang 2 / 2" in second
    everything = admin.get("/staff/audit").get_data(as_text=True)
    assert "login.success" in everything  # the admin's own login is on page 1
    # Times are shown in the surveys' zone, and the heading says so (it said UTC).
    assert "Thời điểm (giờ Việt Nam)" in everything and "(UTC)" not in everything


@pytest.mark.parametrize("role", ["analyst", "officer", "viewer"])
def test_audit_page_and_user_admin_are_for_administrators_only(
    app: Flask, client: FlaskClient, role: str
) -> None:
    with app.app_context():
        seed_province()
        add_user("nguoi", role, None if role == "analyst" else "HT-STP")
    login(client, "nguoi")
    assert client.get("/staff/audit").status_code == 403
    assert client.get("/staff/users").status_code == 403
    assert "Nhật ký" not in client.get("/staff/").get_data(as_text=True)
