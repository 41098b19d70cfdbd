"""Single-use dossier codes (mã đánh giá theo hồ sơ): a short code and its link on a slip.

Staff, or the one-stop software (phần mềm một cửa) through its API, ask for a code when a
citizen receives the receipt of a dossier (phiếu hẹn trả kết quả). A code is ten random
characters (``services/short_codes.py``): typed on the landing page, or carried by the link
``/c/<code>`` that the slip's QR holds. It says nothing about the dossier, its desk or its
date: all that is in the ``dossier_codes`` row it names, and the row holds keyed hashes
only (of the code and of the dossier number, under ``DOSSIER_CODE_KEY``, an instance
secret), with the desk and the expiry. Random codes stored server-side rather than an
encrypted token, because a person must be able to type the code: a token that carries its
own content is far too long for that.

A dossier is answered once, whichever of its codes is used (a reprinted receipt gets a new
code for the same dossier): the submission stores ``DossierClaim.code``, a keyed hash of
the dossier, in the UNIQUE column ``submissions.dossier_code`` (see
services/submissions.py), in the same statement as the answers, so two phones racing with
one receipt store one submission.

Codes printed before the short codes stay answerable until they expire: signed tokens
(``payload.timestamp.signature``) naming the desk and the dossier's keyed hash
(``SALT``), and before them itsdangerous JSON signed with ``SECRET_KEY`` with the dossier
number readable inside (``LEGACY_SALT``; migration 0006 keyed what they stored, see
``legacy_code``). Both spend the same keyed dossier hash as the short codes. No code of
either kind is issued any more; once ``DOSSIER_CODE_MAX_AGE_DAYS`` have passed since the
short codes replaced them, none verifies and both paths can go.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from survey_app import localtime
from survey_app.caching import Cache, app_cache
from survey_app.connections import retry_read
from survey_app.extensions import db
from survey_app.models import Desk, DossierCode, utcnow
from survey_app.services import short_codes
from survey_app.services.errors import ServiceError
from survey_app.settings import settings

# The signed codes printed before the short codes (verified until they expire, no longer issued).
SALT = "dossier-code-v2"
# Dossier references are free text in provincial one-stop systems
# (e.g. "000.00.23.H23-250101-0001"); 64 characters covers the known formats.
MAX_DOSSIER_REF = 64
# The dossier's keyed hash (128 bits), from which the value a submission stores is derived.
DOSSIER_ID_BYTES = 16
# A signed code's payload: the desk id (4 bytes, big-endian) and the dossier's keyed hash.
_PAYLOAD = struct.Struct(f">I{DOSSIER_ID_BYTES}s")
LEGACY_SALT = "dossier-code"
# Entries of the per-process cache of short codes looked up.
_CLAIM_CACHE_LIMIT = 10_000


class DossierCodeError(ServiceError):
    """A dossier code that cannot be used to answer the survey."""


class CodeInvalid(DossierCodeError):
    """Forged, tampered with, truncated or otherwise malformed."""


class CodeExpired(DossierCodeError):
    """Genuine but older than DOSSIER_CODE_MAX_AGE_DAYS."""


class IssueError(ServiceError):
    """A code cannot be issued for this request, with the reason (``dossier.*``)."""


class UnknownDesk(IssueError):
    """No active desk has this code."""

    status = 404


@dataclass(frozen=True)
class DossierClaim:
    """What a verified dossier code says: which desk received which dossier, and when.

    ``code`` is what a submission through it stores in ``Submission.dossier_code``: a
    keyed hash of the dossier, the same for every code of that dossier. ``legacy_code``,
    for a code issued before keyed codes, is the stored value that spent it then.
    """

    desk_id: int
    code: str
    issued_at: dt.datetime
    legacy_code: str | None = None

    @property
    def spent_by(self) -> tuple[str, ...]:
        """Stored values any one of which means this code's dossier was answered."""
        return (self.code,) if self.legacy_code is None else (self.code, self.legacy_code)


