"""Alembic environment for the marketplace database (SQLite or PostgreSQL, async drivers).

The application runs it through ``storage.migrate``, which hands over an open connection in
``config.attributes["connection"]``. Run by hand, it takes the database URL from
``config.attributes["url"]`` or the ``COLLABBOT_DATABASE_URL`` environment variable.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.models import metadata

URL_VARIABLE = "COLLABBOT_DATABASE_URL"
# Any constant will do: it only has to be the same for every process that migrates.
MIGRATION_LOCK_ID = 0x636F6C6C6162

config = context.config


def database_url() -> str:
    url = config.attributes.get("url") or os.environ.get(URL_VARIABLE)
    if not url:
        raise RuntimeError(
            f"No database to migrate: set {URL_VARIABLE}, e.g. "
            f"{URL_VARIABLE}=sqlite+aiosqlite:///./collabbot.sqlite3"
        )
    return str(url)


def run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it; batch mode does that for us.
        render_as_batch=sqlite,
        # SQLite can roll DDL back too, given the explicit BEGIN the engine sends: a failed
        # migration then leaves nothing half done.
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Processes starting at once take turns; the later ones find nothing to do.
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"))
        context.run_migrations()
        if sqlite:
            # Foreign keys are off while migrating; make sure no table copy broke them.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                tables = sorted({row[0] for row in broken})
                raise RuntimeError(f"Migration left broken foreign keys in {tables}")


async def run_migrations_with_own_engine() -> None:
    engine = create_engine(database_url(), pool_size=1, sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif (shared := config.attributes.get("connection")) is not None:
    run_migrations(shared)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(run_migrations_with_own_engine())
