"""The evidence pack (tài liệu kiểm chứng): its files, manifest, data, CLI and download rules."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from survey_app.extensions import db
from survey_app.models import Agency, AuditEvent, Desk
from survey_app.services import analysis, weighting_settings
from survey_app.services.evidence import EvidenceError, evidence_pack
from tests.dashboard_setup import campaign, login, province
from tests.evidence_support import manifest_problems, unzip

URL = "/staff/campaigns/SIPAS-2026/evidence.zip"
POPULATION = {(g, a): 1000.0 * g + 150.0 * a for g in (1, 2) for a in range(1, 6)}
EXPECTED_FILES = {
    "bao_cao.pdf",
    "diem_cchc.xlsx",
    "du_lieu.csv",
    "ma_hoa.csv",
    "bo_cau_hoi.yaml",
    "bo_cau_hoi.content_hash.txt",
    "cai_dat_trong_so.json",
    "bien_dan_so_1.csv",
    "cay_chi_so.csv",
    "anh_xa_cchc.csv",
    "anh_xa_cchc/par-sipas.yaml",
    "ket_qua_ung_dung.csv",
    "reproduce.R",
    "README.txt",
    "SHA256SUMS",
}


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.fixture
def poststratified(app: Flask) -> Flask:
    """400 responses, post-stratified to gender x age group."""
    province(app, 400)
    settings = weighting_settings.WeightingSettings(
        calibration="poststratify",
        margins=(weighting_settings.Margin(("gender", "age_group"), dict(POPULATION)),),
    )
    with app.app_context():
        weighting_settings.save(campaign("SIPAS-2026"), settings)
        db.session.commit()
    return app


@pytest.fixture
def designed(app: Flask) -> Flask:
    """400 responses, stratified by agency, clustered by desk, post-stratified."""
    province(app, 400)
    settings = weighting_settings.WeightingSettings(
        strata="agency",
        cluster="desk",
        calibration="poststratify",
        margins=(weighting_settings.Margin(("gender", "age_group"), dict(POPULATION)),),
    )
    with app.app_context():
        weighting_settings.save(campaign("SIPAS-2026"), settings)
        db.session.commit()
    return app


def build(app: Flask, period: str = "all", agency: str | None = None) -> bytes:
    with app.app_context():
        c = campaign("SIPAS-2026")
        codes = None
        if agency is not None:
            codes = analysis.subtree_codes(
                db.session.scalars(db.select(Agency).filter_by(code=agency)).one()
            )
        view = analysis.scope_view(c, analysis.find_period(c, period), codes)  # type: ignore[arg-type]
        body = evidence_pack(view, b"%PDF-1.7 report")
        db.session.commit()
        return body


def test_the_manifest_verifies_and_lists_every_file_of_a_safe_zip(
    poststratified: Flask, tmp_path: Path
) -> None:
    folder = unzip(build(poststratified), tmp_path)
    assert folder.name == "kiem-chung-SIPAS-2026-all-tat-ca-co-quan"
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert present == EXPECTED_FILES
    assert manifest_problems(folder) == []
    if shutil.which("sha256sum"):
        checked = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.count(": OK") == len(EXPECTED_FILES) - 1
    # A changed byte is caught: the check can fail.
    data = folder / "du_lieu.csv"
    data.write_bytes(data.read_bytes().replace(b"\n1,", b"\n2,", 1))
    assert manifest_problems(folder) == ["du_lieu.csv: FAILED"]


def test_the_files_hold_the_settings_questionnaire_and_par_points(
    poststratified: Flask, tmp_path: Path
) -> None:
    folder = unzip(build(poststratified, "2026-Q1"), tmp_path)
    with poststratified.app_context():
        version = campaign("SIPAS-2026").questionnaire_version
        source, content_hash = version.source, version.content_hash
    assert (folder / "bo_cau_hoi.yaml").read_text(encoding="utf-8") == source
    assert (folder / "bo_cau_hoi.content_hash.txt").read_text().split()[0] == content_hash
    settings = json.loads((folder / "cai_dat_trong_so.json").read_text(encoding="utf-8"))
    assert settings["weighting"]["calibration"] == "poststratify"
    assert settings["period"] == {
        "code": "2026-Q1",
        "label": "Quý 1/2026",
        "start": "2026-01-01",
        "end": "2026-03-31",
    }
    margins = rows_of(folder / "bien_dan_so_1.csv")
    assert {
        (int(r["gender"]), int(r["age_group"])): float(r["Freq"]) for r in margins
    } == POPULATION
    figures = rows_of(folder / "ket_qua_ung_dung.csv")
    par_rows = [r for r in figures if r["par_criterion"]]
    # Each agency's SIPAS into criterion 8.1, out of 10 points, as the PAR points XLSX says.
    book = load_workbook(folder / "diem_cchc.xlsx")
    sheet = book["Điểm CCHC"]
    xlsx = {row[1]: row[6] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert {r["domain"]: float(r["par_points"]) for r in par_rows} == xlsx
    for r in par_rows:
        assert r["node"] == "SIPAS" and r["max_points"] == "10"
        assert float(r["par_points"]) == pytest.approx(float(r["index_percent"]) / 10, abs=0.005)
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "sha256sum -c SHA256SUMS" in readme and "Rscript reproduce.R" in readme
    assert "Quý 1/2026" in readme


def test_the_answers_are_the_domains_and_nothing_that_identifies_a_citizen(
    poststratified: Flask, tmp_path: Path
) -> None:
    folder = unzip(build(poststratified, "2026-Q1", agency="HT-STP"), tmp_path)
    rows = rows_of(folder / "du_lieu.csv")
    with poststratified.app_context():
        c = campaign("SIPAS-2026")
        view = analysis.scope_view(
            c,
            analysis.find_period(c, "2026-Q1"),
            frozenset({"HT-STP"}),  # type: ignore[arg-type]
        )
        assert len(rows) == len(view.frame)  # the design's rows: the whole campaign
        inside = [r for r in rows if r["in_domain"] == "1"]
        assert len(inside) == view.n > 0
    columns = set(rows[0])
    assert {"response_id", "desk", "agency", "submitted_on", "in_domain"} <= columns
    assert {"gender", "age_group", "I.1.1", "II.3.3"} <= columns
    for forbidden in ("submission_id", "submitted_at", "route", "language", "dossier_code"):
        assert forbidden not in columns
    assert not any(c.startswith("III") or "__" in c for c in columns)
    for r in inside:
        assert r["agency"] == "HT-STP" and "2026-01-01" <= r["submitted_on"] <= "2026-03-31"
    answered = [c for c in columns if "." in c]
    outside = [r for r in rows if r["in_domain"] == "0"]
    assert outside and all(r[c] == "" for r in outside for c in answered)
    assert any(r[c] != "" for r in inside for c in answered)
    codebook = rows_of(folder / "ma_hoa.csv")
    assert {r["Cột"] for r in codebook} == columns
    wording = {r["Cột"]: r["Nội dung"] for r in codebook}
    assert wording["age_group"] == "Độ tuổi" and wording["in_domain"].startswith("1 = phiếu")
    assert {r["Mã trả lời"] for r in codebook if r["Cột"] == "I.1.1"} == {
        "1",
        "2",
        "3",
        "4",
        "5",
        "9",
    }
    assert folder.name == "kiem-chung-SIPAS-2026-2026-Q1-HT-STP"


def test_the_figures_are_the_dashboards_tree_with_every_digit(
    poststratified: Flask, tmp_path: Path
) -> None:
    folder = unzip(build(poststratified, agency="HT-SXD"), tmp_path)
    figures = [r for r in rows_of(folder / "ket_qua_ung_dung.csv") if r["domain"] == "scope"]
    with poststratified.app_context():
        c = campaign("SIPAS-2026")
        view = analysis.scope_view(
            c,
            analysis.find_period(c, "all"),
            frozenset({"HT-SXD"}),  # type: ignore[arg-type]
        )
        tree = analysis.view_tree(view)
    nodes = list(tree.walk())
    assert [r["node"] for r in figures] == [n.code for n in nodes]
    for row, node in zip(figures, nodes, strict=True):
        for name in ("estimate", "se", "ci_low", "ci_high"):
            value = getattr(node, name)
            assert (row[name] == "") if not math.isfinite(value) else float(row[name]) == value
        assert int(row["df"]) == node.df and int(row["n"]) == node.n


def test_a_scope_without_answers_is_refused_in_vietnamese(app: Flask) -> None:
    province(app, 40)
    with app.app_context():
        db.session.add(Agency(code="HT-SYT", name="Sở Y tế", kind="department", parent_id=None))
        db.session.commit()
    with pytest.raises(EvidenceError) as caught:
        build(app, agency="HT-SYT")
    assert "Chưa có phiếu nào trong kỳ Toàn đợt khảo sát" in str(caught.value)


def test_the_cli_writes_the_pack_and_refuses_unknown_names(
    poststratified: Flask, tmp_path: Path
) -> None:
    runner = poststratified.test_cli_runner()
    out = tmp_path / "pack.zip"
    result = runner.invoke(
        args=["evidence", "SIPAS-2026", "--period", "2026-Q2", "--agency", "HT-STP", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    folder = unzip(out.read_bytes(), tmp_path / "x")
    assert folder.name == "kiem-chung-SIPAS-2026-2026-Q2-HT-STP"
    assert manifest_problems(folder) == []
    assert (folder / "bao_cao.pdf").read_bytes().startswith(b"%PDF")
    with poststratified.app_context():
        events = db.session.scalars(db.select(AuditEvent).filter_by(action="export.evidence")).all()
        assert [e.target for e in events] == ["SIPAS-2026"]
    for args, message in (
        (["NOPE"], "Không có đợt khảo sát mã 'NOPE'"),
        (["SIPAS-2026", "--period", "2027-Q1"], "Kỳ “2027-Q1” không có trong đợt khảo sát"),
        (["SIPAS-2026", "--agency", "XX"], "Không có cơ quan mã “XX”"),
    ):
        bad = tmp_path / "bad.zip"
        result = runner.invoke(args=["evidence", *args, "-o", str(bad)])
        assert result.exit_code == 1 and message in result.output
        assert not bad.exists()


def test_an_officer_downloads_their_own_scope_only(
    poststratified: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    login(client, "stp")
    page = client.get("/staff/campaigns/SIPAS-2026/dashboard")
    assert b"/staff/campaigns/SIPAS-2026/evidence.zip?period=all" in page.data
    response = client.get(URL)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "kiem-chung-SIPAS-2026-all-HT-STP.zip" in response.headers["Content-Disposition"]
    folder = unzip(response.data, tmp_path / "own")
    rows = rows_of(folder / "du_lieu.csv")
    assert {r["agency"] for r in rows if r["in_domain"] == "1"} == {"HT-STP"}
    assert manifest_problems(folder) == []
    # Another department's pack, or the whole province's, is not theirs.
    assert client.get(f"{URL}?agency=HT-SXD").status_code == 404
    assert client.get(f"{URL}?agency=HT").status_code == 404
    assert client.get(f"{URL}?agency=HT-STP").status_code == 200
    assert client.get(f"{URL}?period=2030").status_code == 404


def test_an_analyst_chooses_any_subtree_and_a_stranger_gets_nothing(
    poststratified: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    assert client.get(URL).status_code in (302, 401)
    login(client, "analyst")
    response = client.get(f"{URL}?agency=HT-SXD&period=2026-Q1")
    assert response.status_code == 200
    folder = unzip(response.data, tmp_path)
    assert folder.name == "kiem-chung-SIPAS-2026-2026-Q1-HT-SXD"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert all(not info.filename.startswith("/") for info in archive.infolist())
    assert client.get(f"{URL}?agency=NOPE").status_code == 404


def pack_text(folder: Path) -> dict[str, str]:
    """Every file of the pack as text but the report (the report module's own scope): the
    XLSX as its cells' values."""
    out = {}
    for path in folder.rglob("*"):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or name == "bao_cao.pdf":
            continue
        if path.suffix == ".xlsx":
            book = load_workbook(path)
            out[name] = "\n".join(
                str(v) for s in book for r in s.iter_rows(values_only=True) for v in r if v
            )
        else:
            out[name] = path.read_text(encoding="utf-8-sig")
    return out


def outside_names(app: Flask, scope: set[str]) -> list[str]:
    """Codes and names of the agencies outside ``scope`` and of their desks."""
    with app.app_context():
        agencies = db.session.scalars(db.select(Agency)).all()
        desks = db.session.scalars(db.select(Desk)).all()
        out = [x for a in agencies if a.code not in scope for x in (a.code, a.name)]
        out += [x for d in desks if d.agency.code not in scope for x in (d.code, d.name)]
    return out


def assert_outside_rows_hidden(app: Flask, folder: Path, scope: set[str]) -> list[dict[str, str]]:
    """No file names an agency or desk outside ``scope``; their rows carry no day, no answers,
    and come after the scope's rows. The answers file's rows."""
    texts = pack_text(folder)
    for word in outside_names(app, scope):
        pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")
        found = [name for name, text in texts.items() if pattern.search(text)]
        assert not found, (word, found)
    rows = rows_of(folder / "du_lieu.csv")
    with app.app_context():
        frame = analysis.scope_view(
            campaign("SIPAS-2026"),
            analysis.find_period(campaign("SIPAS-2026"), "all"),  # type: ignore[arg-type]
            None,
        ).frame
    in_scope = int(frame["agency"].isin(scope).sum())
    assert 0 < in_scope < len(rows) == len(frame)
    dated = [r for r in rows if r["submitted_on"]]
    assert rows[: len(dated)] == dated and len(dated) == in_scope
    assert {r["agency"] for r in dated} <= scope
    answered = [c for c in rows[0] if "." in c]
    for r in rows[in_scope:]:
        assert r["in_domain"] == "0" and all(r[c] == "" for c in answered)
        assert r["agency"] not in scope and r["desk"] not in scope
    return rows


def test_an_officers_pack_names_no_other_agency_and_no_day_of_their_rows(
    poststratified: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    login(client, "stp")
    response = client.get(f"{URL}?period=2026-Q1")
    assert response.status_code == 200
    folder = unzip(response.data, tmp_path)
    rows = assert_outside_rows_hidden(poststratified, folder, {"HT-STP"})
    hidden = [r for r in rows if not r["submitted_on"]]
    # Neither strata nor clusters: nothing but the calibration variables.
    assert all(r["desk"] == "" and r["agency"] == "" for r in hidden)
    assert all(r["gender"] in ("1", "2") and r["age_group"] != "" for r in hidden)
    # The scope's rows of other periods keep their day (the dashboard shows them).
    assert any(r["in_domain"] == "0" for r in rows if r["submitted_on"])
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert f"{len(hidden)} phiếu của cơ quan ngoài phạm vi" in readme
    codebook = {r["Cột"]: r["Nội dung"] for r in rows_of(folder / "ma_hoa.csv")}
    assert "khac-quay-NN" in codebook["desk"] and "để trống" in codebook["submitted_on"]


def test_a_subtree_pack_labels_other_strata_and_clusters_one_to_one(
    designed: Flask, tmp_path: Path
) -> None:
    folder = unzip(build(designed, "2026-Q2", agency="HT-SXD"), tmp_path)
    rows = assert_outside_rows_hidden(designed, folder, {"HT-SXD"})
    hidden = [r for r in rows if not r["submitted_on"]]
    with designed.app_context():
        c = campaign("SIPAS-2026")
        frame = analysis.scope_view(c, analysis.find_period(c, "all"), None).frame  # type: ignore[arg-type]
    other = frame[~frame["agency"].isin({"HT-SXD"})]
    # The labels are the real desks and agencies one to one: the same clusters, the same
    # number of rows in each, the same desks in each stratum.
    pairs = {(r["agency"], r["desk"]) for r in hidden}
    assert {a for a, _ in pairs} == {"khac-co-quan-01", "khac-co-quan-02"}
    assert len({d for _, d in pairs}) == len(pairs) == other["desk"].nunique() == 3
    assert all(d.startswith("khac-quay-0") for _, d in pairs)
    sizes = sorted(sum(1 for r in hidden if r["desk"] == d) for _, d in pairs)
    assert sizes == sorted(other.groupby("desk").size().tolist())
    per_stratum = sorted(sum(1 for a, _ in pairs if a == s) for s in {a for a, _ in pairs})
    assert per_stratum == sorted(other.groupby("agency")["desk"].nunique().tolist())
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "khac-co-quan-NN" in readme and "khac-quay-NN" in readme


def test_a_province_wide_pack_hides_nothing(designed: Flask, tmp_path: Path) -> None:
    folder = unzip(build(designed, "2026-Q1"), tmp_path)
    rows = rows_of(folder / "du_lieu.csv")
    assert all(r["submitted_on"] and not r["desk"].startswith("khac") for r in rows)
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "không có phiếu nào bị ẩn" in readme
