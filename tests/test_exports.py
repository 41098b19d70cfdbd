"""Index and PAR exports read back equal scoring called directly on the same data and settings."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from bench.dashboard_data import generate
from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.par import load_par_mapping, par_points
from scoring.weighting import post_stratify
from survey_app.extensions import db
from survey_app.models import AuditEvent
from survey_app.services import organisation, questionnaires, weighting_settings
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


# The files for people: an index, its bounds and its standard error in percent with 2
# decimals (CSV: "80.11"; XLSX: the share rounded to 4 decimals, shown "0.00%").
SHARES = ("estimate", "ci_low", "ci_high", "se")
CSV_HEADERS = {
    "estimate": "Chỉ số (%)",
    "ci_low": "KTC dưới (%)",
    "ci_high": "KTC trên (%)",
    "se": "Sai số chuẩn (điểm %)",
    "n": "Số phiếu hợp lệ (n)",
    "df": "Bậc tự do",
    "deff": "Hiệu ứng thiết kế",
}


def as_csv(name: str, wanted: float) -> str:
    if math.isnan(wanted):
        return ""
    if name in SHARES:
        return f"{wanted * 100:.2f}"
    return f"{wanted:.2f}" if name == "deff" else str(int(wanted))


def as_xlsx(name: str, wanted: float) -> float | int | None:
    if math.isnan(wanted):
        return None
    if name in SHARES:
        return round(wanted, 4)
    return round(wanted, 2) if name == "deff" else int(wanted)


def test_csv_export_has_vietnamese_headers_and_percents(app: Flask, weighted: FlaskClient) -> None:
    response = weighted.get(f"{URL}/indices.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    assert list(rows[0])[:3] == ["Cấp", "Mã", "Tên"]
    want = expected(app).set_index("node")
    assert [r["Mã"] for r in rows] == list(want.index)
    for row in rows:
        for name, header in CSV_HEADERS.items():
            wanted = float(want.loc[row["Mã"], name])
            assert row[header] == as_csv(name, wanted), (row["Mã"], name)
    assert "hậu phân tầng theo giới tính × độ tuổi" in text
    assert "KTC 90% beta" in text


def test_xlsx_export_is_in_percent_with_a_sheet_per_level(
    app: Flask, weighted: FlaskClient
) -> None:
    response = weighted.get(f"{URL}/indices.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "Tổng thể",
        "Nhóm",
        "Tiêu chí",
        "Câu hỏi",
        "Cơ quan × tiêu chí",
        "Quầy × tiêu chí",
        "Thông tin",
    ]
    want = expected(app).set_index("node")
    depth_of_sheet = {"Tổng thể": [0], "Nhóm": [1], "Tiêu chí": [2], "Câu hỏi": [3]}
    headers = [c.value for c in book["Tổng thể"][1]]
    columns = {name: headers.index(header) for name, header in CSV_HEADERS.items()}
    for sheet_name, depths in depth_of_sheet.items():
        sheet = book[sheet_name]
        nodes = [row[1].value for row in sheet.iter_rows(min_row=2)]
        assert nodes == list(want.index[want["depth"].isin(depths)])
        for row in sheet.iter_rows(min_row=2):
            for name, k in columns.items():
                wanted = float(want.loc[row[1].value, name])
                assert row[k].value == as_xlsx(name, wanted), (row[1].value, name)
                if name in SHARES and row[k].value is not None:
                    assert row[k].number_format == "0.00%"
                    # No float noise: the cell holds at most 4 decimals of a share.
                    assert repr(row[k].value) == repr(round(row[k].value, 4))
    info = dict(book["Thông tin"].iter_rows(values_only=True))
    assert "hậu phân tầng" in info["Cài đặt"]


@pytest.mark.parametrize(
    ("by", "sheet_name"), [("agency", "Cơ quan × tiêu chí"), ("desk", "Quầy × tiêu chí")]
)
def test_xlsx_export_has_agency_and_desk_by_criterion_sheets(
    app: Flask, weighted: FlaskClient, by: str, sheet_name: str
) -> None:
    book = load_workbook(io.BytesIO(weighted.get(f"{URL}/indices.xlsx").data))
    sheet = book[sheet_name]
    header = [c.value for c in sheet[1]]
    assert header[2:] == [
        "Mã tiêu chí",
        "Tiêu chí",
        "Chỉ số (%)",
        "KTC dưới (%)",
        "KTC trên (%)",
        "Số phiếu hợp lệ (n)",
    ]
    want = expected(app, by)
    criteria = set(want.loc[want["depth"] == 2, "node"]) | {"SIPAS"}
    want = want[want["node"].isin(criteria)].set_index(["level", "node"])
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(want)
    groups = {str(r[0].value) for r in rows}
    assert groups == {str(g) for g, _ in want.index}
    for row in rows:
        key = next(k for k in want.index if str(k[0]) == row[0].value and k[1] == row[2].value)
        for k, name in zip((4, 5, 6), ("estimate", "ci_low", "ci_high"), strict=True):
            assert row[k].value == as_xlsx(name, float(want.loc[key, name]))
            assert row[k].number_format == "0.00%"
        assert row[7].value == int(want.loc[key, "n"])
    names = {r[1].value for r in rows}
    assert ("Sở Tư pháp" if by == "agency" else "Quầy STP-01") in names


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


def test_par_table_has_n_and_the_interval_beside_the_points(
    app: Flask, weighted: FlaskClient
) -> None:
    table = expected(app, "agency").rename(columns={"level": "agency"})
    sipas = table[table["node"] == "SIPAS"].set_index("agency")
    book = load_workbook(io.BytesIO(weighted.get(f"{URL}/par.xlsx").data))
    sheet = book["Điểm CCHC"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Cơ quan")
    assert header[5:] == (
        "Chỉ số (%)",
        "Điểm đạt",
        "KTC chỉ số dưới (%)",
        "KTC chỉ số trên (%)",
        "Điểm theo KTC dưới",
        "Điểm theo KTC trên",
        "Số phiếu hợp lệ (n)",
    )
    rows = []
    for row in sheet.iter_rows():
        if row[2].value != "8.1":
            continue
        agency = sipas.loc[row[1].value]
        low, high = agency["ci_low"], agency["ci_high"]
        assert row[11].value == int(agency["n"])
        if math.isnan(low) or math.isnan(high):  # no interval: empty cells, never "nan"
            assert [c.value for c in row[7:11]] == [None] * 4
            continue
        rows.append(row)
        capped = min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)
        # By hand: 10 points at 100 %, the percent rounded to 2 decimals first, then the
        # points half-up to 2 decimals.
        assert row[7].value == round(low * 100, 2) and row[8].value == round(high * 100, 2)
        for cell, bound in zip(row[9:11], capped, strict=True):
            assert cell.value == pytest.approx(round(round(bound * 100, 2) / 10, 2), abs=0.0051)
        assert row[9].value <= row[6].value <= row[10].value
        assert row[5].number_format == "0.00" and row[6].number_format == "0.00"
    assert rows
    text = weighted.get(f"{URL}/par.csv").data.decode("utf-8-sig")
    lines = [r for r in csv.reader(text.splitlines()) if len(r) > 2 and r[2] == "8.1"]
    first = next(r for r in lines if r[1] == rows[0][1].value)
    assert first[7:] == [
        f"{rows[0][7].value:.2f}",
        f"{rows[0][8].value:.2f}",
        f"{rows[0][9].value:.2f}",
        f"{rows[0][10].value:.2f}",
        str(rows[0][11].value),
    ]


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


def test_par_exports_of_a_questionnaire_without_par_criteria_are_headers_only(
    app: Flask, client: FlaskClient
) -> None:
    """PAPI feeds no PAR criterion: the PAR files still open, with their headers and no row
    (an empty table once lacked the columns the writers read)."""
    province(app, 10)
    with app.app_context():
        questionnaires.load_file(ROOT / "questionnaires" / "papi-2023.yaml")
        organisation.add_campaign(
            "PAPI-2025",
            "PAPI 2025",
            "HT",
            "papi-2023",
            "2023.1",
            dt.date(2025, 1, 1),
            dt.date(2025, 6, 30),
            ["STP-01", "SXD-01"],
        )
        db.session.commit()
        generate(campaign("PAPI-2025"), 40, seed=3)
    login(client, "admin")
    book = load_workbook(io.BytesIO(client.get("/staff/campaigns/PAPI-2025/par.xlsx").data))
    rows = list(book["Điểm CCHC"].iter_rows(values_only=True))
    assert rows[-1][0] == "Cơ quan"  # the header is the last row
    text = client.get("/staff/campaigns/PAPI-2025/par.csv").data.decode("utf-8-sig")
    lines = [r for r in csv.reader(text.splitlines()) if r and not r[0].startswith("#")]
    assert lines[0][0] == "Cơ quan" and len(lines) == 1
