"""Signed API for the one-stop software (phần mềm một cửa): dossier codes for receipts.

``POST /api/v1/dossier-codes`` issues one code (its short code, link, QR as SVG, last
day and the line of instruction to print with them); ``POST /api/v1/dossier-slips``
issues codes for a list of dossiers and answers the PDF of their slips.

The caller signs each request with the shared secret ONESTOP_API_SECRET:
``X-Signature`` = hex HMAC-SHA256 over ``f"{X-Timestamp}\\n{raw body}"``. The
timestamp bounds replays to a few minutes; a replay inside that window only
issues another harmless code for the same dossier. The blueprint is exempt
from CSRF because the HMAC authenticates it and no browser session is used.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from flask import Blueprint, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from scoring.text import find_refused
from survey_app import localtime
from survey_app.extensions import csrf, db
from survey_app.messages import texts
from survey_app.services import slips
from survey_app.services.errors import ServiceError
from survey_app.settings import settings

bp = Blueprint("onestop_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_CLOCK_SKEW = 300  # seconds between the caller's clock and ours


def _error(status: int, message: str) -> ResponseReturnValue:
    return jsonify(error=message), status


@bp.errorhandler(ServiceError)
def _refused(error: ServiceError) -> ResponseReturnValue:
    """A service's refusal as ``{"error": text}`` with its status; the one-stop software
    is a program, so the text is English, as the API's other errors are."""
    db.session.rollback()
    with force_locale("en"):
        return _error(error.status, "\n".join(texts(error)))


def _signature_problem(secret: str) -> str | None:
    """Why the request is not authentic, or None when it is."""
    timestamp = request.headers.get("X-Timestamp", "")
    signature = request.headers.get("X-Signature", "")
    if not timestamp or not signature:
        return "missing X-Timestamp or X-Signature header"
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError:
        return "X-Timestamp is not unix seconds"
    if skew > MAX_CLOCK_SKEW:
        return f"X-Timestamp is more than {MAX_CLOCK_SKEW} s from the server clock"
    message = timestamp.encode() + b"\n" + request.get_data(cache=True)
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return "bad signature"
    return None


def _unauthorised() -> ResponseReturnValue | None:
    """The refusal of a request not signed with ``ONESTOP_API_SECRET``; None when it is."""
    secret = settings().onestop_api_secret
    if not secret:
        return _error(503, "dossier code API is not configured: set ONESTOP_API_SECRET")
    problem = _signature_problem(secret)
    return None if problem is None else _error(401, problem)


def _not_allowed(name: str, value: str) -> ResponseReturnValue | None:
    """The refusal of a field holding a character text may not hold; None when it holds none.

    Checked before any look-up: PostgreSQL cannot even compare a text holding a NUL.
    """
    refused = find_refused(value, multiline=False)
    if refused is None:
        return None
    return _error(
        400,
        f'"{name}" holds a character that is not allowed ({refused.character}) at '
        f"position {refused.position}",
    )


@bp.post("/dossier-codes")
def issue_dossier_code() -> ResponseReturnValue:
    """Issue a survey code for a dossier: {"desk": code, "dossier": ref} -> code, url, QR."""
    refused = _unauthorised()
    if refused is not None:
        return refused
    body: Any = request.get_json(silent=True)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("desk"), str)
        or not isinstance(body.get("dossier"), str)
    ):
        return _error(400, 'body must be JSON {"desk": "<desk code>", "dossier": "<dossier ref>"}')
    for name in ("desk", "dossier"):
        refused = _not_allowed(name, body[name])
        if refused is not None:
            return refused
    slip = slips.issue_slips(body["desk"], [body["dossier"]])[0]
    db.session.commit()
    return jsonify(
        code=slip.code,
        url=slip.url,
        qr_svg=slip.qr_svg,
        last_day=slip.last_day.isoformat(),
        instruction=slips.instruction(),
    ), 201


@bp.post("/dossier-slips")
def issue_dossier_slips() -> ResponseReturnValue:
    """A day's slips in one PDF: {"desk": code, "dossiers": [ref, ...]} -> application/pdf."""
    refused = _unauthorised()
    if refused is not None:
        return refused
    body: Any = request.get_json(silent=True)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("desk"), str)
        or not isinstance(body.get("dossiers"), list)
        or not all(isinstance(ref, str) for ref in body["dossiers"])
    ):
        return _error(
            400, 'body must be JSON {"desk": "<desk code>", "dossiers": ["<dossier ref>", ...]}'
        )
    refused = _not_allowed("desk", body["desk"])
    if refused is not None:
        return refused
    printed = slips.issue_slips(body["desk"], slips.check_refs(body["dossiers"]))
    pdf = slips.slips_pdf(printed)
    db.session.commit()
    response = make_response(pdf, 201)
    response.mimetype = "application/pdf"
    name = slips.pdf_filename(body["desk"], localtime.today())
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
