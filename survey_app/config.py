"""Configuration from environment variables, with safe defaults for a laptop.

Every setting can be given as an environment variable of the same name.
"""

import os
import secrets
from pathlib import Path

INT_SETTINGS = (
    "DOSSIER_CODE_MAX_AGE_DAYS",
    "TRUSTED_PROXIES",
    "SURVEY_CACHE_SECONDS",
    "DATABASE_POOL_SIZE",
    "MAX_CONTENT_LENGTH",
    "MAX_FORM_PARTS",
    "MAX_FORM_MEMORY_SIZE",
    "SESSION_IDLE_MINUTES",
    "SESSION_LIFETIME_HOURS",
    "PAPER_MAX_ROWS",
    "PAPER_MAX_COLUMNS",
    "PAPER_MAX_CELLS",
    "PAPER_MAX_UNPACKED_BYTES",
)
# SECRET_KEY signs sessions and CSRF tokens, DOSSIER_CODE_KEY dossier codes and the dossier
# hashes; CLIENT_HASH_SALT keeps client hashes from being reversed by trying every address.
# Short ones can be guessed offline.
MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """A setting the application refuses to start with (gunicorn prints it as ``Error: ...``)."""


def _instance_secret(instance_path: Path, name: str) -> str:
    """A random secret kept in the instance folder, so restarts keep sessions valid."""
    path = instance_path / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(instance_path: str) -> dict[str, object]:
    """Read the settings from the environment; fill in local defaults."""
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    config: dict[str, object] = {
        "DATABASE_URL": f"sqlite:///{instance / 'survey.sqlite3'}",
        # PostgreSQL connections kept open by each process; a request beyond them waits for
        # one. SQLAlchemy's default (5, plus 10 opened and closed again for every request
        # beyond) spent a sixth of a busy worker's CPU opening connections.
        "DATABASE_POOL_SIZE": 10,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        # Days a dossier code printed on a receipt stays answerable.
        "DOSSIER_CODE_MAX_AGE_DAYS": 30,
        # Seconds each process keeps where a QR poster or dossier link lands (desk, running
        # campaign, questionnaire); a change of desk or campaign shows within this time.
        "SURVEY_CACHE_SECONDS": 30,
        # Rate limits on the citizen form (flask-limiter syntax; survey_app.citizen_limits).
        # A centre's Wi-Fi or a carrier's NAT puts many phones behind one address, so what
        # is counted is a form's own posts (by submission id), the posts no page of the form
        # sends (per address), and the submissions a desk stored; every post and every final
        # post per address are counted only against generous ceilings, as a flood guard.
        "RATELIMIT_FORM": "100 per hour",
        "RATELIMIT_REFUSED": "10 per minute;100 per hour",
        "RATELIMIT_DESK": "30 per minute;300 per hour;1500 per day",
        "RATELIMIT_CLIENT": "300 per minute;8000 per hour",
        "RATELIMIT_SUBMIT": "30 per minute;600 per hour",
        # Staff login attempts, per client and per username.
        "RATELIMIT_LOGIN": "5 per minute",
        # Dossier codes looked up and not found, per client (typos caught by the check
        # character cost nothing): guessing a live code takes billions of tries.
        "RATELIMIT_CODE_MISSES": "20 per hour;50 per day",
        # memory:// is per process; use redis://... when gunicorn runs several workers.
        "RATELIMIT_STORAGE_URI": "memory://",
        # Zone of the calendar: campaign dates, "today", periods, dates and times shown.
        "TIMEZONE": "Asia/Ho_Chi_Minh",
        # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
        "TRUSTED_PROXIES": 0,
        # What one request may send (survey_app.request_limits): bytes of any body (the
        # upload pages allow their file's size more), fields of any form, bytes of one
        # multipart text field (Werkzeug also holds its 64 KiB read buffer to this one, so
        # it must stay well above that). The biggest citizen form (PAPI) has 51 fields.
        "MAX_CONTENT_LENGTH": 1_000_000,
        "MAX_FORM_PARTS": 1000,
        "MAX_FORM_MEMORY_SIZE": 500_000,
        # A staff session ends after this many minutes without a request, and this many
        # hours after signing in whatever happens (services.staff_sessions): a lunch break
        # ends it, a working day does not.
        "SESSION_IDLE_MINUTES": 30,
        # What one paper-survey file may hold (services.paper_files), refused while it is
        # read: forms (rows), columns of a row, filled cells, bytes of an XLSX unpacked. A
        # province campaign's paper forms (some thousands, about 60 columns) fit many
        # times; a 150 KB file declaring a million rows or a 16,384-column sheet does not.
        "PAPER_MAX_ROWS": 20_000,
        "PAPER_MAX_COLUMNS": 300,
        "PAPER_MAX_CELLS": 2_000_000,
        "PAPER_MAX_UNPACKED_BYTES": 150_000_000,
        "SESSION_LIFETIME_HOURS": 12,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
    }
    instance_secrets = ["SECRET_KEY", "CLIENT_HASH_SALT", "DOSSIER_CODE_KEY", "ONESTOP_API_SECRET"]
    for key in list(config) + instance_secrets:
        if key in os.environ:
            value: object = os.environ[key]
            if key in INT_SETTINGS:
                value = int(str(value))
            config[key] = value
    config.setdefault("SECRET_KEY", _instance_secret(instance, "secret_key"))
    config.setdefault("CLIENT_HASH_SALT", _instance_secret(instance, "client_salt"))
    config.setdefault("DOSSIER_CODE_KEY", _instance_secret(instance, "dossier_code_key"))
    for key in ("SECRET_KEY", "CLIENT_HASH_SALT", "DOSSIER_CODE_KEY"):
        _check_secret(key, str(config[key]))
    if str(config["PUBLIC_BASE_URL"]).startswith("https://"):
        config["SESSION_COOKIE_SECURE"] = True
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(str(config["DATABASE_URL"]))
    config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(
        str(config["SQLALCHEMY_DATABASE_URI"]), int(str(config["DATABASE_POOL_SIZE"]))
    )
    return config


def _check_secret(name: str, value: str) -> None:
    length = len(value.encode())
    if length < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{name} is {length} bytes long; at least {MIN_SECRET_BYTES} are needed. Unset it to "
            "use the random one kept in the instance folder, or set a random value, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def _engine_options(url: str, pool_size: int) -> dict[str, object]:
    """Connection pool of a PostgreSQL engine: ``pool_size`` connections, none beyond."""
    if not url.startswith("postgresql"):
        return {}
    return {"pool_size": pool_size, "max_overflow": 0}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
