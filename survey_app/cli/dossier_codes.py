"""``survey-app dossier-code``: single-use survey codes printed on dossier receipts."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from survey_app.cli.errors import ServiceGroup
from survey_app.services import dossier_codes, posters


@click.group("dossier-code", cls=ServiceGroup)
def dossier_code_group() -> None:
    """Single-use survey codes printed on dossier receipts (mã hồ sơ)."""


@dossier_code_group.command("issue")
@click.argument("desk_code")
@click.argument("dossier_ref")
@click.option(
    "--qr",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write the QR code as an SVG file",
)
@with_appcontext
def dossier_code_issue(desk_code: str, dossier_ref: str, qr: Path | None) -> None:
    """Issue a code for a dossier received at a desk; print its survey URL."""
    url = dossier_codes.survey_url(dossier_codes.issue(desk_code, dossier_ref))
    click.echo(url)
    if qr is not None:
        qr.write_text(posters.qr_svg(url), encoding="utf-8")
