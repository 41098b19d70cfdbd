"""Backup and restore as README.md's "Backup and restore" says: a pg_dump restored into a
new database, served with the same instance secrets, serves the same data."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select

from survey_app import migrate
from survey_app.extensions import db
from survey_app.models import Campaign, Submission
from survey_app.services import analysis, dossier_codes, organisation, paper_import
from survey_app.services.questionnaires import definition
from tests.citizen_support import full_answers, walk
from tests.conftest import POSTGRES_URL
from tests.staff_support import add_user, login, seed_province

# The instance secrets the database alone cannot replace (README: what to back up).
SECRETS = {
    "SECRET_KEY": "backup-test-secret",
    "CLIENT_HASH_SALT": "backup-test-salt",
    "DOSSIER_CODE_KEY": "backup-test-dossier-key",
    "ONESTOP_API_SECRET": "backup-test-onestop",
}
EXPORTS = ("responses.csv", "responses.xlsx", "indices.csv", "par.csv")
# Paper forms go to the province's campaign, the online answers to the departments' ones.
PAPER_CAMPAIGN = "SIPAS-2026"


@pytest.fixture
def postgres_schema(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("backup and restore are PostgreSQL's pg_dump and pg_restore")
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install postgresql-client)")
    options = parse_qs(urlsplit(database_url).query)["options"][0]
    return options.removeprefix("-csearch_path=")


@pytest.fixture
def restored_database() -> Iterator[str]:
    """An empty database of its own, dropped afterwards."""
    assert POSTGRES_URL is not None
    name = f"test_restore_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _libpq_url(database: str) -> str:
    """POSTGRES_URL as pg_dump and pg_restore take it, for ``database``."""
    assert POSTGRES_URL is not None
    parts = urlsplit(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1))
    return parts._replace(path=f"/{database}", query="").geturl()


def _fill(app: Flask, tmp_path: Path) -> tuple[str, str]:
    """Answers by every route in several campaigns; returns a spent and a fresh code."""
    with app.app_context():
        seed_province()
        add_user("quantri", "admin")
        spent = dossier_codes.issue("HT-STP-01", "000.00.23.H23-251201-0001")
        fresh = dossier_codes.issue("HT-STP-01", "000.00.23.H23-251201-0002")
        db.session.commit()
        public_ids = [organisation.desk_by_code(d).public_id for d in ("HT-STP-01", "HT-SXD-01")]
        campaign = db.session.scalar(select(Campaign).filter_by(code=PAPER_CAMPAIGN))
        header = paper_import.template_columns(definition(campaign.questionnaire_version))
    for n, public_id in enumerate(public_ids * 3):
        answers = full_answers(gender=str(1 + n % 2), comment=f"Góp ý số {n}: =1+1 ổn")
        response, _ = walk(app.test_client(), f"/s/{public_id}", answers)
        assert response.status_code == 303
    response, _ = walk(app.test_client(), f"/c/{spent}", full_answers(age_group="2"))
    assert response.status_code == 303
    paper = io.StringIO()
    writer = csv.DictWriter(paper, header, restval="")
    writer.writeheader()
    for n in range(4):
        row = {"form_id": f"P-{n}", "desk": "HT-TS-01", "submitted_on": f"2026-0{n + 3}-15"}
        writer.writerow({**row, **full_answers(comment=f"Phiếu giấy {n}")})
    path = tmp_path / "phieu-giay.csv"
    path.write_text(paper.getvalue(), encoding="utf-8-sig")
    result = app.test_cli_runner().invoke(args=["import", "paper", PAPER_CAMPAIGN, str(path)])
    assert result.exit_code == 0, result.output
    return spent, fresh


def _exports(app: Flask) -> dict[tuple[str, str], object]:
    """Every export of every campaign with answers, as its content (XLSX as cell values)."""
    analysis.clear_caches()  # the restored app must read its own database
    staff = app.test_client()
    assert login(staff, "quantri").status_code == 302
    with app.app_context():
        codes = db.session.scalars(
            select(Campaign.code).where(Campaign.id.in_(select(Submission.campaign_id)))
        ).all()
    out: dict[tuple[str, str], object] = {}
    for code in sorted(codes):
        for name in EXPORTS:
            response = staff.get(f"/staff/campaigns/{code}/{name}")
            assert response.status_code == 200, (code, name)
            if name.endswith(".xlsx"):
                book = openpyxl.load_workbook(io.BytesIO(response.data))
                out[code, name] = {
                    sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
                    for sheet in book.worksheets
                }
            else:
                out[code, name] = response.data
    analysis.clear_caches()
    return out


def test_a_dump_restored_into_a_new_database_serves_identical_exports_and_codes(
    make_app: Callable[..., Flask],
    postgres_schema: str,
    restored_database: str,
    tmp_path: Path,
) -> None:
    original = make_app(ANALYSIS_CACHE_DIR="", **SECRETS)
    migrate.upgrade(original)
    spent, fresh = _fill(original, tmp_path)
    before = _exports(original)
    assert {code for code, _name in before} == {"STP-2026", "SXD-2026", PAPER_CAMPAIGN}

    dump = tmp_path / "survey.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-n", postgres_schema, "-f", str(dump), _libpq_url("test")],
        check=True,
    )
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--single-transaction",
            "-d",
            _libpq_url(restored_database),
            str(dump),
        ],
        check=True,
    )
    assert POSTGRES_URL is not None
    restored_url = (
        POSTGRES_URL.rsplit("/", 1)[0]
        + f"/{restored_database}?options=-csearch_path%3D{postgres_schema}"
    )
    restored = make_app(SQLALCHEMY_DATABASE_URI=restored_url, ANALYSIS_CACHE_DIR="", **SECRETS)
    with restored.app_context():
        assert db.session.scalar(select(sa.func.count(Submission.id))) == 11

    assert _exports(restored) == before
    phone = restored.test_client()
    assert phone.get(f"/c/{spent}").status_code == 409
    response, _ = walk(phone, f"/c/{fresh}", full_answers())
    assert response.status_code == 303
    assert phone.get(f"/c/{fresh}").status_code == 409
