"""The migrations make the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import metadata


async def _run(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


async def test_upgrade_creates_every_table_in_an_empty_database(database_url: str) -> None:
    assert await current_revision(database_url) is None

    await upgrade(database_url)

    assert await current_revision(database_url) == head_revision()
    assert await _run(database_url, _table_names) >= set(metadata.tables)


async def test_upgrading_again_changes_nothing(database_url: str) -> None:
    await upgrade(database_url)

    await upgrade(database_url)

    assert await current_revision(database_url) == head_revision()


async def test_models_match_what_the_migrations_made(database_url: str) -> None:
    await upgrade(database_url)

    assert await _run(database_url, _differences) == []
