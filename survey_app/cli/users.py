"""``survey-app user``: staff accounts.

Changes made here are audited with the user ``cli``.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from survey_app.cli.errors import ServiceGroup
from survey_app.extensions import db
from survey_app.models import ROLES
from survey_app.services import accounts


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True))


@click.group("user", cls=ServiceGroup)
def user_group() -> None:
    """Staff accounts (there is no default password: create the first admin here)."""


@user_group.command("create-admin")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def user_create_admin(username: str, password_stdin: bool) -> None:
    """Create an administrator; the password is asked twice (or read from stdin)."""
    accounts.create_user(username, _read_password(password_stdin), "admin")
    db.session.commit()
    click.echo(f"administrator {accounts.normalise_username(username)} created")


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--agency", "agency_code", help="agency code (required for officer and viewer)")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def user_add(username: str, role: str, agency_code: str | None, password_stdin: bool) -> None:
    """Create a staff account with a role (and an agency)."""
    accounts.create_user(username, _read_password(password_stdin), role, agency_code)
    db.session.commit()
    click.echo(f"user {accounts.normalise_username(username)} created ({role})")


@user_group.command("list")
@with_appcontext
def user_list() -> None:
    """Accounts with role, agency and state."""
    for user in accounts.all_users():
        agency = user.agency.code if user.agency else "-"
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{agency}\t{state}")


@user_group.command("disable")
@click.argument("username")
@with_appcontext
def user_disable(username: str) -> None:
    """Disable an account (it can no longer log in; its history stays)."""
    accounts.set_active(username, False)
    db.session.commit()
    click.echo(f"user {accounts.normalise_username(username)} disabled")


@user_group.command("enable")
@click.argument("username")
@with_appcontext
def user_enable(username: str) -> None:
    """Re-enable a disabled account."""
    accounts.set_active(username, True)
    db.session.commit()
    click.echo(f"user {accounts.normalise_username(username)} enabled")


@user_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def user_set_password(username: str, password_stdin: bool) -> None:
    """Set a new password for an account."""
    accounts.set_password(username, _read_password(password_stdin))
    db.session.commit()
    click.echo(f"password of {accounts.normalise_username(username)} changed")
