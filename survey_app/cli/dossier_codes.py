"""``survey-app dossier-code``: single-use survey codes printed on dossier receipts."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import with_appcontext

from survey_app.cli.errors import ServiceGroup
from survey_app.extensions import db
from survey_app.services import dossier_codes, posters, slips


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
    db.session.commit()
    click.echo(url)
    if qr is not None:
        qr.write_text(posters.qr_svg(url), encoding="utf-8")


@dossier_code_group.command("slips")
@click.argument("desk_code")
@click.argument("dossier_list", type=click.File("rb"))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the PDF to write",
)
@with_appcontext
def dossier_code_slips(desk_code: str, dossier_list: BinaryIO, output: Path) -> None:
    """Issue a code for each dossier of a list (one a line, or a CSV's first column) and
    write their slips as one PDF, eight to an A4 page."""
    data = dossier_list.read(slips.MAX_LIST_BYTES + 1)
    printed = slips.issue_slips(desk_code, slips.read_list(slips.decode_list(data)))
    output.write_bytes(slips.slips_pdf(printed))
    db.session.commit()
    click.echo(f"{len(printed)} slips: {output}")
