"""Citizen submissions (phiếu khảo sát đã trả lời): validation and exactly-once storage.

A rendered form carries a submission id (``uid``, a uuid4). Storing a submission is
idempotent on that id: the same id with the same answers (a retried POST, a double tap,
two racing requests) gives back the one stored submission; the same id with other answers
is refused (``SubmissionConflict``). The UNIQUE constraints of the claims table,
``submission_keys.uid``, ``.receipt`` and ``.dossier_code``, decide races, not a prior
SELECT: they hold in the whole database, while ``submissions`` is partitioned by campaign
on PostgreSQL (see ``models.SubmissionKey``).

Where a form lands (desk, running campaign, questionnaire) is ``services.desk_surveys``'s.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Insert, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from scoring.questionnaire import Questionnaire
from survey_app.caching import Cache
from survey_app.connections import close_session, in_autocommit, retry_read
from survey_app.extensions import db
from survey_app.models import (
    ROUTES,
    Campaign,
    Desk,
    ImportBatch,
    Submission,
    SubmissionKey,
    utcnow,
)
from survey_app.questions import AnswerValue, kind_of
from survey_app.services import dossier_codes
from survey_app.services.desk_surveys import CampaignRef, DeskRef
from survey_app.services.errors import Conflict, Problem, ServiceError

Answers = dict[str, AnswerValue]

# No 0/O, 1/I/L: receipts are read aloud and copied by hand.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 8
_RECEIPT_RE = re.compile(f"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}$")


@dataclass(frozen=True)
class StoredSubmission:
    """What ``record_submission`` stored (or found stored for an exact retry)."""

    id: int
    uid: str
    receipt: str
    # False when an earlier (or racing) request had stored it: nothing was added.
    new: bool = True


class SubmissionConflict(Conflict):
    """The submission id is already stored with different answers."""

    def __init__(self, existing: StoredSubmission) -> None:
        super().__init__(Problem("citizen.conflict"))
        self.existing = existing


class DossierCodeSpent(Conflict):
    """Another submission already used this dossier code (mã đã được dùng để đánh giá)."""

    def __init__(self, dossier_code: str | None = None) -> None:
        super().__init__(Problem("citizen.code_spent"))
        self.dossier_code = dossier_code


class DeskFull(ServiceError):
    """The desk stored as many submissions as ``RATELIMIT_DESK`` allows for now."""

    status = 429

    def __init__(self) -> None:
        super().__init__(Problem("citizen.rate_limited"))


class AnswersRefused(ServiceError):
    """Some answers break the questionnaire's rules: one problem per item, its ``field``
    the item code (``answer.unknown`` for a code the questionnaire does not have).

    ``answers`` holds what did pass, typed as ``validate_answers`` returns it: the form
    needs it to know which items the skip logic shows while it asks for corrections.
    """

    def __init__(self, problems: Sequence[Problem], answers: Answers) -> None:
        super().__init__(*problems)
        self.answers = answers

    def by_item(self) -> dict[str, Problem]:
        """Item code -> its problem."""
        return {problem.field or "": problem for problem in self.problems}


def new_uid() -> str:
    """A fresh submission id for a newly rendered form."""
    return str(uuid.uuid4())


def parse_uid(value: str | None) -> str | None:
    """The canonical form of a submitted id, or None when it is not a uuid."""
    if not value or len(value) > 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def is_receipt(value: str) -> bool:
    return bool(_RECEIPT_RE.match(value))


_RECEIPTS = len(RECEIPT_ALPHABET) ** RECEIPT_LENGTH


def new_receipt() -> str:
    """A random receipt code: one draw from the OS generator, written in base 31."""
    number = secrets.randbelow(_RECEIPTS)
    digits = []
    for _ in range(RECEIPT_LENGTH):
        number, digit = divmod(number, len(RECEIPT_ALPHABET))
        digits.append(RECEIPT_ALPHABET[digit])
    return "".join(digits)


# --------------------------------------------------------------------------- validation


def _values(raw: str | Sequence[str]) -> list[str]:
    """Submitted values without the empty ones (an untouched input sends '')."""
    values = [raw] if isinstance(raw, str) else list(raw)
    return [v for v in values if v.strip()]


def validate_answers(
    questionnaire: Questionnaire, raw: Mapping[str, str | Sequence[str]]
) -> Answers:
    """Check raw form values (item code -> value or values) against a questionnaire.

    Returns the answers to store (code -> int | sorted list[int] | Decimal | str), or
    raises :class:`AnswersRefused` with one problem per refused item (``field`` = item
    code) and the answers that passed. Answers to items that skip logic hides are
    dropped, never stored; required items count only when shown. An unknown code is a
    problem (``answer.unknown``) under its own code.
    """
    answers: Answers = {}
    problems: dict[str, Problem] = {}
    for code in raw:
        if not questionnaire.has_item(code):
            problems[code] = Problem("answer.unknown", field=code)
    # Form order: skip logic only refers to earlier items, whose answers are then known.
    for item in questionnaire.items:
        if item.show_if is not None and not item.is_shown(answers):
            continue
        given = raw.get(item.code)
        values = _values(given) if given else []
        if not values:
            if item.required:
                problems[item.code] = Problem("answer.required", field=item.code)
            continue
        answer, problem = kind_of(item).parse_form(item, values)
        if problem is not None:
            problems[item.code] = Problem(problem.code, problem.params, item.code)
        elif answer is not None and answer != []:
            answers[item.code] = answer
        elif item.required:
            problems[item.code] = Problem("answer.required", field=item.code)
    if problems:
        raise AnswersRefused(list(problems.values()), answers)
    return answers


StoredValue = int | list[int] | str


def stored_answers(answers: Mapping[str, AnswerValue]) -> dict[str, StoredValue]:
    """Validated answers as stored in ``Submission.answers``: JSON values only.

    Choice codes stay integers, multiple choices a sorted list of codes, numbers
    become plain decimal strings (exact, unlike a JSON float), texts stay texts.
    Two equal answer sets give equal documents whatever their order, so a retry
    is told from a conflicting reuse of the id by comparing documents.
    """

    def conv(value: AnswerValue) -> StoredValue:
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        if isinstance(value, list):
            return sorted(value)
        return value

    # Most answers are choice codes, already what is stored.
    return {code: v if type(v) is int else conv(v) for code, v in answers.items()}


# --------------------------------------------------------------------------- storage


def submission_by_receipt(receipt: str) -> Submission | None:
    """The submission with this receipt, with its campaign and desk (what the receipt
    page shows) read in the same query."""
    query = (
        select(Submission)
        .join(
            SubmissionKey,
            (SubmissionKey.campaign_id == Submission.campaign_id)
            & (SubmissionKey.id == Submission.id),
        )
        .where(SubmissionKey.receipt == receipt)
        .options(joinedload(Submission.campaign), joinedload(Submission.desk))
    )
    return retry_read(lambda: db.session.scalar(query))


def dossier_code_spent(claim: dossier_codes.DossierClaim) -> Submission | None:
    """The submission that answered a dossier code's dossier, if any."""
    query = (
        select(Submission)
        .join(
            SubmissionKey,
            (SubmissionKey.campaign_id == Submission.campaign_id)
            & (SubmissionKey.id == Submission.id),
        )
        .where(SubmissionKey.dossier_code.in_(claim.spent_by))
        .limit(1)
    )
    return retry_read(lambda: db.session.scalar(query))


