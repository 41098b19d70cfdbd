"""``survey-app agency``, ``desk`` and ``campaign``: the province's organisation.

The same service functions (:mod:`survey_app.services.organisation`) as the staff
set-up pages.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from survey_app.cli.errors import ServiceGroup, fail
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk
from survey_app.services import organisation, posters
from survey_app.settings import settings


@click.group("agency", cls=ServiceGroup)
def agency_group() -> None:
    """Agencies (province > department or commune > ...)."""


@agency_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", default="department", show_default=True)
@click.option("--parent", "parent_code", help="code of the parent agency")
@with_appcontext
def agency_add(code: str, name: str, kind: str, parent_code: str | None) -> None:
    """Add an agency."""
    organisation.add_agency(code, name, kind, parent_code)
    db.session.commit()
    click.echo(f"agency {code} added")


@agency_group.command("list")
@with_appcontext
def agency_list() -> None:
    """Agencies as a tree."""
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all()

    def show(parent: int | None, depth: int) -> None:
        for agency in agencies:
            if agency.parent_id == parent:
                click.echo(f"{'  ' * depth}{agency.code}\t{agency.kind}\t{agency.name}")
                show(agency.id, depth + 1)

    show(None, 0)


@click.group("desk", cls=ServiceGroup)
def desk_group() -> None:
    """One-stop desks."""


@desk_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--agency", "agency_code", required=True)
@with_appcontext
def desk_add(code: str, name: str, agency_code: str) -> None:
    """Add a desk under an agency."""
    desk = organisation.add_desk(code, name, agency_code)
    db.session.commit()
    click.echo(f"desk {code} added; public id {desk.public_id}")


@desk_group.command("rename")
@click.argument("code")
@click.argument("name")
@with_appcontext
def desk_rename(code: str, name: str) -> None:
    """Give a desk a new name (its code and QR poster URL stay)."""
    _desk, changed = organisation.rename_desk(code, name)
    db.session.commit()
    click.echo(f"desk {code} renamed" if changed else f"desk {code} already has that name")


@desk_group.command("deactivate")
@click.argument("code")
@with_appcontext
def desk_deactivate(code: str) -> None:
    """Close a desk: its QR poster and dossier links stop accepting answers (410)."""
    _set_desk_active(code, False)


@desk_group.command("activate")
@click.argument("code")
@with_appcontext
def desk_activate(code: str) -> None:
    """Reopen a closed desk: its QR poster accepts answers again."""
    _set_desk_active(code, True)


def _set_desk_active(code: str, active: bool) -> None:
    _desk, changed = organisation.set_desk_active(code, active)
    db.session.commit()
    state = "active" if active else "inactive"
    click.echo(f"desk {code} is now {state}" if changed else f"desk {code} was already {state}")
    if changed:
        seconds = settings().survey_cache_seconds
        # The running servers cache where a poster lands; this process cannot empty theirs.
        if seconds > 0:
            click.echo(f"running servers show the change within {seconds} s", err=True)


@desk_group.command("list")
@with_appcontext
def desk_list() -> None:
    """Desks with their agency, public survey id, name and state (active or inactive)."""
    for desk in db.session.scalars(select(Desk).order_by(Desk.code)):
        state = "active" if desk.active else "inactive"
        click.echo(f"{desk.code}\t{desk.agency.code}\t{desk.public_id}\t{desk.name}\t{state}")


@desk_group.command("poster")
@click.argument("code")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SVG file to write (default: standard output)",
)
@with_appcontext
def desk_poster(code: str, output: Path | None) -> None:
    """The A4 QR poster (SVG) of a desk."""
    svg = posters.poster_svg(organisation.desk_by_code(code))
    if output is None:
        click.echo(svg, nl=False)
    else:
        output.write_text(svg, encoding="utf-8")
        click.echo(f"poster of {code} written to {output}", err=True)


@desk_group.command("posters")
@click.option("--all", "all_desks", is_flag=True, required=True, help="every active desk")
@click.option(
    "-o", "--output", "folder", required=True, type=click.Path(file_okay=False, path_type=Path)
)
@with_appcontext
def desk_posters(all_desks: bool, folder: Path) -> None:
    """Write poster-<desk code>.svg for every active desk into a folder."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for desk in db.session.scalars(select(Desk).filter_by(active=True).order_by(Desk.code)):
        svg = posters.poster_svg(desk)
        (folder / posters.poster_filename(desk)).write_text(svg, encoding="utf-8")
        count += 1
    click.echo(f"{count} posters written to {folder}")


