"""The app's settings, typed: read here, once, instead of ``int(str(config[...]))`` at each use.

:class:`Settings` is a live view of ``app.config`` (``survey_app.config`` reads the
environment into it): a setting changed on a running app, as tests do, applies at once.
:func:`init_app` reads every setting once at start-up, so a bad value stops the app
with a message naming it instead of failing some request later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from flask import Flask, current_app
from limits import parse_many

from survey_app.config import ConfigError
from survey_app.services.paper_files import Budgets


class Settings:
    """Typed access to one app's configuration."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def _text(self, name: str) -> str:
        value = self._config.get(name)
        if value is None:
            raise ConfigError(f"{name} is not set")
        return str(value)

    def _optional_text(self, name: str) -> str | None:
        value = self._config.get(name)
        return str(value) if value not in (None, "") else None

    def _integer(self, name: str, minimum: int = 0) -> int:
        value = self._config.get(name)
        try:
            number = int(str(value))
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
        if number < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {number}")
        return number

    def _rate_limits(self, name: str) -> str:
        """Limits in flask-limiter's syntax ("30 per minute;300 per hour"), checked."""
        return _checked_limits(name, self._text(name))

    def _flag(self, name: str, default: bool) -> bool:
        value = self._config.get(name, default)
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)

    # ---------------------------------------------------------------- addresses and secrets
    @property
    def public_base_url(self) -> str:
        """Where citizens reach the app, without a trailing slash (posters, dossier links)."""
        return self._text("PUBLIC_BASE_URL").rstrip("/")

    @property
    def dossier_code_key(self) -> str:
        return self._text("DOSSIER_CODE_KEY")

    @property
    def secret_key(self) -> str:
        return self._text("SECRET_KEY")

    @property
    def client_hash_salt(self) -> str:
        return self._text("CLIENT_HASH_SALT")

    @property
    def onestop_api_secret(self) -> str | None:
        return self._optional_text("ONESTOP_API_SECRET")

    @property
    def trusted_proxies(self) -> int:
        return self._integer("TRUSTED_PROXIES")

    @property
    def timezone(self) -> str:
        return self._text("TIMEZONE")

    # ---------------------------------------------------------------- lifetimes
    @property
    def dossier_code_max_age(self) -> dt.timedelta:
        return dt.timedelta(days=self._integer("DOSSIER_CODE_MAX_AGE_DAYS", minimum=1))

    @property
    def survey_cache_seconds(self) -> int:
        """Seconds each process keeps where a poster or dossier link lands."""
        return self._integer("SURVEY_CACHE_SECONDS")

    @property
    def session_idle_minutes(self) -> int:
        return self._integer("SESSION_IDLE_MINUTES", minimum=1)

    @property
    def session_lifetime_hours(self) -> int:
        return self._integer("SESSION_LIFETIME_HOURS", minimum=1)

    @property
    def analysis_cache_dir(self) -> str | None:
        """Where analysis keeps responses on disk; None keeps them in memory only."""
        return self._optional_text("ANALYSIS_CACHE_DIR")

    # ---------------------------------------------------------------- limits
    @property
    def max_content_length(self) -> int:
        return self._integer("MAX_CONTENT_LENGTH", minimum=1)

    @property
    def paper_budgets(self) -> Budgets:
        """What one paper file may hold (survey_app.services.paper_files)."""
        return Budgets(
            rows=self._integer("PAPER_MAX_ROWS", minimum=1),
            columns=self._integer("PAPER_MAX_COLUMNS", minimum=1),
            cells=self._integer("PAPER_MAX_CELLS", minimum=1),
            unpacked_bytes=self._integer("PAPER_MAX_UNPACKED_BYTES", minimum=1),
        )

    @property
    def rate_limits_enabled(self) -> bool:
        return self._flag("RATELIMIT_ENABLED", True)

    @property
    def rate_limit_key_prefix(self) -> str:
        return self._optional_text("RATELIMIT_KEY_PREFIX") or ""

    @property
    def rate_limit_client(self) -> str:
        return self._rate_limits("RATELIMIT_CLIENT")

    @property
    def rate_limit_submit(self) -> str:
        return self._rate_limits("RATELIMIT_SUBMIT")

    @property
    def rate_limit_desk(self) -> str:
        return self._rate_limits("RATELIMIT_DESK")

    @property
    def rate_limit_form(self) -> str:
        return self._rate_limits("RATELIMIT_FORM")

    @property
    def rate_limit_refused(self) -> str:
        return self._rate_limits("RATELIMIT_REFUSED")

    @property
    def rate_limit_code_misses(self) -> str:
        return self._text("RATELIMIT_CODE_MISSES")

    @property
    def rate_limit_login(self) -> str:
        return self._rate_limits("RATELIMIT_LOGIN")

    # ---------------------------------------------------------------- cookies
    @property
    def session_cookie_name(self) -> str:
        return self._text("SESSION_COOKIE_NAME")

    @property
    def session_cookie_secure(self) -> bool:
        return self._flag("SESSION_COOKIE_SECURE", False)


@lru_cache(maxsize=64)
def _checked_limits(name: str, value: str) -> str:
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be limits such as '30 per minute;300 per hour', not {value!r}"
        ) from None
    return value


_PROPERTIES = tuple(name for name, value in vars(Settings).items() if isinstance(value, property))


def init_app(app: Flask) -> Settings:
    """Keep the app's settings at ``app.extensions["settings"]``, each read once now."""
    view = Settings(app.config)
    for name in _PROPERTIES:
        getattr(view, name)
    app.extensions["settings"] = view
    return view


def settings() -> Settings:
    """The current app's settings."""
    return current_app.extensions["settings"]  # type: ignore[no-any-return]
