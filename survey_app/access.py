"""Who may do and see what: every check is server-side, by role and per record.

By role, with one decorator on every staff view and API route::

    from survey_app.access import READ_ROLES, campaign_or_404, role_required

    @bp.get("/campaigns/<code>/dashboard")
    @role_required(*READ_ROLES)          # any signed-in staff role
    def dashboard(code):
        campaign = campaign_or_404(code)   # per record: 404 outside the user's subtree
        ...

``role_required(*roles)`` is ``flask_login.login_required`` plus a role check: an
anonymous user is redirected to ``/staff/login?next=...``; a signed-in user whose
role is not listed gets 403. ``role_required(*roles, json=True)`` is its variant for
the JSON API: 401 and 403 with a JSON body, never a redirect or a page. In
templates, ``has_role(*roles)`` shows or hides what the role may use.

Role groups: ``READ_ROLES`` (every role), ``DATA_ROLES`` (admin, analyst,
officer: raw microdata, import, dossier codes), ``SETUP_ROLES`` (admin,
analyst, officer: desks and campaigns), ``ANALYSIS_ROLES`` (admin, analyst:
weighting settings), ``ADMIN_ROLES`` (admin: users, audit log, agencies,
questionnaire uploads).

Per record: administrators and province analysts see every agency; agency officers
and viewers see their own agency and the agencies and desks below it. A record
outside what a user may see answers 404, as if it did not exist, so ids of other
agencies cannot be probed.

Signing in starts a server-side session (``services.staff_sessions``) whose token the
session cookie carries; the loader here checks it on every request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, flash, jsonify, session
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from survey_app.extensions import db, login_manager
from survey_app.models import ROLES, Agency, Campaign, Desk, StaffUser
from survey_app.services import staff_sessions
from survey_app.services.organisation import subtree_ids
from survey_app.settings import settings

F = TypeVar("F", bound=Callable[..., Any])

READ_ROLES = ROLES
DATA_ROLES = ("admin", "analyst", "officer")
# Who may create and change desks and campaigns (an officer within the own subtree).
SETUP_ROLES = ("admin", "analyst", "officer")
ANALYSIS_ROLES = ("admin", "analyst")
ADMIN_ROLES = ("admin",)

ALL_AGENCY_ROLES = ("admin", "analyst")


ENDED_MESSAGES = {
    "idle": lazy_gettext("Phiên đăng nhập đã kết thúc vì không có thao tác trong %(idle)s phút."),
    "lifetime": lazy_gettext("Phiên đăng nhập đã kết thúc sau %(hours)s giờ."),
}


def load_user(user_id: str) -> StaffUser | None:
    """The signed-in user, if the session of the cookie still counts on the server."""
    user, ended = staff_sessions.signed_in_user(session.get("sid"), user_id)
    if user is None:
        # An ended session's cookie is emptied, so the browser stops sending it.
        session.pop("sid", None)
        session.pop("_user_id", None)
    if ended is not None:
        message = str(ENDED_MESSAGES[ended]) % {
            "idle": settings().session_idle_minutes,
            "hours": settings().session_lifetime_hours,
        }
        flash(message, "info")
    return user


login_manager.user_loader(load_user)


def role_required(*roles: str, json: bool = False) -> Callable[[F], F]:
    """Require a signed-in, active user with one of ``roles``.

    Pages: anonymous users go to the login page, other roles get 403. With ``json``
    (API routes): 401 and 403 as JSON ``{"error": ...}``. The view keeps ``roles`` as
    ``required_roles``, so a test can find a staff view that forgot the decorator.
    """

    def decorator(view: F) -> F:
        if json:

            @functools.wraps(view)
            def api_view(*args: Any, **kwargs: Any) -> Any:
                if not current_user.is_authenticated:
                    return jsonify(error=gettext("Cần đăng nhập.")), 401
                if current_user.role not in roles:
                    return jsonify(error=gettext("Không có quyền.")), 403
                return view(*args, **kwargs)

            api_view.required_roles = roles  # type: ignore[attr-defined]
            return cast(F, api_view)

        @functools.wraps(view)
        def page_view(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        guarded = login_required(page_view)
        guarded.required_roles = roles
        return cast(F, guarded)

    return decorator


def has_role(*roles: str) -> bool:
    """For templates and views: whether the current user is signed in with one of ``roles``."""
    return bool(current_user.is_authenticated and current_user.role in roles)


def visible_agency_ids(user: StaffUser) -> set[int] | None:
    """Agency ids the user may see; None means all of them."""
    if user.role in ALL_AGENCY_ROLES:
        return None
    if user.agency_id is None:
        return set()
    return subtree_ids(user.agency_id)


def can_see_agency(user: StaffUser, agency_id: int) -> bool:
    visible = visible_agency_ids(user)
    return visible is None or agency_id in visible


def agency_or_404(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).filter_by(code=code))
    if agency is None or not can_see_agency(current_user, agency.id):
        abort(404)
    return agency


def desk_or_404(code: str) -> Desk:
    desk = db.session.scalar(select(Desk).filter_by(code=code))
    if desk is None or not can_see_agency(current_user, desk.agency_id):
        abort(404)
    return desk


def can_see_campaign(user: StaffUser, campaign: Campaign) -> bool:
    """A campaign of a visible agency, or one running at a visible desk.

    A province-wide campaign is seen by a department's officer through the
    department's desks only: use ``visible_desks`` for its counts and data.
    """
    visible = visible_agency_ids(user)
    if visible is None or campaign.agency_id in visible:
        return True
    return any(desk.agency_id in visible for desk in campaign.desks)


def visible_desks(user: StaffUser, campaign: Campaign) -> list[Desk]:
    """The campaign's desks the user may see (all of them for admins and analysts)."""
    visible = visible_agency_ids(user)
    return [d for d in campaign.desks if visible is None or d.agency_id in visible]


def campaign_or_404(code: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).filter_by(code=code))
    if campaign is None or not can_see_campaign(current_user, campaign):
        abort(404)
    return campaign


def can_manage_campaign(user: StaffUser, campaign: Campaign) -> bool:
    """A campaign of an agency in the user's subtree (all of them for admins and analysts).

    Managing is narrower than seeing: a province-wide campaign that a department's
    officer sees through the department's desks is not theirs to change.
    """
    return can_see_agency(user, campaign.agency_id)


def managed_campaign_or_404(code: str) -> Campaign:
    """A campaign the user may change; 404 if not visible, 403 if visible but not theirs."""
    campaign = campaign_or_404(code)
    if not can_manage_campaign(current_user, campaign):
        abort(403)
    return campaign
