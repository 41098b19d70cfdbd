"""Alembic environment: migrates the database the application is configured for."""

from alembic import context
from sqlalchemy import create_engine, pool

import survey_app.models  # noqa: F401  (registers the tables)
from survey_app.extensions import db
from survey_app.migrate import not_a_partition

config = context.config
target_metadata = db.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from survey_app import create_app

    # Some migrations read the instance's configuration (its secrets), as when the
    # application runs them (survey_app.migrate).
    app = create_app()
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=pool.NullPool)
    with app.app_context(), engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=not_a_partition,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
