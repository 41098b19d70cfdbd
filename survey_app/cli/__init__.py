"""Command line: `survey-app --help` (or `flask --app survey_app --help`).

One module per command group, each on the same service functions as the pages:

- ``database``: ``db`` (Alembic migrations);
- ``questionnaire``: ``questionnaire`` (validate, load and list YAML files);
- ``organisation``: ``agency``, ``desk`` (with QR posters) and ``campaign``;
- ``dossier_codes``: ``dossier-code``;
- ``users``: ``user`` (staff accounts);
- ``paper``: ``import`` (paper-survey templates and files);
- ``demo``: ``demo`` (the demo province);
- ``analysis``: ``analysis`` (the dashboard's disk cache);
- ``report``: ``report`` (the survey report as DOCX or PDF).
- ``evidence``: ``evidence`` (a campaign's evidence pack).
- ``plans``: ``plan`` (remediation plans as DOCX / XLSX).
- ``sampling``: ``sampling`` (a campaign's sampling design of dossiers, as YAML).

A command that refuses calls :func:`survey_app.cli.errors.fail`, and a group that calls
services is a :class:`survey_app.cli.errors.ServiceGroup`, whose commands end the same way
on a service's refusal: the session is rolled back and the message printed, exit status 1.
"""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup

from survey_app.cli import (
    analysis,
    database,
    demo,
    dossier_codes,
    evidence,
    organisation,
    paper,
    plans,
    questionnaire,
    report,
    sampling,
    users,
)

GROUPS = (
    database.db_group,
    questionnaire.questionnaire_group,
    organisation.agency_group,
    organisation.desk_group,
    organisation.campaign_group,
    demo.demo_group,
    dossier_codes.dossier_code_group,
    analysis.analysis_group,
    users.user_group,
    paper.import_group,
    report.report_command,
    evidence.evidence_command,
    plans.plan_group,
    sampling.sampling_group,
)


def init_app(app: Flask) -> None:
    for group in GROUPS:
        app.cli.add_command(group)


def main() -> None:
    """Entry point of the `survey-app` console script."""
    from survey_app import create_app

    FlaskGroup(create_app=create_app)()
