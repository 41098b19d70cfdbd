"""Analysis on campaigns as production stores them, on SQLite and PostgreSQL.

Online answers are stored at any microsecond, a few at whole seconds, paper forms at
local midnight; PostgreSQL writes a zero fraction as ``17:00:00`` beside
``11:13:09.292294``. Every analysis page, export, the JSON API, the weighting POST and
``survey-app analysis warm`` must read such a campaign in one piece (a new process, no
disk cache), and the times read must be the stored instants in Vietnam's time. Also: the
dashboard compares a campaign only with the same agency's previous one.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.dashboard_data import generate
from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from survey_app.extensions import db
from survey_app.models import Submission
from survey_app.services import accounts, analysis, organisation
from survey_app.services.submissions import insert_rows
from tests.dashboard_setup import (
    PASSWORD,
    campaign,
    confirm_weighting,
    login,
    province,
    scoring_frame,
)

URL = "/staff/campaigns/SIPAS-2026"
BIG = 4000
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _stored(app: Flask, code: str) -> list[tuple[int, dt.datetime, str, str]]:
    """(id, stored instant, route, desk id) of a campaign's submissions, as the ORM reads them."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Submission.id, Submission.submitted_at, Submission.route, Submission.desk_id)
            .where(Submission.campaign_id == campaign(code).id)
            .order_by(Submission.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _vietnam(instant: dt.datetime) -> dt.datetime:
    """A stored instant (naive UTC) in Vietnam's time, computed without the app."""
    return instant.replace(tzinfo=dt.UTC).astimezone(VIETNAM).replace(tzinfo=None)


@pytest.fixture
def mixed(app: Flask, client: FlaskClient) -> FlaskClient:
    """Province HT, campaign SIPAS-2026 with 4,000 responses of every route and time kind."""
    province(app, BIG)
    analysis.clear_caches()
    return client


def test_the_suites_data_mix_routes_desks_and_whole_and_fractional_seconds(
    app: Flask, mixed: FlaskClient
) -> None:
    rows = _stored(app, "SIPAS-2026")
    assert len(rows) == BIG
    assert {route for _, _, route, _ in rows} == {"desk_qr", "dossier", "paper"}
    assert len({desk for *_, desk in rows}) == 5
    online = [at for _, at, route, _ in rows if route != "paper"]
    assert any(at.microsecond == 0 for at in online) and any(at.microsecond for at in online)
    paper = [at for _, at, route, _ in rows if route == "paper"]
    assert all(_vietnam(at).time() == dt.time() for at in paper)


def test_every_analysis_page_reads_a_mixed_campaign_in_a_new_process(
    app: Flask, mixed: FlaskClient
) -> None:
    login(mixed, "admin")
    for path in (
        f"{URL}/dashboard",
        f"{URL}/dashboard?period=2026-Q1",
        f"{URL}/criteria/II.2",
        f"{URL}/indices.csv",
        f"{URL}/indices.xlsx",
        f"{URL}/par.csv",
        f"{URL}/par.xlsx",
        "/api/v1/campaigns/SIPAS-2026/indices",
    ):
        analysis.clear_caches()  # what a new server process has: nothing read yet
        response = mixed.get(path)
        assert response.status_code == 200, path
    analysis.clear_caches()
    page = mixed.get(f"{URL}/dashboard").text
    frame, q = scoring_frame(app)
    root = compute_index_tree(q, SurveyDesign.from_dataframe(frame)).iloc[0]
    assert f"n = {BIG} phiếu" in page
    assert f"{root['estimate'] * 100:.2f}%".replace(".", ",") in page

    analysis.clear_caches()
    token = re.search(r'name="csrf_token" value="([^"]+)"', mixed.get(f"{URL}/weighting").text)
    assert token is not None
    analysis.clear_caches()
    margins = "gender,count\n1,5000\n2,5200\n"
    response = mixed.post(
        f"{URL}/weighting",
        data={
            "csrf_token": token.group(1),
            "calibration": "poststratify",
            "ci_method": "logit",
            "level": "0.95",
            "margins": (io.BytesIO(margins.encode()), "dan-so.csv"),
        },
        content_type="multipart/form-data",
    )
    assert confirm_weighting(mixed, response).status_code == 302

    login(mixed, "stp")
    analysis.clear_caches()
    assert mixed.get(f"{URL}/dashboard").status_code == 200


@pytest.mark.parametrize("parts", [1, analysis.LOAD_PARTS])
def test_loaded_times_are_the_stored_instants_in_vietnam(
    app: Flask, mixed: FlaskClient, monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    if parts > 1:  # PostgreSQL reads a large campaign in concurrent parts
        monkeypatch.setattr(analysis.loading, "PARALLEL_LOAD_ROWS", 100)
    stored = _stored(app, "SIPAS-2026")
    with app.app_context():
        frame = analysis.load_responses(campaign("SIPAS-2026")).frame
    assert list(frame["submission_id"]) == [sid for sid, *_ in stored]
    assert list(frame["submitted_at"]) == [_vietnam(at) for _, at, _, _ in stored]
    assert list(frame["route"]) == [route for _, _, route, _ in stored]


def test_analysis_warm_reads_a_mixed_campaign(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(ANALYSIS_CACHE_DIR=str(tmp_path / "cache"))
    with app.app_context():
        db.create_all()
    province(app, BIG)
    analysis.clear_caches()
    result = app.test_cli_runner().invoke(args=["analysis", "warm"])
    assert result.exit_code == 0, result.output
    assert f"SIPAS-2026: {BIG} responses cached" in result.output


# ------------------------------------------------------------------ any mix of times

# Local times near the day's edges in Vietnam (00:00 local is 17:00 UTC the day before),
# with and without a fraction of a second, over a new year.
_DAYS = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2026, 2, 28))
_CLOCKS = st.one_of(
    st.just(dt.time()),
    st.times(max_value=dt.time(0, 1)),
    st.times(min_value=dt.time(23, 59)),
    st.times(),
)
_LOCAL_TIMES = st.builds(
    lambda day, clock, whole: (
        dt.datetime.combine(day, clock.replace(microsecond=0))
        if whole
        else dt.datetime.combine(day, clock)
    ),
    _DAYS,
    _CLOCKS,
    st.booleans(),
)


@pytest.fixture
def new_year(app: Flask) -> Flask:
    province(app, 0)
    with app.app_context():
        # A desk runs one campaign a day: the new year's campaign has desks of its own.
        organisation.add_desk("STP-TET", "Quầy Tết Sở Tư pháp", "HT-STP")
        organisation.add_desk("TS-TET", "Quầy Tết Phường Thành Sen", "HT-TS")
        organisation.add_campaign(
            "TET",
            "Qua năm mới",
            "HT",
            "sipas-2023",
            "2023.1",
            dt.date(2025, 12, 1),
            dt.date(2026, 2, 28),
            ["STP-TET", "TS-TET"],
        )
        db.session.commit()
    return app


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(local=st.lists(_LOCAL_TIMES, min_size=1, max_size=25))
def test_any_mix_of_times_loads_as_the_local_times_stored(
    new_year: Flask, local: list[dt.datetime]
) -> None:
    with new_year.app_context():
        tet = campaign("TET")
        db.session.execute(sa.delete(Submission).where(Submission.campaign_id == tet.id))
        desk = tet.desks[0].id
        insert_rows(
            db.session.connection(),
            [
                {
                    "uid": str(uuid.uuid4()),
                    "receipt": uuid.uuid4().hex[:16],
                    "campaign_id": tet.id,
                    "desk_id": desk,
                    "questionnaire_version_id": tet.questionnaire_version_id,
                    "route": "paper" if at.time() == dt.time() else "desk_qr",
                    "language": "vi",
                    "answers": {},
                    "submitted_at": at.replace(tzinfo=VIETNAM)
                    .astimezone(dt.UTC)
                    .replace(tzinfo=None),
                }
                for at in local
            ],
        )
        db.session.commit()
        analysis.clear_caches()
        frame = analysis.load_responses(tet).frame
        assert list(frame["submitted_at"]) == local  # inserted in order, so ids follow
        for period in analysis.campaign_periods(tet):
            inside = sum(period.start <= at.date() <= period.end for at in local)
            assert analysis.in_period(frame, period).sum() == inside, period.code


# ------------------------------------------------------------------ the comparison's scope


def _other_province(app: Flask, n: int) -> None:
    """Quảng Bình: its own desk and a 2025 SIPAS campaign ending when Hà Tĩnh's 2025 one does."""
    with app.app_context():
        organisation.add_agency("QB", "Tỉnh Quảng Bình", "province")
        organisation.add_desk("QB-01", "Quầy Quảng Bình", "QB")
        organisation.add_campaign(
            "QB-2025",
            "Khảo sát SIPAS Quảng Bình 2025",
            "QB",
            "sipas-2023",
            "2023.1",
            dt.date(2025, 7, 1),
            dt.date(2025, 12, 31),
            ["QB-01"],
        )
        accounts.create_user("qb", PASSWORD, "officer", "QB")
        db.session.commit()
        generate(campaign("QB-2025"), n, seed=9)


@pytest.mark.parametrize("user", ["admin", "stp"])
def test_no_previous_campaign_of_the_agency_means_no_comparison(
    app: Flask, client: FlaskClient, user: str
) -> None:
    province(app, 200)
    _other_province(app, 150)
    login(client, user)
    page = client.get(f"{URL}/dashboard").text
    assert "Quảng Bình" not in page
    assert "Thay đổi so với" not in page
    with app.app_context():
        assert analysis.previous_period(campaign("SIPAS-2026"), _all(app)) is None


@pytest.mark.parametrize("user", ["admin", "stp"])
def test_the_comparison_is_the_same_agencys_previous_campaign(
    app: Flask, client: FlaskClient, user: str
) -> None:
    province(app, 200, previous=150)
    _other_province(app, 150)  # created later: before the fix it won the tie on end date
    login(client, user)
    page = client.get(f"{URL}/dashboard").text
    assert "Quảng Bình" not in page
    assert "Thay đổi so với Khảo sát SIPAS năm 2025" in page
    with app.app_context():
        comparison = analysis.previous_period(campaign("SIPAS-2026"), _all(app))
        assert comparison is not None and comparison.campaign.code == "SIPAS-2025"


def test_another_provinces_officer_sees_no_comparison_with_hà_tĩnh(
    app: Flask, client: FlaskClient
) -> None:
    province(app, 100, previous=100)
    _other_province(app, 0)
    with app.app_context():
        organisation.add_campaign(
            "QB-2026H2",
            "Khảo sát SIPAS Quảng Bình cuối năm 2026",
            "QB",
            "sipas-2023",
            "2023.1",
            dt.date(2026, 7, 1),
            dt.date(2026, 12, 31),
            ["QB-01"],
        )
        db.session.commit()
        generate(campaign("QB-2026H2"), 80, seed=10)
    login(client, "qb")
    page = client.get("/staff/campaigns/QB-2026H2/dashboard").text
    assert "n = 80 phiếu" in page
    # QB-2025 has no answers: the comparison is named, with no figures; Hà Tĩnh's never.
    assert "Thay đổi so với Khảo sát SIPAS Quảng Bình 2025" in page
    assert "Hà Tĩnh" not in page and "SIPAS năm 202" not in page


def _all(app: Flask) -> analysis.Period:
    period = analysis.find_period(campaign("SIPAS-2026"), "all")
    assert period is not None
    return period