def _existing(
    connection: Connection,
    uid: str,
    answers: Mapping[str, StoredValue],
    dossier_code: str | None,
) -> StoredSubmission | None:
    """What an earlier (or racing) request stored for this id or dossier code.

    Returns the stored submission for an exact retry, None when nothing blocks a new one;
    raises SubmissionConflict or DossierCodeSpent.
    """
    row = connection.execute(
        select(SubmissionKey.id, SubmissionKey.receipt, Submission.answers)
        .join(
            Submission,
            (Submission.campaign_id == SubmissionKey.campaign_id)
            & (Submission.id == SubmissionKey.id),
        )
        .where(SubmissionKey.uid == uid)
    ).first()
    if row is not None:
        existing = StoredSubmission(row.id, uid, row.receipt, new=False)
        if row.answers != answers:
            raise SubmissionConflict(existing)
        return existing
    if (
        dossier_code is not None
        and connection.execute(
            select(SubmissionKey.id).where(SubmissionKey.dossier_code == dossier_code)
        ).first()
        is not None
    ):
        raise DossierCodeSpent(dossier_code)
    return None


def stored_retry(
    connection: Connection, uid: str, answers: Mapping[str, AnswerValue]
) -> StoredSubmission | None:
    """The submission already stored under ``uid`` with these answers, or None when none
    is; raises SubmissionConflict when it holds other answers. Stores nothing."""
    return _existing(connection, uid, stored_answers(answers), None)


