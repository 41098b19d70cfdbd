"""Administrators' pages: user accounts (tài khoản) and the audit log (nhật ký)."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from survey_app.access import ADMIN_ROLES, role_required
from survey_app.extensions import db
from survey_app.models import ROLES, Agency
from survey_app.services import accounts, audit
from survey_app.services.errors import ServiceError
from survey_app.staff import bp
from survey_app.staff.problems import flash_problems
from survey_app.text_input import checks_own_text


class NewUserForm(FlaskForm):
    username = StringField(
        lazy_gettext("Tên đăng nhập"), validators=[DataRequired(), Length(max=64)]
    )
    password = PasswordField(
        lazy_gettext(
            "Mật khẩu ban đầu (ít nhất %(count)s ký tự)", count=accounts.MIN_PASSWORD_LENGTH
        ),
        validators=[DataRequired()],
    )
    # Least privilege first, so a hurried administrator does not create another administrator.
    role = SelectField(
        lazy_gettext("Vai trò"),
        choices=[SelectChoice(r, accounts.ROLE_LABELS[r]) for r in reversed(ROLES)],
    )
    agency = SelectField(lazy_gettext("Cơ quan"), choices=[])


class UserActionForm(FlaskForm):
    """CSRF-protected button for enabling or disabling an account."""


class ResetPasswordForm(FlaskForm):
    """Đặt lại mật khẩu: empty, a random temporary password is made and shown once."""

    password = PasswordField(
        lazy_gettext(
            "Mật khẩu tạm thời do bạn đặt (để trống: hệ thống tạo ngẫu nhiên; ít nhất "
            "%(count)s ký tự)",
            count=accounts.MIN_PASSWORD_LENGTH,
        ),
        validators=[Length(max=accounts.MAX_PASSWORD_LENGTH)],
    )


def _agency_choices() -> list[SelectChoice]:
    agencies = db.session.scalars(select(Agency).order_by(Agency.code))
    return [SelectChoice("", gettext("— Không (toàn tỉnh) —"))] + [
        SelectChoice(a.code, f"{a.code} · {a.name}") for a in agencies
    ]


@bp.route("/users", methods=["GET", "POST"])
@checks_own_text("username")
@role_required(*ADMIN_ROLES)
def users() -> Response | str:
    form = NewUserForm()
    form.agency.choices = _agency_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.username.data or "",
                form.password.data or "",
                form.role.data or "",
                form.agency.data or None,
            )
        except ServiceError as error:
            db.session.rollback()
            flash_problems(error)
        else:
            db.session.commit()
            flash(gettext("Đã tạo tài khoản %(user)s.", user=user.username), "success")
            return redirect(url_for("staff.users"))
    return render_template(
        "staff/users.html",
        form=form,
        users=accounts.all_users(),
        action_form=UserActionForm(),
        nav_active="users",
    )


@bp.post("/users/<username>/<any(disable, enable):action>")
@role_required(*ADMIN_ROLES)
def user_set_active(username: str, action: str) -> Response:
    if not UserActionForm().validate_on_submit():
        flash(gettext("Phiên làm việc đã hết hạn, vui lòng thử lại."), "error")
    elif action == "disable" and accounts.normalise_username(username) == current_user.username:
        flash(gettext("Không thể tự khóa tài khoản của chính mình."), "error")
    else:
        try:
            accounts.set_active(username, action == "enable")
        except ServiceError as error:
            flash_problems(error)
        else:
            db.session.commit()
            if action == "enable":
                flash(gettext("Đã mở khóa tài khoản %(user)s.", user=username), "success")
            else:
                flash(gettext("Đã khóa tài khoản %(user)s.", user=username), "success")
    return redirect(url_for("staff.users"))


@bp.route("/users/<username>/password", methods=["GET", "POST"])
@role_required(*ADMIN_ROLES)
def user_reset_password(username: str) -> Response | str:
    """Đặt lại mật khẩu của một tài khoản: the password to hand over is shown on this answer
    only (never stored but as a hash, never in a redirect); the account's sessions end and
    its next sign-in must choose a new password."""
    user = accounts.user_by_username(username)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        flash(gettext("Để đổi mật khẩu của chính mình, hãy dùng trang này."), "info")
        return redirect(url_for("staff.change_password"))
    form = ResetPasswordForm()
    handed_over = None
    if form.validate_on_submit():
        try:
            user, handed_over = accounts.reset_password(
                user.username, form.password.data or None, current_user._get_current_object()
            )
        except ServiceError as error:
            db.session.rollback()
            flash_problems(error)
        else:
            db.session.commit()
    else:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
    response = make_response(
        render_template(
            "staff/user_password.html",
            user=user,
            form=form,
            handed_over=handed_over,
            nav_active="users",
        )
    )
    # The temporary password must not stay in a shared or back-button cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/audit")
@role_required(*ADMIN_ROLES)
def audit_log() -> str:
    action = request.args.get("action") or None
    page = request.args.get("page", 1, type=int) or 1
    events, pages = audit.page(action, page)
    return render_template(
        "staff/audit.html",
        events=events,
        pages=pages,
        page=min(max(page, 1), pages),
        action=action,
        actions=audit.actions(),
        nav_active="audit",
    )
