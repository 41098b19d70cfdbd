"""Login, logout and the own password of the staff workspace.

Who may use which view is decided by :func:`survey_app.access.role_required`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from survey_app.access import READ_ROLES, has_role, role_required
from survey_app.extensions import db
from survey_app.i18n import remember_staff_language
from survey_app.models import StaffUser
from survey_app.services import accounts, audit, staff_sessions
from survey_app.services.errors import ServiceError
from survey_app.staff import bp, login_limits
from survey_app.staff.problems import flash_problems
from survey_app.text_input import SingleLine, checks_own_text


class LoginForm(FlaskForm):
    username = StringField(
        lazy_gettext("Tên đăng nhập"),
        validators=[
            DataRequired(lazy_gettext("Vui lòng nhập tên đăng nhập.")),
            Length(max=64, message=lazy_gettext("Tên đăng nhập dài tối đa 64 ký tự.")),
            SingleLine("Tên đăng nhập"),
        ],
    )
    password = PasswordField(
        lazy_gettext("Mật khẩu"),
        validators=[
            DataRequired(lazy_gettext("Vui lòng nhập mật khẩu.")),
            Length(max=256, message=lazy_gettext("Mật khẩu dài tối đa 256 ký tự.")),
        ],
    )


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


def _throttled(username: str) -> Response:
    """Quá nhiều lần thử: a budget of staff.login_limits is spent; nothing was checked."""
    audit.record("login.throttled", None, username_tried=username[:64])
    db.session.commit()
    response = make_response(render_template("staff/429.html"), 429)
    response.headers["Retry-After"] = "60"
    return response


@bp.route("/login", methods=["GET", "POST"])
@checks_own_text("username")
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data or ""
        attempt = login_limits.begin(username)
        if attempt is None:
            return _throttled(username)
        user, reason = accounts.authenticate(username, form.password.data or "")
        if user is not None:
            login_limits.succeeded(attempt)
            _sign_in(user)
            audit.record("login.success", user.username)
            db.session.commit()
            target = _safe_next(request.args.get("next"))
            if user.must_change_password:
                target = url_for("staff.change_password")
            response = redirect(target)
            login_limits.remember_device(response, user.username)
            return response
        audit.record("login.failure", None, username_tried=username[:64], reason=reason)
        db.session.commit()
        flash(
            gettext("Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa."), "error"
        )
    elif form.is_submitted():
        for message in (*form.username.errors, *form.password.errors):
            flash(str(message), "error")
    return render_template("staff/login.html", form=form)


# The blueprints of the staff workspace (the citizen pages are another's).
STAFF_BLUEPRINTS = frozenset(("staff", "dashboard", "posters"))


class LogoutForm(FlaskForm):
    """Logout is a POST with a CSRF token, so another site cannot sign a user out."""


def _sign_in(user: StaffUser) -> None:
    """A new session for ``user`` in this browser; the caller commits.

    Nothing from before survives (session fixation): the cookie's CSRF secret, flashes
    and any key someone planted go, and the server-side session is new. Only the
    interface language chosen on the login page stays.
    """
    language = session.get("lang")
    session.clear()
    if language is not None:
        remember_staff_language(str(language))
    login_user(user)
    session["sid"] = staff_sessions.start(user)


@bp.post("/logout")
@role_required(*READ_ROLES)
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        staff_sessions.end(session.get("sid"), "logout")
        audit.record("logout", current_user.username)
        db.session.commit()
        logout_user()
        language = session.get("lang")
        session.clear()
        if language is not None:
            remember_staff_language(str(language))
        flash(gettext("Bạn đã đăng xuất."), "info")
    return redirect(url_for("staff.login"))


class PasswordForm(FlaskForm):
    current = PasswordField(
        lazy_gettext("Mật khẩu hiện tại"), validators=[DataRequired(), Length(max=256)]
    )
    new = PasswordField(
        lazy_gettext("Mật khẩu mới (ít nhất %(count)s ký tự)", count=accounts.MIN_PASSWORD_LENGTH),
        validators=[DataRequired(), Length(max=256)],
    )
    confirm = PasswordField(
        lazy_gettext("Nhập lại mật khẩu mới"),
        validators=[
            DataRequired(),
            EqualTo("new", lazy_gettext("Hai lần nhập mật khẩu mới không khớp.")),
        ],
    )


@bp.route("/account/password", methods=["GET", "POST"])
@role_required(*READ_ROLES)
def change_password() -> Response | str:
    """Đổi mật khẩu: every other session of the account ends; this browser goes on."""
    form = PasswordForm()
    if request.method == "GET" and current_user.must_change_password:
        flash(str(MUST_CHANGE_MESSAGE), "info")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # Guessing the current password from a stolen session is throttled as a login is.
        attempt = login_limits.begin(user.username)
        if attempt is None:
            return _throttled(user.username)
        try:
            accounts.change_own_password(user, form.current.data or "", form.new.data or "")
        except accounts.WrongPassword as error:
            db.session.rollback()
            audit.record("user.password.failure", user.username)
            db.session.commit()
            flash_problems(error)
        except ServiceError as error:
            db.session.rollback()
            login_limits.succeeded(attempt)  # the current password was right
            flash_problems(error)
        else:
            login_limits.succeeded(attempt)
            _sign_in(user)
            db.session.commit()
            flash(
                gettext("Đã đổi mật khẩu. Các phiên đăng nhập khác của tài khoản đã kết thúc."),
                "success",
            )
            return redirect(url_for("staff.home"))
    for messages in form.errors.values():
        for message in messages:
            flash(str(message), "error")
    return render_template("staff/password.html", form=form)


MUST_CHANGE_MESSAGE = lazy_gettext(
    "Mật khẩu của bạn vừa được quản trị viên đặt lại: hãy đặt mật khẩu mới của riêng bạn "
    "trước khi tiếp tục."
)
# What an account that must change its password may still use.
WHILE_MUST_CHANGE = frozenset(
    ("staff.change_password", "staff.logout", "staff.switch_language", "staff.login")
)


@bp.before_app_request
def _password_change_first() -> Response | tuple[Response, int] | None:
    """An account whose password an administrator reset uses nothing of the staff workspace
    but the password page (and logout, language) until it has chosen its own; the password
    page says why."""
    endpoint = request.endpoint or ""
    if endpoint in WHILE_MUST_CHANGE or endpoint.split(".")[0] not in STAFF_BLUEPRINTS:
        return None
    if not (current_user.is_authenticated and current_user.must_change_password):
        return None
    if endpoint.startswith("dashboard.api_"):
        return jsonify(error=str(MUST_CHANGE_MESSAGE)), 403
    return redirect(url_for("staff.change_password"))


@bp.app_context_processor
def staff_helpers() -> dict[str, Any]:
    return {
        "has_role": has_role,
        # Never from the request's form: an error page (413) must render without reading it.
        "logout_form": lambda: LogoutForm(formdata=None),
        "role_labels": accounts.ROLE_LABELS,
    }
