"""``survey-app evidence``: a campaign's evidence pack (tài liệu kiểm chứng) as a ZIP."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from survey_app.cli.errors import fail
from survey_app.extensions import db
from survey_app.messages import texts
from survey_app.models import Agency, Campaign
from survey_app.services import analysis
from survey_app.services.errors import ServiceError


@click.command("evidence")
@click.argument("campaign_code")
@click.option(
    "--period",
    default="all",
    show_default=True,
    help="as the dashboard names it: all, a year (2026), a quarter (2026-Q2), a month (2026-05)",
)
@click.option("--agency", "agency_code", help="scope: this agency and every agency below it")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="the ZIP to write"
)
@with_appcontext
def evidence_command(campaign_code: str, period: str, agency_code: str | None, output: str) -> None:
    """Write the evidence pack of CAMPAIGN for a period and an agency subtree (default: all).

    The ZIP holds the report PDF, the PAR points, the answers with their codebook, the
    questionnaire, the weighting settings and margins, the PAR mapping, the app's figures,
    reproduce.R and a SHA-256 manifest; see its README.txt.
    """
    from survey_app.services.evidence import evidence_pack
    from survey_app.services.survey_report import report_pdf

    campaign = db.session.scalar(select(Campaign).where(Campaign.code == campaign_code))
    if campaign is None:
        fail(f"no campaign with code {campaign_code}")
    found = analysis.find_period(campaign, period)
    if found is None:
        known = ", ".join(p.code for p in analysis.campaign_periods(campaign))
        fail(f"campaign {campaign_code} has no period {period!r} (periods: {known})")
    codes = None
    if agency_code is not None:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            fail(f"no agency with code {agency_code}")
        codes = analysis.subtree_codes(agency)
    try:
        with force_locale("vi"):
            view = analysis.scope_view(campaign, found, codes)
            body = evidence_pack(view, report_pdf(view))
    except ServiceError as error:
        fail("\n".join(texts(error)))
    _write(Path(output), body)
    db.session.commit()
    click.echo(f"{output}: {view.n} responses in scope, {len(body)} bytes")


def _write(path: Path, body: bytes) -> None:
    """Write the whole file or nothing: a temporary file beside it, then renamed."""
    directory = path.resolve().parent
    if not directory.is_dir():
        fail(f"no directory {directory}")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".evidence-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        fail(f"cannot write {path}: {error.strerror}")
