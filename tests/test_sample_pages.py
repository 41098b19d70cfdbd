"""The probability sample's pages: response rates, estimates, walk-in against sampled and
the planner, on tests/sample_support.py's campaign (agencies A-D of province P), with the
dashboard's access rules: officers see their subtree, viewers read, only analysts and
administrators copy a plan into the design."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from scoring.compare import compare_index_trees
from scoring.design import SurveyDesign
from scoring.planner import plan_sample
from survey_app.extensions import db
from survey_app.models import SamplingDesign
from survey_app.services import sample_estimates
from survey_app.services.sample_estimates import planning
from survey_app.services.sample_estimates.estimates import verdict
from survey_app.services.sample_estimates.rates import rate_rows
from tests.dashboard_setup import login
from tests.english_support import data_values, vietnamese_left, visible_text
from tests.pdf_support import pdf_text
from tests.sample_support import CAMPAIGN, campaign, province
from tests.staff_support import csrf_token

BASE = f"/staff/campaigns/{CAMPAIGN}"
FIXTURES = Path(__file__).parent / "scoring" / "fixtures"


@pytest.fixture
def sampled(app: Flask) -> Flask:
    province(app)
    return app


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def source_dossiers() -> pd.DataFrame:
    """The selected dossiers as the test built them, counted independently of the app."""
    sample = pd.read_csv(FIXTURES / "sampling_sample.csv")
    return sample


def test_rates_per_agency_are_the_counts_of_the_dispositions(
    sampled: Flask, client: FlaskClient
) -> None:
    login(client, "analyst")
    text = words(client.get(f"{BASE}/sample").get_data(as_text=True))
    # Agency A by hand: 290 selected, 166 answered; of its 124 nonrespondents (every tenth
    # of the whole sample's in turn) 12 not delivered, 12 unknown, 12 ineligible.
    # RR1 = 166 / (290 - 12) = 59.7%, COOP1 = 166 / (166 + 124 - 36) = 65.4%,
    # CON1 = 254 / 278 = 91.4%; RR3 counts the 12 unknown at the eligible share of the whole
    # sample's known dossiers, e = 1004/1048: 166 / (266 + 12 e) = 59.8%.
    assert "Sở A (A) 290 12 12 254 166 59,7% 59,8% 65,4% 91,4%" in text
    sample = source_dossiers()
    assert int((sample["agency"] == "A").sum()) == 290
    assert int(((sample["agency"] == "A") & (sample["responded"] == 1)).sum()) == 166
    # The whole sample: 655 answers of 1092 invited, 44 ineligible.
    assert "62,5%" in text and "655 phiếu trả lời trên 1092 hồ sơ được mời" in text
    assert "RR1" in text and "COOP1" in text and "CON1" in text
    assert "AAPOR" in text


def test_rates_of_known_counts() -> None:
    dossiers = pd.DataFrame(
        {
            "agency": ["X"] * 10,
            "disposition": ["complete"] * 4
            + ["no_answer"] * 2
            + ["not_delivered", "unknown"]
            + ["ineligible"] * 2,
        }
    )
    [row] = rate_rows(dossiers, "agency")
    assert (row.invited, row.ineligible, row.unknown, row.delivered, row.answered) == (
        10,
        2,
        1,
        6,
        4,
    )
    assert row.rr1 == pytest.approx(4 / 8)
    assert row.rr3 == pytest.approx(4 / (7 + 7 / 9))  # e = 7 eligible of 9 known
    assert row.coop1 == pytest.approx(4 / 6)
    assert row.con1 == pytest.approx(6 / 8)


def test_the_sample_page_shows_each_agencys_tree(sampled: Flask, client: FlaskClient) -> None:
    login(client, "viewer")
    page = client.get(f"{BASE}/sample?agency=C")
    assert page.status_code == 200
    text = words(page.get_data(as_text=True))
    with sampled.app_context():
        result = sample_estimates.campaign_estimates(campaign(), None)
        c = result.tree("C")
    assert f"{c.pct():.2f}".replace(".", ",") in text
    assert "Cây chỉ số của Sở C" in text
    assert "655 người trả lời trên 1048 hồ sơ thuộc diện được chọn" in text


def test_walk_in_answers_are_compared_with_the_sample(sampled: Flask, client: FlaskClient) -> None:
    """The page's figures are scoring's compare_index_trees on the walk-in answers (as the
    dashboard weights them: unweighted by default) and the sample's final design."""
    with sampled.app_context():
        result = sample_estimates.campaign_estimates(campaign(), None)
        sample = result.sample
        walk = SurveyDesign.from_dataframe(sample.walk_in)
        want = compare_index_trees(sample.questionnaire, walk, result.weighted.design, ["agency"])
        found = sample_estimates.comparison(result, "B")
    root = want[want["node"] == "SIPAS"].set_index("level")
    assert [code for code, _, _ in found.agencies] == ["A", "B", "C", "D"]
    for code, _, v in found.agencies:
        assert v.walk_in == pytest.approx(root.loc[code, "estimate_walk_in"], rel=1e-12)
        assert v.sample == pytest.approx(root.loc[code, "estimate_sample"], rel=1e-12)
        assert v.p_value == pytest.approx(root.loc[code, "p_value"], rel=1e-9)
        # The walk-in answers are the respondents' one level happier: biased upwards.
        assert v.difference > 0.1 and v.verdict == "higher"
    assert {n.code for n in found.nodes} >= {"I", "II", "II.2"}
    login(client, "analyst")
    text = words(client.get(f"{BASE}/sample/compare?agency=B").get_data(as_text=True))
    assert "Phiếu tự nguyện cao hơn mẫu" in text and "có thể bị thổi phồng" in text
    assert "Từng nhóm và tiêu chí của Sở B" in text


