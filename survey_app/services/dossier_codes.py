"""Single-use dossier codes (mã hồ sơ): a signed survey link printed on a receipt.

The one-stop software (phần mềm một cửa) asks for a code when it hands a
citizen the receipt of a dossier (phiếu hẹn trả kết quả). The code is a signed,
timestamped token naming the desk and the dossier; it needs no database row,
so issuing it costs nothing and forging it is impossible without SECRET_KEY.

A code is spent by the submission that stores ``DossierClaim.code`` in the
UNIQUE column ``submissions.dossier_code`` (see services/submissions.py), in the
same transaction as the answers, so two phones racing with one receipt store
one submission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Desk

SALT = "dossier-code"
# Dossier references are free text in provincial one-stop systems
# (e.g. "000.00.23.H23-250101-0001"); 64 characters covers the known formats.
MAX_DOSSIER_REF = 64
NONCE_BYTES = 6


class DossierCodeError(Exception):
    """A dossier code that cannot be used to answer the survey."""


class CodeInvalid(DossierCodeError):
    """Forged, tampered with, truncated or otherwise malformed."""


class CodeExpired(DossierCodeError):
    """Genuine but older than DOSSIER_CODE_MAX_AGE_DAYS."""


class IssueError(ValueError):
    """A code cannot be issued for this request, with the reason."""


class UnknownDesk(IssueError):
    """No active desk has this code."""


@dataclass(frozen=True)
class DossierClaim:
    """What a verified dossier code says: which desk received which dossier, and when."""

    desk_code: str
    dossier_ref: str
    nonce: str
    issued_at: dt.datetime

    @property
    def code(self) -> str:
        """Stable id of this issued code, stored in Submission.dossier_code (spent once).

        The random nonce makes it unique per issue, so re-issuing a code for the
        same dossier (a reprinted receipt) gives a new, separately spendable code.
        """
        material = "\n".join((self.nonce, self.desk_code, self.dossier_ref))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    # Compact JSON keeps the token, and so the QR on the receipt, small.
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=SALT,
        serializer_kwargs={"separators": (",", ":"), "ensure_ascii": False},
    )


def issue(desk_code: str, dossier_ref: str) -> str:
    """A new signed code for a dossier received at a desk.

    Raises UnknownDesk for a desk that does not exist or is inactive, and
    IssueError for an empty or over-long dossier reference.
    """
    dossier_ref = dossier_ref.strip()
    if not dossier_ref:
        raise IssueError("dossier reference is empty")
    if len(dossier_ref) > MAX_DOSSIER_REF:
        raise IssueError(f"dossier reference is longer than {MAX_DOSSIER_REF} characters")
    desk = db.session.scalar(select(Desk).filter_by(code=desk_code))
    if desk is None or not desk.active:
        raise UnknownDesk(f"no active desk with code {desk_code!r}")
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    return _serializer().dumps([desk.code, dossier_ref, nonce])


def verify(token: str) -> DossierClaim:
    """Check a code's signature and age; raise CodeInvalid or CodeExpired.

    Only says the code is genuine and fresh; whether it was already spent is
    the UNIQUE constraint's business.
    """
    max_age = int(current_app.config["DOSSIER_CODE_MAX_AGE_DAYS"]) * 86400
    try:
        payload, signed_at = _serializer().loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as error:
        raise CodeExpired("dossier code has expired") from error
    except (BadData, UnicodeError, ValueError, json.JSONDecodeError) as error:
        raise CodeInvalid("dossier code is not valid") from error
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(isinstance(part, str) and part for part in payload)
    ):
        raise CodeInvalid("dossier code is not valid")
    desk_code, dossier_ref, nonce = payload
    return DossierClaim(desk_code, dossier_ref, nonce, signed_at)


def survey_url(token: str) -> str:
    """The survey link printed (as text and QR) on the receipt."""
    return f"{str(current_app.config['PUBLIC_BASE_URL']).rstrip('/')}/c/{token}"
