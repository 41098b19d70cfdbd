"""Signed API for the one-stop software (phần mềm một cửa): dossier codes for receipts, and
the dossier events a probability sample is drawn from.

``POST /api/v1/dossier-codes`` issues one code (its short code, link, QR as SVG, last
day and the line of instruction to print with them); ``POST /api/v1/dossier-slips``
issues codes for a list of dossiers and answers the PDF of their slips;
``POST /api/v1/dossier-events`` records dossiers received and returned, and answers
whether a returned one was selected for the survey, with its code and slip if it was
(services/dossier_events.py). Events are idempotent: a retried one stores nothing new and
gets the same answer. ``POST /api/v1/dossier-dispositions`` reports what became of a
selected dossier's invitation (not delivered, ineligible, eligibility unknown, delivered)
for the response rates.

The caller signs each request with the shared secret ONESTOP_API_SECRET:
``X-Signature`` = hex HMAC-SHA256 over ``f"{X-Timestamp}\\n{raw body}"``. The
timestamp bounds replays to a few minutes; a replay inside that window only
issues another harmless code for the same dossier. The blueprint is exempt
from CSRF because the HMAC authenticates it and no browser session is used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import time
from typing import Any

from flask import Blueprint, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from scoring.text import find_refused
from survey_app import localtime
from survey_app.extensions import csrf, db
from survey_app.messages import texts
from survey_app.models import CHANNELS
from survey_app.services import dossier_codes, dossier_events, sampling, slips
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


@dataclasses.dataclass(frozen=True)
class Batch:
    """The items of a signed request's JSON body: one object, or a list of them."""

    items: list[Any]
    listed: bool  # the body was a list: refusals name the item, the answer is a list
    noun: str  # what an item is called in a refusal ("event", "disposition")

    def where(self, number: int) -> str:
        """The prefix of an item's refusal: ``"event 2: "`` in a list, nothing alone."""
        return f"{self.noun} {number}: " if self.listed else ""

    def answer(self, answers: list[dict[str, Any]]) -> ResponseReturnValue:
        """The answers in the body's shape: a list for a list, else the one answer."""
        return jsonify(answers if self.listed else answers[0]), 200


def _batch(shape: str, noun: str) -> Batch | ResponseReturnValue:
    """The request's items, or its refusal: not signed (401, 503), not a JSON object or a
    non-empty list of them (400, ``shape``), more than ``slips.MAX_BATCH`` items (400)."""
    refused = _unauthorised()
    if refused is not None:
        return refused
    body: Any = request.get_json(silent=True)
    items = body if isinstance(body, list) else [body]
    if not isinstance(body, dict | list) or not items:
        return _error(400, shape)
    if len(items) > slips.MAX_BATCH:
        return _error(400, f"at most {slips.MAX_BATCH} {noun}s in one request")
    return Batch(items, isinstance(body, list), noun)


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


EVENT_FIELDS = (
    "kind",
    "dossier",
    "desk",
    "procedure_field",
    "channel",
    "received_on",
    "returned_on",
    "on_time",
)
MAX_PROCEDURE_FIELD = 255
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EVENT_SHAPE = (
    'body must be a JSON event {"kind": "received" | "returned", "dossier": "<dossier ref>", '
    '"desk": "<desk code>", "procedure_field": "<field>", "channel": "online" | "desk", '
    '"received_on": "YYYY-MM-DD", "returned_on": "YYYY-MM-DD", "on_time": true | false} '
    "or a list of them"
)


class EventRefused(Exception):
    """What is wrong with an event's form, in English."""


def _text(event: dict[str, Any], name: str, maximum: int) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip():
        raise EventRefused(f'"{name}" must be a non-empty string')
    refused = find_refused(value, multiline=False)
    if refused is not None:
        raise EventRefused(
            f'"{name}" holds a character that is not allowed ({refused.character}) at '
            f"position {refused.position}"
        )
    value = " ".join(value.split())
    if len(value) > maximum:
        raise EventRefused(f'"{name}" is longer than {maximum} characters')
    return value


def _date(event: dict[str, Any], name: str) -> dt.date:
    value = event.get(name)
    try:
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise EventRefused(f'"{name}" must be a date YYYY-MM-DD') from None
    if day > localtime.today() + dt.timedelta(days=1):
        raise EventRefused(f'"{name}" is in the future ({value})')
    return day


