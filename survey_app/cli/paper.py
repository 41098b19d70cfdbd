"""``survey-app import``: paper-survey files (phiếu khảo sát giấy).

Changes made here are audited with the user ``cli``.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from survey_app.cli.errors import ServiceGroup, fail
from survey_app.extensions import db
from survey_app.models import Campaign
from survey_app.services import paper_import
from survey_app.services.questionnaires import definition


def _campaign(code: str) -> Campaign:
    campaign: Campaign | None = db.session.scalar(select(Campaign).filter_by(code=code))
    if campaign is None:
        fail(f"no campaign with code {code!r}")
    return campaign


@click.group("import", cls=ServiceGroup)
def import_group() -> None:
    """Paper-survey files (phiếu khảo sát giấy)."""


@import_group.command("paper")
@click.argument("campaign_code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_paper(campaign_code: str, file: Path) -> None:
    """Import a filled paper template (.csv or .xlsx) into a campaign; all rows or none."""
    campaign = _campaign(campaign_code)
    try:
        result = paper_import.import_file(campaign, file.name, file.read_bytes())
    except paper_import.ImportRejected as rejected:
        db.session.rollback()
        for line in rejected.errors:
            click.echo(line, err=True)
        raise click.ClickException(
            f"{len(rejected.errors)} lỗi; không phiếu nào được lưu"
        ) from None
    db.session.commit()
    click.echo(f"{result.rows} paper forms imported into {campaign.code} (batch {result.batch.id})")


@import_group.command("template")
@click.argument("campaign_code")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_template(campaign_code: str, output: Path) -> None:
    """Write the paper template of a campaign's questionnaire (.xlsx or .csv by extension)."""
    campaign = _campaign(campaign_code)
    questionnaire = definition(campaign.questionnaire_version)
    if output.suffix.lower() == ".csv":
        output.write_bytes(paper_import.template_csv(questionnaire))
    else:
        output.write_bytes(
            paper_import.template_xlsx(questionnaire, paper_import.campaign_desks(campaign))
        )
    click.echo(f"template written to {output}")
