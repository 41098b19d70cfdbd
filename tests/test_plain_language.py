"""Plain language on the dashboard: p-values, chart labels, overlap tiers, answer order, and
a comparison computed like with like."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from survey_app import charts, i18n
from survey_app.services import analysis
from survey_app.services.analysis.views import tier_letter
from tests.dashboard_setup import campaign, confirm_weighting, login, province, scoring_frame

URL = "/staff/campaigns/SIPAS-2026"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def bare() -> Iterator[Flask]:
    """An app with only the interface languages: the chart functions need a locale."""
    app = Flask(__name__)
    i18n.init_app(app)
    with app.test_request_context("/"):
        yield app


# ------------------------------------------------------------------ p-values
@pytest.mark.parametrize(
    ("p", "vi", "en"),
    [
        (0.0, "p < 0,001", "p < 0.001"),
        (0.000_49, "p < 0,001", "p < 0.001"),
        (0.001, "p = 0,001", "p = 0.001"),
        (0.012_4, "p = 0,012", "p = 0.012"),
        (0.5, "p = 0,500", "p = 0.500"),
        (1.0, "p = 1,000", "p = 1.000"),
        (float("nan"), "p = –", "p = –"),
    ],
)
def test_p_values_read_as_a_bound_below_a_thousandth_in_each_language(
    bare: Flask, p: float, vi: str, en: str
) -> None:
    assert charts.p_value(p) == vi
    with force_locale("en"):
        assert charts.p_value(p) == en
    # In a table column headed "p", without the p.
    assert charts.p_value(p, named=False) == vi.removeprefix("p = ").removeprefix("p ")


def test_no_p_value_reads_zero(bare: Flask) -> None:
    for p in (0.0, 1e-300, 4.9e-4, 9.99e-4):
        assert "0,000" not in charts.p_value(p)


# ------------------------------------------------------------------ chart labels
def _visible_labels(svg: str) -> list[str]:
    """The text a reader sees of each row label: its lines joined by spaces."""
    root = ET.fromstring(svg)
    return [
        " ".join((span.text or "") for span in text.iter(f"{SVG}tspan"))
        for text in root.iter(f"{SVG}text")
        if text.get("class") == "label"
    ]


def _svgs(markup: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", markup, flags=re.S)


def _normal(label: str) -> str:
    return " ".join(label.split())


LABELS = st.lists(
    st.text(
        alphabet=st.characters(
            codec="utf-8",
            categories=("L", "N", "P", "Zs"),
        ),
        max_size=120,
    ),
    min_size=1,
    max_size=12,
    unique_by=_normal,
)


@settings(max_examples=150, deadline=None)
@given(labels=LABELS, compact=st.booleans())
def test_distinct_labels_always_read_differently(labels: list[str], compact: bool) -> None:
    """Labels are wrapped, never cut: each reads in full, so distinct ones stay distinct
    (whitespace collapses in SVG, so labels differing only in spaces are the same text)."""
    app = Flask(__name__)
    i18n.init_app(app)
    with app.test_request_context("/"):
        rows = [charts.CIRow(label, 70.0, 65.0, 75.0, 100) for label in labels]
        shown = _visible_labels(charts.ci_bars(rows, "t", compact=compact))
        paired = _visible_labels(
            charts.paired_ci_bars([(r, r) for r in rows], "t", ("a", "b"), compact=compact)
        )
    assert shown == [_normal(label) for label in labels]
    assert len(set(shown)) == len(labels)
    # The compact comparison chart also labels its legend.
    assert paired[-len(labels) :] == shown


def test_items_sharing_their_first_words_are_told_apart(bare: Flask) -> None:
    texts = [
        "Trang thiết bị phục vụ người dân tại Bộ phận một cửa đầy đủ",
        "Trang thiết bị phục vụ người dân tại Bộ phận một cửa hiện đại",
        "Trang thiết bị phục vụ người dân tại Bộ phận một cửa dễ sử dụng",
    ]
    rows = [charts.CIRow(t, 80.0, 75.0, 85.0, 300) for t in texts]
    for compact in (False, True):
        svg = str(charts.ci_bars(rows, "Tiếp cận dịch vụ", compact=compact))
        assert _visible_labels(svg) == texts
        assert "…" not in svg


def test_a_word_wider_than_a_line_is_squeezed_not_cut(bare: Flask) -> None:
    word = "x" * 200
    svg = str(charts.ci_bars([charts.CIRow(word, 50.0, 40.0, 60.0, 50)], "t", compact=True))
    assert _visible_labels(svg) == [word]
    assert 'lengthAdjust="spacingAndGlyphs"' in svg


def test_both_layouts_are_offered_with_their_text_alternative(bare: Flask) -> None:
    rows = [charts.CIRow("I.1 Tiếp cận", 72.5, 70.1, 74.8, 300)]
    markup = str(charts.for_screen(lambda compact: charts.ci_bars(rows, "Nhóm", compact=compact)))
    wide, compact = _svgs(markup)
    assert 'class="chart chart-wide"' in wide and 'class="chart chart-compact"' in compact
    for svg in (wide, compact):
        root = ET.fromstring(svg)
        assert root.find(f"{SVG}title").text == "Nhóm"  # type: ignore[union-attr]
        assert "72,50% (KTC 70,10–74,80), n=300" in root.find(f"{SVG}desc").text  # type: ignore[union-attr,operator]
    # The figures are drawn as text in both layouts (not escaped markup).
    for svg in (wide, compact):
        drawn = " ".join("".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text"))
        assert "72,50%" in drawn and "n=300" in drawn.replace(" = ", "=")
        assert "70,1–74,8" in drawn
        assert "&lt;" not in svg
    # The phone layout is about as wide as a phone's content: its text keeps its size.
    width = float(ET.fromstring(compact).get("viewBox", "").split()[2])
    assert width <= 320
    sizes = {float(s) for s in re.findall(r'font-size="([\d.]+)"', compact)}
    assert min(sizes) >= 12


def test_counts_over_time_are_rows_on_a_phone(bare: Flask) -> None:
    buckets = [(f"{d:02d}/01", d * 3) for d in range(1, 27)]
    svg = str(charts.count_bars(buckets, "Số phiếu", compact=True))
    root = ET.fromstring(svg)
    assert float(root.get("viewBox", "").split()[2]) == charts.COMPACT_WIDTH
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[:2] == ["01/01", "3"] and texts[-2:] == ["26/01", "78"]


# ------------------------------------------------------------------ overlap tiers
@pytest.mark.parametrize(
    ("group", "letters"), [(1, "A"), (2, "B"), (26, "Z"), (27, "AA"), (52, "AZ"), (53, "BA")]
)
def test_overlap_groups_are_lettered_apart_from_numbered_criteria_groups(
    group: int, letters: str
) -> None:
    assert tier_letter(group) == letters


# ------------------------------------------------------------------ pages
@pytest.fixture
def loaded(app: Flask, client: FlaskClient) -> FlaskClient:
    province(app, 300, previous=200)
    return client


def test_dashboard_explains_its_terms_and_names_tiers(loaded: FlaskClient) -> None:
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard").text
    weak = page[page.index('id="weak-h"') : page.index('id="tree-h"')]
    assert "<dt>KTC</dt>" in weak and "khoảng tin cậy 95%" in weak
    assert "<dt>n</dt>" in weak and "số phiếu trả lời hợp lệ" in weak
    assert "<dt>điểm</dt>" in weak and "điểm phần trăm" in weak
    desks = page[page.index('id="desk-h"') : page.index('id="agency-h"')]
    assert '<th scope="col">Mức*</th>' in desks and '<td data-label="Mức*">A</td>' in desks
    assert "Mức A cao nhất" in desks
    assert "p = 0,000" not in page
    assert re.search(r"\((p &lt; 0,001|p = [01],\d{3});", page)
    criterion = loaded.get(f"{URL}/criteria/II.0").text
    assert "<dt>KTC</dt>" in criterion and "<dt>n</dt>" in criterion


def test_dashboard_in_english_explains_its_terms(loaded: FlaskClient) -> None:
    login(loaded, "admin")
    with loaded.session_transaction() as session:
        session["lang"] = "en"
    page = loaded.get(f"{URL}/dashboard").text
    assert "<dt>CI</dt>" in page and "95% confidence interval" in page
    assert "percentage points" in page
    assert "Tier A is the highest" in page
    assert not re.search(r"p = 0\.000|p = 0,", page)


def test_respondent_groups_follow_the_questionnaires_order(app: Flask, loaded: FlaskClient) -> None:
    with app.test_request_context():
        c = campaign("SIPAS-2026")
        view = analysis.scope_view(c, analysis.find_period(c, "all"), None)  # type: ignore[arg-type]
        options = list(analysis.option_labels(view.questionnaire, "age_group").values())
        rows = analysis.breakdown_rows(view, "age_group")
        estimates = [r.result.estimate for r in rows]
    assert [r.label for r in rows] == [o for o in options if o in {r.label for r in rows}]
    assert len(rows) >= 3
    assert estimates != sorted(estimates, reverse=True) or len(set(estimates)) < 2
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard").text
    section = page[page.index('id="resp-h"') : page.index('id="time-h"')]
    wide = _svgs(section)[2]  # gender (wide, compact), then age (wide, compact)
    assert _visible_labels(wide) == [r.label for r in rows]


def _post_stratify(client: FlaskClient) -> None:
    login(client, "analyst")
    page = client.get(f"{URL}/weighting").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    response = client.post(
        f"{URL}/weighting",
        data={
            "csrf_token": match.group(1),
            "calibration": "poststratify",
            "ci_method": "logit",
            "level": "0.95",
            "strata": "",
            "cluster": "",
            "margins": (io.BytesIO(b"gender,count\n1,7000\n2,3000\n"), "gioi-tinh.csv"),
        },
        content_type="multipart/form-data",
    )
    assert confirm_weighting(client, response).status_code == 302


def _previous_root(page: str) -> str:
    """The "previous period" figure of the overall index in the change table."""
    table = page[page.index('id="change-h"') :]
    match = re.search(
        r"<td class=\"title\">SIPAS [^<]*</td><td class=\"num\"[^>]*>[^<]*</td>"
        r"<td class=\"num\"[^>]*>([^<]*)<",
        table,
    )
    assert match, table[:2000]
    return match.group(1)


def test_a_previous_campaign_weighted_otherwise_is_compared_like_with_like(
    app: Flask, loaded: FlaskClient
) -> None:
    """2026 is post-stratified to 7,000 men and 3,000 women, 2025 is not weighted: by default
    2025 is computed with the same post-stratification (each respondent weighs N_g / n_g,
    calculated here by hand), and the page says so; ?compare=own shows 2025 unweighted."""
    _post_stratify(loaded)
    frame, q = scoring_frame(app, "SIPAS-2025")
    frame["w"] = frame["gender"].map({1: 7000, 2: 3000}) / frame["gender"].map(
        frame["gender"].value_counts()
    )
    weighted = compute_index_tree(q, SurveyDesign.from_dataframe(frame, weights="w"))
    plain = compute_index_tree(q, SurveyDesign.from_dataframe(frame))
    same = weighted[weighted["node"] == "SIPAS"].iloc[0]["estimate"] * 100
    own = plain[plain["node"] == "SIPAS"].iloc[0]["estimate"] * 100
    with app.test_request_context():
        assert charts.fmt(same) != charts.fmt(own)

        page = loaded.get(f"{URL}/dashboard").text
        assert _previous_root(page) == charts.fmt(same)
        assert "kỳ so sánh được tính lại với cài đặt của kỳ này" in page
        assert "kỳ so sánh: Trọng số: không (mỗi phiếu như nhau)" in page
        assert "Kỳ so sánh được tính lại với cài đặt trọng số của kỳ này" in page  # headline
        assert "compare=own" in page

        page = loaded.get(f"{URL}/dashboard?compare=own").text
        assert _previous_root(page) == charts.fmt(own)
        assert "Kỳ so sánh được tính với cài đặt riêng của nó" in page
        assert "Lưu ý: hai kỳ được tính với cài đặt trọng số khác nhau." in page


def test_a_comparison_within_one_campaign_needs_no_note(loaded: FlaskClient) -> None:
    _post_stratify(loaded)
    page = loaded.get(f"{URL}/dashboard?period=2026-Q2").text
    assert "Thay đổi so với Quý 1/2026" in page
    assert "cài đặt riêng" not in page and "tính lại" not in page


def test_settings_that_cannot_apply_to_the_previous_campaign_are_said_so(
    app: Flask, loaded: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When this period's calibration fails on the previous campaign's answers, its own
    settings are used and the note says the difference may come from the weighting."""
    _post_stratify(loaded)
    from survey_app.services.analysis import views

    real = views.design_for
    previous_id = None

    def refuse_previous(frame, settings):  # type: ignore[no-untyped-def]
        if (
            previous_id is not None
            and frame is analysis.frames.responses(campaign("SIPAS-2025")).frame
            and settings.weighted
        ):
            raise analysis.AnalysisError.of("analysis.weights_failed", detail="ô trống")
        return real(frame, settings)

    with app.app_context():
        previous_id = campaign("SIPAS-2025").id
    monkeypatch.setattr(views, "design_for", refuse_previous)
    page = loaded.get(f"{URL}/dashboard").text
    assert "Không áp dụng được cài đặt của kỳ này cho số liệu của kỳ so sánh." in page
    assert "Kỳ so sánh được tính với cài đặt riêng của nó" in page


