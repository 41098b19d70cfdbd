"""Staff sign-in sessions kept on the server (phiên đăng nhập), so that they can be ended.

The signed session cookie carries a random token (``session["sid"]``); the
``staff_sessions`` table keeps its sha256, the user, when the session began and was last
seen, and when and why it ended. A request's session counts while it has not ended, was
seen within ``SESSION_IDLE_MINUTES`` and began within ``SESSION_LIFETIME_HOURS``, and its
user is active. Logout, a password change (own, by an administrator, from the command
line) and disabling the account end sessions; a copied cookie then opens nothing.

``last_seen_at`` is written at most once a ``TOUCH_INTERVAL``, so page views do not each
write to the database; the idle timeout is therefore exact to within that minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from survey_app.extensions import db
from survey_app.models import StaffSession, StaffUser, utcnow
from survey_app.services import audit
from survey_app.settings import settings

TOUCH_INTERVAL = dt.timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle() -> dt.timedelta:
    return dt.timedelta(minutes=settings().session_idle_minutes)


def _lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings().session_lifetime_hours)


def start(user: StaffUser) -> str:
    """A new session of ``user``: its token, for the session cookie. The caller commits.

    The user's sessions that ended or outlived the lifetime are deleted here: the audit
    log keeps what happened, the table only what may still count.
    """
    now = utcnow()
    db.session.execute(
        delete(StaffSession).where(
            StaffSession.user_id == user.id,
            or_(StaffSession.ended_at.is_not(None), StaffSession.created_at < now - _lifetime()),
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(token_hash=_digest(token), user=user, created_at=now, last_seen_at=now)
    )
    return token


def signed_in_user(token: str | None, user_id: str) -> tuple[StaffUser | None, str | None]:
    """The user of a request's session (None when it ended, expired or is another's), and
    why it ended if this request found it past a timeout (``idle``, ``lifetime``).

    A session found past a timeout is ended here (``session.expire`` in the audit log);
    when nothing else is pending in the database session, that and a refreshed
    ``last_seen_at`` are committed at once (the loader runs first in a request, and a
    page that only reads commits nothing); otherwise they go with the request's commit.
    """
    if not token:
        return None, None
    pending = bool(db.session.new or db.session.dirty or db.session.deleted)
    row = db.session.scalar(
        select(StaffSession)
        .options(joinedload(StaffSession.user))
        .filter_by(token_hash=_digest(token))
    )
    if row is None or row.ended_at is not None or str(row.user_id) != user_id:
        return None, None
    user = row.user
    if not user.active:
        return None, None  # ended by set_active; or disabled in the database directly
    now = utcnow()
    if now - row.created_at >= _lifetime():
        reason = "lifetime"
    elif now - row.last_seen_at >= _idle():
        reason = "idle"
    elif now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        reason = None
    else:
        return user, None
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        audit.record("session.expire", user.username, actor=user, reason=reason)
    if not pending:
        db.session.commit()
    return (None, reason) if reason is not None else (user, None)


def end(token: str | None, reason: str) -> None:
    """End one session (logout). The caller commits."""
    if token:
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _digest(token), StaffSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )


def end_all(user: StaffUser, reason: str) -> int:
    """End every session of ``user`` (password change, disabling); how many were open."""
    result = db.session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
