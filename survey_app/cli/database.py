"""``survey-app db``: the database schema."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from survey_app import migrate
from survey_app.cli.errors import ServiceGroup


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
