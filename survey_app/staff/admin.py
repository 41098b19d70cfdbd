"""Administrators' pages: user accounts (tài khoản) and the audit log (nhật ký)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
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