@dataclass(frozen=True)
class DriverStatement:
    """A SQLAlchemy statement compiled once per dialect and run on the driver's cursor.

    SQLAlchemy still writes the SQL (its compiler) and converts the values (its types' bind
    processors); only its per-execution layer is left out, which on the citizen submit
    cost about 110 of 260 µs of CPU per INSERT (in process, with psycopg), and 10-15% of
    the submissions per second under load (bench/README.md). It runs in the caller's
    transaction, or commits itself on a connection in autocommit. SQLAlchemy's execution
    events do not see it, and driver errors reach the caller unwrapped.
    """

    sql: str
    keys: tuple[str, ...]
    positional: bool
    processors: Mapping[str, Callable[[object], object]]

    @classmethod
    def compile(cls, statement: Insert, dialect: Dialect, keys: Sequence[str]) -> DriverStatement:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        table = statement.table
        assert isinstance(table, Table)
        processors = {}
        for key in keys:
            processor = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[key] = processor
        positional = bool(compiled.positional)
        order = tuple(compiled.positiontup or ()) if positional else tuple(keys)
        return cls(compiled.string, order, positional, processors)

    def scalar(self, connection: Connection, values: Mapping[str, object]) -> Any:
        """The first column of the first row the statement returns, or None."""
        params = {key: values[key] for key in self.keys}
        for key, processor in self.processors.items():
            params[key] = processor(params[key])
        cursor = connection.connection.cursor()
        try:
            cursor.execute(
                self.sql, tuple(params[key] for key in self.keys) if self.positional else params
            )
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else row[0]


# Compiled INSERTs by dialect and columns: a handful of shapes, each compiled once.
_INSERT_SUBMISSION: Cache[tuple[str, str, tuple[str, ...]], DriverStatement] = Cache(size=64)

# The keys the claim holds; the submission row gets them too (see models.SubmissionKey).
_CLAIMED = ("campaign_id", "uid", "receipt", "dossier_code")


def _claim_and_insert(dialect: Dialect, keys: Sequence[str]) -> DriverStatement:
    """PostgreSQL: the claim and the row in one statement, returning the new id or no row.

    ``WITH claim AS (INSERT INTO submission_keys ... ON CONFLICT DO NOTHING RETURNING id,
    campaign_id) INSERT INTO submissions (id, ...) SELECT claim.id, ... FROM claim
    RETURNING id``: a taken uid, receipt or dossier code leaves the claim empty, and then
    no row is written (a concurrent claim of the same key waits for the other transaction
    first, as a UNIQUE index does). One statement, so the citizen form still runs it in
    autocommit, in one round trip.
    """

    def compile_insert() -> DriverStatement:
        claims = cast(Table, SubmissionKey.__table__)
        table = cast(Table, Submission.__table__)
        params = {key: bindparam(key, type_=table.c[key].type) for key in keys}
        claim = (
            postgresql.insert(claims)
            .values({key: params[key] for key in _CLAIMED})
            .on_conflict_do_nothing()
            .returning(claims.c.id, claims.c.campaign_id)
            .cte("claim")
        )
        rest = [key for key in keys if key != "campaign_id"]
        rows = select(claim.c.id, claim.c.campaign_id, *(params[key] for key in rest))
        insert = postgresql.insert(table).from_select(["id", "campaign_id", *rest], rows)
        return DriverStatement.compile(insert.returning(table.c.id), dialect, keys)

    return _INSERT_SUBMISSION.get_or_make(("fused", dialect.name, tuple(keys)), compile_insert)