def test_no_difference_reads_as_no_sign_of_bias() -> None:
    assert verdict(0.01, 0.4, 50, 60) == "same"
    assert verdict(-0.08, 0.001, 50, 60) == "lower"
    assert verdict(0.08, np.nan, 0, 60) == "no_data"


def test_the_planner_reaches_the_target_with_scorings_allocation(
    sampled: Flask, client: FlaskClient
) -> None:
    login(client, "viewer")
    page = client.get(f"{BASE}/sample/plan?target=4&rate=50&source=sample")
    assert page.status_code == 200
    text = words(page.get_data(as_text=True))
    with sampled.app_context():
        made = sample_estimates.plan(campaign(), None, planning.Targets(moe=0.04), "sample")
        result = sample_estimates.campaign_estimates(campaign(), None)
    roots = result.roots().set_index("level")
    # Independently: strata agency x field with the frame's returned dossiers, each agency's
    # sample index and design effect, each stratum's RR1 so far.
    frame = pd.read_csv(FIXTURES / "sampling_frame.csv")
    strata = frame.groupby(["agency", "field"], as_index=False)["N"].sum()
    strata["stratum"] = strata["agency"] + " | " + strata["field"]
    strata["p"] = strata["agency"].map(roots["estimate"])
    # The index's variance as a share's: deff = se^2 n / (p (1 - p)).
    strata["deff"] = strata["agency"].map(
        roots["se"] ** 2 * roots["n"] / (roots["estimate"] * (1 - roots["estimate"]))
    )
    dossiers = pd.read_csv(FIXTURES / "sample_estimates_dossiers.csv")
    eligible = dossiers[dossiers["disposition"] != "ineligible"]
    strata["response_rate"] = strata["stratum"].map(eligible.groupby("stratum")["responded"].mean())
    want = plan_sample(strata, target_moe=0.04, domain="agency", stratum="stratum")
    np.testing.assert_allclose(
        made.strata.sort_values("stratum")["probability"],
        want.strata.sort_values("stratum")["probability"],
        rtol=1e-12,
    )
    assert (made.domains["moe"] <= 0.04 + 1e-9).all()
    for label, value in made.probabilities.items():
        assert value >= float(want.strata.set_index("stratum").loc[label, "probability"])
    # With today's precision carried into the plan, an agency needs about the answers the
    # gauge says (stratified allocation and fpc make them differ a little).
    planned = made.domains.set_index("domain")["respondents"]
    wanted = made.gauge.set_index("level")["n_needed"]
    for agency in "ABC":
        assert planned[agency] == pytest.approx(wanted[agency], rel=0.25)
    assert "Kế hoạch theo tầng" in text and "A | F1" in text
    # The gauge: today's margin 1.96 SE of each agency's index against the target.
    gauge = made.gauge.set_index("level")
    se_a = float(roots.loc["A", "se"])
    assert gauge.loc["A", "moe"] == pytest.approx(1.959963984540054 * se_a)
    n_a = float(roots.loc["A", "n"])
    needed = np.ceil(n_a * (1.959963984540054 * se_a / 0.04) ** 2 - n_a - 1e-9)
    assert gauge.loc["A", "more_needed"] == max(0.0, needed)
    assert "Độ chính xác hiện nay" in text
    # Only analysts and administrators may copy the plan into the design.
    assert "Chép xác suất theo kế hoạch" not in text


def test_an_analyst_copies_the_planned_probabilities_into_the_design(
    sampled: Flask, client: FlaskClient
) -> None:
    login(client, "analyst")
    token = csrf_token(client, f"{BASE}/sample/plan")
    response = client.post(
        f"{BASE}/sample/plan",
        data={"target": "4", "rate": "50", "source": "sample", "csrf_token": token},
    )
    assert response.status_code == 302
    with sampled.app_context():
        made = sample_estimates.plan(campaign(), None, planning.Targets(moe=0.04), "sample")
        design = db.session.scalar(select(SamplingDesign))
        assert design is not None
        assert design.probabilities == made.probabilities
        assert design.updated_by_id is not None


