"""Sending slots: per platform and per chat, in memory or shared through Redis, and the
dispatcher waiting for them."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import secrets
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from limits.aio.storage import MemoryStorage

from core import services as s
from core.domain.common import Platform
from notifications.rate_limits import DEFAULT_RATES, NoSlot, PlatformRates, SendingRates
from tests.unit.test_dispatcher import FakeChannel, Market, chat, drain, make_dispatcher
from tests.unit.world import World

ONE_A_SECOND = {Platform.TELEGRAM: PlatformRates("100/second", "1/second", "2/minute")}


@pytest.fixture
async def rates() -> AsyncIterator[SendingRates]:
    limiter = SendingRates(ONE_A_SECOND, max_wait=3)
    yield limiter
    await limiter.close()


async def timed(limiter: SendingRates, chat_id: str) -> float:
    started = time.monotonic()
    await limiter.wait_for_slot(Platform.TELEGRAM, chat_id)
    return time.monotonic() - started


async def test_a_second_message_to_a_private_chat_waits_for_the_next_second(
    rates: SendingRates,
) -> None:
    assert await timed(rates, "5001") < 0.05
    assert await timed(rates, "5002") < 0.05  # another chat has its own allowance
    waited = await timed(rates, "5001")
    assert 0.9 <= waited <= 1.3  # about a second, no more than needed


async def test_groups_have_their_own_per_minute_limit(rates: SendingRates) -> None:
    assert await timed(rates, "-100123") < 0.05
    assert await timed(rates, "-100123") < 0.05  # two a minute, but not one a second
    rates.max_wait = 1
    with pytest.raises(NoSlot) as busy:
        await rates.wait_for_slot(Platform.TELEGRAM, "-100123")
    assert 55 <= busy.value.seconds <= 61


async def test_the_overall_limit_spreads_a_platforms_messages_over_the_second() -> None:
    limiter = SendingRates({Platform.DISCORD: PlatformRates("3/second")}, max_wait=2)
    sent: list[float] = []
    for chat_id in ("a", "b", "c", "d"):
        await limiter.wait_for_slot(Platform.DISCORD, chat_id)
        sent.append(time.monotonic())
    assert all(later - earlier >= 0.3 for earlier, later in itertools.pairwise(sent))
    assert sent[3] - sent[0] >= 1.0  # never four within one second
    limiter.max_wait = 0.1
    with pytest.raises(NoSlot):
        await limiter.wait_for_slot(Platform.DISCORD, "e")
    await limiter.wait_for_slot(Platform.WHATSAPP, "e")  # no limits set for it here
    await limiter.close()


@pytest.fixture(params=["memory", "redis"])
def two_processes(request: pytest.FixtureRequest) -> list[SendingRates]:
    """Two limiters counting in the same buckets, as two processes do through Redis."""
    cap = {Platform.TELEGRAM: PlatformRates("200/second", "1/second")}
    if request.param == "memory":
        storage = MemoryStorage()
        return [SendingRates(cap, storage=storage, max_wait=5) for _ in range(2)]
    url = request.getfixturevalue("redis_url")
    limiters = [SendingRates.shared(url, cap, max_wait=5) for _ in range(2)]
    limiters[0].namespace = limiters[1].namespace = f"test-{secrets.token_hex(4)}"
    return limiters


async def test_two_processes_sharing_the_counters_use_the_cap_together_and_never_pass_it(
    two_processes: list[SendingRates],
) -> None:
    taken: list[float] = []
    chats = iter(range(10**6))

    async def sender(limiter: SendingRates, until: float) -> None:
        while time.monotonic() < until:
            await limiter.wait_for_slot(Platform.TELEGRAM, str(next(chats)))
            taken.append(time.monotonic())

    until = time.monotonic() + 2.0
    try:
        async with asyncio.TaskGroup() as senders:
            for limiter in two_processes:
                for _ in range(40):
                    senders.create_task(sender(limiter, until))
    finally:
        for limiter in two_processes:
            await limiter.close()

    taken.sort()
    busiest = max(bisect.bisect_left(taken, at + 1.0) - i for i, at in enumerate(taken))
    assert busiest <= 200
    assert len(taken) >= 0.8 * 2 * 200  # the cap is used, not halved


async def test_a_chat_taken_by_another_process_waits_while_the_others_go(
    two_processes: list[SendingRates],
) -> None:
    one, other = two_processes
    await one.wait_for_slot(Platform.TELEGRAM, "5001")
    started = time.monotonic()

    async def timed_slot(chat_id: str) -> float:
        await other.wait_for_slot(Platform.TELEGRAM, chat_id)
        return time.monotonic() - started

    try:
        waits = await asyncio.gather(*(timed_slot(c) for c in ("5001", "5002", "5003", "5004")))
    finally:
        await one.close()
        await other.close()
    assert 0.9 <= waits[0] <= 1.4  # Ana's chat had a message a moment ago
    assert max(waits[1:]) < 0.3  # everyone else's goes at once


def test_the_defaults_are_the_platforms_published_limits() -> None:
    assert DEFAULT_RATES[Platform.TELEGRAM] == PlatformRates("30/second", "1/second", "20/minute")
    assert DEFAULT_RATES[Platform.DISCORD].overall == "50/second"
    assert DEFAULT_RATES[Platform.WHATSAPP].overall == "80/second"


async def test_processes_share_the_buckets_through_redis(redis_url: str) -> None:
    rates = {Platform.TELEGRAM: PlatformRates("100/second", "1/second")}
    namespace = f"test-{secrets.token_hex(4)}"
    one = SendingRates.shared(redis_url, rates, max_wait=0.3)
    other = SendingRates.shared(redis_url, rates, max_wait=0.3)
    one.namespace = other.namespace = namespace
    try:
        await one.wait_for_slot(Platform.TELEGRAM, "+15550100")
        with pytest.raises(NoSlot):
            await other.wait_for_slot(Platform.TELEGRAM, "+15550100")
        await other.wait_for_slot(Platform.TELEGRAM, "5002")
        client = redis.asyncio.Redis.from_url(redis_url)
        keys = [key.decode() async for key in client.scan_iter(f"*{namespace}*")]
        await client.aclose()
        assert keys
        assert not any("5550100" in key for key in keys)  # no phone numbers in Redis
    finally:
        await one.close()
        await other.close()


async def test_the_dispatcher_waits_for_a_slot_instead_of_being_throttled() -> None:
    w = World()
    m = await Market(w).setup()
    await s.record_shipment(w.mp, m.staff, m.order_id, "ups", "1Z999AA10123456784")
    telegram = FakeChannel()
    limiter = SendingRates(ONE_A_SECOND, max_wait=3)
    dispatcher = make_dispatcher(w, telegram, rates=limiter)
    sent_at: list[float] = []
    real_send = telegram.send

    async def timed_send(*args: object, **kwargs: object) -> None:
        sent_at.append(time.monotonic())
        await real_send(*args, **kwargs)  # type: ignore[arg-type]

    telegram.send = timed_send  # type: ignore[method-assign]
    try:
        await drain(dispatcher)
    finally:
        await limiter.close()

    assert len(telegram.texts(chat(w, m.creator))) == 2
    assert sent_at[-1] - sent_at[-2] >= 0.95  # one a second into Ana's chat


async def test_a_slot_too_far_away_hands_the_notice_back_without_counting_a_failure() -> None:
    w = World()
    m = await Market(w).setup()
    telegram = FakeChannel()
    limiter = SendingRates(ONE_A_SECOND, max_wait=0.1)
    await limiter.wait_for_slot(Platform.TELEGRAM, chat(w, m.creator))  # someone just wrote
    dispatcher = make_dispatcher(w, telegram, rates=limiter)

    await dispatcher.run_once()
    await limiter.close()

    [selected] = [e for e in w.store.outbox if e.recipient_id == m.creator.member_id]
    assert (selected.status, selected.attempts) == ("pending", 0)
    assert selected.available_at is not None
    assert selected.available_at > w.clock.now()
    assert dispatcher.counts["paced"] == 1


async def test_notices_wait_while_the_shared_limiter_is_away_and_count_no_failure() -> None:
    class LimiterAway(SendingRates):
        async def wait_for_slot(self, platform: Platform, chat_id: str) -> float:
            raise ConnectionError("Redis is not answering")

    w = World()
    m = await Market(w).setup()
    telegram = FakeChannel()

    await drain(make_dispatcher(w, telegram, rates=LimiterAway({}), max_attempts=1))

    assert telegram.sent == []
    [selected] = [e for e in w.store.outbox if e.recipient_id == m.creator.member_id]
    assert (selected.status, selected.attempts, selected.last_error) == (
        "pending",
        0,
        "ConnectionError",
    )
