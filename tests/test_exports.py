"""Index and PAR exports read back equal scoring called directly on the same data and settings."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.par import load_par_mapping, par_points
from scoring.weighting import post_stratify
from survey_app.extensions import db
from survey_app.models import AuditEvent
from survey_app.services import weighting_settings
from tests.dashboard_setup import (
    ROOT,
    campaign,
    confirm_weighting,
    login,
    province,
    scoring_frame,
)

URL = "/staff/campaigns/SIPAS-2026"
POPULATION = {(g, a): 1000.0 * g + 150.0 * a for g in (1, 2) for a in range(1, 6)}
FIELDS = ("estimate", "se", "ci_low", "ci_high", "n", "df", "deff")


@pytest.fixture
def weighted(app: Flask, client: FlaskClient) -> FlaskClient:
    """400 responses; post-stratified to gender x age, strata agency, clusters desk, 90% beta."""
    province(app, 400)
    settings = weighting_settings.WeightingSettings(
        strata="agency",
        cluster="desk",
        calibration="poststratify",
        margins=(weighting_settings.Margin(("gender", "age_group"), dict(POPULATION)),),
        ci_method="beta",
        level=0.90,
    )
    with app.app_context():
        weighting_settings.save(campaign("SIPAS-2026"), settings)
        db.session.commit()
    login(client, "admin")
    return client


def expected(app: Flask, by: str | None = None) -> pd.DataFrame:
    """scoring on the same answers and settings, without the app's loader or cache."""
    frame, q = scoring_frame(app)
    design = SurveyDesign.from_dataframe(frame, strata="agency", psu="desk", lonely_psu="adjust")
    design = post_stratify(design, ["gender", "age_group"], POPULATION)
    return compute_index_tree(q, design, [by], level=0.90, method="beta")


def same(value: object, wanted: float) -> bool:
    if value in (None, "") or (isinstance(value, float) and math.isnan(value)):
        return math.isnan(wanted)
    return float(value) == pytest.approx(wanted, rel=1e-12, abs=1e-15)  # type: ignore[arg-type]