def _key(purpose: str) -> bytes:
    """A key of its own for each use of the instance's DOSSIER_CODE_KEY."""
    secret = settings().dossier_code_key.encode()
    return hmac.new(secret, f"dossier-code {purpose}".encode(), hashlib.sha256).digest()


def dossier_id(dossier_ref: str) -> bytes:
    """The keyed hash of a dossier number that a code carries."""
    digest = hmac.new(_key("dossier"), dossier_ref.encode("utf-8"), hashlib.sha256).digest()
    return digest[:DOSSIER_ID_BYTES]


def stored_hash(dossier_ref: str) -> str:
    """What a submission for this dossier stores: the same for every code of the dossier."""
    return _spent(dossier_id(dossier_ref))


def _spent(identifier: bytes) -> str:
    return hmac.new(_key("spent"), identifier, hashlib.sha256).hexdigest()


def legacy_stored_hash(unkeyed: str) -> str:
    """The keyed form of a value stored for a code issued before keyed codes.

    Migration 0006 computes the same (it cannot import this module): never change it.
    """
    return hmac.new(_key("legacy"), unkeyed.encode("ascii"), hashlib.sha256).hexdigest()


def _signer() -> TimestampSigner:
    return TimestampSigner(settings().dossier_code_key, salt=SALT, digest_method=hashlib.sha256)


