"""Command line: `survey-app --help` (or `flask --app survey_app --help`)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from scoring.questionnaire import QuestionnaireError, load_questionnaire
from survey_app import migrate
from survey_app.cli_errors import ServiceGroup
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, QuestionnaireVersion
from survey_app.services import audit, dossier_codes, organisation, posters, questionnaires
from survey_app.settings import settings


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@click.group("db", cls=ServiceGroup)
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations."""
    migrate.upgrade(current_app._get_current_object(), revision)  # type: ignore[attr-defined]
    click.echo(f"database at {revision}")


@click.group("questionnaire", cls=ServiceGroup)
def questionnaire_group() -> None:
    """Questionnaire YAML files."""


@questionnaire_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def questionnaire_validate(files: tuple[Path, ...]) -> None:
    """Check YAML files; print every problem with file, line and path."""
    failed = False
    for path in files:
        try:
            q = load_questionnaire(path)
        except QuestionnaireError as error:
            failed = True
            for problem in error.problems:
                click.echo(problem, err=True)
        else:
            click.echo(f"{path}: ok ({q.id} {q.version}, {len(q.items)} items)")
    if failed:
        sys.exit(1)


@questionnaire_group.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def questionnaire_load(files: tuple[Path, ...]) -> None:
    """Validate and store YAML files; all or nothing."""
    results = []
    for path in files:
        try:
            row, what = questionnaires.load_file(path)
        except QuestionnaireError as error:
            _fail("\n".join(error.problems))
        results.append(f"{path}: {what} ({row.questionnaire_id} {row.version})")
    db.session.commit()
    click.echo("\n".join(results))


@questionnaire_group.command("list")
@with_appcontext
def questionnaire_list() -> None:
    """Loaded questionnaire versions."""
    for row in db.session.scalars(
        select(QuestionnaireVersion).order_by(
            QuestionnaireVersion.questionnaire_id, QuestionnaireVersion.version
        )
    ):
        click.echo(f"{row.questionnaire_id}\t{row.version}\t{row.title}")


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
        name = "poster-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in desk.code)
        (folder / f"{name}.svg").write_text(posters.poster_svg(desk), encoding="utf-8")
        count += 1
    click.echo(f"{count} posters written to {folder}")


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
        _fail("--questionnaire and --version go together")
    if desk_codes and (add_desks or remove_desks):
        _fail("give either --desk (the whole list) or --add-desk/--remove-desk")
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


@click.group("demo", cls=ServiceGroup)
def demo_group() -> None:
    """The demo province."""


@demo_group.command("load")
@click.option(
    "--responses",
    default=300,
    show_default=True,
    help="demo citizen responses per campaign that has none yet (0: none)",
)
@with_appcontext
def demo_load(responses: int) -> None:
    """Create the demo agencies, desks and campaigns (skips what exists), and responses."""
    from survey_app.demo import load_demo, load_demo_responses

    created = load_demo()
    if created:
        audit.record("demo.load", None, created=created)
    db.session.commit()
    created += load_demo_responses(responses)
    db.session.commit()
    click.echo("\n".join(created) or "demo already loaded")
    base = settings().public_base_url
    for desk in db.session.scalars(select(Desk).order_by(Desk.code)):
        click.echo(f"{desk.code}: {base}/s/{desk.public_id}")


@click.group("analysis", cls=ServiceGroup)
def analysis_group() -> None:
    """The dashboard's cache of responses."""


@analysis_group.command("warm")
@click.argument("codes", nargs=-1)
@with_appcontext
def analysis_warm(codes: tuple[str, ...]) -> None:
    """Read the responses of campaigns (default: all) into the dashboard's disk cache.

    A campaign's first dashboard reads all its responses from the database (about 1.4 s
    per 200,000 here); after this, a server reads them from ANALYSIS_CACHE_DIR instead.
    """
    from survey_app.services import analysis

    if not settings().analysis_cache_dir:
        _fail("ANALYSIS_CACHE_DIR is empty: there is no disk cache to warm")
    query = select(Campaign).order_by(Campaign.code)
    if codes:
        query = query.where(Campaign.code.in_(codes))
    campaigns = db.session.scalars(query).all()
    missing = sorted(set(codes) - {c.code for c in campaigns})
    if missing:
        _fail(f"no campaign with code {', '.join(missing)}")
    for campaign in campaigns:
        frame = analysis.frames.get(campaign)
        click.echo(f"{campaign.code}: {len(frame)} responses cached")


def init_app(app: Flask) -> None:
    groups = (
        db_group,
        questionnaire_group,
        agency_group,
        desk_group,
        campaign_group,
        demo_group,
        dossier_code_group,
        analysis_group,
    )
    for group in groups:
        app.cli.add_command(group)


def main() -> None:
    """Entry point of the `survey-app` console script."""
    from survey_app import create_app

    FlaskGroup(create_app=create_app)()
