"""reproduce.R, run by R's survey package in the unzipped pack, agrees with the app to 1e-8.

R is not needed by the rest of the suite; where Rscript or its survey package is missing
these tests are skipped, saying so.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from survey_app.extensions import db
from survey_app.models import Agency
from survey_app.services import analysis, weighting_settings
from survey_app.services.evidence import evidence_pack
from tests.dashboard_setup import campaign, province
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


def pack(app: Flask, name: str, period: str, agency: str | None) -> bytes:
    province(app, 400)
    with app.app_context():
        c = campaign("SIPAS-2026")
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
        ("raked_clustered", "2026-Q2", "HT-STP"),
        ("poststratified", "all", "HT-SXD"),
    ],
)
def test_reproduce_r_agrees_with_the_app_to_1e_8(
    app: Flask, tmp_path: Path, name: str, period: str, agency: str | None
) -> None:
    folder = unzip(pack(app, name, period, agency), tmp_path)
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
