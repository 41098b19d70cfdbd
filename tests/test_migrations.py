"""The Alembic migrations build exactly the schema the models describe."""

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from survey_app import migrate
from survey_app.extensions import db


def test_migrated_schema_has_no_drift_from_models(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    migrate.upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_migrations_downgrade_to_empty_and_up_again(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    migrate.upgrade(app)
    with app.app_context():
        config = migrate.alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        with db.engine.connect() as connection:
            assert db.inspect(connection).get_table_names() == ["alembic_version"]
    migrate.upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        assert "submissions" in db.inspect(connection).get_table_names()
