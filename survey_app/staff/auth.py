"""Login, logout and the access decorators of the staff workspace.

Use in any staff view (also the dashboard's)::

    from survey_app.staff.auth import READ_ROLES, role_required

    @bp.get("/campaigns/<code>/dashboard")
    @role_required(*READ_ROLES)          # any signed-in staff role
    def dashboard(code):
        campaign = access.campaign_or_404(code)   # per record: 404 outside the user's subtree
        ...

``role_required(*roles)`` is ``flask_login.login_required`` plus a role check:
an anonymous user is redirected to ``/staff/login?next=...``; a signed-in user
whose role is not listed gets 403. Per-record checks (another agency's desk,
campaign, submission) are done with ``survey_app.access`` and answer 404.

Role groups: ``READ_ROLES`` (every role), ``DATA_ROLES`` (admin, analyst,
officer: raw microdata, import, dossier codes), ``SETUP_ROLES`` (admin,
analyst, officer: desks and campaigns), ``ANALYSIS_ROLES`` (admin, analyst:
weighting settings), ``ADMIN_ROLES`` (admin: users, audit log, agencies,
questionnaire uploads).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from survey_app.extensions import db, limiter
from survey_app.services import accounts, audit
from survey_app.staff import bp
from survey_app.text_input import SingleLine, checks_own_text

F = TypeVar("F", bound=Callable[..., Any])

READ_ROLES = ("admin", "analyst", "officer", "viewer")
DATA_ROLES = ("admin", "analyst", "officer")
# Who may create and change desks and campaigns (an officer within the own subtree).
SETUP_ROLES = ("admin", "analyst", "officer")
ANALYSIS_ROLES = ("admin", "analyst")
ADMIN_ROLES = ("admin",)


def role_required(*roles: str) -> Callable[[F], F]:
    """Require a signed-in, active user with one of ``roles`` (403 otherwise)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


def has_role(*roles: str) -> bool:
    """For templates: whether the current user has one of ``roles``."""
    return bool(current_user.is_authenticated and current_user.role in roles)


class LoginForm(FlaskForm):
    username = StringField(
        "Tên đăng nhập",
        validators=[
            DataRequired("Vui lòng nhập tên đăng nhập."),
            Length(max=64, message="Tên đăng nhập dài tối đa 64 ký tự."),
            SingleLine("Tên đăng nhập"),
        ],
    )
    password = PasswordField(
        "Mật khẩu",
        validators=[
            DataRequired("Vui lòng nhập mật khẩu."),
            Length(max=256, message="Mật khẩu dài tối đa 256 ký tự."),
        ],
    )


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _username_key() -> str:
    # Per account, whatever the address: spreading guesses over many clients still stops.
    return "login-user:" + accounts.normalise_username(request.form.get("username", ""))[:64]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an absolute or scheme-relative URL would be an open redirect."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and (not target.startswith("//"))
        ):
            return target
    return url_for("staff.home")


@bp.route("/login", methods=["GET", "POST"])
@checks_own_text("username")
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key)
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data or ""
        user, reason = accounts.authenticate(username, form.password.data or "")
        if user is not None:
            login_user(user)
            audit.record("login.success", user.username)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        audit.record("login.failure", None, username_tried=username[:64], reason=reason)
        db.session.commit()
        flash("Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa.", "error")
    elif form.is_submitted():
        for message in (*form.username.errors, *form.password.errors):
            flash(str(message), "error")
    return render_template("staff/login.html", form=form)


class LogoutForm(FlaskForm):
    """Logout is a POST with a CSRF token, so another site cannot sign a user out."""


@bp.post("/logout")
@login_required
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        audit.record("logout", current_user.username)
        db.session.commit()
        logout_user()
        flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("staff.login"))


@bp.errorhandler(RateLimitExceeded)
def throttled(error: RateLimitExceeded) -> tuple[str, int]:
    if request.endpoint == "staff.login":
        audit.record("login.throttled", None, username_tried=request.form.get("username", "")[:64])
        db.session.commit()
    return render_template("staff/429.html"), 429


@bp.app_context_processor
def staff_helpers() -> dict[str, Any]:
    return {
        "has_role": has_role,
        "logout_form": LogoutForm,
        "role_labels": accounts.ROLE_LABELS,
    }
