"""reproduce.R, run by R's survey package in the unzipped pack, agrees with the app to 1e-8.

R is not needed by the rest of the suite; where Rscript or its survey package is missing
these tests are skipped, saying so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flask import Flask

from bench.dashboard_data import generate
from survey_app.extensions import db
from survey_app.models import Agency
from survey_app.services import analysis, organisation, questionnaires, weighting_settings
from survey_app.services.evidence import evidence_pack
from tests.dashboard_setup import ROOT, campaign, province
from tests.evidence_support import manifest_problems, unzip

RSCRIPT = shutil.which("Rscript")
POPULATION = {(g, a): 1000.0 * g + 150.0 * a for g in (1, 2) for a in range(1, 6)}


def _r_survey_missing() -> str | None:
    if RSCRIPT is None:
        return "Rscript is not installed (make debian installs r-cran-survey)"
    found = subprocess.run(
        [RSCRIPT, "-e", "quit(status = !requireNamespace('survey', quietly = TRUE))"],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        return "R's survey package is not installed (apt-get install r-cran-survey)"
    return None


def _r_has_yaml() -> bool:
    assert RSCRIPT is not None
    found = subprocess.run(
        [RSCRIPT, "-e", "quit(status = !requireNamespace('yaml', quietly = TRUE))"],
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


pytestmark = pytest.mark.skipif(_r_survey_missing() is not None, reason=str(_r_survey_missing()))


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: the pack is built from the same frame on either database, and each R run
    takes seconds."""
    yield f"sqlite:///{tmp_path / 'test.sqlite3'}"


SETTINGS = {
    "simple": weighting_settings.WeightingSettings(),
    "poststratified": weighting_settings.WeightingSettings(
        calibration="poststratify",
        margins=(weighting_settings.Margin(("gender", "age_group"), dict(POPULATION)),),
    ),
    "clustered": weighting_settings.WeightingSettings(
        strata="agency", cluster="desk", ci_method="beta", level=0.90
    ),
    "raked_clustered": weighting_settings.WeightingSettings(
        cluster="desk",
        calibration="rake",
        margins=(
            weighting_settings.Margin(("gender",), {(1,): 4900.0, (2,): 4600.0}),
            weighting_settings.Margin(
                ("age_group",), {(a,): 9500.0 * (0.1 + 0.1 * a) / 2.0 for a in range(1, 6)}
            ),
        ),
        ci_method="asin",
    ),
}


DESKS = ["STP-01", "STP-02", "SXD-01", "SXD-02", "TS-01"]


def pack(app: Flask, name: str, period: str, agency: str | None, code: str = "SIPAS-2026") -> bytes:
    if code == "SIPAS-2026":
        province(app, 400)
    with app.app_context():
        c = campaign(code)
        weighting_settings.save(c, SETTINGS[name])
        db.session.commit()
        codes = None
        if agency is not None:
            root = db.session.scalars(db.select(Agency).filter_by(code=agency)).one()
            codes = analysis.subtree_codes(root)
        found = analysis.find_period(c, period)
        assert found is not None
        body = evidence_pack(analysis.scope_view(c, found, codes), b"%PDF-1.7 report")
        db.session.commit()
        return body


