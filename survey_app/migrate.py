"""Running the Alembic migrations from the application."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import ForeignKeyConstraint

from survey_app.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def _partition(name: str | None) -> bool:
    return name is not None and name.startswith("submissions_")


def not_a_partition(
    thing: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Alembic's ``include_object``: the partitions of ``submissions`` (PostgreSQL) are made
    with their campaigns, not by the models, and so are the foreign keys PostgreSQL adds
    for each partition to a key that refers to the partitioned table: autogenerate leaves
    them out."""
    if type_ == "table":
        return not _partition(name)
    if isinstance(thing, ForeignKeyConstraint):
        return not _partition(thing.referred_table.name)
    return True


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