def _claim(dialect: Dialect) -> DriverStatement:
    """SQLite: ``INSERT INTO submission_keys ... ON CONFLICT DO NOTHING RETURNING id``."""

    def compile_insert() -> DriverStatement:
        claims = cast(Table, SubmissionKey.__table__)
        insert = sqlite.insert(claims).on_conflict_do_nothing().returning(claims.c.id)
        return DriverStatement.compile(insert, dialect, _CLAIMED)

    return _INSERT_SUBMISSION.get_or_make(("claim", dialect.name, _CLAIMED), compile_insert)


def _insert_row(dialect: Dialect, keys: Sequence[str]) -> DriverStatement:
    """SQLite: the submission row under the id its claim got."""

    def compile_insert() -> DriverStatement:
        table = cast(Table, Submission.__table__)
        insert = sqlite.insert(table).returning(table.c.id)
        return DriverStatement.compile(insert, dialect, ("id", *keys))

    return _INSERT_SUBMISSION.get_or_make(("row", dialect.name, tuple(keys)), compile_insert)


def _store(connection: Connection, values: Mapping[str, object]) -> int | None:
    """Claim the keys and write the row, in one transaction: the new id, or None when a
    key was taken (and nothing was written)."""
    dialect = connection.dialect
    if dialect.name == "postgresql":
        return cast(
            int | None, _claim_and_insert(dialect, tuple(values)).scalar(connection, values)
        )
    # SQLite has no data-modifying CTE: two statements, in the caller's transaction, or in
    # one of their own on a connection in autocommit (the citizen form's).
    raw = connection.connection.dbapi_connection
    own = getattr(raw, "isolation_level", "") is None and not getattr(raw, "in_transaction", True)
    if own:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        submission_id = _claim(dialect).scalar(connection, values)
        if submission_id is not None:
            _insert_row(dialect, tuple(values)).scalar(connection, {**values, "id": submission_id})
    except BaseException:
        if own:
            connection.exec_driver_sql("ROLLBACK")
        raise
    if own:
        connection.exec_driver_sql("COMMIT")
    return cast(int | None, submission_id)


