"""Single-use dossier codes (mã hồ sơ): a signed survey link printed on a receipt.

The one-stop software (phần mềm một cửa) asks for a code when it hands a citizen the
receipt of a dossier (phiếu hẹn trả kết quả). The code is a signed, timestamped token
naming the desk (its id) and the dossier by a keyed hash of its number, never the number:
whoever holds the code or reads the database learns nothing about the dossier without
``DOSSIER_CODE_KEY``, an instance secret. It needs no database row, so issuing it costs
nothing, and forging it is impossible without that key.

A dossier is answered once, whichever of its codes is used (a reprinted receipt gets a new
code for the same dossier): the submission stores ``DossierClaim.code``, a keyed hash of
the dossier, in the UNIQUE column ``submissions.dossier_code`` (see
services/submissions.py), in the same statement as the answers, so two phones racing with
one receipt store one submission.

Codes issued before these keyed codes (itsdangerous JSON signed with ``SECRET_KEY``, the
dossier number readable inside) stay answerable until they expire: they are spent under
the keyed hash of their dossier like new ones, and a code of that kind spent before is
recognised by the keyed form of what was stored then (``legacy_code``; migration 0006
keyed the stored values). Once ``DOSSIER_CODE_MAX_AGE_DAYS`` have passed since that
change, no such code verifies any more and the legacy path can go.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import struct
from dataclasses import dataclass

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Desk
from survey_app.services.errors import ServiceError
from survey_app.settings import settings

SALT = "dossier-code-v2"
# Dossier references are free text in provincial one-stop systems
# (e.g. "000.00.23.H23-250101-0001"); 64 characters covers the known formats.
MAX_DOSSIER_REF = 64
# The dossier's keyed hash in a code: 128 bits tell dossiers apart and keep the QR small.
DOSSIER_ID_BYTES = 16
# A code's payload: the desk id (4 bytes, big-endian) and the dossier's keyed hash.
_PAYLOAD = struct.Struct(f">I{DOSSIER_ID_BYTES}s")
LEGACY_SALT = "dossier-code"


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


def issue(desk_code: str, dossier_ref: str) -> str:
    """A new signed code for a dossier received at a desk.

    Raises UnknownDesk for a desk that does not exist or is inactive, and
    IssueError for an empty or over-long dossier reference.
    """
    dossier_ref = dossier_ref.strip()
    if not dossier_ref:
        raise IssueError.of("dossier.ref_empty", field="dossier_ref")
    if len(dossier_ref) > MAX_DOSSIER_REF:
        raise IssueError.of("dossier.ref_too_long", field="dossier_ref", maximum=MAX_DOSSIER_REF)
    desk = db.session.scalar(select(Desk).filter_by(code=desk_code))
    if desk is None or not desk.active:
        raise UnknownDesk.of("dossier.unknown_desk", desk=desk_code)
    payload = base64.urlsafe_b64encode(_PAYLOAD.pack(desk.id, dossier_id(dossier_ref)))
    return _signer().sign(payload.rstrip(b"=")).decode("ascii")


def verify(token: str) -> DossierClaim:
    """Check a code's signature and age; raise CodeInvalid or CodeExpired.

    Only says the code is genuine and fresh; whether its dossier was already answered is
    the UNIQUE constraint's business.
    """
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


def survey_url(token: str) -> str:
    """The survey link printed (as text and QR) on the receipt."""
    return f"{settings().public_base_url}/c/{token}"
