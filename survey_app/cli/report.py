"""``survey-app report``: the survey report (báo cáo kết quả khảo sát) as DOCX or PDF."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from survey_app.cli.errors import fail, write_file
from survey_app.extensions import db
from survey_app.messages import texts
from survey_app.services.errors import ServiceError


@click.command("report")
@click.argument("campaign")
@click.option(
    "--period",
    default="all",
    show_default=True,
    help="Kỳ như trên bảng điều khiển: all, một năm (2026), một quý (2026-Q2), một tháng "
    "(2026-05).",
)
@click.option("--agency", default=None, help="Mã cơ quan: báo cáo cho cơ quan và cấp dưới.")
@click.option(
    "--format", "fmt", type=click.Choice(["docx", "pdf"]), required=True, help="docx hoặc pdf."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Tệp ghi ra.",
)
@with_appcontext
def report_command(campaign: str, period: str, agency: str | None, fmt: str, output: Path) -> None:
    """Write the survey report of CAMPAIGN for a period and an agency scope (default: the
    whole campaign, every agency) to a DOCX or PDF file."""
    from survey_app.services import organisation, survey_report

    try:
        found = organisation.campaign_by_code(campaign)
        view = survey_report.report_scope(found, period, agency, None)
        body = survey_report.render(view, fmt)
        survey_report.record_download(view, fmt)
    except ServiceError as error:
        fail("\n".join(texts(error)))
    write_file(output, body)
    db.session.commit()
    click.echo(f"{output}: {view.n} phiếu, {view.period.label}, {len(body)} byte")
