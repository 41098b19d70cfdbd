"""The officials' dashboard: what each role sees, and that its figures are scoring's."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from survey_app import charts
from survey_app.extensions import db
from survey_app.models import AuditEvent, Submission
from survey_app.services import analysis
from tests.dashboard_setup import campaign, confirm_weighting, login, province, scoring_frame

URL = "/staff/campaigns/SIPAS-2026"


def percent(value: float) -> str:
    return f"{value * 100:.2f}".replace(".", ",")


def csrf(client: FlaskClient, url: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text)
    assert match
    return match.group(1)


@pytest.fixture
def loaded(app: Flask, client: FlaskClient) -> FlaskClient:
    province(app, 300, previous=200)
    return client


def test_anonymous_user_is_sent_to_login(loaded: FlaskClient) -> None:
    response = loaded.get(f"{URL}/dashboard")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_dashboard_overall_index_and_ci_are_scorings_unweighted_logit(
    app: Flask, loaded: FlaskClient
) -> None:
    frame, q = scoring_frame(app)
    table = compute_index_tree(q, SurveyDesign.from_dataframe(frame))
    root = table[table["node"] == "SIPAS"].iloc[0]
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard").text
    assert f"{percent(root['estimate'])}%" in page
    assert f"{percent(root['ci_low'])} – {percent(root['ci_high'])}%" in page
    assert f"n = {int(root['n'])} phiếu" in page
    assert "Tiêu chí thấp điểm" in page
    assert "Trọng số: không (mỗi phiếu như nhau); KTC 95% logit" in page


def test_weakest_criteria_come_first(app: Flask, loaded: FlaskClient) -> None:
    frame, q = scoring_frame(app)
    table = compute_index_tree(q, SurveyDesign.from_dataframe(frame))
    criteria = table[table["depth"] == 2].sort_values("estimate")
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard").text
    section = page[page.index("Tiêu chí thấp điểm") : page.index("Cây chỉ số")]
    positions = [section.index(f">{code} ") for code in criteria["node"]]
    assert positions == sorted(positions)


def test_officer_sees_own_desks_as_a_domain_of_the_whole_design(
    app: Flask, loaded: FlaskClient
) -> None:
    frame, q = scoring_frame(app)
    by_agency = compute_index_tree(q, SurveyDesign.from_dataframe(frame), ["agency"])
    stp = by_agency[(by_agency["node"] == "SIPAS") & (by_agency["level"] == "HT-STP")].iloc[0]
    login(loaded, "stp")
    page = loaded.get(f"{URL}/dashboard").text
    assert f"{percent(stp['estimate'])}%" in page
    assert f"n = {int(stp['n'])} phiếu" in page
    assert "Quầy STP-01" in page and "Quầy SXD-01" not in page
    data = loaded.get("/api/v1/campaigns/SIPAS-2026/indices").get_json()
    assert data["index"]["se"] == pytest.approx(stp["se"], rel=1e-12)
    assert data["scope"] == ["HT-STP"]


def test_officer_of_an_agency_without_desks_in_the_campaign_gets_404(
    app: Flask, loaded: FlaskClient
) -> None:
    from survey_app.services import accounts, organisation

    with app.app_context():
        organisation.add_agency("HT-SYT", "Sở Y tế", "department", "HT")
        accounts.create_user("syt", "mat-khau-rat-dai-2026", "officer", "HT-SYT")
        db.session.commit()
    login(loaded, "syt")
    assert loaded.get(f"{URL}/dashboard").status_code == 404
    assert loaded.get("/api/v1/campaigns/SIPAS-2026/indices").status_code == 404


def test_criterion_drill_down_shows_items_and_answer_counts(
    app: Flask, loaded: FlaskClient
) -> None:
    frame, _ = scoring_frame(app)
    login(loaded, "viewer")
    page = loaded.get(f"{URL}/criteria/II.2").text
    assert "II.2.1" in page and "II.2.3" in page
    satisfied = int((frame["II.2.1"] == 5).sum())
    assert f'<td class="num">{satisfied}</td>' in page
    assert "Rất hài lòng" in page
    assert loaded.get(f"{URL}/criteria/NOPE").status_code == 404


def test_change_since_previous_campaign_is_tested(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard").text
    assert "Thay đổi so với Khảo sát SIPAS năm 2025" in page
    assert "p = " in page


def test_quarter_period_restricts_the_domain_and_compares_with_the_previous_quarter(
    app: Flask, loaded: FlaskClient
) -> None:
    frame, q = scoring_frame(app)
    with app.app_context():
        stamps = pd.read_sql("SELECT id, submitted_at FROM submissions", db.engine)
    frame = frame.merge(stamps, left_on="sid", right_on="id")
    q2 = pd.to_datetime(frame["submitted_at"]) >= pd.Timestamp("2026-04-01")
    frame["q2"] = np.where(q2, 1.0, np.nan)
    table = compute_index_tree(q, SurveyDesign.from_dataframe(frame), ["q2"])
    root = table[table["node"] == "SIPAS"].iloc[0]
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard?period=2026-Q2").text
    assert f"{percent(root['estimate'])}%" in page
    assert "Thay đổi so với Quý 1/2026" in page
    assert loaded.get(f"{URL}/dashboard?period=2030-Q1").status_code == 404


def test_comments_are_listed_newest_first(app: Flask, loaded: FlaskClient) -> None:
    with app.app_context():
        commented = sorted(
            at
            for at, answers in db.session.execute(
                select(Submission.submitted_at, Submission.answers)
            )
            if answers.get("comment")
        )
    assert len(commented) > 0
    login(loaded, "admin")
    page = loaded.get(f"{URL}/dashboard").text
    # Stored in UTC, shown in Vietnam's time: UTC+7 all year.
    newest = (commented[-1] + dt.timedelta(hours=7)).strftime("%d/%m/%Y %H:%M")
    comments = page[page.index("Góp ý của người dân") :]
    assert newest in comments.split("</li>")[0]


def test_post_stratification_is_saved_audited_and_shown(app: Flask, loaded: FlaskClient) -> None:
    login(loaded, "analyst")
    token = csrf(loaded, f"{URL}/weighting")
    rows = "gender,age_group,count\n" + "".join(
        f"{g},{a},{1000 * g + 100 * a}\n" for g in (1, 2) for a in range(1, 6)
    )
    response = loaded.post(
        f"{URL}/weighting",
        data={
            "csrf_token": token,
            "calibration": "poststratify",
            "ci_method": "beta",
            "level": "0.9",
            "strata": "agency",
            "cluster": "desk",
            "margins": (io.BytesIO(rows.encode()), "dan-so.csv"),
        },
        content_type="multipart/form-data",
    )
    assert confirm_weighting(loaded, response).status_code == 302
    page = loaded.get(f"{URL}/dashboard").text
    assert "Trọng số: hậu phân tầng theo giới tính × độ tuổi" in page
    assert "KTC 90% beta" in page
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).filter_by(action="weighting.change")).one()
        assert event.username == "analyst" and event.target == "SIPAS-2026"
        assert campaign("SIPAS-2026").settings["weighting"]["strata"] == "agency"


def test_answer_shares_on_the_criterion_page_follow_the_weighting(
    app: Flask, loaded: FlaskClient
) -> None:
    """Post-stratified to 7,000 men and 3,000 women, each respondent weighs N_g / n_g;
    an option's share is its respondents' weight over the weight of all who answered."""
    frame, _ = scoring_frame(app)
    login(loaded, "analyst")
    token = csrf(loaded, f"{URL}/weighting")
    response = loaded.post(
        f"{URL}/weighting",
        data={
            "csrf_token": token,
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
    weight = frame["gender"].map({1: 7000, 2: 3000}) / frame["gender"].map(
        frame["gender"].value_counts()
    )
    answered = frame["II.2.1"].notna()
    share = weight[frame["II.2.1"] == 5].sum() / weight[answered].sum()
    unweighted = (frame["II.2.1"] == 5).sum() / answered.sum()
    page = loaded.get(f"{URL}/criteria/II.2").text
    assert "Tỷ lệ (có trọng số)" in page
    assert f'<td class="num">{charts.fmt(share * 100, 1)}%</td>' in page
    assert charts.fmt(share * 100, 1) != charts.fmt(unweighted * 100, 1)


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("gender,income,count\n1,1,5\n", "Cột &#39;income&#39; không phải là câu hỏi"),
        ("gender,count\n1,100\n2,0\n", "số lượng phải lớn hơn 0"),
        ("gender,count\n1,100\n", "Tệp thiếu số lượng tổng thể cho ô có trong mẫu: gender=2"),
        ("gender,count\n1,100\n2,120\n3,5\n", "mã 3 không có trong câu hỏi"),
        (
            "variable,value,count\ngender,1,60\ngender,2,40\nage_group,1,99\n",
            "Tổng số lượng của các biên phải bằng nhau (gender: 100, age_group: 99)",
        ),
    ],
)
def test_invalid_margins_are_refused_in_vietnamese(
    app: Flask, loaded: FlaskClient, csv_text: str, message: str
) -> None:
    login(loaded, "analyst")
    token = csrf(loaded, f"{URL}/weighting")
    response = loaded.post(
        f"{URL}/weighting",
        data={
            "csrf_token": token,
            "ci_method": "logit",
            "calibration": "rake" if csv_text.startswith("variable,") else "poststratify",
            "level": "0.95",
            "margins": (io.BytesIO(csv_text.encode()), "m.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in response.text
    with app.app_context():
        assert "weighting" not in (campaign("SIPAS-2026").settings or {})


def test_officers_and_viewers_cannot_change_weighting(loaded: FlaskClient) -> None:
    login(loaded, "stp")
    assert loaded.get(f"{URL}/weighting").status_code == 403
    login(loaded, "viewer")
    assert loaded.post(f"{URL}/weighting", data={}).status_code in (400, 403)


def test_cached_figures_follow_new_and_deleted_submissions(app: Flask, loaded: FlaskClient) -> None:
    from bench.dashboard_data import generate

    login(loaded, "admin")
    assert "n = 300 phiếu" in loaded.get(f"{URL}/dashboard").text
    with app.app_context():
        generate(campaign("SIPAS-2026"), 2, seed=11)
    assert "n = 302 phiếu" in loaded.get(f"{URL}/dashboard").text
    with app.app_context():
        first = db.session.scalars(select(Submission).order_by(Submission.id)).first()
        db.session.delete(first)
        db.session.commit()
    assert "n = 301 phiếu" in loaded.get(f"{URL}/dashboard").text
    frame, q = scoring_frame(app)
    root = compute_index_tree(q, SurveyDesign.from_dataframe(frame)).iloc[0]
    assert f"{percent(root['estimate'])}%" in loaded.get(f"{URL}/dashboard").text


def test_responses_kept_on_disk_survive_a_restart_and_follow_new_submissions(
    make_app: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.dashboard_data import generate

    app = make_app(ANALYSIS_CACHE_DIR=str(tmp_path / "cache"))
    with app.app_context():
        db.create_all()
    province(app, 120)
    client = app.test_client()
    login(client, "admin")
    assert "n = 120 phiếu" in client.get(f"{URL}/dashboard").text
    assert len(list((tmp_path / "cache").glob("campaign-*.pkl"))) == 1

    analysis.clear_caches()  # as after a restart
    with app.app_context():
        generate(campaign("SIPAS-2026"), 3, seed=5)
    loads: list[int] = []
    original = analysis.load_responses

    def spy(c: object, after_id: int = 0, until_id: int | None = None) -> analysis.Responses:
        loads.append(after_id)
        return original(c, after_id, until_id)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis.loading, "load_responses", spy)
    assert "n = 123 phiếu" in client.get(f"{URL}/dashboard").text
    assert len(loads) == 1 and loads[0] > 0  # only the three new submissions were read


def test_concurrent_requests_compute_the_dashboard_once(
    app: Flask, loaded: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    calls: list[list[str]] = []
    original = analysis.views.index_table

    def counting(design, questionnaire, bys, settings):  # type: ignore[no-untyped-def]
        calls.append(list(bys))
        return original(design, questionnaire, bys, settings)

    monkeypatch.setattr(analysis.views, "index_table", counting)
    monkeypatch.setattr(analysis.trends, "index_table", counting)
    analysis.clear_caches()
    statuses: list[int] = []

    def fetch() -> None:
        client = app.test_client()
        login(client, "admin")
        statuses.append(client.get(f"{URL}/dashboard").status_code)

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200]
    # One call for this campaign's view (all partitions), one for its months (the trend)
    # and one for the 2025 comparison (also the trend's previous campaign).
    assert len(calls) == 3


def test_loaded_responses_equal_the_stored_documents_in_parts_and_up_to_a_bound(
    app: Flask, loaded: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader reads answers in SQL, in concurrent parts on PostgreSQL; pandas reading the
    documents themselves must give the same frame, and ids past ``until_id`` stay out."""
    monkeypatch.setattr(analysis.loading, "PARALLEL_LOAD_ROWS", 0)  # parts even for 300 rows
    expected, _q = scoring_frame(app)
    with app.app_context():
        c = campaign("SIPAS-2026")
        responses = analysis.load_responses(c)
        frame = responses.frame.set_index("submission_id")
        ids = sorted(frame.index)
        partial = analysis.load_responses(c, after_id=ids[9], until_id=ids[19]).frame
        commented = {
            sid: answers["comment"]
            for sid, answers in db.session.execute(
                select(Submission.id, Submission.answers).where(Submission.campaign_id == c.id)
            )
            if "comment" in answers
        }
    expected = expected.set_index("sid")
    assert list(frame.index) == ids == sorted(expected.index)
    assert (frame["desk"] == expected["desk"]).all()
    assert (frame["agency"] == expected["agency"]).all()
    for code in expected.columns.drop(["desk", "agency"]):
        pd.testing.assert_series_equal(frame[code], expected[code], check_names=False)
    assert list(partial["submission_id"]) == ids[10:20]
    assert (
        dict(zip(responses.comments["submission_id"], responses.comments["text"], strict=True))
        == commented
    )


