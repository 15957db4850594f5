"""The scheduler's leader lock on real servers: PostgreSQL's advisory lock and a Redis key.

Two holders → one leader; the leader's connection dies (or the leader stops renewing) → the
standby takes over within the renewal period; a holder never renews or deletes a lock that
is no longer its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from notifications.leader import (
    LeaderLockUnavailable,
    PostgresLeaderLock,
    RedisLeaderLock,
    advisory_keys,
    leader_lock_for,
)
from notifications.scheduler import Job, Scheduler

CHECK = 0.2


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def lock_name() -> str:
    return f"test-{secrets.token_hex(6)}"


async def eventually(condition: Callable[[], object], within: float = 5.0) -> float:
    start = time.monotonic()
    while not await _holds(condition):
        if time.monotonic() - start > within:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def _holds(condition: Callable[[], object]) -> bool:
    result = condition()
    if asyncio.iscoroutine(result):
        result = await result
    return bool(result)


class Runs:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> int:
        self.count += 1
        return 0


@contextlib.asynccontextmanager
async def scheduler_task(
    scheduler: Scheduler,
) -> AsyncIterator[tuple[asyncio.Event, asyncio.Task[None]]]:
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        yield stop, task
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def scheduler(lock: object, runs: Runs) -> Scheduler:
    return Scheduler(
        [Job("count", 0.05, runs)],
        lock,  # type: ignore[arg-type]
        leader_check_interval=CHECK,
        stop_grace=0.5,
    )


# --- PostgreSQL ---------------------------------------------------------------------------


async def holder_pids(url: str, name: str) -> list[int]:
    """Server processes holding the advisory lock ``name``, as PostgreSQL sees it."""
    connection = await asyncpg.connect(dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2",
            *advisory_keys(name),
        )
        return [row["pid"] for row in rows]
    finally:
        await connection.close()


async def terminate(url: str, pid: int) -> None:
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


async def test_of_two_postgres_holders_one_leads(postgres_url: str, lock_name: str) -> None:
    first = PostgresLeaderLock.from_url(postgres_url, name=lock_name)
    second = PostgresLeaderLock.from_url(postgres_url, name=lock_name)
    try:
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.acquire()  # asking again keeps it (no second lock taken)
        assert await first.confirm()
        assert not await second.confirm()
        assert await holder_pids(postgres_url, lock_name) == [first.backend_pid]

        await first.close()  # a clean stop lets go at once
        assert await second.acquire()
        assert await holder_pids(postgres_url, lock_name) == [second.backend_pid]
        assert not await first.acquire()
    finally:
        await first.close()
        await second.close()
    assert await holder_pids(postgres_url, lock_name) == []


async def test_the_postgres_lock_dies_with_its_connection(
    postgres_url: str, lock_name: str
) -> None:
    leader = PostgresLeaderLock.from_url(postgres_url, name=lock_name)
    standby = PostgresLeaderLock.from_url(postgres_url, name=lock_name)
    try:
        assert await leader.acquire()
        assert not await standby.acquire()
        pid = leader.backend_pid
        assert pid is not None
        await terminate(postgres_url, pid)

        assert not await leader.confirm()  # the leader notices at its next check
        await eventually(standby.acquire, within=2.0)
        assert await holder_pids(postgres_url, lock_name) == [standby.backend_pid]
        assert not await leader.acquire()  # a fresh connection, but the lock is taken
    finally:
        await leader.close()
        await standby.close()


async def test_a_standby_scheduler_takes_over_when_the_leaders_connection_dies(
    postgres_url: str, lock_name: str
) -> None:
    first_lock = PostgresLeaderLock.from_url(postgres_url, name=lock_name)
    second_lock = PostgresLeaderLock.from_url(postgres_url, name=lock_name)
    first_runs, second_runs = Runs(), Runs()
    first, second = scheduler(first_lock, first_runs), scheduler(second_lock, second_runs)
    async with scheduler_task(first), scheduler_task(second):
        await eventually(lambda: first.leading or second.leading)
        leader, standby = (first, second) if first.leading else (second, first)
        leader_lock = first_lock if leader is first else second_lock
        await asyncio.sleep(3 * CHECK)
        assert not standby.leading
        assert (second_runs if standby is second else first_runs).count == 0

        pid = leader_lock.backend_pid
        assert pid is not None
        await terminate(postgres_url, pid)
        took = await eventually(lambda: standby.leading and not leader.leading)
        # The leader finds out at its next check, a standby takes the lock at its next try.
        assert took < 2 * CHECK + 1.0
        await asyncio.sleep(3 * CHECK)
        assert standby.leading
        assert not leader.leading  # it tried again, found the lock taken: standby now
        assert leader.terms == 1
        assert standby.terms == 1
    assert await holder_pids(postgres_url, lock_name) == []


async def test_an_unreachable_postgres_is_reported_as_such() -> None:
    lock = PostgresLeaderLock("postgresql://postgres@127.0.0.1:1/none", timeout=1.0)
    with pytest.raises(LeaderLockUnavailable):
        await lock.acquire()
    assert not await lock.confirm()
    await lock.close()


def test_the_deployment_picks_postgres_then_redis_then_memory() -> None:
    pg = "postgresql+asyncpg://u@db/x"
    assert leader_lock_for(pg, "redis://r", check_interval=1).kind == "postgresql"
    assert leader_lock_for("sqlite+aiosqlite:///x", "redis://r", check_interval=1).kind == "redis"
    assert leader_lock_for("sqlite+aiosqlite:///x", None, check_interval=1).kind == "local"


# --- Redis --------------------------------------------------------------------------------


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def lock_key(lock_name: str) -> str:
    return f"collabbot-test:leader:{lock_name}"


def redis_lock(url: str, key: str, ttl: float = 1.0) -> RedisLeaderLock:
    return RedisLeaderLock.from_url(url, ttl=timedelta(seconds=ttl), key=key)


async def test_of_two_redis_holders_one_leads_while_it_renews(
    redis_url: str, redis_client: Redis, lock_key: str
) -> None:
    first, second = redis_lock(redis_url, lock_key), redis_lock(redis_url, lock_key)
    try:
        assert await first.acquire()
        assert not await second.acquire()
        # Renewed every 0.2 s, the 1 s key outlives several ttls; the other never gets it.
        for _ in range(12):
            await asyncio.sleep(CHECK)
            assert await first.confirm()
            assert not await second.acquire()
        assert 0 < await redis_client.pttl(lock_key) <= 1000

        await first.close()  # a clean stop deletes the key at once
        assert await second.acquire()
    finally:
        await first.close()
        await second.close()
    assert await redis_client.exists(lock_key) == 0


async def test_the_redis_standby_takes_over_once_a_dead_leaders_key_expires(
    redis_url: str, redis_client: Redis, lock_key: str
) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    leader = RedisLeaderLock(client, ttl=timedelta(seconds=1), key=lock_key, owns_client=False)
    standby = redis_lock(redis_url, lock_key)
    try:
        assert await leader.acquire()
        await client.aclose()  # the leader dies: no renewal, no clean release
        assert not await standby.acquire()
        took = await eventually(standby.acquire, within=3.0)
        assert took <= 1.0 + 0.3  # the key's ttl, plus one poll
    finally:
        await standby.close()


async def test_a_redis_holder_never_renews_or_deletes_a_key_that_is_not_its_own(
    redis_url: str, redis_client: Redis, lock_key: str
) -> None:
    slow, fast = redis_lock(redis_url, lock_key, ttl=0.3), redis_lock(redis_url, lock_key)
    try:
        assert await slow.acquire()
        await asyncio.sleep(0.5)  # the slow one missed its renewal: the key expired
        assert await fast.acquire()
        assert not await slow.confirm()  # its token is not there: no renewal
        await slow.close()  # and no deletion of the other's key
        assert await fast.confirm()
        assert await redis_client.exists(lock_key) == 1
    finally:
        await slow.close()
        await fast.close()


async def test_a_standby_scheduler_takes_over_from_a_crashed_redis_leader(
    redis_url: str, lock_key: str
) -> None:
    ttl = 3 * CHECK
    first_lock, second_lock = (
        redis_lock(redis_url, lock_key, ttl),
        redis_lock(redis_url, lock_key, ttl),
    )
    first_runs, second_runs = Runs(), Runs()
    first, second = scheduler(first_lock, first_runs), scheduler(second_lock, second_runs)
    async with scheduler_task(first) as (_, first_task), scheduler_task(second) as (_, second_task):
        await eventually(lambda: first.leading or second.leading)
        leader, standby = (first, second) if first.leading else (second, first)
        leader_task = first_task if leader is first else second_task
        leader_lock = first_lock if leader is first else second_lock
        await asyncio.sleep(3 * CHECK)
        assert not standby.leading

        async def crash() -> None:  # dies without giving the key up
            return None

        leader_lock.close = crash  # type: ignore[method-assign]
        leader_task.cancel()
        took = await eventually(lambda: standby.leading)
        assert took < ttl + 2 * CHECK + 0.5
    await first_lock.close()
    await second_lock.close()


async def test_an_unreachable_redis_is_reported_as_such() -> None:
    lock = RedisLeaderLock.from_url("redis://127.0.0.1:1/0", ttl=timedelta(seconds=1))
    with pytest.raises(LeaderLockUnavailable):
        await lock.acquire()
    assert not await lock.confirm()
    await lock.close()
