"""survey_app.settings: typed settings, read once at start-up so a bad value stops the app."""

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask

from survey_app.config import ConfigError
from survey_app.settings import Settings, settings


def test_settings_are_typed(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        PUBLIC_BASE_URL="https://khaosat.example.vn/",
        SESSION_IDLE_MINUTES="45",
        DOSSIER_CODE_MAX_AGE_DAYS=7,
        RATELIMIT_ENABLED="false",
    )
    with app.app_context():
        view = settings()
        assert view.public_base_url == "https://khaosat.example.vn"
        assert view.session_idle_minutes == 45
        assert view.dossier_code_max_age == dt.timedelta(days=7)
        assert view.rate_limits_enabled is False
        assert view.onestop_api_secret is None


def test_a_setting_changed_on_a_running_app_applies(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with app.app_context():
        app.config["SURVEY_CACHE_SECONDS"] = 5
        assert settings().survey_cache_seconds == 5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SESSION_IDLE_MINUTES", "half an hour", "SESSION_IDLE_MINUTES must be a whole number"),
        ("SESSION_LIFETIME_HOURS", 0, "SESSION_LIFETIME_HOURS must be at least 1"),
        ("TRUSTED_PROXIES", -1, "TRUSTED_PROXIES must be at least 0"),
        ("MAX_CONTENT_LENGTH", "1e6", "MAX_CONTENT_LENGTH must be a whole number"),
        ("RATELIMIT_FORM", "lots", "RATELIMIT_FORM must be limits such as"),
        ("RATELIMIT_REFUSED", "10 a minute", "RATELIMIT_REFUSED must be limits such as"),
    ],
)
def test_a_bad_value_stops_the_app_naming_the_setting(
    make_app: Callable[..., Flask], name: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        make_app(**{name: value})


def test_a_missing_required_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL is not set"):
        _ = Settings({}).public_base_url
