"""A criterion's action page and the index trend: the dashboard's own figures, in scope."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from survey_app import charts
from survey_app.extensions import db
from survey_app.models import Agency, StaffUser, Submission
from survey_app.services import analysis, plans
from tests.dashboard_setup import campaign, confirm_weighting, login, province, scoring_frame
from tests.plan_support import answer

URL = "/staff/campaigns/SIPAS-2026"
ITEMS = ("II.2.1", "II.2.2", "II.2.3")


@pytest.fixture
def loaded(app: Flask, client: FlaskClient) -> FlaskClient:
    province(app, 300, previous=200)
    return client


def whole(code: str = "SIPAS-2026", codes: frozenset[str] | None = None) -> analysis.View:
    c = campaign(code)
    period = analysis.find_period(c, "all")
    assert period is not None
    return analysis.scope_view(c, period, codes)


def same(a: analysis.NodeResult | None, b: analysis.NodeResult | None) -> None:
    assert a is not None and b is not None
    assert a.n == b.n
    for name in ("estimate", "ci_low", "ci_high", "se"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-9), name


# ------------------------------------------------------------------ heat-map tables
def test_desk_cells_are_scorings_desk_domains_ranked_in_overlap_groups(
    app: Flask, loaded: FlaskClient
) -> None:
    frame, q = scoring_frame(app)
    table = compute_index_tree(q, SurveyDesign.from_dataframe(frame), ["desk"])
    with app.app_context():
        view = whole()
        node = analysis.view_tree(view).find("II.2")
        assert node is not None
        rows = analysis.heat_rows(view, node, "desk", {"STP-01": "Quầy STP-01"})
    assert sorted(r.code for r in rows) == sorted(frame["desk"].unique())
    for row in rows:
        assert [c.code for c in row.cells] == ["II.2", *ITEMS]
        for cell in row.cells:
            expected = table[(table["node"] == cell.code) & (table["level"] == row.code)].iloc[0]
            assert cell.n == int(expected["n"])
            assert cell.estimate == pytest.approx(expected["estimate"], rel=1e-9)
            assert cell.ci_low == pytest.approx(expected["ci_low"], rel=1e-9)
            assert cell.ci_high == pytest.approx(expected["ci_high"], rel=1e-9)
    assert next(r for r in rows if r.code == "STP-01").label == "Quầy STP-01"
    # About 60 answers a desk: every desk is ranked, best first; a new group starts only
    # where an interval no longer overlaps its group's leader.
    estimates = [r.criterion.estimate for r in rows]
    assert all(r.group is not None for r in rows)
    assert estimates == sorted(estimates, reverse=True)
    leader = rows[0]
    for row in rows[1:]:
        overlaps = row.criterion.ci_high >= leader.criterion.ci_low
        assert row.group == leader.group if overlaps else row.group == leader.group + 1  # type: ignore[operator]
        if not overlaps:
            leader = row


def test_agency_row_equals_the_officers_own_dashboard_figure(
    app: Flask, loaded: FlaskClient
) -> None:
    with app.app_context():
        view = whole()
        node = analysis.view_tree(view).find("II.2")
        assert node is not None
        rows = analysis.heat_rows(view, node, "agency", {})
        stp = analysis.view_tree(whole(codes=frozenset({"HT-STP"})))
    row = next(r for r in rows if r.code == "HT-STP")
    for cell in row.cells:
        same(cell, stp.find(cell.code))
    login(loaded, "stp")
    page = loaded.get(f"{URL}/criteria/II.2").text
    assert f'<p class="big">{charts.fmt(row.criterion.pct())}%</p>' in page


def test_cells_with_too_few_answers_are_neither_coloured_nor_ranked(
    app: Flask, loaded: FlaskClient
) -> None:
    login(loaded, "admin")
    # About ten answers a desk in a month: below the dashboard's minimum of 30.
    page = loaded.get(f"{URL}/criteria/II.2?period=2026-03").text
    heat = page[page.index('id="heat-h"') : page.index('id="trend-h"')]
    assert "heat-few" in heat
    assert not re.search(r'<td class="num heat-[1-5]"', heat)
    assert "ít phiếu" in heat
    with app.app_context():
        c = campaign("SIPAS-2026")
        period = analysis.find_period(c, "2026-03")
        assert period is not None
        view = analysis.scope_view(c, period, None)
        node = analysis.view_tree(view).find("II.2")
        assert node is not None
        rows = analysis.heat_rows(view, node, "desk", {})
    assert rows and all(r.group is None for r in rows)
    assert all(r.criterion.n < analysis.MIN_N for r in rows)


def test_heat_bands_are_printed_with_the_value() -> None:
    assert [charts.heat_band(v) for v in (12.0, 60.0, 69.99, 75.0, 89.9, 90.0, 100.0)] == [
        1,
        2,
        2,
        3,
        4,
        5,
        5,
    ]


# ------------------------------------------------------------------ trend
def test_trend_points_are_the_dashboards_period_and_campaign_figures(
    app: Flask, loaded: FlaskClient
) -> None:
    with app.app_context():
        c = campaign("SIPAS-2026")
        view = whole()
        quarters = analysis.trend(view, "quarter")
        months = analysis.trend(view, "month")
        assert [(p.campaign.code, p.period.code) for p in quarters.points] == [
            ("SIPAS-2025", "all"),
            ("SIPAS-2026", "2026-Q1"),
            ("SIPAS-2026", "2026-Q2"),
        ]
        assert [p.period.code for p in months.points[1:]] == [f"2026-0{m}" for m in range(1, 7)]
        assert analysis.trend(view).kind == "month"  # six months: month by month
        for point in quarters.points[1:] + months.points[1:]:
            dashboard = analysis.view_tree(analysis.scope_view(c, point.period, None))
            for code in ("SIPAS", "II", "II.2", "II.2.1"):
                same(point.find(code), dashboard.find(code))
        same(quarters.points[0].find("SIPAS"), analysis.view_tree(whole("SIPAS-2025")))
        assert quarters.mixed_settings == []


def test_an_officers_trend_stays_in_the_own_agency(app: Flask, loaded: FlaskClient) -> None:
    scope = frozenset({"HT-STP"})
    with app.app_context():
        c = campaign("SIPAS-2026")
        trend = analysis.trend(whole(codes=scope), "quarter")
        q2 = analysis.find_period(c, "2026-Q2")
        assert q2 is not None
        same(
            trend.points[-1].find("II.2"),
            analysis.view_tree(analysis.scope_view(c, q2, scope)).find("II.2"),
        )
        same(trend.points[0].find("SIPAS"), analysis.view_tree(whole("SIPAS-2025", scope)))


def test_the_dashboard_shows_the_overall_trend_and_notes_mixed_weighting(
    app: Flask, loaded: FlaskClient
) -> None:
    login(loaded, "analyst")
    page = loaded.get(f"{URL}/dashboard?trend=quarter").text
    section = page[page.index('id="trend-h"') : page.index('id="groups-h"')]
    assert "Quý 2/2026" in section and "Khảo sát SIPAS năm 2025" in section
    assert '<svg class="chart chart-wide trend"' in section and "chart-compact" in section
    assert 'role="region"' in section and 'tabindex="0"' in section
    assert "cài đặt trọng số" not in section
    token = re.search(r'name="csrf_token" value="([^"]+)"', loaded.get(f"{URL}/weighting").text)
    assert token
    response = loaded.post(
        f"{URL}/weighting",
        data={
            "csrf_token": token.group(1),
            "calibration": "poststratify",
            "ci_method": "logit",
            "level": "0.95",
            "strata": "",
            "cluster": "",
            "margins": (io.BytesIO(b"gender,count\n1,7000\n2,3000\n"), "gioi-tinh.csv"),
        },
        content_type="multipart/form-data",
    )
    assert confirm_weighting(loaded, response).status_code == 302
    page = loaded.get(f"{URL}/dashboard").text
    section = page[page.index('id="trend-h"') : page.index('id="groups-h"')]
    assert "không dùng cùng một cài đặt trọng số" in section
    assert "Khảo sát SIPAS năm 2025: Trọng số: không (mỗi phiếu như nhau)" in section


def test_trend_chart_labels_wrap_and_are_never_cut() -> None:
    long = "Khảo sát SIPAS năm 2025 của Sở Tư pháp"
    rows = [
        charts.CIRow(long, 80.0, 75.0, 85.0, 120),
        charts.CIRow("Tháng 1/2026", 70.0, 50.0, 90.0, 12, True),
    ]
    svg = str(charts.trend_chart([[rows[0]], [rows[1]]], "Xu hướng"))
    words = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert " ".join(words).startswith(long + " Tháng") and "…" not in svg
    assert 'stroke-dasharray="4 4"' in svg  # the two campaigns apart
    assert "<path d=" in svg  # the uncertain point is a diamond, not only another colour
    assert "n=12" in svg and "80,0%" in svg


# ------------------------------------------------------------------ comments and target
def test_low_score_comments_are_the_low_scorers_masked_with_the_day_only(
    app: Flask, loaded: FlaskClient
) -> None:
    with app.app_context():
        # Answers 2 (low) and 4 (not low) to every item, on the campaign's last day.
        last_day = dt.date(2026, 6, 30)
        slow = "Quầy STP-01 chị Lan gọi 0912345678 lúc 9h30, xử lý rất chậm"
        answer("SIPAS-2026", "STP-01", last_day, 0, 1, comment=slow)
        answer("SIPAS-2026", "STP-02", last_day, 1, 0, comment="Rất tốt KHONGTHAP")
        rows = db.session.execute(
            select(Submission.answers).where(Submission.campaign_id == campaign("SIPAS-2026").id)
        ).scalars()
        expected = sum(
            1
            for a in rows
            if str(a.get("comment") or "").strip() and any(a.get(code) in (1, 2) for code in ITEMS)
        )
        view = whole()
        node = analysis.view_tree(view).find("II.2")
        assert node is not None
        quoted, total = analysis.low_score_comments(view, node)
        every, _ = analysis.low_score_comments(view, node, limit=total)
    assert total == expected and len(quoted) == min(expected, 5) and len(every) == total
    mine = [c for c in every if "rất chậm" in c.text]
    assert [(c.day, c.text) for c in mine] == [
        (last_day, "[…] chị […] gọi […] lúc […], xử lý rất chậm")
    ]
    assert not any("KHONGTHAP" in c.text for c in every)
    login(loaded, "stp")
    page = loaded.get(f"{URL}/criteria/II.2").text
    section = page[page.index('id="low-h"') : page.index('id="items-h"')]
    assert "xử lý rất chậm" in section and "30/06/2026" in section
    assert "0912345678" not in section and "KHONGTHAP" not in section
    assert not re.search(r"\d{1,2}:\d{2}", section)  # never a time beside a comment
    assert "Quầy STP-01" not in section
    assert "xem tất cả" in section  # the comments page, filtered to this criterion


def test_low_score_comments_link_to_the_comments_page_when_there_is_one(
    app: Flask, loaded: FlaskClient
) -> None:
    with app.app_context():
        answer("SIPAS-2026", "STP-01", dt.date(2026, 6, 29), 0, 1, comment="Chờ lâu quá")
    login(loaded, "admin")
    page = loaded.get(f"{URL}/criteria/II.2?period=2026-Q2").text
    link = "/staff/campaigns/SIPAS-2026/comments?criterion=II.2&max_score=2&period=2026-Q2"
    assert f'<a href="{link.replace("&", "&amp;")}">xem tất cả</a>' in page
    assert "Chờ lâu quá" in loaded.get(link).text


def test_the_gap_to_the_plans_target_or_a_link_to_set_one(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "admin")
    page = loaded.get(f"{URL}/criteria/II.2").text
    assert "Chưa đặt mục tiêu cho tiêu chí này." in page
    assert "/staff/campaigns/SIPAS-2026/plan?agency=HT" in page
    with app.app_context():
        admin = db.session.scalar(select(StaffUser).filter_by(username="admin"))
        province_agency = db.session.scalar(select(Agency).filter_by(code="HT"))
        assert admin is not None and province_agency is not None
        plans.add_rows(campaign("SIPAS-2026"), province_agency, "all", ["II.2"], "99", admin)
        db.session.commit()
        node = analysis.view_tree(whole()).find("II.2")
        assert node is not None
    page = loaded.get(f"{URL}/criteria/II.2").text
    assert "Mục tiêu: chỉ số từ 99,00% trở lên." in page
    gap = charts.fmt(99 - node.pct())
    assert f"Còn cách mục tiêu {gap} điểm." in page
    assert "Chưa đạt" in page  # the whole interval is below 99 %
    # The officer's scope (Sở Tư pháp) has no plan: its page says so.
    login(loaded, "stp")
    page = loaded.get(f"{URL}/criteria/II.2").text
    assert "Chưa đặt mục tiêu cho tiêu chí này." in page
    assert "/staff/campaigns/SIPAS-2026/plan?agency=HT-STP" in page


# ------------------------------------------------------------------ access and page
def test_an_officer_sees_only_the_own_desks_and_others_get_404(
    app: Flask, loaded: FlaskClient
) -> None:
    from survey_app.services import accounts, organisation

    with app.app_context():
        organisation.add_agency("HT-SYT", "Sở Y tế", "department", "HT")
        accounts.create_user("syt", "mat-khau-rat-dai-2026", "officer", "HT-SYT")
        db.session.commit()
    login(loaded, "syt")
    assert loaded.get(f"{URL}/criteria/II.2").status_code == 404
    login(loaded, "stp")
    page = loaded.get(f"{URL}/criteria/II.2").text
    assert "Quầy STP-01" in page and "Quầy STP-02" in page
    assert "Quầy SXD-01" not in page and "Sở Xây dựng" not in page
    login(loaded, "viewer")
    response = loaded.get(f"{URL}/criteria/II.2?period=2026-Q1&trend=quarter")
    assert response.status_code == 200
    assert "Quầy × tiêu chí II.2" in response.text and "Cơ quan × tiêu chí II.2" in response.text


def test_the_action_page_shows_every_part(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "admin")
    page = loaded.get(f"{URL}/criteria/II.2").text
    for part in ("target-h", "heat-h", "trend-h", "low-h", "items-h"):
        assert f'id="{part}"' in page
    assert page.count('role="region"') == 4  # two heat tables, the trend chart and table
    assert re.search(r'<td class="num heat-[1-5]">', page)
    assert "Rất hài lòng" in page  # the items' answers are still there
