"""Running the Alembic migrations from the application."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask

from survey_app.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the configured database to ``revision``."""
    config = alembic_config()
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
