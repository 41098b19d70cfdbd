"""`survey-app desk rename|deactivate|activate` and `survey-app campaign edit`: the pages'
service functions and rules, audited as ``cli``."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign
from survey_app.services import organisation
from tests.staff_support import add_answers, seed_province


@pytest.fixture
def province(app: Flask) -> Flask:
    with app.app_context():
        seed_province()
        organisation.add_desk("HT-STP-02", "Quầy số 2", "HT-STP")
        db.session.commit()
    return app


def _cli_events(action: str) -> list[tuple[str | None, str | None]]:
    return [
        (e.username, e.target)
        for e in db.session.scalars(
            select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)
        )
    ]


def test_desk_rename_deactivate_and_activate_from_the_command_line(
    province: Flask, runner: FlaskCliRunner
) -> None:
    with province.app_context():
        public_id = organisation.desk_by_code("HT-STP-01").public_id
    renamed = runner.invoke(args=["desk", "rename", "HT-STP-01", "Quầy Tư pháp tầng 2"])
    assert renamed.exit_code == 0 and "desk HT-STP-01 renamed" in renamed.output
    closed = runner.invoke(args=["desk", "deactivate", "HT-STP-01"])
    assert closed.exit_code == 0 and "desk HT-STP-01 is now inactive" in closed.output
    assert "within 30 s" in closed.output  # the running servers' cache, said honestly
    again = runner.invoke(args=["desk", "deactivate", "HT-STP-01"])
    assert again.exit_code == 0 and "already inactive" in again.output
    listed = runner.invoke(args=["desk", "list"]).output.splitlines()
    assert f"HT-STP-01\tHT-STP\t{public_id}\tQuầy Tư pháp tầng 2\tinactive" in listed
    assert runner.invoke(args=["desk", "activate", "HT-STP-01"]).exit_code == 0
    unknown = runner.invoke(args=["desk", "rename", "KHONG-CO", "Tên"])
    assert unknown.exit_code == 1 and "Không có bộ phận một cửa mã 'KHONG-CO'." in unknown.output
    with province.app_context():
        desk = organisation.desk_by_code("HT-STP-01")
        assert desk.active and desk.public_id == public_id
        assert _cli_events("desk.rename") == [("cli", "HT-STP-01")]
        assert _cli_events("desk.deactivate") == [("cli", "HT-STP-01")]
        assert _cli_events("desk.activate") == [("cli", "HT-STP-01")]


def test_campaign_edit_adds_and_removes_desks_and_moves_the_period(
    province: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(
        args=[
            "campaign",
            "edit",
            "STP-2026",
            "--name",
            "Sở Tư pháp 2026",
            "--to",
            "2026-06-30",
            "--add-desk",
            "HT-STP-02",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "campaign STP-2026: name Khảo sát HT-STP 2026 -> Sở Tư pháp 2026",
        "campaign STP-2026: ends_on 2026-12-31 -> 2026-06-30",
        "campaign STP-2026: desks HT-STP-01 -> HT-STP-01,HT-STP-02",
    ]
    removed = runner.invoke(args=["campaign", "edit", "STP-2026", "--remove-desk", "HT-STP-01"])
    assert removed.exit_code == 0, removed.output
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="STP-2026"))
        assert [d.code for d in campaign.desks] == ["HT-STP-02"]
        assert campaign.ends_on == dt.date(2026, 6, 30)
        assert _cli_events("campaign.edit") == [("cli", "STP-2026"), ("cli", "STP-2026")]
    nothing = runner.invoke(args=["campaign", "edit", "STP-2026", "--name", "Sở Tư pháp 2026"])
    assert nothing.output == "campaign STP-2026: nothing to change\n"


def test_campaign_edit_refuses_what_the_pages_refuse_and_changes_nothing(
    province: Flask, runner: FlaskCliRunner
) -> None:
    with province.app_context():
        add_answers("STP-2026", "HT-STP-01", dt.datetime(2026, 5, 20, 9))
    refused = runner.invoke(
        args=[
            "campaign",
            "edit",
            "STP-2026",
            "--name",
            "Tên mới",
            "--from",
            "2026-06-01",
            "--remove-desk",
            "HT-STP-01",
            "--add-desk",
            "HT-STP-02",
        ]
    )
    assert refused.exit_code == 1
    assert (
        "Có 1 phiếu trả lời đã lưu nằm ngoài thời gian mới (01/06/2026 – 31/12/2026)"
        in refused.output
    )
    assert (
        "Không thể bỏ HT-STP-01 (Quầy Sở Tư pháp tại Trung tâm) khỏi đợt khảo sát: đã có "
        "1 phiếu trả lời tại quầy này." in refused.output
    )
    mixed = runner.invoke(
        args=["campaign", "edit", "STP-2026", "--desk", "HT-STP-01", "--add-desk", "HT-STP-02"]
    )
    assert mixed.exit_code == 1 and "either --desk" in mixed.output
    half = runner.invoke(args=["campaign", "edit", "STP-2026", "--version", "2"])
    assert half.exit_code == 1 and "go together" in half.output
    with province.app_context():
        campaign = db.session.scalar(select(Campaign).filter_by(code="STP-2026"))
        assert campaign.name == "Khảo sát HT-STP 2026"
        assert campaign.starts_on == dt.date(2026, 1, 1)
        assert _cli_events("campaign.edit") == []