def record_submission(
    connection: Connection,
    *,
    uid: str,
    campaign: Campaign | CampaignRef,
    desk: Desk | DeskRef,
    route: str,
    answers: Mapping[str, AnswerValue],
    language: str,
    dossier_code: str | None = None,
    client_hash: str | None = None,
    import_batch: ImportBatch | None = None,
    submitted_at: dt.datetime | None = None,
) -> StoredSubmission:
    """Store validated answers once under ``uid``, with a new receipt, in the transaction
    of ``connection``; do not commit.

    An exact retry (same uid, same answers) returns the stored submission and adds nothing;
    the same uid with other answers raises SubmissionConflict; a dossier code already spent
    by another submission raises DossierCodeSpent.

    The claim (``submission_keys``, see ``models.SubmissionKey``) decides, also against a
    concurrent request: its INSERT skips a claim whose uid, dossier code or receipt is taken
    anywhere in the database (PostgreSQL waits for the other transaction to end first), and
    then no row is written; only then is the winner read back. On PostgreSQL the claim and
    the row are one statement, on SQLite two in one transaction. Nothing is rolled back,
    so whatever the caller's transaction already holds (a paper import's batch and earlier
    rows) stays.

    The citizen form passes a connection of its own in autocommit (on PostgreSQL the
    statement commits itself; no ORM session); the paper import and the demo pass the
    session's (``db.session.connection()``, after flushing what they added).
    """
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}")
    if (route == "dossier") != (dossier_code is not None):
        raise ValueError("a dossier code goes with the 'dossier' route, and only with it")
    document = stored_answers(answers)
    values: dict[str, object] = {
        "uid": uid,
        "receipt": "",
        "campaign_id": campaign.id,
        "desk_id": desk.id,
        "questionnaire_version_id": campaign.questionnaire_version_id,
        "route": route,
        "dossier_code": dossier_code,
        "language": language,
        "answers": document,
        "client_hash": client_hash,
        "import_batch_id": import_batch.id if import_batch is not None else None,
        "submitted_at": submitted_at if submitted_at is not None else utcnow(),
    }
    for _attempt in range(3):
        # No look-up of the receipt first: a collision (one in 31**8) is skipped like
        # any other taken value and takes the retry below.
        receipt = new_receipt()
        values["receipt"] = receipt
        submission_id = _store(connection, values)
        if submission_id is None:
            # uid, dossier code or (very rarely) receipt taken: see by what.
            existing = _existing(connection, uid, document, dossier_code)
            if existing is not None:
                return existing
            continue
        return StoredSubmission(submission_id, uid, receipt)
    raise RuntimeError("could not allocate a unique receipt code")


def insert_rows(connection: Connection, rows: Sequence[Mapping[str, object]]) -> list[int]:
    """Rows of validated submissions written in bulk, without ``record_submission``'s
    exactly-once answer (test fixtures, benchmark data): their claims first, which allocate
    their ids, then the rows, in the caller's transaction. A key already claimed fails the
    statement (IntegrityError). Returns the new ids, in the order of ``rows``."""
    if not rows:
        return []
    claims = cast(Table, SubmissionKey.__table__)
    ids = list(
        connection.execute(
            claims.insert().returning(claims.c.id, sort_by_parameter_order=True),
            [{key: row.get(key) for key in _CLAIMED} for row in rows],
        ).scalars()
    )
    connection.execute(
        cast(Table, Submission.__table__).insert(),
        [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)],
    )
    return ids


def store_citizen_submission(
    *,
    uid: str,
    campaign: CampaignRef,
    desk: DeskRef,
    route: str,
    answers: Mapping[str, AnswerValue],
    language: str,
    dossier_code: str | None,
    client_hash: str | None,
    desk_open: Callable[[], bool],
) -> StoredSubmission:
    """Store a citizen's submission on a connection of its own, exactly once.

    The INSERT takes a pooled connection in autocommit, not the ORM session's: it is one
    statement, so one round trip (not BEGIN, INSERT and COMMIT). The session gives its
    connection back first, so a request never holds two pooled connections (a burst of
    first requests would otherwise take them all and wait for each other). Storing under
    the uid is idempotent, so a connection that drops is retried once (``in_autocommit``).

    ``desk_open()`` says whether the desk may store another submission; when it may not,
    an exact retry of one stored before still gets its receipt, and anything new raises
    :class:`DeskFull`. Raises SubmissionConflict and DossierCodeSpent as
    ``record_submission`` does.
    """
    close_session()

    def store(connection: Connection) -> StoredSubmission:
        if not desk_open():
            stored = stored_retry(connection, uid, answers)
            if stored is None:
                raise DeskFull()
            return stored
        return record_submission(
            connection,
            uid=uid,
            campaign=campaign,
            desk=desk,
            route=route,
            answers=answers,
            language=language,
            dossier_code=dossier_code,
            client_hash=client_hash,
        )

    return in_autocommit(store)
