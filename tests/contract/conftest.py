"""Fixtures for the storage contract tests: every test runs on SQLite and on PostgreSQL.

The schema is made by the migrations, as in production. PostgreSQL tests get a database of
their own (``fresh_postgres_url`` from ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.ports.clock import FixedClock
from storage.migrate import upgrade
from storage.unit_of_work import Database
from tests.contract.factories import NOW

SQLITE = pytest.param("sqlite", id="sqlite")
POSTGRES = pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)
BACKENDS = [SQLITE, POSTGRES]

#: For tests that only mean something where transactions really run side by side.
postgres_only = pytest.mark.parametrize("database_url", [POSTGRES], indirect=True)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def database(database_url: str, clock: FixedClock) -> AsyncIterator[Database]:
    """A migrated, connected database."""
    await upgrade(database_url)
    database = Database.connect(database_url, clock)
    try:
        yield database
    finally:
        await database.dispose()
