"""``survey-app demo``: the demo province."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from survey_app.cli.errors import ServiceGroup
from survey_app.extensions import db
from survey_app.models import Desk
from survey_app.services import audit
from survey_app.settings import settings


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
