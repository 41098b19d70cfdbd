"""``survey-app evidence``: a campaign's evidence pack (tài liệu kiểm chứng) as a ZIP."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from survey_app.cli.errors import fail, write_file
from survey_app.extensions import db
from survey_app.messages import texts
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
    from survey_app.services import organisation, survey_report
    from survey_app.services.evidence import evidence_pack

    try:
        campaign = organisation.campaign_by_code(campaign_code)
        view = survey_report.report_scope(campaign, period, agency_code, None)
        with force_locale("vi"):
            body = evidence_pack(view, survey_report.report_pdf(view))
    except ServiceError as error:
        fail("\n".join(texts(error)))
    write_file(Path(output), body)
    db.session.commit()
    click.echo(f"{output}: {view.n} phiếu, {view.period.label}, {len(body)} byte")
