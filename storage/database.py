"""Engines and sessions for the marketplace database (SQLite or PostgreSQL, both async).

SQLite gets foreign keys, write-ahead logging, a busy timeout and ``BEGIN IMMEDIATE``
transactions: a transaction takes the write lock when it starts, so two concurrent writers
wait for each other instead of failing when a reader tries to upgrade to a writer. Read-only
units of work (an engine with the ``collabbot_read_only`` execution option) begin with a
plain ``BEGIN`` and never block or wait for the writer.
PostgreSQL runs at READ COMMITTED; concurrent changes to one row are caught by the version
column the repositories check on every update.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

PING_AFTER_IDLE_SECONDS = 10.0
"""A pooled PostgreSQL connection idle for longer is checked before it is handed out."""
READ_ONLY = "collabbot_read_only"
"""Execution option of the engine behind read-only units of work."""
SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    sqlite_busy_timeout_ms: int = 5000,
    sqlite_foreign_keys: bool = True,
) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://…`` or ``postgresql+asyncpg://…``.

    Statement parameters are kept out of logs and error messages: they hold addresses and
    phone numbers.

    ``sqlite_foreign_keys=False`` is for schema migrations only: SQLite rebuilds a table to
    alter it, and with foreign keys on, dropping the old copy would cascade to its children.
    """
    parsed = make_url(url)
    if parsed.drivername == SQLITE_DRIVER:
        return _sqlite_engine(parsed, pool_size, sqlite_busy_timeout_ms, sqlite_foreign_keys)
    if parsed.drivername == POSTGRES_DRIVER:
        engine = _create_async_engine(
            parsed,
            pool_size=pool_size,
            isolation_level="READ COMMITTED",
            hide_parameters=True,
        )
        _ping_idle_connections(engine)
        return engine
    raise ValueError(
        f"Unsupported database URL scheme {parsed.drivername!r}: use "
        f"{SQLITE_DRIVER}:///path/to/file.sqlite3 or {POSTGRES_DRIVER}://user@host/db"
    )


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Check a pooled connection that sat idle before handing it out, and replace it if the
    server closed it (a restart, a failover, an idle timeout).

    A connection checked in a moment ago is handed out unchecked: under load that is nearly
    every checkout, and a round trip per checkout would cost as much as a query. A server
    that goes away while connections are busy fails those statements once; the pool then
    drops every connection it holds, and the next ones are fresh.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:  # any failure means the connection is unusable
            alive = False
        if not alive:
            # The pool throws this connection away and checks out another one.
            raise exc.DisconnectionError("the pooled connection was closed by the server")


def _sqlite_engine(
    url: URL, pool_size: int, busy_timeout_ms: int, foreign_keys: bool
) -> AsyncEngine:
    options: dict[str, Any] = {"hide_parameters": True}
    if url.database not in (None, "", ":memory:"):
        # A file database gets a real pool; ":memory:" uses one shared connection.
        options["pool_size"] = pool_size
    engine = _create_async_engine(url, **options)
    pragmas = (
        f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
        f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}",
        "PRAGMA journal_mode = WAL",
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own BEGIN; the "begin" hook below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        # Reads take no lock up front: with write-ahead logging they run beside the writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