def _event(raw: Any) -> dossier_events.EventIn:
    """An event of the request's JSON, checked for form; EventRefused says what is wrong."""
    if not isinstance(raw, dict):
        raise EventRefused("an event must be a JSON object")
    unknown = sorted(set(raw) - set(EVENT_FIELDS))
    if unknown:
        raise EventRefused(
            f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(EVENT_FIELDS)}"
        )
    kind = raw.get("kind")
    if kind not in dossier_events.EVENT_KINDS:
        raise EventRefused('"kind" must be "received" or "returned"')
    channel = raw.get("channel")
    if channel not in CHANNELS:
        raise EventRefused('"channel" must be "online" or "desk"')
    procedure_field = _text(raw, "procedure_field", MAX_PROCEDURE_FIELD)
    if sampling.SEPARATOR.strip() in procedure_field:
        raise EventRefused('"procedure_field" may not hold "|"')
    event = dossier_events.EventIn(
        kind=kind,
        dossier_ref=_text(raw, "dossier", dossier_codes.MAX_DOSSIER_REF),
        desk_code=_text(raw, "desk", 64),
        procedure_field=procedure_field,
        channel=channel,
        received_on=_date(raw, "received_on"),
    )
    if kind == "received":
        for name in ("returned_on", "on_time"):
            if raw.get(name) is not None:
                raise EventRefused(f'"{name}" belongs to a returned event, not a received one')
        return event
    returned_on = _date(raw, "returned_on")
    if returned_on < event.received_on:
        raise EventRefused('"returned_on" is before "received_on"')
    on_time = raw.get("on_time")
    if not isinstance(on_time, bool):
        raise EventRefused('"on_time" must be true or false')
    return dataclasses.replace(event, returned_on=returned_on, on_time=on_time)


def _answer(answer: dossier_events.EventAnswer) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "kind": answer.kind,
        "campaign": answer.campaign,
        "selected": answer.selected,
    }
    if answer.slip is not None:
        shown.update(
            stratum=answer.stratum,
            inclusion_probability=answer.probability,
            code=answer.slip.code,
            url=answer.slip.url,
            qr_svg=answer.slip.qr_svg,
            last_day=answer.slip.last_day.isoformat(),
            instruction=slips.instruction(),
        )
    return shown


@bp.post("/dossier-events")
def record_dossier_events() -> ResponseReturnValue:
    """Record a dossier received or returned (or a list of them); a returned one at a desk
    of a campaign with a sampling design is selected or not, and told so."""
    batch = _batch(EVENT_SHAPE, "event")
    if not isinstance(batch, Batch):
        return batch
    events = []
    for number, raw in enumerate(batch.items):
        try:
            events.append(_event(raw))
        except EventRefused as problem:
            return _error(400, f"{batch.where(number)}{problem}")
    answers = [_answer(answer) for answer in dossier_events.record_all(events)]
    db.session.commit()
    return batch.answer(answers)


DISPOSITION_SHAPE = (
    'body must be JSON {"dossier": "<dossier ref>", "disposition": "not_delivered" | '
    '"ineligible" | "unknown" | "delivered"} or a list of them'
)


def _disposition(raw: Any) -> tuple[str, str]:
    """A disposition of the request's JSON: (dossier ref, disposition); EventRefused says
    what is wrong."""
    if not isinstance(raw, dict):
        raise EventRefused("a disposition must be a JSON object")
    unknown = sorted(set(raw) - {"dossier", "disposition"})
    if unknown:
        raise EventRefused(
            f"unknown field(s) {', '.join(unknown)}; the fields are dossier, disposition"
        )
    disposition = raw.get("disposition")
    if disposition not in dossier_events.DISPOSITIONS:
        raise EventRefused(
            '"disposition" must be one of '
            + ", ".join(f'"{d}"' for d in dossier_events.DISPOSITIONS)
        )
    return _text(raw, "dossier", dossier_codes.MAX_DOSSIER_REF), disposition


@bp.post("/dossier-dispositions")
def record_dispositions() -> ResponseReturnValue:
    """Report what became of selected dossiers' invitations (one or a list); all or none
    are stored: a refused one (400, 404, 409) names its position and stores nothing."""
    batch = _batch(DISPOSITION_SHAPE, "disposition")
    if not isinstance(batch, Batch):
        return batch
    answers = []
    for number, raw in enumerate(batch.items):
        where = batch.where(number)
        try:
            answer = dossier_events.record_disposition(*_disposition(raw))
        except EventRefused as problem:
            db.session.rollback()
            return _error(400, f"{where}{problem}")
        except ServiceError as error:
            db.session.rollback()
            with force_locale("en"):
                return _error(error.status, where + "\n".join(texts(error)))
        answers.append({"campaign": answer.campaign, "disposition": answer.disposition})
    db.session.commit()
    return batch.answer(answers)
