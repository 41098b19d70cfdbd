"""``survey-app plan``: remediation plans (kế hoạch khắc phục) as files."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from survey_app.cli.errors import ServiceGroup, write_file
from survey_app.extensions import db


@click.group("plan", cls=ServiceGroup)
def plan_group() -> None:
    """Remediation plans: the DOCX annex and the XLSX workbook."""


@plan_group.command("export")
@click.argument("campaign_code", metavar="CAMPAIGN")
@click.option(
    "--agency",
    "agency_code",
    metavar="CODE",
    help="The plan's scope: this agency and those below it (default: the campaign's agency).",
)
@click.option("--format", "fmt", type=click.Choice(["docx", "xlsx"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def plan_export(campaign_code: str, agency_code: str | None, fmt: str, output: Path) -> None:
    """Write the plan of CAMPAIGN for an agency scope as DOCX (the annex) or XLSX.

    The plan's period is the one it was made from (see the staff page); the XLSX also
    holds the verification at the next period when it has answers. The export is audited
    (user "cli").
    """
    from survey_app.services import organisation, plans

    campaign = organisation.campaign_by_code(campaign_code)
    agency = campaign.agency if agency_code is None else organisation.agency_by_code(agency_code)
    plan = plans.plan_or_missing(campaign, agency)
    body = plans.plan_docx(plan) if fmt == "docx" else plans.plan_xlsx(plan)
    write_file(output, body)
    db.session.commit()
    click.echo(f"{output}: {len(plan.rows)} dòng, {len(body)} byte")
