"""Staff accounts (tài khoản cán bộ): creation, passwords, roles, disabling.

Roles:

- ``admin``: everything, including user management and the audit log;
- ``analyst``: province analyst (Sở Nội vụ), every agency, scoring and exports;
- ``officer``: an agency's officer (e.g. Văn phòng Sở), its own agency subtree,
  may import paper forms, export raw responses and issue dossier codes;
- ``viewer``: read-only, own agency subtree.

There is no default password: the first administrator is created from the CLI
(``survey-app user create-admin USERNAME``). Passwords are stored as werkzeug
hashes (scrypt).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from survey_app.extensions import db
from survey_app.models import ROLES, StaffUser
from survey_app.services import audit
from survey_app.services.organisation import agency_by_code
from survey_app.text_input import TextRefused, clean_line

MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Hash of a random password, checked when the username is unknown so that the
# response time does not reveal which usernames exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0f6c2b")

ROLE_LABELS = {
    "admin": "Quản trị hệ thống",
    "analyst": "Chuyên viên phân tích (toàn tỉnh)",
    "officer": "Cán bộ cơ quan",
    "viewer": "Chỉ xem",
}


class AccountError(ValueError):
    """An account request that cannot be carried out; the message is Vietnamese."""


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")


def normalise_username(username: str) -> str:
    return username.strip().lower()


def user_by_username(username: str) -> StaffUser | None:
    username = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(username):
        return None  # no account has such a name; a NUL is not even sent to the database
    return db.session.scalar(select(StaffUser).filter_by(username=username))


def create_user(
    username: str, password: str, role: str, agency_code: str | None = None
) -> StaffUser:
    """Create an account; officers and viewers need an agency. Audited (``user.create``)."""
    try:
        username = normalise_username(clean_line(username.strip(), "Tên đăng nhập"))
    except TextRefused as refused:
        raise AccountError(str(refused)) from None
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError(
            "Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số, '.', '_', '-' (2-64 ký tự)."
        )
    if role not in ROLES:
        raise AccountError(f"Vai trò không hợp lệ: {role!r}.")
    if user_by_username(username) is not None:
        raise AccountError(f"Tên đăng nhập {username!r} đã được dùng.")
    if role in ("officer", "viewer") and not agency_code:
        raise AccountError("Cán bộ cơ quan và người chỉ xem phải thuộc một cơ quan.")
    check_password_strength(password)
    agency = None
    if agency_code:
        try:
            agency = agency_by_code(agency_code)
        except ValueError:
            raise AccountError(f"Không có cơ quan mã {agency_code!r}.") from None
    user = StaffUser(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        agency=agency,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", username, role=role, agency=agency_code)
    return user


def authenticate(username: str, password: str) -> tuple[StaffUser | None, str]:
    """The active user with these credentials, or None; and the reason for the log.

    Reasons: ``ok``, ``unknown_user``, ``bad_password``, ``disabled``.
    """
    user = user_by_username(username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None, "unknown_user"
    if not check_password_hash(user.password_hash, password):
        return None, "bad_password"
    if not user.active:
        return None, "disabled"
    return user, "ok"


def set_active(username: str, active: bool) -> StaffUser:
    """Disable or re-enable an account (accounts are never deleted: the log names them)."""
    user = user_by_username(username)
    if user is None:
        raise AccountError(f"Không có tài khoản {username!r}.")
    user.active = active
    audit.record("user.enable" if active else "user.disable", user.username)
    return user


def set_password(username: str, password: str) -> StaffUser:
    user = user_by_username(username)
    if user is None:
        raise AccountError(f"Không có tài khoản {username!r}.")
    check_password_strength(password)
    user.password_hash = generate_password_hash(password)
    audit.record("user.password", user.username)
    return user


def all_users() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.username)))