def _code_hash(code: str) -> str:
    """What the ``dossier_codes`` row of a canonical short code is found by."""
    return hmac.new(_key("short code"), code.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    """A code just issued, in canonical form (``code``) and as printed (``shown``)."""

    code: str
    dossier_ref: str
    desk_id: int
    expires_at: dt.datetime

    @property
    def shown(self) -> str:
        return short_codes.grouped(self.code)

    @property
    def last_day(self) -> dt.date:
        """The last local day on which the code answers (to the end of that day)."""
        return localtime.to_local(self.expires_at - dt.timedelta(microseconds=1)).date()


def check_ref(dossier_ref: str) -> str:
    """The dossier reference as stored under its hash (stripped), or IssueError."""
    dossier_ref = dossier_ref.strip()
    if not dossier_ref:
        raise IssueError.of("dossier.ref_empty", field="dossier_ref")
    if len(dossier_ref) > MAX_DOSSIER_REF:
        raise IssueError.of("dossier.ref_too_long", field="dossier_ref", maximum=MAX_DOSSIER_REF)
    return dossier_ref


def issue_many(desk_code: str, dossier_refs: Sequence[str]) -> list[IssuedCode]:
    """New codes, one per dossier in the order given, for dossiers received at a desk.

    Adds the rows to the session (the caller commits). Raises UnknownDesk for a desk
    that does not exist or is inactive, and IssueError for an empty or over-long
    reference (before anything is added).
    """
    refs = [check_ref(ref) for ref in dossier_refs]
    desk = active_desk(desk_code)
    issued_at = utcnow()
    expires_at = _expiry(issued_at)
    issued = []
    for ref in refs:
        code = _unused_code()
        db.session.add(
            DossierCode(
                code_hash=_code_hash(code),
                desk_id=desk.id,
                dossier_hash=stored_hash(ref),
                issued_at=issued_at,
                expires_at=expires_at,
            )
        )
        issued.append(IssuedCode(code, ref, desk.id, expires_at))
    db.session.flush()
    return issued


def active_desk(desk_code: str) -> Desk:
    """The active desk of this code, or UnknownDesk."""
    desk = db.session.scalar(select(Desk).filter_by(code=desk_code))
    if desk is None or not desk.active:
        raise UnknownDesk.of("dossier.unknown_desk", desk=desk_code)
    return desk


def _expiry(issued_at: dt.datetime) -> dt.datetime:
    """When a code issued at ``issued_at`` stops answering: the end of the local day, so
    that the date printed on the slip is exact."""
    last_day = localtime.to_local(issued_at + settings().dossier_code_max_age).date()
    return localtime.day_start(last_day + dt.timedelta(days=1))


# Derivations tried for a sampled dossier's code before giving up (a clash with another
# code is about one in 10**6 per code; ten in a row never happen).
_SAMPLED_ATTEMPTS = 10


def _sampled_codes(dossier_ref: str) -> Iterator[str]:
    """The codes a sampled dossier may get, in the order tried: keyed derivations of the
    dossier's hash, so that a retried event finds its code again (nothing stores it)."""
    identifier = dossier_id(dossier_ref)
    for attempt in range(_SAMPLED_ATTEMPTS):
        message = identifier + attempt.to_bytes(4, "big")
        yield short_codes.code_from(hmac.new(_key("sampled"), message, hashlib.sha256).digest())


def issue_sampled(desk: Desk, dossier_ref: str, probability: float) -> tuple[IssuedCode, int]:
    """The code of a dossier selected for the sample and its row's id, recording its
    inclusion probability; the code issued before when there is one. Adds the row to the
    session (the caller commits)."""
    spent = stored_hash(dossier_ref)
    for code in _sampled_codes(dossier_ref):
        row = db.session.scalar(select(DossierCode).filter_by(code_hash=_code_hash(code)))
        if row is None:
            issued_at = utcnow()
            row = DossierCode(
                code_hash=_code_hash(code),
                desk_id=desk.id,
                dossier_hash=spent,
                issued_at=issued_at,
                expires_at=_expiry(issued_at),
                inclusion_probability=probability,
            )
            db.session.add(row)
            db.session.flush()
            return IssuedCode(code, dossier_ref, desk.id, row.expires_at), row.id
        if row.dossier_hash == spent and row.inclusion_probability is not None:
            return IssuedCode(code, dossier_ref, row.desk_id, row.expires_at), row.id
    raise RuntimeError("no free code for a sampled dossier")  # pragma: no cover


def sampled_code(row: DossierCode, dossier_ref: str) -> IssuedCode:
    """The code of a sampled dossier's row, found again from the dossier number."""
    for code in _sampled_codes(dossier_ref):
        if hmac.compare_digest(_code_hash(code), row.code_hash):
            return IssuedCode(code, dossier_ref, row.desk_id, row.expires_at)
    raise CodeInvalid.of("dossier.code_invalid")


def _unused_code() -> str:
    """A random code no row has. With 26^9 codes a clash is next to impossible, but
    ``code_hash`` is UNIQUE, so one would otherwise fail the whole batch."""
    while True:
        code = short_codes.new_code()
        taken = db.session.scalar(
            select(DossierCode.id).where(DossierCode.code_hash == _code_hash(code))
        )
        if taken is None:
            return code


def issued(desk: Desk, typed: str, dossier_ref: str) -> IssuedCode:
    """A short code issued before at ``desk`` for this dossier, to print its slip again.

    CodeInvalid when it is no code, or not this desk's or this dossier's; CodeExpired.
    """
    try:
        code = short_codes.parse(typed)
    except short_codes.ShortCodeError as error:
        raise CodeInvalid.of("dossier.code_invalid") from error
    claim, expires_at = _short_row(code)
    dossier_ref = dossier_ref.strip()
    if claim.desk_id != desk.id or not hmac.compare_digest(claim.code, stored_hash(dossier_ref)):
        raise CodeInvalid.of("dossier.code_invalid")
    if utcnow() >= expires_at:
        raise CodeExpired.of("dossier.code_expired")
    return IssuedCode(code, dossier_ref, desk.id, expires_at)


def issue(desk_code: str, dossier_ref: str) -> str:
    """A new code for one dossier received at a desk, as printed (``BKQ7M-X4T2J``)."""
    return issue_many(desk_code, [dossier_ref])[0].shown


def verify(token: str) -> DossierClaim:
    """Check a code (short, or a signed one printed before) and its age; raise CodeInvalid
    or CodeExpired.

    Only says the code is genuine and fresh; whether its dossier was already answered is
    the UNIQUE constraint's business.
    """
    if "." not in token:
        return _verify_short(token)
    max_age = int(settings().dossier_code_max_age.total_seconds())
    try:
        payload, signed_at = _signer().unsign(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as error:
        raise CodeExpired.of("dossier.code_expired") from error
    except BadSignature:
        return _verify_legacy(token, max_age)
    except (BadData, UnicodeError, ValueError) as error:
        raise CodeInvalid.of("dossier.code_invalid") from error
    try:
        desk_id, identifier = _PAYLOAD.unpack(base64.urlsafe_b64decode(payload + b"=="))
    except (binascii.Error, struct.error) as error:
        raise CodeInvalid.of("dossier.code_invalid") from error
    return DossierClaim(desk_id, _spent(identifier), signed_at)


def _verify_short(typed: str) -> DossierClaim:
    try:
        code = short_codes.parse(typed)
    except short_codes.ShortCodeError as error:
        raise CodeInvalid.of("dossier.code_invalid") from error
    claim, expires_at = _short_row(code)
    if utcnow() >= expires_at:
        raise CodeExpired.of("dossier.code_expired")
    return claim


def _short_row(code: str) -> tuple[DossierClaim, dt.datetime]:
    """What the row of a canonical short code says, and its expiry; CodeInvalid if none."""
    found = _short_claims().get(code)
    if found is not None:
        return found
    row = retry_read(
        lambda: db.session.execute(
            select(
                DossierCode.desk_id,
                DossierCode.dossier_hash,
                DossierCode.issued_at,
                DossierCode.expires_at,
            ).where(DossierCode.code_hash == _code_hash(code))
        ).first()
    )
    if row is None:
        raise CodeInvalid.of("dossier.code_invalid")
    issued_at = row.issued_at.replace(tzinfo=dt.UTC)
    return _short_claims().put(
        code, (DossierClaim(row.desk_id, row.dossier_hash, issued_at), row.expires_at)
    )


def find_short(typed: str) -> str:
    """The short code a person typed, as printed, when it names a code issued (spent or
    expired or not: its form says so); ShortCodeError or CodeInvalid otherwise."""
    code = short_codes.parse(typed)
    try:
        _verify_short(code)
    except CodeExpired:
        pass
    except CodeInvalid:
        shown = short_codes.grouped(code)
        raise CodeInvalid.of("dossier.short_unknown", field="ma", code=shown) from None
    return short_codes.grouped(code)


def _short_claims() -> Cache[str, tuple[DossierClaim, dt.datetime]]:
    """Codes already looked up, so the steps of one form read their row once per process.
    A row never changes, so keeping it is always right; the expiry is checked each time."""
    return app_cache(
        "dossier_claims", size=_CLAIM_CACHE_LIMIT, ttl=lambda: settings().survey_cache_seconds
    )


def _verify_legacy(token: str, max_age: int) -> DossierClaim:
    """A code issued before keyed codes: JSON [desk code, dossier number, nonce] signed
    with SECRET_KEY; it was spent under sha256 of the three (unkeyed)."""
    serializer = URLSafeTimedSerializer(settings().secret_key, salt=LEGACY_SALT)
    try:
        payload, signed_at = serializer.loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as error:
        raise CodeExpired.of("dossier.code_expired") from error
    except (BadData, UnicodeError, ValueError, json.JSONDecodeError) as error:
        raise CodeInvalid.of("dossier.code_invalid") from error
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(isinstance(part, str) and part for part in payload)
    ):
        raise CodeInvalid.of("dossier.code_invalid")
    desk_code, dossier_ref, nonce = payload
    desk_id = db.session.scalar(select(Desk.id).filter_by(code=desk_code))
    if desk_id is None:
        raise CodeInvalid.of("dossier.code_invalid")
    unkeyed = hashlib.sha256("\n".join((nonce, desk_code, dossier_ref)).encode()).hexdigest()
    return DossierClaim(
        desk_id, stored_hash(dossier_ref), signed_at, legacy_stored_hash(unkeyed[:32])
    )


def survey_url(code: str) -> str:
    """The survey link a slip's QR carries, and staff see as text."""
    return f"{settings().public_base_url}/c/{code}"
