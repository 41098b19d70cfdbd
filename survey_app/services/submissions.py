"""Citizen submissions (phiếu khảo sát đã trả lời): validation and exactly-once storage.

A rendered form carries a submission id (``uid``, a uuid4). Storing a submission is
idempotent on that id: the same id with the same answers (a retried POST, a double tap,
two racing requests) gives back the one stored submission; the same id with other answers
is refused (``SubmissionConflict``). The UNIQUE constraints on ``submissions.uid`` and
``submissions.dossier_code`` decide races, not a prior SELECT.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from scoring.questionnaire import Item, Questionnaire
from survey_app.extensions import db
from survey_app.models import (
    ROUTES,
    Answer,
    Campaign,
    Desk,
    ImportBatch,
    Submission,
    campaign_desks,
)
from survey_app.services import dossier_codes
from survey_app.services.organisation import current_campaign

AnswerValue = int | list[int] | Decimal | str
Answers = dict[str, AnswerValue]

# No 0/O, 1/I/L: receipts are read aloud and copied by hand.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 8
_RECEIPT_RE = re.compile(f"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}$")
# Numeric(18, 6) holds 12 digits before the point.
_NUMBER_LIMIT = Decimal("1e12")

MESSAGES = {
    "unknown": "Câu hỏi này không có trong phiếu khảo sát.",
    "required": "Vui lòng trả lời câu hỏi này.",
    "not_option": "Lựa chọn không hợp lệ, vui lòng chọn lại.",
    "one_choice": "Chỉ được chọn một phương án.",
    "not_number": "Vui lòng nhập một số (ví dụ: 3).",
    "not_integer": "Vui lòng nhập số nguyên (không có phần thập phân).",
    "too_long": "Câu trả lời dài quá {max} ký tự (hiện có {length} ký tự).",
}


class SubmissionError(Exception):
    """A submission that cannot be stored."""


class SubmissionConflict(SubmissionError):
    """The submission id is already stored with different answers."""

    def __init__(self, existing: Submission) -> None:
        super().__init__(f"submission {existing.uid} is already stored with other answers")
        self.existing = existing


class DossierCodeSpent(SubmissionError):
    """Another submission already used this dossier code (mã đã được dùng để đánh giá)."""


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


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


# --------------------------------------------------------------------------- validation


def _values(raw: str | Sequence[str]) -> list[str]:
    """Submitted values without the empty ones (an untouched input sends '')."""
    values = [raw] if isinstance(raw, str) else list(raw)
    return [v for v in values if v.strip()]


def _number_range(item: Item) -> str:
    def fmt(x: float) -> str:
        return f"{x:g}".replace(".", ",")

    if item.minimum is not None and item.maximum is not None:
        return f"Vui lòng nhập số từ {fmt(item.minimum)} đến {fmt(item.maximum)}."
    if item.minimum is not None:
        return f"Vui lòng nhập số không nhỏ hơn {fmt(item.minimum)}."
    return f"Vui lòng nhập số không lớn hơn {fmt(item.maximum or 0)}."


def _choice(item: Item, value: str) -> int | None:
    try:
        code = int(value.strip())
    except ValueError:
        return None
    return code if code in item.codes else None


def _parse_item(item: Item, values: list[str]) -> tuple[AnswerValue | None, str | None]:
    """(answer, error message) for one shown item's non-empty submitted values."""
    if item.type == "multiple":
        codes = [_choice(item, v) for v in values]
        if any(c is None for c in codes):
            return None, MESSAGES["not_option"]
        return sorted({c for c in codes if c is not None}), None
    if len(values) > 1:
        return None, MESSAGES["one_choice"]
    value = values[0]
    if item.type == "single":
        code = _choice(item, value)
        return (code, None) if code is not None else (None, MESSAGES["not_option"])
    if item.type == "number":
        # Vietnamese writes the decimal separator as a comma.
        text = value.strip().replace(" ", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None, MESSAGES["not_number"]
        if not number.is_finite() or abs(number) >= _NUMBER_LIMIT:
            return None, MESSAGES["not_number"]
        if item.integer and number != number.to_integral_value():
            return None, MESSAGES["not_integer"]
        if (item.minimum is not None and number < Decimal(str(item.minimum))) or (
            item.maximum is not None and number > Decimal(str(item.maximum))
        ):
            return None, _number_range(item)
        return number.quantize(Decimal("0.000001")).normalize(), None
    # Browsers send CRLF line breaks but count them as one character against maxlength.
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    limit = item.max_length or 500
    if len(text) > limit:
        return None, MESSAGES["too_long"].format(max=limit, length=len(text))
    return text, None


def validate_answers(
    questionnaire: Questionnaire, raw: Mapping[str, str | Sequence[str]]
) -> tuple[Answers, dict[str, str]]:
    """Check raw form values (item code -> value or values) against a questionnaire.

    Returns the answers to store (code -> int | sorted list[int] | Decimal | str) and the
    errors (item code -> Vietnamese message). Answers to items that skip logic hides are
    dropped, never stored; required items count only when shown. An unknown code is an
    error under its own code.
    """
    answers: Answers = {}
    errors: dict[str, str] = {}
    known = {item.code for item in questionnaire.items}
    for code in raw:
        if code not in known:
            errors[code] = MESSAGES["unknown"]
    # Form order: skip logic only refers to earlier items, whose answers are then known.
    for item in questionnaire.items:
        values = _values(raw.get(item.code, []))
        if not item.is_shown(answers):
            continue
        if not values:
            if item.required:
                errors[item.code] = MESSAGES["required"]
            continue
        answer, error = _parse_item(item, values)
        if error is not None:
            errors[item.code] = error
        elif answer is not None and answer != []:
            answers[item.code] = answer
        elif item.required:
            errors[item.code] = MESSAGES["required"]
    return answers, errors


def canonical_json(answers: Mapping[str, AnswerValue]) -> str:
    """Canonical JSON of validated answers: sorted keys, numbers as plain decimal strings."""

    def conv(value: AnswerValue) -> object:
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        if isinstance(value, list):
            return sorted(value)
        return value

    return json.dumps(
        {code: conv(v) for code, v in answers.items()},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def answers_digest(answers: Mapping[str, AnswerValue]) -> str:
    """sha256 of the canonical answers: tells an exact retry from a conflicting reuse."""
    return hashlib.sha256(canonical_json(answers).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- storage


def submission_by_uid(uid: str) -> Submission | None:
    return db.session.scalar(select(Submission).filter_by(uid=uid))


def submission_by_receipt(receipt: str) -> Submission | None:
    return db.session.scalar(select(Submission).filter_by(receipt=receipt))


def dossier_code_spent(code: str) -> Submission | None:
    """The submission that spent a dossier code, if any."""
    return db.session.scalar(select(Submission).filter_by(dossier_code=code))


def _answer_rows(submission_id: int, answers: Mapping[str, AnswerValue]) -> list[dict[str, object]]:
    """Answer rows as plain values for one bulk INSERT.

    Every row has every column, so the rows go out as one executemany statement instead
    of one ORM object (and its unit-of-work bookkeeping) per answer.
    """
    rows: list[dict[str, object]] = []

    def add(code: str, choice: int | None = None, number: Decimal | None = None,
            text: str | None = None) -> None:
        rows.append({"submission_id": submission_id, "item_code": code,
                     "choice": choice, "number": number, "text": text})

    for code, value in answers.items():
        if isinstance(value, list):
            for c in value:
                add(code, choice=c)
        elif isinstance(value, Decimal):
            add(code, number=value)
        elif isinstance(value, str):
            add(code, text=value)
        else:
            add(code, choice=value)
    return rows


def _existing(uid: str, digest: str, dossier_code: str | None) -> Submission | None:
    """What an earlier (or racing) request stored for this id or dossier code.

    Returns the stored submission for an exact retry, None when nothing blocks a new one;
    raises SubmissionConflict or DossierCodeSpent.
    """
    existing = submission_by_uid(uid)
    if existing is not None:
        if existing.answers_digest != digest:
            raise SubmissionConflict(existing)
        return existing
    if dossier_code is not None and dossier_code_spent(dossier_code) is not None:
        raise DossierCodeSpent(dossier_code)
    return None


def record_submission(
    *,
    uid: str,
    campaign: Campaign,
    desk: Desk,
    route: str,
    answers: Mapping[str, AnswerValue],
    language: str,
    dossier_code: str | None = None,
    client_hash: str | None = None,
    import_batch: ImportBatch | None = None,
    submitted_at: dt.datetime | None = None,
) -> Submission:
    """Store validated answers once under ``uid``, with a new receipt; flush, do not commit.

    An exact retry (same uid, same answers) returns the stored submission and adds nothing;
    the same uid with other answers raises SubmissionConflict; a dossier code already spent
    by another submission raises DossierCodeSpent.

    When a concurrent request wins the race on a UNIQUE column, the session's transaction is
    rolled back and the outcome is read back from the database, so call this in a
    transaction of its own (one web request, or one paper row after a duplicate check).
    """
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}")
    if (route == "dossier") != (dossier_code is not None):
        raise ValueError("a dossier code goes with the 'dossier' route, and only with it")
    digest = answers_digest(answers)
    existing = _existing(uid, digest, dossier_code)
    if existing is not None:
        return existing
    for _attempt in range(3):
        # No look-up of the receipt first: a collision (one in 31**8) fails its UNIQUE
        # constraint and takes the retry below.
        receipt = new_receipt()
        submission = Submission(
            uid=uid,
            receipt=receipt,
            campaign=campaign,
            desk=desk,
            questionnaire_version_id=campaign.questionnaire_version_id,
            route=route,
            dossier_code=dossier_code,
            language=language,
            answers_digest=digest,
            client_hash=client_hash,
            import_batch_id=import_batch.id if import_batch is not None else None,
        )
        if submitted_at is not None:
            submission.submitted_at = submitted_at
        db.session.add(submission)
        try:
            db.session.flush()
        except IntegrityError:
            # Lost a race on uid, dossier_code or (very rarely) receipt: see what won.
            db.session.rollback()
            existing = _existing(uid, digest, dossier_code)
            if existing is not None:
                return existing
            continue
        if answers:
            # Core, not ORM, insert: the ORM would split the rows by which values are None.
            db.session.execute(insert(Answer.__table__), _answer_rows(submission.id, answers))
        # The bulk INSERT bypassed the relationship: load it from the rows when read.
        db.session.expire(submission, ["answers"])
        return submission
    raise SubmissionError("could not allocate a unique receipt code")


# --------------------------------------------------------------------------- where a form lands


class SurveyUnavailable(Exception):
    """No form can be shown; ``reason`` names why (the view picks the page and status)."""

    def __init__(self, reason: str, desk: Desk | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.desk = desk


def desk_survey(public_id: str, today: dt.date) -> tuple[Desk, Campaign]:
    """The desk of a QR poster and its running campaign.

    Raises SurveyUnavailable with reason 'unknown_desk', 'inactive_desk' or 'no_campaign'.
    """
    found = _desk_with_campaign(Desk.public_id == public_id, today)
    if found is not None:
        return found
    desk = db.session.scalar(select(Desk).filter_by(public_id=public_id))
    campaign = _running_campaign(desk, today)
    assert desk is not None
    return desk, campaign


def dossier_survey(token: str, today: dt.date) -> tuple[Desk, Campaign, str]:
    """The desk, running campaign and dossier code (to spend) of a signed dossier link.

    Raises SurveyUnavailable with reason 'code_invalid', 'code_expired', 'unknown_desk',
    'inactive_desk' or 'no_campaign'. Whether the code is already spent is not checked here.
    """
    try:
        claim = dossier_codes.verify(token)
    except dossier_codes.CodeExpired:
        raise SurveyUnavailable("code_expired") from None
    except dossier_codes.DossierCodeError:
        raise SurveyUnavailable("code_invalid") from None
    found = _desk_with_campaign(Desk.code == claim.desk_code, today)
    if found is not None:
        return (*found, claim.code)
    desk = db.session.scalar(select(Desk).filter_by(code=claim.desk_code))
    campaign = _running_campaign(desk, today)
    assert desk is not None
    return desk, campaign, claim.code


def _desk_with_campaign(
    which: ColumnElement[bool], today: dt.date
) -> tuple[Desk, Campaign] | None:
    """An active desk, its running campaign and questionnaire version, in one query.

    Every page and every submission goes through here, so the common case is one round
    trip; None sends the caller to the slower look-ups that tell why there is no form.
    The order is organisation.current_campaign's: the most recently started one wins.
    """
    row = db.session.execute(
        select(Desk, Campaign)
        .join(campaign_desks, campaign_desks.c.desk_id == Desk.id)
        .join(Campaign, Campaign.id == campaign_desks.c.campaign_id)
        .options(joinedload(Campaign.questionnaire_version))
        .where(which, Desk.active.is_(True))
        .where(Campaign.starts_on <= today, Campaign.ends_on >= today)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _running_campaign(desk: Desk | None, today: dt.date) -> Campaign:
    if desk is None:
        raise SurveyUnavailable("unknown_desk")
    if not desk.active:
        raise SurveyUnavailable("inactive_desk", desk)
    campaign = current_campaign(desk, today)
    if campaign is None:
        raise SurveyUnavailable("no_campaign", desk)
    return campaign
