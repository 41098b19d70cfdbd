"""The campaign page's responses per desk: today, this week, in all, the last one, and a
desk gone quiet (a poster that stopped working) flagged."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app import localtime
from survey_app.services.desk_activity import working_days_back
from tests.staff_support import add_answers, add_user, login, seed_province, sign_in

# A Thursday: the week began on Monday 2 March, three working days back is Monday too.
TODAY = dt.date(2026, 3, 5)


def test_working_days_back_skip_weekends() -> None:
    assert working_days_back(TODAY, 3) == dt.date(2026, 3, 2)  # Wed, Tue, Mon
    assert working_days_back(dt.date(2026, 3, 2), 1) == dt.date(2026, 2, 27)  # Mon -> Fri
    assert working_days_back(dt.date(2026, 3, 8), 3) == dt.date(2026, 3, 4)  # Sun -> Wed


@pytest.fixture
def officer(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setattr(localtime, "today", lambda: TODAY)
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
        add_user("root", "admin")
        # STP-2026 at HT-STP-01: one answer today, one on Monday, one the week before.
        add_answers(
            "STP-2026",
            "HT-STP-01",
            dt.datetime(2026, 2, 24, 10, 0),
            dt.datetime(2026, 3, 2, 8, 30),
            dt.datetime(2026, 3, 5, 9, 15),
        )
        # SXD-2026 at HT-SXD-01: silent since Friday 27 February, three working days ago.
        add_answers("SXD-2026", "HT-SXD-01", dt.datetime(2026, 2, 27, 16, 45))
    login(client, "an")
    return client


def _row(page: str, desk_link: str) -> str:
    start = page.index(desk_link)
    return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]


def _cells(row: str) -> list[str]:
    return [c.split(">", 1)[1].split("<", 1)[0] for c in row.split('<td class="num"')[1:]]


def test_campaign_page_counts_today_this_week_total_and_last_time_per_desk(
    officer: FlaskClient,
) -> None:
    page = officer.get("/staff/campaigns/STP-2026").text
    row = _row(page, "/desks/HT-STP-01")
    # Routes (QR, dossier, paper), then today, this week, total.
    assert _cells(row) == ["3", "0", "0", "1", "2", "3"]
    assert "05/03/2026 09:15" in row  # the newest answer, in Vietnam's time
    assert 'class="quiet"' not in row
    assert "Phiếu gần nhất (giờ Việt Nam)" in page
    assert "ngày làm việc gần đây:" not in page


def test_a_desk_silent_for_three_working_days_is_flagged(
    app: Flask, officer: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    sign_in(client, "root")
    page = client.get("/staff/campaigns/SXD-2026").text
    row = _row(page, "/desks/HT-SXD-01")
    assert _cells(row) == ["1", "0", "0", "0", "0", "1"]
    assert "27/02/2026 16:45" in row
    assert 'class="quiet"' in row and "không có phiếu 3 ngày làm việc" in row
    assert "Bộ phận một cửa không có phiếu nào trong 3 ngày làm việc gần đây:" in page
    # On Monday the 2nd, two working days had passed: not flagged yet.
    monkeypatch.setattr(localtime, "today", lambda: dt.date(2026, 3, 2))
    assert 'class="quiet"' not in client.get("/staff/campaigns/SXD-2026").text
    # The officer of Sở Tư pháp does not see the other department's campaign at all.
    assert officer.get("/staff/campaigns/SXD-2026").status_code == 404
