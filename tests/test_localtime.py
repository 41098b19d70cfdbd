"""Calendar days are Vietnam's (TIMEZONE), instants are stored in UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask

from survey_app import create_app, localtime
from survey_app.extensions import db
from survey_app.services import analysis, organisation, raw_export
from tests import conftest
from tests.citizen_support import SIPAS_2023
from tests.staff_support import add_answers


def test_a_day_in_vietnam_begins_at_17_utc_the_day_before(app: Flask) -> None:
    with app.app_context():
        assert localtime.day_start(dt.date(2026, 1, 1)) == dt.datetime(2025, 12, 31, 17)
        assert localtime.to_local(dt.datetime(2025, 12, 31, 17, 30)) == dt.datetime(
            2026, 1, 1, 0, 30
        )
        assert localtime.to_utc(dt.datetime(2026, 1, 1, 0, 30)) == dt.datetime(2025, 12, 31, 17, 30)


def test_an_answer_after_local_midnight_counts_on_the_new_day_everywhere(app: Flask) -> None:
    """Stored as 31 December 17:30 UTC, answered on 1 January at 00:30 in Hà Tĩnh."""
    from survey_app.services import questionnaires

    with app.app_context():
        questionnaires.load_file(SIPAS_2023)
        organisation.add_agency("HT", "Hà Tĩnh", "province")
        organisation.add_desk("D1", "Quầy 1", "HT")
        organisation.add_campaign(
            "Y",
            "Hai năm",
            "HT",
            "sipas-2023",
            "2023.1",
            dt.date(2025, 12, 1),
            dt.date(2026, 1, 31),
            ["D1"],
        )
        db.session.commit()
        add_answers("Y", "D1", dt.datetime(2026, 1, 1, 0, 30), dt.datetime(2025, 12, 31, 23))
        campaign = organisation.campaign_by_code("Y")
        exported = raw_export.responses_frame(campaign)
        assert sorted(exported["submitted_on"]) == ["2025-12-31", "2026-01-01"]
        frame = analysis.load_responses(campaign).frame
        january = analysis.find_period(campaign, "2026-01")
        assert january is not None
        assert analysis.in_period(frame, january).sum() == 1
        assert organisation.answer_span(campaign)[1:] == (
            dt.date(2025, 12, 31),
            dt.date(2026, 1, 1),
        )


def test_today_is_the_date_in_the_configured_zone(make_app: Callable[..., Flask]) -> None:
    from zoneinfo import ZoneInfo

    for zone in ("Asia/Ho_Chi_Minh", "Pacific/Kiritimati", "Etc/GMT+12"):
        app = make_app(TIMEZONE=zone)
        with app.app_context():
            assert localtime.today() == dt.datetime.now(ZoneInfo(zone)).date()


def test_an_unknown_time_zone_is_refused_at_start_with_its_name(database_url: str) -> None:
    with pytest.raises(RuntimeError, match="TIMEZONE 'Asia/Hanoi-ish'"):
        create_app(conftest.test_config(database_url, TIMEZONE="Asia/Hanoi-ish"))


def test_pages_name_the_zone_their_times_are_in(make_app: Callable[..., Flask]) -> None:
    """Times on the import and audit pages are local: the heading says which zone."""
    from flask_babel import force_locale

    from survey_app.localtime import zone_label, zone_offset

    with make_app().app_context():
        assert zone_offset() == "UTC+7"  # Asia/Ho_Chi_Minh, the default
        assert zone_label() == "giờ Việt Nam"
        with force_locale("en"):
            assert zone_label() == "Vietnam time"
    with make_app(TIMEZONE="Asia/Kolkata").app_context():
        assert zone_offset() == "UTC+5:30"
        assert zone_label() == "giờ UTC+5:30"  # not Vietnam's: named by its offset
    with make_app(TIMEZONE="America/Caracas").app_context():
        assert zone_offset() == "UTC-4"