def test_the_comparison_chart_draws_both_periods_figures(bare: Flask) -> None:
    now = charts.CIRow("I Xây dựng", 77.93, 75.0, 80.5, 300)
    before = charts.CIRow("I Xây dựng", 68.1, 65.2, 71.0, 280)
    for compact in (False, True):
        svg = str(charts.paired_ci_bars([(now, before)], "t", ("2026", "2025"), compact=compact))
        drawn = [("".join(t.itertext())) for t in ET.fromstring(svg).iter(f"{SVG}text")]
        assert "77,93% n=300" in drawn and "68,10% n=280" in drawn
        assert "2026" in " ".join(drawn) and "2025" in " ".join(drawn)


def test_the_plan_page_explains_ktc_n_and_points(app: Flask, client: FlaskClient) -> None:
    from tests.plan_support import seed_plans
    from tests.staff_support import csrf_token, sign_in

    with app.app_context():
        seed_plans()
    sign_in(client, "stp")
    client.post(
        "/staff/campaigns/STP-2026/plan/rows",
        data={
            "agency": "HT-STP",
            "period": "2026-Q1",
            "criteria": "II.2",
            "target": "75",
            "csrf_token": csrf_token(client, "/staff/"),
        },
    )
    page = client.get("/staff/campaigns/STP-2026/plan").get_data(as_text=True)
    assert "cách " in page and " điểm" in page  # the gap to the target, in points
    assert "<dt>KTC</dt>" in page and "<dt>điểm</dt>" in page and "<dt>n</dt>" in page
    assert "p = 0,000" not in page


def test_settings_differing_only_by_the_margins_files_name_compute_alike() -> None:
    from survey_app.services.analysis.views import same_computation
    from survey_app.services.weighting_settings import Margin, WeightingSettings

    margins = (Margin(("gender",), {(1,): 7000.0, (2,): 3000.0}),)
    a = WeightingSettings(calibration="poststratify", margins=margins, margins_file="a.csv")
    b = WeightingSettings(calibration="poststratify", margins=margins, margins_file="b.csv")
    assert same_computation(a, b)
    assert not same_computation(a, WeightingSettings())
    assert not same_computation(WeightingSettings(), WeightingSettings(ci_method="beta"))