@click.group("campaign", cls=ServiceGroup)
def campaign_group() -> None:
    """Survey campaigns (đợt khảo sát)."""


@campaign_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--agency", "agency_code", required=True)
@click.option("--questionnaire", "questionnaire_id", required=True)
@click.option("--version", required=True)
@click.option("--from", "starts_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "ends_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--desk", "desk_codes", multiple=True, required=True)
@with_appcontext
def campaign_add(
    code: str,
    name: str,
    agency_code: str,
    questionnaire_id: str,
    version: str,
    starts_on: dt.datetime,
    ends_on: dt.datetime,
    desk_codes: tuple[str, ...],
) -> None:
    """Run a questionnaire version at some desks for a period."""
    organisation.add_campaign(
        code,
        name,
        agency_code,
        questionnaire_id,
        version,
        starts_on.date(),
        ends_on.date(),
        desk_codes,
    )
    db.session.commit()
    click.echo(f"campaign {code} added")


@campaign_group.command("edit")
@click.argument("code")
@click.option("--name")
@click.option("--questionnaire", "questionnaire_id", help="with --version: another version")
@click.option("--version")
@click.option("--from", "starts_on", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "ends_on", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--desk", "desk_codes", multiple=True, help="the campaign's desks (all of them)")
@click.option("--add-desk", "add_desks", multiple=True)
@click.option("--remove-desk", "remove_desks", multiple=True)
@with_appcontext
def campaign_edit(
    code: str,
    name: str | None,
    questionnaire_id: str | None,
    version: str | None,
    starts_on: dt.datetime | None,
    ends_on: dt.datetime | None,
    desk_codes: tuple[str, ...],
    add_desks: tuple[str, ...],
    remove_desks: tuple[str, ...],
) -> None:
    """Change a campaign's name, questionnaire version, period or desks.

    The code and agency never change. Refused: another questionnaire version once
    there are answers, a period that leaves stored answers outside, removing a desk
    that has answers in the campaign.
    """
    if (questionnaire_id is None) != (version is None):
        fail("--questionnaire and --version go together")
    if desk_codes and (add_desks or remove_desks):
        fail("give either --desk (the whole list) or --add-desk/--remove-desk")
    desks: list[str] | None = list(desk_codes) or None
    if add_desks or remove_desks:
        current = [d.code for d in organisation.campaign_by_code(code).desks]
        desks = [c for c in current if c not in remove_desks]
        desks += [c for c in add_desks if c not in desks]
    _campaign, changes = organisation.edit_campaign(
        code,
        name=name,
        questionnaire=(questionnaire_id, version) if questionnaire_id and version else None,
        starts_on=starts_on.date() if starts_on else None,
        ends_on=ends_on.date() if ends_on else None,
        desk_codes=desks,
    )
    db.session.commit()
    if not changes:
        click.echo(f"campaign {code}: nothing to change")
        return
    for what, (old, new) in changes.items():
        click.echo(f"campaign {code}: {what} {_shown(old)} -> {_shown(new)}")


def _shown(value: object) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


@campaign_group.command("list")
@with_appcontext
def campaign_list() -> None:
    """Campaigns with period, questionnaire and desks."""
    for c in db.session.scalars(select(Campaign).order_by(Campaign.starts_on, Campaign.code)):
        q = c.questionnaire_version
        desks = ",".join(d.code for d in c.desks)
        click.echo(
            f"{c.code}\t{c.starts_on}..{c.ends_on}\t{q.questionnaire_id} {q.version}\t{desks}"
        )