def test_a_submission_stored_during_a_load_is_counted_once(
    app: Flask, loaded: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache reads the campaign's version, then its rows: a submission committed in
    between belongs to the next version, never to both."""
    from bench.dashboard_data import generate

    original = analysis.load_responses
    arrived: list[int] = []

    def late_arrival(*args: object, **kwargs: object) -> analysis.Responses:
        if not arrived:
            arrived.append(generate(campaign("SIPAS-2026"), 1, seed=3))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis.loading, "load_responses", late_arrival)
    with app.app_context():
        first = analysis.frames.get(campaign("SIPAS-2026"))
        second = analysis.frames.get(campaign("SIPAS-2026"))
    assert arrived and len(first) == 300
    assert len(second) == 301 and second["submission_id"].is_unique


def test_analysis_warm_puts_every_campaign_on_disk_so_a_new_server_reads_no_answers(
    make_app: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(ANALYSIS_CACHE_DIR=str(tmp_path / "cache"))
    with app.app_context():
        db.create_all()
    province(app, 50, previous=30)
    result = app.test_cli_runner().invoke(args=["analysis", "warm"])
    assert result.exit_code == 0, result.output
    assert "SIPAS-2025: 30 responses cached" in result.output
    assert "SIPAS-2026: 50 responses cached" in result.output
    assert len(list((tmp_path / "cache").glob("campaign-*.pkl"))) == 2

    analysis.clear_caches()  # a new server process
    loads: list[object] = []
    monkeypatch.setattr(analysis.loading, "load_responses", lambda *a, **k: loads.append(a))
    client = app.test_client()
    login(client, "admin")
    page = client.get(f"{URL}/dashboard").text
    assert "n = 50 phiếu" in page and "Thay đổi so với Khảo sát SIPAS năm 2025" in page
    assert loads == []

    unknown = app.test_cli_runner().invoke(args=["analysis", "warm", "KHONG-CO"])
    assert unknown.exit_code != 0 and "no campaign with code KHONG-CO" in unknown.output


def _post_margins(loaded: FlaskClient, body: bytes) -> Any:
    token = csrf(loaded, f"{URL}/weighting")
    return loaded.post(
        f"{URL}/weighting",
        data={
            "csrf_token": token,
            "ci_method": "logit",
            "calibration": "poststratify",
            "level": "0.95",
            "margins": (io.BytesIO(body), "m.csv"),
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "count", ["1e308", "inf", "Infinity", "-inf", "nan", "1000000001", "1e10", "9" * 400]
)
def test_margin_counts_must_be_finite_and_at_most_a_billion(
    app: Flask, loaded: FlaskClient, count: str
) -> None:
    login(loaded, "analyst")
    response = _post_margins(loaded, f"gender,count\n1,100\n2,{count}\n".encode())
    assert response.status_code == 400
    assert "Dòng 3: số lượng" in response.text
    with app.app_context():
        assert "weighting" not in (campaign("SIPAS-2026").settings or {})


def test_a_margins_file_over_the_limit_is_refused_not_cut(app: Flask, loaded: FlaskClient) -> None:
    """Before, the first 2 MB were read and used: here the cut kept gender 1 and 2, and
    dropped the third line that makes the file wrong."""
    from survey_app.staff.weighting import MAX_MARGINS_BYTES

    login(loaded, "analyst")
    body = b"gender,count\n1,100\n2,120\n" + b"\n" * MAX_MARGINS_BYTES + b"3,5\n"
    fields = {
        "csrf_token": csrf(loaded, f"{URL}/weighting"),
        "ci_method": "logit",
        "calibration": "poststratify",
        "level": "0.95",
    }
    # Built by hand: the test client's own multipart body is a temporary file it never closes.
    multipart = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (name.encode(), value.encode())
        for name, value in fields.items()
    )
    multipart += (
        b'--B\r\nContent-Disposition: form-data; name="margins"; filename="m.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + body + b"\r\n--B--\r\n"
    )
    response = loaded.post(
        f"{URL}/weighting",
        input_stream=io.BytesIO(multipart),
        content_type='multipart/form-data; boundary="B"',
    )
    assert response.status_code in (400, 413)
    assert "lớn hơn 2 MB" in response.text
    with app.app_context():
        assert "weighting" not in (campaign("SIPAS-2026").settings or {})