def test_csv_export_reads_back_equal_to_scoring(app: Flask, weighted: FlaskClient) -> None:
    response = weighted.get(f"{URL}/indices.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    want = expected(app).set_index("node")
    assert [r["node"] for r in rows] == list(want.index)
    for row in rows:
        for name in FIELDS:
            assert same(row[name], float(want.loc[row["node"], name])), (row["node"], name)
    assert "hậu phân tầng theo giới tính × độ tuổi" in text
    assert "KTC 90% beta" in text


def test_xlsx_export_has_a_sheet_per_level_equal_to_scoring(
    app: Flask, weighted: FlaskClient
) -> None:
    response = weighted.get(f"{URL}/indices.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[:4] == ["Tổng thể", "Nhóm", "Tiêu chí", "Câu hỏi"]
    want = expected(app).set_index("node")
    depth_of_sheet = {"Tổng thể": [0], "Nhóm": [1], "Tiêu chí": [2], "Câu hỏi": [3]}
    for sheet_name, depths in depth_of_sheet.items():
        values = list(book[sheet_name].iter_rows(min_row=2, values_only=True))
        nodes = [v[1] for v in values]
        assert nodes == list(want.index[want["depth"].isin(depths)])
        for v in values:
            for k, name in enumerate(FIELDS):
                assert same(v[3 + k], float(want.loc[v[1], name])), (v[1], name)
    info = dict(book["Thông tin"].iter_rows(values_only=True))
    assert "hậu phân tầng" in info["Cài đặt"]


def test_json_api_returns_the_tree_settings_and_version(app: Flask, weighted: FlaskClient) -> None:
    data = weighted.get("/api/v1/campaigns/SIPAS-2026/indices").get_json()
    assert data["questionnaire"] == {"id": "sipas-2023", "version": "2023.1"}
    assert data["settings"]["calibration"] == "poststratify"
    assert data["settings"]["level"] == 0.9
    want = expected(app).set_index("node")

    def check(node: dict[str, object]) -> int:
        for name in FIELDS:
            assert same(node[name], float(want.loc[node["code"], name]))
        return 1 + sum(check(c) for c in node["children"])  # type: ignore[union-attr, arg-type]

    assert check(data["index"]) == len(want)


def test_json_api_needs_a_signed_in_user(app: Flask, client: FlaskClient) -> None:
    province(app, 50)
    response = client.get("/api/v1/campaigns/SIPAS-2026/indices")
    assert response.status_code == 401
    assert response.get_json()["error"]


def test_par_exports_convert_each_agencys_index_with_scoring_par(
    app: Flask, weighted: FlaskClient
) -> None:
    table = expected(app, "agency").rename(columns={"level": "agency"})
    table = table.assign(questionnaire="sipas-2023")
    mapping = load_par_mapping(ROOT / "questionnaires" / "par" / "par-sipas.yaml")
    want = par_points(mapping, table[["agency", "questionnaire", "node", "estimate"]])

    text = weighted.get(f"{URL}/par.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))
    assert rows[0][:3] == ["Cơ quan", "Mã cơ quan", "Mã tiêu chí CCHC"]
    got = {r[1]: (r[2], float(r[5]), float(r[6])) for r in rows[1:]}
    for r in want.itertuples():
        assert got[r.agency] == ("8.1", r.index_percent, r.points)

    book = load_workbook(io.BytesIO(weighted.get(f"{URL}/par.xlsx").data))
    sheet = book["Điểm CCHC"]
    values = [v for v in sheet.iter_rows(values_only=True) if v[2] == "8.1"]
    assert {(v[1], v[5], v[6]) for v in values} == {
        (r.agency, r.index_percent, r.points) for r in want.itertuples()
    }


def test_every_export_is_audited(app: Flask, weighted: FlaskClient) -> None:
    for url in (
        f"{URL}/indices.csv",
        f"{URL}/indices.xlsx",
        f"{URL}/par.csv",
        f"{URL}/par.xlsx",
        "/api/v1/campaigns/SIPAS-2026/indices",
    ):
        assert weighted.get(url).status_code == 200
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("export.%"))
        ).all()
    assert sorted((e.action, e.detail["format"]) for e in events) == [
        ("export.indices", "csv"),
        ("export.indices", "json"),
        ("export.indices", "xlsx"),
        ("export.par", "csv"),
        ("export.par", "xlsx"),
    ]
    assert all(e.username == "admin" and e.target == "SIPAS-2026" for e in events)


def test_raking_settings_from_the_form_give_scorings_raked_estimates(
    app: Flask, client: FlaskClient
) -> None:
    from scoring.weighting import rake

    province(app, 300)
    login(client, "analyst")
    page = client.get(f"{URL}/weighting").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    margins = "variable,value,count\ngender,1,4900\ngender,2,4600\n" + "".join(
        f"age_group,{a},{1000 + 300 * a}\n" for a in range(1, 6)
    )
    response = client.post(
        f"{URL}/weighting",
        data={
            "csrf_token": token,
            "calibration": "rake",
            "ci_method": "logit",
            "level": "0.95",
            "margins": (io.BytesIO(margins.encode()), "bien.csv"),
        },
        content_type="multipart/form-data",
    )
    assert confirm_weighting(client, response).status_code == 302
    data = client.get("/api/v1/campaigns/SIPAS-2026/indices").get_json()
    assert data["settings"]["description"].startswith(
        "Trọng số: cân chỉnh lặp (raking) theo giới tính; độ tuổi"
    )
    frame, q = scoring_frame(app)
    design = rake(
        SurveyDesign.from_dataframe(frame),
        [
            ("gender", {1: 4900.0, 2: 4600.0}),
            ("age_group", {a: 1000.0 + 300 * a for a in range(1, 6)}),
        ],
    )
    want = compute_index_tree(q, design).set_index("node").loc["SIPAS"]
    for name in FIELDS:
        assert same(data["index"][name], float(want[name])), name
