"""Finding one's way: the dashboard narrowed to an agency or a desk, and the staff home page's
headline of each running campaign (the dashboard's own figures)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from survey_app import localtime
from survey_app.extensions import db
from survey_app.services import organisation
from tests.dashboard_setup import campaign, login, province, scoring_frame

URL = "/staff/campaigns/SIPAS-2026"


def percent(value: float) -> str:
    return f"{value * 100:.2f}".replace(".", ",")


def domain(app: Flask, by: str, value: str) -> dict[str, float]:
    """The overall index of one domain of the whole design, computed by scoring from the
    stored answers (independently of the app's loader)."""
    frame, q = scoring_frame(app)
    table = compute_index_tree(q, SurveyDesign.from_dataframe(frame), [by])
    row = table[(table["node"] == "SIPAS") & (table["level"] == value)].iloc[0]
    return {name: row[name] for name in ("estimate", "ci_low", "ci_high", "n")}


def shows(page: str, figures: dict[str, float]) -> bool:
    return (
        f"{percent(figures['estimate'])}%" in page
        and f"{percent(figures['ci_low'])} – {percent(figures['ci_high'])}%" in page
        and f"n = {int(figures['n'])} phiếu" in page
    )


@pytest.fixture
def loaded(app: Flask, client: FlaskClient) -> FlaskClient:
    province(app, 300, previous=200)
    return client


def test_admin_narrows_the_dashboard_to_a_desk_and_its_links_keep_the_desk(
    app: Flask, loaded: FlaskClient
) -> None:
    stp01 = domain(app, "desk", "STP-01")
    frame, _ = scoring_frame(app)
    # n is the desk's respondents with an answer: here every response of the desk.
    assert stp01["n"] == (frame["desk"] == "STP-01").sum()
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard?desk=STP-01").text
    assert shows(page, stp01)
    assert "Quầy: Quầy STP-01" in page
    assert '<option value="STP-01" selected>' in page
    links = html.unescape(page)
    assert "/indices.xlsx?period=all&desk=STP-01" in links
    assert "/par.csv?period=all&desk=STP-01" in links
    assert re.search(r"/criteria/II\.\d\?period=all&desk=STP-01", links)
    # The report and the evidence pack take no desk: their links leave it out, and say so.
    assert '/report.pdf?period=all"' in links and '/evidence.zip?period=all"' in links
    assert "không riêng một quầy" in page
    # The indices API takes the same filters: the desk's domain of the whole design.
    data = loaded.get("/api/v1/campaigns/SIPAS-2026/indices?desk=STP-01").get_json()
    assert data["desk"] == "STP-01" and data["index"]["n"] == stp01["n"]
    assert data["index"]["estimate"] == pytest.approx(stp01["estimate"], rel=1e-12)
    refused = loaded.get("/api/v1/campaigns/SIPAS-2026/indices?desk=NOPE")
    assert refused.status_code == 404 and "NOPE" in refused.get_json()["error"]
    criterion = loaded.get(f"{URL}/criteria/II.2?desk=STP-01")
    assert criterion.status_code == 200
    assert "/dashboard?period=all&amp;desk=STP-01" in criterion.text


def test_admin_narrows_to_an_agency_and_its_desks_only_are_offered(
    app: Flask, loaded: FlaskClient
) -> None:
    sxd = domain(app, "agency", "HT-SXD")
    login(loaded, "analyst")
    page = loaded.get(f"{URL}/dashboard?agency=HT-SXD&period=all").text
    assert shows(page, sxd)
    assert "Phạm vi: Sở Xây dựng và cấp dưới" in page
    # The agency list is the tree: the province, its departments indented under it.
    assert '<option value="HT" >Tỉnh Hà Tĩnh</option>' in page
    assert '<option value="HT-SXD" selected>– Sở Xây dựng</option>' in page
    start = page.index('<select id="desk"')
    desk_list = page[start : page.index("</select>", start)]
    assert "SXD-01" in desk_list and "STP-01" not in desk_list
    links = html.unescape(page)
    assert "/report.docx?period=all&agency=HT-SXD" in links
    assert "/indices.csv?period=all&agency=HT-SXD" in links
    # A desk of another agency than the one chosen: refused in words, nothing else listed.
    refused = loaded.get(f"{URL}/dashboard?agency=HT-SXD&desk=STP-01")
    assert refused.status_code == 404
    assert "Quầy “STP-01” không thuộc cơ quan “HT-SXD”" in refused.text


def test_officer_narrows_within_the_subtree_and_cannot_widen(
    app: Flask, loaded: FlaskClient
) -> None:
    stp02 = domain(app, "desk", "STP-02")
    login(loaded, "stp")
    page = loaded.get(f"{URL}/dashboard").text
    assert '<option value="SXD-01"' not in page and "Sở Xây dựng" not in page
    narrowed = loaded.get(f"{URL}/dashboard?desk=STP-02").text
    assert shows(narrowed, stp02)
    for query in ("agency=HT-SXD", "agency=HT", "desk=SXD-01", "agency=HT-STP&desk=SXD-01"):
        response = loaded.get(f"{URL}/dashboard?{query}")
        assert response.status_code == 404, query
        # The refusal names the code asked for, and nothing the officer may not see.
        assert "Sở Xây dựng" not in response.text and "Quầy SXD" not in response.text
    for url in (f"{URL}/indices.csv?desk=SXD-01", f"{URL}/criteria/II.2?agency=HT-SXD"):
        assert loaded.get(url).status_code == 404, url
    unknown = loaded.get(f"{URL}/dashboard?desk=NOPE")
    assert unknown.status_code == 404
    assert "Không có quầy mã “NOPE” trong đợt khảo sát SIPAS-2026" in unknown.text
    assert "Không có cơ quan mã “HT-SXD”" in loaded.get(f"{URL}/dashboard?agency=HT-SXD").text


def test_home_headline_is_the_dashboards_figure_with_change_and_weakest_criterion(
    app: Flask, loaded: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localtime, "today", lambda: dt.date(2026, 6, 15))
    frame, q = scoring_frame(app)
    table = compute_index_tree(q, SurveyDesign.from_dataframe(frame))
    root = table[table["node"] == "SIPAS"].iloc[0]
    weakest = table[table["depth"] == 2].sort_values("estimate").iloc[0]
    login(loaded, "admin")
    dashboard = loaded.get(f"{URL}/dashboard").text
    home = loaded.get("/staff/").text
    running = home[home.index("Đợt khảo sát đang diễn ra") : home.index("</section>")]
    figures = {n: root[n] for n in ("estimate", "ci_low", "ci_high", "n")}
    assert shows(dashboard, figures) and shows(running, figures)
    assert "Khảo sát SIPAS năm 2025" not in running.split("So với")[0]  # only the running one
    change = re.search(r"thay đổi <strong>([+-]\d+,\d\d điểm)</strong>", dashboard)
    assert change
    assert f"So với Khảo sát SIPAS năm 2025 (toàn đợt khảo sát):\n        {change.group(1)}" in (
        running
    )
    verdict = re.search(r"\(p = [^;]+;\s*(.+?)\)</p>", dashboard)
    assert verdict and f"({verdict.group(1).strip()})" in running
    assert f'/criteria/{weakest["node"]}">{weakest["node"]} ' in running
    assert f'href="{URL}/dashboard"' in running


def test_home_headline_of_an_officer_is_the_subtree_and_too_few_says_so(
    app: Flask, loaded: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.dashboard_data import generate

    monkeypatch.setattr(localtime, "today", lambda: dt.date(2026, 6, 15))
    stp = domain(app, "agency", "HT-STP")
    with app.app_context():
        organisation.add_desk("STP-09", "Quầy STP-09", "HT-STP")
        organisation.add_campaign(
            "STP-THU",
            "Khảo sát thử Sở Tư pháp",
            "HT-STP",
            "sipas-2023",
            "2023.1",
            dt.date(2026, 1, 1),
            dt.date(2026, 6, 30),
            ["STP-09"],
        )
        db.session.commit()
        generate(campaign("STP-THU"), 12, seed=3)
    login(loaded, "stp")
    home = loaded.get("/staff/").text
    running = home[home.index("Đợt khảo sát đang diễn ra") : home.index("</section>")]
    assert shows(running, stp)
    assert "Chưa đủ phiếu để nêu chỉ số: 12 phiếu, cần ít nhất 30." in running
    # Once the campaign is over it is no longer a running one.
    monkeypatch.setattr(localtime, "today", lambda: dt.date(2026, 7, 1))
    assert "Đợt khảo sát đang diễn ra" not in loaded.get("/staff/").text