def run_reproduce(folder: Path) -> subprocess.CompletedProcess[str]:
    assert RSCRIPT is not None
    return subprocess.run(
        [RSCRIPT, "reproduce.R"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "period", "agency"),
    [
        ("simple", "all", None),
        ("poststratified", "2026-Q1", None),
        ("clustered", "all", None),
        ("clustered", "2026-Q1", "HT-SXD"),
        ("raked_clustered", "2026-Q2", "HT-STP"),
        ("poststratified", "all", "HT-SXD"),
    ],
)
def test_reproduce_r_agrees_with_the_app_to_1e_8(
    app: Flask, tmp_path: Path, name: str, period: str, agency: str | None
) -> None:
    folder = unzip(pack(app, name, period, agency), tmp_path)
    data = list(csv.DictReader(io.StringIO((folder / "du_lieu.csv").read_text("utf-8"))))
    hidden = [r for r in data if r["submitted_on"] == ""]
    # Rows of other agencies: no day; desks and agencies as opaque labels where the design
    # clusters or stratifies by them, else blank.
    assert (agency is None) == (not hidden)
    clustered = SETTINGS[name].cluster == "desk"
    assert all(r["desk"].startswith("khac-quay-") == clustered for r in hidden)
    assert all(r["desk"] == "" for r in hidden if not clustered)
    # The calibration variables only when the weighting calibrates.
    assert ("gender" in data[0]) == (SETTINGS[name].calibration != "none")
    result = run_reproduce(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KHỚP / AGREE" in result.stdout
    assert manifest_problems(folder) == []
    # R's own figures are written beside the app's, one row each.
    ours = list(csv.DictReader(io.StringIO((folder / "ket_qua_R.csv").read_text("utf-8"))))
    app_rows = list(
        csv.DictReader(io.StringIO((folder / "ket_qua_ung_dung.csv").read_text("utf-8-sig")))
    )
    assert len(ours) == len(app_rows) > 40
    assert sum(1 for r in ours if r["par_criterion"]) >= 1
    assert all(r["estimate"] != "" for r in ours if r["domain"] == "scope" and r["node"] == "SIPAS")


def test_reproduce_r_says_when_a_figure_does_not_agree(app: Flask, tmp_path: Path) -> None:
    folder = unzip(pack(app, "poststratified", "all", None), tmp_path)
    figures = folder / "ket_qua_ung_dung.csv"
    rows = list(csv.DictReader(io.StringIO(figures.read_text("utf-8-sig"))))
    root = next(r for r in rows if r["domain"] == "scope" and r["node"] == "SIPAS")
    root["se"] = repr(float(root["se"]) + 2e-8)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    figures.write_text("\ufeff" + out.getvalue(), encoding="utf-8")
    result = run_reproduce(folder)
    assert result.returncode == 1
    assert "KHÔNG KHỚP / MISMATCH" in result.stdout and "scope|SIPAS|| se" in result.stdout


@pytest.mark.parametrize(
    ("name", "period", "agency"),
    [("clustered", "2026-01", "HT-TS"), ("simple", "2026-06", "HT-SXD")],
)
def test_small_domains_with_shares_of_0_or_1_and_no_degrees_of_freedom_agree(
    app: Flask, tmp_path: Path, name: str, period: str, agency: str
) -> None:
    folder = unzip(pack(app, name, period, agency), tmp_path)
    rows = list(
        csv.DictReader(io.StringIO((folder / "ket_qua_ung_dung.csv").read_text("utf-8-sig")))
    )
    items = [r for r in rows if r["domain"] == "scope" and r["n"] != "0"]
    # What these domains are for: the Clopper-Pearson fallback (a share of 0 or 1), and in
    # the commune's single desk (one cluster) no degrees of freedom, hence no interval
    # (but for a share of 0 or 1, whose exact interval needs none).
    if name == "clustered":
        assert {r["df"] for r in items} == {"0"}
        inner = [r for r in items if r["estimate"] not in ("0.0", "1.0")]
        assert inner and all(r["ci_low"] == "" for r in inner)
    else:
        assert any(r["estimate"] in ("1.0", "0.0") and r["ci_low"] != "" for r in items)
    result = run_reproduce(folder)
    assert result.returncode == 0, result.stdout + result.stderr


def test_papi_sums_and_ranges_agree_on_a_clustered_design(app: Flask, tmp_path: Path) -> None:
    """PAPI: dimensions as sums of sub-dimensions mapped onto ranges (1/k to 10/k), items
    whose good answer is "Không"; no PAR criterion is fed by it. The first half of 2025:
    the desks run SIPAS-2026 in 2026, and a desk runs one campaign a day."""
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
            DESKS,
        )
        db.session.commit()
        generate(campaign("PAPI-2025"), 300, seed=11)
    folder = unzip(pack(app, "clustered", "all", "HT-STP", code="PAPI-2025"), tmp_path)
    tree = (folder / "cay_chi_so.csv").read_text("utf-8-sig")
    assert ",sum," in tree and "0.25,2.5" in tree
    result = run_reproduce(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 PAR points" in result.stdout
    if _r_has_yaml():
        assert "cay_chi_so.csv khớp với cây chỉ số của bo_cau_hoi.yaml" in result.stdout


def test_pooled_criteria_and_weighted_groups_agree_post_stratified(
    app: Flask, tmp_path: Path
) -> None:
    """SIPAS with every criterion pooled (satisfied answers over valid answers) and the
    groups weighted 0.4 / 0.6. The first half of 2025, as PAPI above."""
    province(app, 10)
    data = yaml.safe_load((ROOT / "questionnaires" / "sipas-2023.yaml").read_text("utf-8"))
    data["id"] = "sipas-pooled"
    data["index"]["aggregate"] = "weighted_mean"
    for weight, group in zip((0.4, 0.6), data["index"]["children"], strict=True):
        group["weight"] = weight
        for criterion in group["children"]:
            criterion["aggregate"] = "pooled"
    path = tmp_path / "sipas-pooled.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with app.app_context():
        questionnaires.load_file(path)
        organisation.add_campaign(
            "POOLED-2025",
            "SIPAS gộp",
            "HT",
            "sipas-pooled",
            "2023.1",
            dt.date(2025, 1, 1),
            dt.date(2025, 6, 30),
            DESKS,
        )
        db.session.commit()
        generate(campaign("POOLED-2025"), 300, seed=12)
    folder = unzip(pack(app, "poststratified", "2025-Q2", None, code="POOLED-2025"), tmp_path)
    tree = (folder / "cay_chi_so.csv").read_text("utf-8-sig")
    assert ",pooled," in tree and ",weighted_mean," in tree
    result = run_reproduce(folder)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(RSCRIPT is None or not _r_has_yaml(), reason="R's yaml package is missing")
def test_a_tree_table_that_is_not_the_questionnaires_tree_is_refused(
    app: Flask, tmp_path: Path
) -> None:
    folder = unzip(pack(app, "simple", "all", None), tmp_path)
    tree = folder / "cay_chi_so.csv"
    text = tree.read_text("utf-8-sig")
    assert text.count(",4 5,") > 10
    # Counting "Bình thường" (3) as satisfied for one item would lift every node above it.
    tree.write_text("\ufeff" + text.replace(",4 5,", ",3 4 5,", 1), "utf-8")
    result = run_reproduce(folder)
    assert result.returncode == 1
    assert "khác cây chỉ số trong bo_cau_hoi.yaml" in result.stderr


def test_reproduce_r_refuses_a_row_without_day_inside_the_domain(
    app: Flask, tmp_path: Path
) -> None:
    folder = unzip(pack(app, "clustered", "2026-Q1", "HT-SXD"), tmp_path)
    data = folder / "du_lieu.csv"
    lines = data.read_text("utf-8").splitlines(keepends=True)
    header = lines[0].split(",")
    day, flag = header.index("submitted_on"), header.index("in_domain")
    row = next(i for i, line in enumerate(lines) if i and line.split(",")[day] == "")
    cells = lines[row].split(",")
    cells[flag] = "1"
    lines[row] = ",".join(cells)
    data.write_text("".join(lines), "utf-8")
    result = run_reproduce(folder)
    assert result.returncode == 1
    assert "cột in_domain không khớp" in result.stderr
