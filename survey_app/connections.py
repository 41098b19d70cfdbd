"""Database connections that the server ends cost no request.

When PostgreSQL ends a connection (``pg_terminate_backend``, a restart, a failover), the
connection stays in SQLAlchemy's pool until a request takes it, and that request's first
statement failed: one 500 per dead connection. What closes this:

- a connection taken from the pool is checked without a round trip: an idle connection
  has nothing to read, so a socket with data (the server's goodbye) or a hang-up means it
  is dead, and the pool replaces it before the request sees it. ``pool_pre_ping`` would
  send a statement instead, a round trip per checkout (see bench/README.md);
- the server may still end a connection between that check and the statement (a restart
  while requests run): work that is safe to repeat runs once more on a fresh connection
  when its connection drops while it runs: the citizen's INSERT, idempotent by its UNIQUE
  uid (``in_autocommit``), and the reads behind the citizen's pages (``retry_read``);
- a connection ended after a request's last statement fails only the ROLLBACK that ends
  the request's session, which loses nothing and is let pass (``close_session``).
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app
from psycopg.pq import ConnStatus
from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from survey_app.extensions import db

T = TypeVar("T")


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        checks = PoolChecks()
        event.listen(engine, "connect", checks.opened)
        event.listen(engine, "checkout", checks.checkout)
        app.extensions["pool_checks"] = checks
    # Registered after Flask-SQLAlchemy's own teardown, so it runs before it.
    app.teardown_appcontext(lambda _error: close_session())


def close_session() -> None:
    """End the request's ORM session and give its connection back.

    If the server closed the connection after the session's last statement, the ROLLBACK
    of its transaction fails but loses nothing (what was not committed is gone either
    way): the request goes on, where it would otherwise answer 500. A failing commit
    still raises where it happens.
    """
    if not db.session.registry.has():
        return
    try:
        db.session.close()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise


class PoolChecks:
    """What a PostgreSQL engine's pool checks when a request takes a connection.

    Besides the connection's own state, its age: after a connection dropped while in use
    (``lost_one``), every connection opened before is replaced when next taken, as
    SQLAlchemy does after a disconnect it sees itself. A restart or a sweep of
    ``pg_terminate_backend`` ends connections one after another; a connection opened after
    the first one dropped is out of its reach, so a retry on it does not meet the same fate.
    """

    def __init__(self) -> None:
        self.dropped_at = 0.0

    def lost_one(self) -> None:
        self.dropped_at = time.monotonic()

    @staticmethod
    def opened(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["opened"] = time.monotonic()

    def checkout(self, dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: object) -> None:
        # Raising DisconnectionError makes the pool open a new connection in this one's place.
        if record.info.get("opened", 0.0) <= self.dropped_at:
            raise DisconnectionError("opened before a connection dropped")
        if not _idle_and_open(dbapi_connection):
            raise DisconnectionError("the server closed this pooled connection")


def _idle_and_open(connection: Any) -> bool:
    """Whether an idle psycopg connection is still open, without asking the server.

    An idle connection receives nothing unasked but the server's last words (the FATAL
    message of a terminated backend, then end of file) and, rarely, a notice or a changed
    parameter; anything to read is taken as the end. A wrong guess costs one reconnect.
    """
    pgconn = connection.pgconn
    if pgconn.status != ConnStatus.OK:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)  # hang-ups and errors are always reported
    return not poller.poll(0)


def lost(connection: Connection, error: BaseException) -> bool:
    """Whether ``error`` means ``connection`` to the database dropped (a disconnect).

    SQLAlchemy wraps the errors of its own statements and says so; the driver's errors
    from statements run on its cursor (``DriverStatement``) reach us unwrapped.
    """
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    if connection.invalidated:
        return True
    dialect = connection.dialect
    return isinstance(error, dialect.loaded_dbapi.Error) and bool(
        dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
    )


def in_autocommit(work: Callable[[Connection], T]) -> T:
    """``work(connection)`` on a pooled connection of its own in autocommit; once more on a
    fresh connection when the first dropped while it ran.

    Only for work that is safe to repeat: an INSERT that commits on the server but whose
    answer is lost runs again and must find its own row (as storing a submission under its
    uid does).
    """
    with _autocommit() as connection:
        try:
            return work(connection)
        except Exception as error:
            if not lost(connection, error):
                raise
            connection.invalidate()
    checks = current_app.extensions.get("pool_checks")
    if checks is not None:
        checks.lost_one()
    with _autocommit() as connection:
        return work(connection)


def _autocommit() -> Connection:
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def retry_read(read: Callable[[], T]) -> T:
    """``read()``, reads through the ORM session, once more when the session's connection
    dropped while it ran; the session's transaction is rolled back in between, so this is
    for reads only."""
    try:
        return read()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        db.session.rollback()
    return read()
