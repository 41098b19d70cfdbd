"""Audit log (nhật ký hệ thống): who did what, and when.

``record(action, target, **detail)`` adds an ``AuditEvent`` to the session; the
caller's request (or CLI command) commits it together with the change it
describes, so a rolled-back change leaves no misleading event behind.

Actions in use (``area.verb``): ``login.success``, ``login.failure``,
``login.throttled``, ``logout``, ``session.expire``, ``user.create``, ``user.disable``,
``user.enable``, ``user.password``, ``user.password.failure``, ``export.responses``,
``import.paper``,
``import.paper.rejected``, ``dossier_code.issue``, ``dossier_code.issue_slips`` (desk and
count only, never dossier numbers), ``weighting.change``
(dashboard), ``questionnaire.loaded``, ``questionnaire.replaced``,
``questionnaire.rejected``, ``agency.create``, ``desk.create``, ``desk.rename``,
``desk.deactivate``, ``desk.activate``, ``campaign.create``, ``campaign.edit``,
``plan.create``, ``plan.row.add``, ``plan.row.edit``, ``plan.row.delete``, ``export.plan``,
``sampling.design`` (the fields changed, with their old and new values),
``comment.handled``, ``comment.unhandled``, ``export.comments``...
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, StaffUser

CLI_USER = "cli"
PAGE_SIZE = 50


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    action: str,
    target: str | None = None,
    *,
    actor: StaffUser | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event for the current user (or ``actor``); the caller commits.

    Outside a request (the ``survey-app`` CLI) the user is recorded as ``cli``.
    Never pass passwords, tokens or dossier codes in ``detail``.
    """
    user: StaffUser | None = actor
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    if user is not None:
        username: str | None = user.username
    elif not has_request_context():
        username = CLI_USER
    else:
        username = None
    event = AuditEvent(
        user_id=user.id if user is not None else None,
        username=username,
        action=action,
        target=target,
        detail=_json_safe(detail),
    )
    db.session.add(event)
    return event


def actions() -> list[str]:
    """Distinct actions present in the log, for the filter list."""
    query = select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(db.session.scalars(query))


def page(action: str | None, number: int, size: int = PAGE_SIZE) -> tuple[list[AuditEvent], int]:
    """One page of events, newest first, optionally of one action; and the page count."""
    query = select(AuditEvent)
    count = select(func.count(AuditEvent.id))
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    total = db.session.scalar(count) or 0
    pages = max(1, -(-total // size))
    number = min(max(1, number), pages)
    events = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((number - 1) * size)
        .limit(size)
    ).all()
    return list(events), pages
