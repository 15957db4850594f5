"""Fixtures shared by every test package: database URLs and the servers behind them.

Tests that need PostgreSQL or Redis skip with a reason when the server cannot be reached.
With ``COLLABBOT_REQUIRE_SERVICES=1`` (set in CI) the same situation fails the test instead,
so a broken service can never turn into a green run that tested nothing.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import asyncpg
import pytest
import redis.asyncio
from sqlalchemy.engine import URL, make_url

REQUIRE_SERVICES = os.environ.get("COLLABBOT_REQUIRE_SERVICES") == "1"

DEFAULT_TEST_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
CONNECT_TIMEOUT_S = 3.0

T = TypeVar("T")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test, or fail it when CI demands that every service is there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (failing instead of skipping: COLLABBOT_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    # A private loop that is never made the thread's current one, so these sync fixtures
    # neither need nor disturb the loops pytest-asyncio runs the tests in.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _asyncpg_dsn(url: URL) -> str:
    # asyncpg speaks libpq URLs, without SQLAlchemy's "+driver" suffix.
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers they use, so ``-m "not postgres"`` leaves them out."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_url" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in fixtures:
            item.add_marker(pytest.mark.redis)


# --- SQLite ------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file of this test's own."""
    return f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3"


# --- PostgreSQL --------------------------------------------------------------------------


async def _check_postgres(dsn: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the PostgreSQL test server, checked once per run.

    Set ``COLLABBOT_TEST_POSTGRES_URL`` to use another server. Tests that write should take
    ``fresh_postgres_url`` instead, which gives each test an empty database.
    """
    url = make_url(os.environ.get("COLLABBOT_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
    if url.get_backend_name() != "postgresql":
        pytest.fail(f"COLLABBOT_TEST_POSTGRES_URL is not a PostgreSQL URL: {_shown(url)}")
    url = url.set(drivername="postgresql+asyncpg")
    try:
        _run(asyncio.wait_for(_check_postgres(_asyncpg_dsn(url)), CONNECT_TIMEOUT_S + 1))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        skip_or_fail(
            f"PostgreSQL is not reachable at {_shown(url)} ({_error_text(error)}); "
            "start it or point COLLABBOT_TEST_POSTGRES_URL at one"
        )
    return url.render_as_string(hide_password=False)


async def _create_database(admin_dsn: str, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(admin_dsn: str, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn, timeout=CONNECT_TIMEOUT_S)
    try:
        # FORCE ends connections a failed test may have left open.
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """URL of an empty PostgreSQL database that only this test uses; dropped afterwards."""
    server = make_url(postgres_url)
    admin_dsn = _asyncpg_dsn(server)
    name = f"collabbot_t_{secrets.token_hex(6)}"
    try:
        _run(_create_database(admin_dsn, name))
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        skip_or_fail(f"cannot create a test database on {_shown(server)}: {_error_text(error)}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        _run(_drop_database(admin_dsn, name))


# --- Redis -------------------------------------------------------------------------------


async def _check_redis(url: str) -> None:
    client = redis.asyncio.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=CONNECT_TIMEOUT_S,
    )
    try:
        await client.ping()
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis test server (``COLLABBOT_TEST_REDIS_URL``), checked once per run."""
    url = os.environ.get("COLLABBOT_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    try:
        _run(asyncio.wait_for(_check_redis(url), CONNECT_TIMEOUT_S + 1))
    except (OSError, TimeoutError, ValueError, redis.RedisError) as error:
        from bots.settings import redact_url

        skip_or_fail(
            f"Redis is not reachable at {redact_url(url)} ({_error_text(error)}); "
            "start it or point COLLABBOT_TEST_REDIS_URL at one"
        )
    return url
