"""Staff accounts (tài khoản cán bộ): creation, passwords, roles, disabling.

Roles:

- ``admin``: everything, including user management and the audit log;
- ``analyst``: province analyst (Sở Nội vụ), every agency, scoring and exports;
- ``officer``: an agency's officer (e.g. Văn phòng Sở), its own agency subtree,
  may import paper forms, export raw responses and issue dossier codes;
- ``viewer``: read-only, own agency subtree.

There is no default password: the first administrator is created from the CLI
(``survey-app user create-admin USERNAME``). Passwords are stored as werkzeug
hashes (scrypt). A new password or a disabled account ends every session of the
account (``services.staff_sessions``), so a copied session cookie opens nothing.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import unicodedata
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from survey_app.extensions import db
from survey_app.messages.accounts import WEAK_PATTERNS
from survey_app.messages.text import USERNAME
from survey_app.models import ROLES, StaffUser
from survey_app.services import audit, staff_sessions
from survey_app.services.errors import ServiceError
from survey_app.services.organisation import agency_by_code
from survey_app.text_input import clean_line

MIN_PASSWORD_LENGTH = 10
# The login form's limit: a longer password could be set but never used.
MAX_PASSWORD_LENGTH = 256
MIN_PASSWORD_SCORE = 3
MIN_DISTINCT_CHARACTERS = 5  # fewer in 10 characters is a repetition, whichever characters
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; what follows is only more guessing
# Names this application shows on every page, folded as _folded() does.
APP_WORDS = ("sipas", "papi", "cchc", "khaosat", "hailong", "motcua")
# Vietnamese words common in passwords that zxcvbn's English lists do not have.
COMMON_WORDS = ("matkhau", "anhyeuem", "emyeuanh", "vietnam", "hanoi", "saigon", "quantri")
_ZXCVBN_LOCK = threading.Lock()
TEMPORARY_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Hash of a random password, checked when the username is unknown so that the
# response time does not reveal which usernames exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0f6c2b")

ROLE_LABELS = {
    "admin": lazy_gettext("Quản trị hệ thống"),
    "analyst": lazy_gettext("Chuyên viên phân tích (toàn tỉnh)"),
    "officer": lazy_gettext("Cán bộ cơ quan"),
    "viewer": lazy_gettext("Chỉ xem"),
}


class AccountError(ServiceError):
    """An account request that cannot be carried out (codes ``account.*``)."""


class WrongPassword(AccountError):
    """The current password given to change one's own password is not the account's: the
    caller counts it as a failed login."""


def _folded(text: str) -> str:
    """Lower case letters and digits only, Vietnamese marks taken off: "Khảo sát" -> "khaosat"."""
    text = unicodedata.normalize("NFKD", text.lower().replace("đ", "d"))
    return re.sub(r"[^a-z0-9]", "", text)


def check_password_strength(password: str, username: str) -> None:
    """Refuse a password that is short, common, a pattern, or made of the account's or the
    application's own words; the problem says which.

    The guess estimate is zxcvbn's (Dropbox's algorithm: frequency lists of common
    passwords, words and names; repeats, sequences, keyboard runs, dates, l33t), told the
    username and the words of this application; a password needs an estimate of at least
    10^8 guesses (zxcvbn score 3), beyond the reach of an online attacker under the login
    limits and costly offline against scrypt.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError.of("account.password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError.of("account.password_too_long", maximum=MAX_PASSWORD_LENGTH)
    if any(unicodedata.category(c) == "Cc" for c in password):
        raise AccountError.of("account.password_control")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise AccountError.of("account.password_repeats")
    folded, name = _folded(password), _folded(username)
    if len(name) >= 3 and name in folded:
        raise AccountError.of("account.password_has_username")
    for word in APP_WORDS:
        if word in folded:
            raise AccountError.of("account.password_has_app_word", word=word)
    with _ZXCVBN_LOCK:  # zxcvbn keeps the inputs of a call in a module-level dictionary
        estimate = zxcvbn(password[:ZXCVBN_MAX_LENGTH], [username, *APP_WORDS, *COMMON_WORDS])
    if estimate["score"] < MIN_PASSWORD_SCORE:
        weakest = max(estimate["sequence"], key=lambda match: len(match["token"]))
        reason = WEAK_PATTERNS.get(weakest["pattern"], WEAK_PATTERNS["bruteforce"])
        raise AccountError.of("account.password_guessable", reason=reason)


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
    username = normalise_username(clean_line(username.strip(), USERNAME, field="username"))
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError.of("account.username_invalid", field="username")
    if role not in ROLES:
        raise AccountError.of("account.role_invalid", field="role", role=role)
    if user_by_username(username) is not None:
        raise AccountError.of("account.username_taken", field="username", username=username)
    if role in ("officer", "viewer") and not agency_code:
        raise AccountError.of("account.agency_required", field="agency")
    check_password_strength(password, username)
    agency = None
    if agency_code:
        try:
            agency = agency_by_code(agency_code)
        except ServiceError:
            raise AccountError.of(
                "account.agency_unknown", field="agency", agency=agency_code
            ) from None
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
        raise AccountError.of("account.unknown", username=username)
    user.active = active
    if active:
        audit.record("user.enable", user.username)
    else:
        ended = staff_sessions.end_all(user, "disabled")
        audit.record("user.disable", user.username, sessions_ended=ended)
    return user


def set_password(username: str, password: str) -> StaffUser:
    """The command line's new password for an account (its operator chose it knowingly)."""
    user = user_by_username(username)
    if user is None:
        raise AccountError.of("account.unknown", username=username)
    _replace_password(user, password)
    return user


def temporary_password() -> str:
    """A random password to hand over once: 16 letters and digits in groups of four, without
    the look-alikes 0/O, 1/l/I (read aloud or copied by hand). 80 bits: zxcvbn's best score."""
    while True:
        groups = ["".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4)]
        password = "-".join(groups)
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def reset_password(username: str, password: str | None, by: StaffUser) -> tuple[StaffUser, str]:
    """An administrator's reset of another account's password (đặt lại mật khẩu): the one
    typed, or a random temporary one when ``password`` is empty. The account must choose a
    new password at its next sign-in, and every session of it ends now. Audited
    (``user.password.reset``, with the sessions ended). Returns the account and the password
    to hand over, which is stored nowhere but as a hash."""
    user = user_by_username(username)
    if user is None:
        raise AccountError.of("account.unknown", username=username)
    if user.id == by.id:
        raise AccountError.of("account.reset_own")
    temporary = not password
    password = password or temporary_password()
    _replace_password(user, password, event="user.password.reset", temporary=temporary)
    user.must_change_password = True
    return user, password


def change_own_password(user: StaffUser, current: str, new: str) -> None:
    """A signed-in user's new password; the current one must be given."""
    if not check_password_hash(user.password_hash, current):
        raise WrongPassword.of("account.wrong_password", field="current")
    if new == current:
        raise AccountError.of("account.password_unchanged", field="new")
    _replace_password(user, new)


def _replace_password(
    user: StaffUser, password: str, *, event: str = "user.password", temporary: bool | None = None
) -> None:
    check_password_strength(password, user.username)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = False
    ended = staff_sessions.end_all(user, "password")
    detail: dict[str, Any] = {"sessions_ended": ended}
    if temporary is not None:
        detail["temporary"] = temporary
    audit.record(event, user.username, **detail)


def all_users() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.username)))
