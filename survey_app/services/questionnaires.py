"""Loading questionnaire YAML into the database, one immutable row per version."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from scoring.questionnaire import Questionnaire, load_questionnaire, parse_questionnaire
from survey_app.extensions import db
from survey_app.models import QuestionnaireVersion, Submission

log = logging.getLogger(__name__)


class VersionConflict(ValueError):
    """Changed content under a version number that already has answers."""


def load_file(path: Path) -> tuple[QuestionnaireVersion, str]:
    """Validate a YAML file and store it; return the row and what happened.

    A version that has answers is never changed in place: loading different
    content under the same id and version raises ``VersionConflict``.
    """
    questionnaire = load_questionnaire(path)
    row = db.session.scalar(
        select(QuestionnaireVersion).filter_by(
            questionnaire_id=questionnaire.id, version=questionnaire.version
        )
    )
    if row is None:
        row = QuestionnaireVersion(
            questionnaire_id=questionnaire.id,
            version=questionnaire.version,
            title=questionnaire.title[questionnaire.default_language],
            content_hash=questionnaire.content_hash,
            source=questionnaire.source,
        )
        db.session.add(row)
        db.session.flush()
        log.info("loaded questionnaire %s %s", questionnaire.id, questionnaire.version)
        return row, "loaded"
    if row.content_hash == questionnaire.content_hash:
        return row, "unchanged"
    answered = db.session.scalar(
        select(Submission.id).filter_by(questionnaire_version_id=row.id).limit(1)
    )
    if answered is not None:
        raise VersionConflict(
            f"{path.name}: {questionnaire.id} version {questionnaire.version} already has "
            "answers and cannot change; give the changed questionnaire a new version"
        )
    row.title = questionnaire.title[questionnaire.default_language]
    row.content_hash = questionnaire.content_hash
    row.source = questionnaire.source
    log.info("replaced unanswered questionnaire %s %s", questionnaire.id, questionnaire.version)
    return row, "replaced"


def definition(version: QuestionnaireVersion) -> Questionnaire:
    """The parsed questionnaire of a stored version (parsed once per content)."""
    key = (version.questionnaire_id, version.version, version.content_hash)
    parsed = _parsed.get(key)
    if parsed is None:
        parsed = _parsed[key] = parse_questionnaire(
            version.source, f"{version.questionnaire_id}.yaml"
        )
    return parsed


# Parsed questionnaires by (id, version, content hash): content never changes under a key.
_parsed: dict[tuple[str, str, str], Questionnaire] = {}
