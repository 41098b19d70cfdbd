"""Loading questionnaire YAML into the database, one immutable row per version."""

from __future__ import annotations

import logging
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import func, select

from scoring.questionnaire import Questionnaire, load_questionnaire, parse_questionnaire
from survey_app.caching import Cache
from survey_app.extensions import db
from survey_app.models import Desk, QuestionnaireVersion, Submission
from survey_app.services import audit
from survey_app.services.errors import Conflict, Problem

log = logging.getLogger(__name__)


class VersionConflict(Conflict):
    """Changed content under a version number that already has answers
    (``questionnaire.version_has_answers``)."""

    def __init__(self, filename: str, questionnaire_id: str, version: str, answers: int) -> None:
        super().__init__(
            Problem(
                "questionnaire.version_has_answers",
                MappingProxyType(
                    {
                        "filename": filename,
                        "questionnaire": questionnaire_id,
                        "version": version,
                        "answers": answers,
                    }
                ),
            )
        )
        self.filename = filename
        self.questionnaire_id = questionnaire_id
        self.version = version
        self.answers = answers


def load_file(path: Path) -> tuple[QuestionnaireVersion, str]:
    """Validate a YAML file and store it; return the row and what happened.

    What happened is ``loaded`` (a new version), ``replaced`` (new content under a
    version without answers) or ``unchanged``; the first two are audited
    (``questionnaire.loaded``, ``questionnaire.replaced``). A version that has
    answers is never changed in place: different content under the same id and
    version raises ``VersionConflict``. Invalid YAML raises ``QuestionnaireError``
    and stores nothing.
    """
    return store(load_questionnaire(path), path.name)


def load_text(text: str, filename: str) -> tuple[QuestionnaireVersion, str]:
    """``load_file`` for YAML text (an upload); ``filename`` names it in messages."""
    return store(parse_questionnaire(text, filename), filename)


def store(questionnaire: Questionnaire, filename: str) -> tuple[QuestionnaireVersion, str]:
    """Store a validated questionnaire (see ``load_file``)."""
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
        what = "loaded"
    elif row.content_hash == questionnaire.content_hash:
        return row, "unchanged"
    else:
        answered = db.session.scalar(
            select(Submission.id).filter_by(questionnaire_version_id=row.id).limit(1)
        )
        if answered is not None:
            raise VersionConflict(
                filename, questionnaire.id, questionnaire.version, answer_count(row)
            )
        row.title = questionnaire.title[questionnaire.default_language]
        row.content_hash = questionnaire.content_hash
        row.source = questionnaire.source
        log.info("replaced unanswered questionnaire %s %s", questionnaire.id, questionnaire.version)
        what = "replaced"
    audit.record(
        f"questionnaire.{what}",
        f"{row.questionnaire_id} {row.version}",
        file=filename,
        content_hash=row.content_hash,
    )
    return row, what


def answer_count(version: QuestionnaireVersion) -> int:
    """Stored answers of a version."""
    return int(
        db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.questionnaire_version_id == version.id
            )
        )
        or 0
    )


def answer_counts(desk_agency_ids: set[int] | None = None) -> dict[int, int]:
    """Stored answers per questionnaire version id (at desks of these agencies; None: all)."""
    query = select(Submission.questionnaire_version_id, func.count(Submission.id))
    if desk_agency_ids is not None:
        query = query.join(Desk, Desk.id == Submission.desk_id).where(
            Desk.agency_id.in_(desk_agency_ids)
        )
    rows = db.session.execute(query.group_by(Submission.questionnaire_version_id))
    return {version_id: int(count) for version_id, count in rows}


def all_versions() -> list[QuestionnaireVersion]:
    """Loaded versions by questionnaire id, newest version first."""
    rows = db.session.scalars(select(QuestionnaireVersion)).all()
    by_id = sorted(rows, key=lambda r: r.loaded_at, reverse=True)
    return sorted(by_id, key=lambda r: r.questionnaire_id)


def definition(version: QuestionnaireVersion) -> Questionnaire:
    """The parsed questionnaire of a stored version (parsed once per content)."""
    key = (version.questionnaire_id, version.version, version.content_hash)
    return _parsed.get_or_make(
        key, lambda: parse_questionnaire(version.source, f"{version.questionnaire_id}.yaml")
    )


# Parsed questionnaires by (id, version, content hash): content never changes under a key.
_parsed: Cache[tuple[str, str, str], Questionnaire] = Cache(size=256)