@pytest.mark.parametrize("role", ["officer", "viewer"])
def test_officers_and_viewers_cannot_change_the_design(
    sampled: Flask, client: FlaskClient, role: str
) -> None:
    login(client, role)
    token = csrf_token(client, f"{BASE}/sample/plan")
    response = client.post(f"{BASE}/sample/plan", data={"target": "4", "csrf_token": token})
    assert response.status_code == 403
    with sampled.app_context():
        design = db.session.scalar(select(SamplingDesign))
        assert design is not None and design.probabilities == {}


def test_an_officer_sees_their_agency_only(sampled: Flask, client: FlaskClient) -> None:
    login(client, "officer")  # agency A
    text = words(client.get(f"{BASE}/sample").get_data(as_text=True))
    assert "Sở A (A)" in text and "Sở B" not in text and "Quầy B" not in text
    assert "B | F1" not in text
    assert client.get(f"{BASE}/sample?agency=B").status_code == 404
    compare = words(client.get(f"{BASE}/sample/compare").get_data(as_text=True))
    assert "Sở A" in compare and "Sở C" not in compare
    plan = words(client.get(f"{BASE}/sample/plan").get_data(as_text=True))
    assert "A | F2" in plan and "C | F2" not in plan


def test_a_bad_target_is_refused_in_words(sampled: Flask, client: FlaskClient) -> None:
    login(client, "analyst")
    text = words(client.get(f"{BASE}/sample/plan?target=abc").get_data(as_text=True))
    assert "Sai số mục tiêu phải là một số lớn hơn 0" in text and "“abc”" in text
    assert client.get(f"{BASE}/sample/plan.csv?target=0").status_code == 400


def test_the_plan_downloads_read_back(sampled: Flask, client: FlaskClient) -> None:
    login(client, "analyst")
    response = client.get(f"{BASE}/sample/plan.xlsx?target=4")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["Kế hoạch"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Cơ quan", "Tầng", "Hồ sơ trả kết quả (N)")
    assert len(rows) == 13  # 4 agencies x 3 fields
    body = client.get(f"{BASE}/sample/plan.csv?target=4").data.decode("utf-8-sig")
    table = pd.read_csv(io.StringIO(body))
    assert len(table) == 12
    assert (table["Xác suất chọn"] > 0).all() and (table["Xác suất chọn"] <= 1).all()


def test_the_dashboard_shows_the_response_rate(sampled: Flask, client: FlaskClient) -> None:
    login(client, "analyst")
    text = words(client.get(f"{BASE}/dashboard").get_data(as_text=True))
    assert "Mẫu xác suất hồ sơ" in text and "Tỷ lệ trả lời (RR1) 62,5%" in text


def test_a_campaign_without_a_design_has_no_sample_page(
    sampled: Flask, client: FlaskClient
) -> None:
    with sampled.app_context():
        db.session.delete(db.session.scalar(select(SamplingDesign)))
        db.session.commit()
    login(client, "analyst")
    page = client.get(f"{BASE}/sample")
    assert page.status_code == 404
    assert "chưa có thiết kế chọn mẫu hồ sơ" in page.get_data(as_text=True)
    assert "Mẫu xác suất hồ sơ" not in words(client.get(f"{BASE}/dashboard").get_data(as_text=True))


def test_the_report_has_the_sample_annex(
    sampled: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    from docx import Document

    login(client, "analyst")
    pdf = client.get(f"{BASE}/report.pdf")
    assert pdf.status_code == 200
    printed = " ".join(pdf_text(pdf.data, tmp_path).split())
    assert "PHỤ LỤC 4" in printed and "MẪU XÁC SUẤT HỒ SƠ" in printed
    assert "Sở A 290 12 254 166 59,7 65,4 91,4" in printed
    response = client.get(f"{BASE}/report.docx")
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert "PHỤ LỤC 4. MẪU XÁC SUẤT HỒ SƠ" in text
    tables = Document(io.BytesIO(response.data)).tables
    cells = [[c.text for c in row.cells] for t in tables for row in t.rows]
    assert ["Sở A", "290", "12", "254", "166", "59,7", "65,4", "91,4"] in cells
    verdicts = [row for row in cells if row and row[-1].startswith("Phiếu tự nguyện cao hơn")]
    assert len(verdicts) == 4


@pytest.mark.parametrize(
    "path", ["/sample", "/sample?agency=B", "/sample/compare?agency=C", "/sample/plan?target=4"]
)
def test_the_sample_pages_read_english(sampled: Flask, client: FlaskClient, path: str) -> None:
    login(client, "admin")
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/language/en", data={"csrf_token": token}).status_code == 302
    page = client.get(f"{BASE}{path}").get_data(as_text=True)
    with sampled.app_context():
        left = vietnamese_left(visible_text(page), data_values())
    assert left == [], f"{path} still reads Vietnamese"
