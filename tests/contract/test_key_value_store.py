"""Every key-value store keeps the same promises (core.ports.kv.KeyValueStore).

The same tests run against the in-memory store and against Redis. Redis is reached at
``COLLABBOT_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``); when it cannot be
reached the Redis run is skipped, or fails when ``COLLABBOT_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.ports.kv import KeyValueStore
from storage.kv import MemoryKeyValueStore, RedisKeyValueStore, open_key_value_store

REDIS_URL = os.environ.get("COLLABBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SHORT_TTL = timedelta(milliseconds=100)
# Long enough past SHORT_TTL for Redis to have expired the key even on a busy machine.
PAST_SHORT_TTL = SHORT_TTL.total_seconds() * 2.5


class FakeMonotonicClock:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.seconds = 1_000.0

    def __call__(self) -> float:
        return self.seconds


@dataclass
class Backend:
    store: KeyValueStore
    # Lets at least ``seconds`` pass as far as the store can tell.
    pass_time: Callable[[float], Awaitable[None]]


async def redis_client_or_skip() -> Redis:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        reason = f"Redis is not reachable at {REDIS_URL} ({error}); set COLLABBOT_TEST_REDIS_URL"
        if os.environ.get("COLLABBOT_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return client


async def delete_prefixed(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        clock = FakeMonotonicClock()

        async def advance(seconds: float) -> None:
            clock.seconds += seconds

        yield Backend(MemoryKeyValueStore(clock=clock), advance)
        return

    cleanup_client = await redis_client_or_skip()
    prefix = f"collabbot-test:{uuid.uuid4().hex}:"
    store = RedisKeyValueStore.from_client(
        Redis.from_url(REDIS_URL, decode_responses=True), prefix=prefix
    )
    try:
        yield Backend(store, asyncio.sleep)
    finally:
        await store.close()
        await delete_prefixed(cleanup_client, prefix)
        await cleanup_client.aclose()


@pytest.fixture
def kv(backend: Backend) -> KeyValueStore:
    return backend.store


@pytest.fixture
def pass_time(backend: Backend) -> Callable[[float], Awaitable[None]]:
    return backend.pass_time


class TestKeyValueStore:
    async def test_a_missing_key_reads_as_none(self, kv: KeyValueStore) -> None:
        assert await kv.get("never-set") is None

    async def test_a_stored_value_reads_back(self, kv: KeyValueStore) -> None:
        await kv.set("conversation:42", '{"step": "address"}')

        assert await kv.get("conversation:42") == '{"step": "address"}'

    async def test_values_keep_any_text(self, kv: KeyValueStore) -> None:
        value = "Grüße 👋 — line one\nline two\x00end"
        await kv.set("text", value)

        assert await kv.get("text") == value

    async def test_setting_again_replaces_the_value(self, kv: KeyValueStore) -> None:
        await kv.set("k", "first")
        await kv.set("k", "second")

        assert await kv.get("k") == "second"

    async def test_keys_do_not_see_each_other(self, kv: KeyValueStore) -> None:
        await kv.set("a", "1")
        await kv.set("b", "2")

        assert (await kv.get("a"), await kv.get("b")) == ("1", "2")

    async def test_a_value_expires_after_its_ttl(
        self, kv: KeyValueStore, pass_time: Callable[[float], Awaitable[None]]
    ) -> None:
        await kv.set("token", "v", ttl=SHORT_TTL)
        assert await kv.get("token") == "v"

        await pass_time(PAST_SHORT_TTL)

        assert await kv.get("token") is None

    async def test_a_value_without_ttl_does_not_expire(
        self, kv: KeyValueStore, pass_time: Callable[[float], Awaitable[None]]
    ) -> None:
        await kv.set("forever", "v")
        await kv.set("brief", "v", ttl=SHORT_TTL)

        await pass_time(PAST_SHORT_TTL)

        assert await kv.get("forever") == "v"
        assert await kv.get("brief") is None

    async def test_setting_again_without_ttl_removes_the_expiry(
        self, kv: KeyValueStore, pass_time: Callable[[float], Awaitable[None]]
    ) -> None:
        await kv.set("k", "old", ttl=SHORT_TTL)
        await kv.set("k", "new")

        await pass_time(PAST_SHORT_TTL)

        assert await kv.get("k") == "new"

    async def test_set_if_absent_stores_only_the_first_time(self, kv: KeyValueStore) -> None:
        assert await kv.set_if_absent("event:telegram:1001", "seen") is True
        assert await kv.set_if_absent("event:telegram:1001", "again") is False

        assert await kv.get("event:telegram:1001") == "seen"

    async def test_set_if_absent_succeeds_again_after_expiry(
        self, kv: KeyValueStore, pass_time: Callable[[float], Awaitable[None]]
    ) -> None:
        assert await kv.set_if_absent("lock", "first", ttl=SHORT_TTL) is True
        assert await kv.set_if_absent("lock", "second", ttl=SHORT_TTL) is False

        await pass_time(PAST_SHORT_TTL)

        assert await kv.set_if_absent("lock", "third", ttl=SHORT_TTL) is True
        assert await kv.get("lock") == "third"

    async def test_delete_removes_a_key_once(self, kv: KeyValueStore) -> None:
        await kv.set("k", "v")

        assert await kv.delete("k") is True
        assert await kv.get("k") is None
        assert await kv.delete("k") is False

    async def test_deleting_a_missing_key_is_not_an_error(self, kv: KeyValueStore) -> None:
        assert await kv.delete("never-set") is False

    async def test_set_if_absent_succeeds_after_delete(self, kv: KeyValueStore) -> None:
        await kv.set("k", "v")
        await kv.delete("k")

        assert await kv.set_if_absent("k", "w") is True

    async def test_exactly_one_of_many_concurrent_claims_wins(self, kv: KeyValueStore) -> None:
        results = await asyncio.gather(
            *(kv.set_if_absent("button:approve:17", f"press-{n}") for n in range(20))
        )

        assert results.count(True) == 1
        winner = results.index(True)
        assert await kv.get("button:approve:17") == f"press-{winner}"

    async def test_a_ttl_must_be_positive(self, kv: KeyValueStore) -> None:
        with pytest.raises(ValueError, match="ttl must be positive"):
            await kv.set("k", "v", ttl=timedelta(0))
        with pytest.raises(ValueError, match="ttl must be positive"):
            await kv.set_if_absent("k", "v", ttl=timedelta(seconds=-1))

        assert await kv.get("k") is None

    async def test_closing_twice_is_fine(self, kv: KeyValueStore) -> None:
        await kv.close()
        await kv.close()


# -- backend specifics -----------------------------------------------------------------------


async def test_memory_store_purges_expired_keys_that_are_never_read_again() -> None:
    clock = FakeMonotonicClock()
    kv = MemoryKeyValueStore(clock=clock)
    for n in range(1_000):
        await kv.set(f"dedup:{n}", "1", ttl=timedelta(seconds=1))
    clock.seconds += 2

    for n in range(100):
        await kv.set(f"fresh:{n}", "1", ttl=timedelta(seconds=1))

    assert len(kv) == 100


async def test_memory_store_stays_small_when_one_key_is_rewritten_forever() -> None:
    clock = FakeMonotonicClock()
    kv = MemoryKeyValueStore(clock=clock)
    for n in range(10_000):
        await kv.set("conversation:1", str(n), ttl=timedelta(hours=1))

    assert len(kv) == 1
    # White-box: superseded expiry records must not pile up either.
    assert len(kv._expiries) < 200
    assert await kv.get("conversation:1") == "9999"


@pytest.mark.redis
async def test_redis_store_keeps_its_keys_under_its_prefix() -> None:
    client = await redis_client_or_skip()
    prefix = f"collabbot-test:{uuid.uuid4().hex}:"
    kv = RedisKeyValueStore(REDIS_URL, prefix=prefix)
    try:
        await kv.set("k", "v", ttl=timedelta(seconds=30))

        assert await client.get(f"{prefix}k") == b"v"
        assert 0 < await client.pttl(f"{prefix}k") <= 30_000
    finally:
        await kv.close()
        await delete_prefixed(client, prefix)
        await client.aclose()


@pytest.mark.redis
async def test_redis_store_reads_text_from_a_client_that_returns_bytes() -> None:
    client = await redis_client_or_skip()
    prefix = f"collabbot-test:{uuid.uuid4().hex}:"
    kv = RedisKeyValueStore.from_client(client, prefix=prefix)
    try:
        await kv.set("k", "Grüße")

        assert await kv.get("k") == "Grüße"
    finally:
        await delete_prefixed(client, prefix)
        await kv.close()


async def test_a_redis_url_opens_a_redis_store_and_none_a_memory_store() -> None:
    redis_store = open_key_value_store(REDIS_URL)
    try:
        assert isinstance(redis_store, RedisKeyValueStore)
        assert isinstance(open_key_value_store(None), MemoryKeyValueStore)
        assert isinstance(open_key_value_store(""), MemoryKeyValueStore)
    finally:
        await redis_store.close()
