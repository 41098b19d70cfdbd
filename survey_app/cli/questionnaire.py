"""``survey-app questionnaire``: questionnaire YAML files."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from scoring.questionnaire import QuestionnaireError, load_questionnaire
from survey_app.cli.errors import ServiceGroup, fail
from survey_app.extensions import db
from survey_app.models import QuestionnaireVersion
from survey_app.services import questionnaires


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
            fail("\n".join(error.problems))
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
