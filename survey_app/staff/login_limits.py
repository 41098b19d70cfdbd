"""Throttling of password checks (login, own password change): only failures count, and a
stranger cannot lock an official out of their usual browser.

Each attempt takes one from two budgets of ``RATELIMIT_LOGIN`` (default 5 per minute)
before the password is checked, so parallel guesses cannot overrun them; a successful
attempt gives both back. So only failures count, in these budgets:

- per client address (its salted hash): guessing at many accounts from one place is
  slowed, while an office behind one address signs in as often as it needs;
- per account, split by browser: a browser that signed in to the account before carries
  a signed device cookie naming the account and has a budget of its own; every other
  browser shares the account's budget. Guessing at an account from anywhere, on as many
  addresses as one likes, stays at 5 a minute and uses up only that shared budget: the
  official still signs in from their usual browser (OWASP's "device cookies"). A stolen
  device cookie buys its holder no more than 5 a minute of its own.

The budgets live in the rate-limit storage (``RATELIMIT_STORAGE_URI``), counted in
fixed windows whatever ``RATELIMIT_STRATEGY`` says, since a refund is a negative hit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many
from limits.strategies import FixedWindowRateLimiter
from werkzeug.wrappers import Response as BaseResponse

from survey_app.extensions import limiter
from survey_app.privacy import client_key
from survey_app.services.accounts import normalise_username
from survey_app.settings import settings

DEVICE_COOKIE = "login_device"
DEVICE_DAYS = 180
# Accounts one browser is remembered for (a shared office computer).
DEVICE_ACCOUNTS = 10


@dataclass
class Attempt:
    """The budget entries one attempt took, to give back if it succeeds."""

    taken: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="login-device")  # type: ignore[arg-type]


def _device() -> tuple[str, list[str]]:
    """This browser's device id and the accounts it signed in to; a new id if none."""
    try:
        data = _serializer().loads(
            request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400
        )
        device, usernames = data["id"], data["users"]
        if isinstance(device, str) and all(isinstance(u, str) for u in usernames):
            return device, list(usernames)
    except (BadData, KeyError, TypeError):
        pass
    return secrets.token_urlsafe(16), []


def _budgets(username: str) -> list[str]:
    username = normalise_username(username)[:64]
    device, usernames = _device()
    account = f"device:{device}:{username}" if username in usernames else f"account:{username}"
    return [f"login-client:{client_key()}", f"login-{account}"]


def _limiter() -> FixedWindowRateLimiter | None:
    if not settings().rate_limits_enabled:
        return None
    return FixedWindowRateLimiter(limiter.storage)


def _give_back(
    strategy: FixedWindowRateLimiter, taken: list[tuple[RateLimitItem, tuple[str, ...]]]
) -> None:
    for item, identifiers in taken:
        strategy.hit(item, *identifiers, cost=-1)


def begin(username: str) -> Attempt | None:
    """Take this attempt from its budgets before the password is checked; None (nothing
    taken) when one of them is spent."""
    strategy = _limiter()
    attempt = Attempt()
    if strategy is None:
        return attempt
    prefix = settings().rate_limit_key_prefix
    for item in parse_many(settings().rate_limit_login):
        for budget in _budgets(username):
            identifiers = (prefix, budget) if prefix else (budget,)
            attempt.taken.append((item, identifiers))
            if not strategy.hit(item, *identifiers):
                _give_back(strategy, attempt.taken)
                return None
    return attempt


def succeeded(attempt: Attempt) -> None:
    """The password was right: the attempt does not count."""
    strategy = _limiter()
    if strategy is not None:
        _give_back(strategy, attempt.taken)


def remember_device(response: BaseResponse, username: str) -> None:
    """After a successful login: this browser gets (or keeps) its own budget for the account."""
    device, usernames = _device()
    usernames = [u for u in usernames if u != username][-(DEVICE_ACCOUNTS - 1) :] + [username]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps({"id": device, "users": usernames}),
        max_age=DEVICE_DAYS * 86400,
        path="/staff/",
        secure=settings().session_cookie_secure,
        httponly=True,
        samesite="Strict",
    )
