"""How fast notices may go out: per platform overall and per chat.

Built on the ``limits`` library's moving-window limiter. In one process the counters live in
memory; with Redis (``COLLABBOT_REDIS_URL``) every process counts in the same buckets, so
two dispatcher processes together still stay under the platform's cap.

A platform's overall cap is taken from the shared window a few slots at a time and handed
to the messages waiting in this process in turn, paced evenly over the second, each with
its chat's slot (:mod:`notifications.platform_cap`): messages leave in a steady stream
rather than in a burst at the start of every second, and at a thousand a second Redis sees
about a hundred round trips, not thousands.

Rates are written in the ``limits`` notation (``"30/second"``, ``"20/minute"``). The
defaults are the platforms' published limits: Telegram about 30 messages a second overall,
one a second per private chat and 20 a minute per group (or up to 1000 a second overall
with paid broadcasts), Discord 50 requests a second, WhatsApp 80 messages a second.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import NoScriptError

from core.domain.common import Platform
from notifications.platform_cap import ChatLimit, PlatformCap

__all__ = [
    "DEFAULT_RATES",
    "TELEGRAM_PAID_BROADCAST",
    "NoSlot",
    "PlatformRates",
    "SendingRates",
]


@dataclass(frozen=True, slots=True)
class PlatformRates:
    """The sending limits of one platform; ``None`` lifts a limit."""

    overall: str | None = None
    private_chat: str | None = None
    group_chat: str | None = None


DEFAULT_RATES: Mapping[Platform, PlatformRates] = {
    Platform.TELEGRAM: PlatformRates("30/second", "1/second", "20/minute"),
    Platform.DISCORD: PlatformRates("50/second"),
    Platform.WHATSAPP: PlatformRates("80/second"),
}

#: Telegram with paid broadcasts (``allow_paid_broadcast``) switched on for the bot.
TELEGRAM_PAID_BROADCAST = PlatformRates("1000/second", "1/second", "20/minute")


class NoSlot(Exception):
    """No free slot within the allowed wait: try this message again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no sending slot for {seconds:.1f} s")
        self.seconds = seconds


def _is_group(platform: Platform, chat_id: str) -> bool:
    # Telegram's group and channel chat ids are negative; private chats are the user's id.
    return platform is Platform.TELEGRAM and chat_id.startswith("-")


def _chat_key(chat_id: str) -> str:
    # Chat ids can be phone numbers (WhatsApp): only a digest of them goes into Redis.
    return hashlib.sha256(chat_id.encode()).hexdigest()[:24]


class SendingRates:
    """Hands out sending slots: :meth:`wait_for_slot` before every message.

    ``max_wait`` bounds a single wait: when the next slot is further away than that, the
    caller gets :class:`NoSlot` and should put the message back rather than hold it.
    ``margin`` is added to waits so that a message sent right at the edge of a window is
    not counted in the old one by the platform (network delays differ between requests).
    """

    def __init__(
        self,
        rates: Mapping[Platform, PlatformRates] = DEFAULT_RATES,
        *,
        storage: Storage | None = None,
        max_wait: float = 10.0,
        margin: float = 0.02,
        namespace: str = "collabbot",
    ) -> None:
        self._overall: dict[Platform, RateLimitItem] = {}
        self._private: dict[Platform, RateLimitItem] = {}
        self._group: dict[Platform, RateLimitItem] = {}
        for platform, limits in rates.items():
            for table, text in (
                (self._overall, limits.overall),
                (self._private, limits.private_chat),
                (self._group, limits.group_chat),
            ):
                if text is not None:
                    table[platform] = parse(text)
        self.storage = storage if storage is not None else MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._pool: redis.asyncio.ConnectionPool | None = None
        self._caps: dict[Platform, PlatformCap] = {}
        self.max_wait = max_wait
        self.margin = margin
        self.namespace = namespace

    @classmethod
    def shared(
        cls,
        redis_url: str | None,
        rates: Mapping[Platform, PlatformRates] = DEFAULT_RATES,
        *,
        max_wait: float = 10.0,
        margin: float = 0.02,
    ) -> SendingRates:
        """Counted in Redis when ``redis_url`` is given (shared by every process), else in
        this process's memory."""
        if not redis_url:
            return cls(rates, max_wait=max_wait, margin=margin)
        pool = redis.asyncio.ConnectionPool.from_url(redis_url)
        storage = RedisStorage(
            f"async+{redis_url}",
            implementation="redispy",
            connection_pool=pool,  # type: ignore[arg-type]  # passed on to the client
        )
        made = cls(rates, storage=storage, max_wait=max_wait, margin=margin)
        made._pool = pool
        return made

    @classmethod
    def unlimited(cls) -> SendingRates:
        """No limits at all (tests; a platform that paces itself)."""
        return cls({})

    def per_second(self, platform: Platform) -> float | None:
        """The platform's overall cap in messages a second (``None``: no cap)."""
        item = self._overall.get(platform)
        return item.amount / item.get_expiry() if item is not None else None

    def _cap(self, platform: Platform) -> PlatformCap | None:
        cap = self._caps.get(platform)
        if cap is None and platform in self._overall:
            key = f"{self.namespace}/{platform.value}/all"
            item = self._overall[platform]
            cap = PlatformCap(self._limiter, item, key, self.margin, self._take_chats)
            self._caps[platform] = cap
        return cap

    def _chat_limit(self, platform: Platform, chat_id: str) -> ChatLimit | None:
        per_chat = (self._group if _is_group(platform, chat_id) else self._private).get(platform)
        if per_chat is None:
            return None
        return per_chat, f"{self.namespace}/{platform.value}/chat/{_chat_key(chat_id)}"

    async def wait_for_slot(self, platform: Platform, chat_id: str) -> float:
        """Wait until a message to ``chat_id`` may go, take the slot, and return the seconds
        waited. Raises :class:`NoSlot` instead of waiting longer than ``max_wait``.

        The platform's slot is taken first and the chat's together with it, so the message
        can leave at once: a chat slot held while waiting for the platform's turn would let
        the next message to that chat come too soon after this one.
        """
        started = time.monotonic()
        deadline = started + self.max_wait
        cap = self._cap(platform)
        chat = self._chat_limit(platform, chat_id)
        while True:
            if cap is not None:
                try:
                    free = await cap.take(chat, deadline)
                except TimeoutError:
                    raise NoSlot(cap.expected_wait()) from None
            else:
                free = chat is None or await self._limiter.hit(*chat)
            if free or chat is None:
                return time.monotonic() - started
            stats = await self._limiter.get_window_stats(*chat)
            wait = max(stats.reset_time - time.time(), 0.0) + self.margin
            if time.monotonic() + wait > deadline:
                raise NoSlot(wait)
            await asyncio.sleep(wait)

    async def _take_chats(self, chats: Sequence[ChatLimit]) -> list[bool]:
        """A slot of each chat's limit (``False`` where it has none free), in one round trip
        when the counters are in Redis: ``limits``' own moving-window script, pipelined."""
        bridge: Any = getattr(self.storage, "bridge", None)
        script: Any = getattr(bridge, "lua_acquire_moving_window", None)
        if len(chats) > 1 and script is not None and hasattr(bridge, "get_connection"):
            now = time.time()
            pipeline = bridge.get_connection().pipeline(transaction=False)
            for item, key in chats:
                stored = bridge.prefixed_key(item.key_for(key))
                pipeline.evalsha(script.sha, 1, stored, now, item.amount, item.get_expiry(), 1)
            try:
                return [bool(taken) for taken in await pipeline.execute()]
            except NoScriptError:
                pass  # Redis lost the script (a restart): the library loads it again below
        return [await self._limiter.hit(item, key) for item, key in chats]

    async def close(self) -> None:
        """Release the connection pool or the in-memory expiry task."""
        for cap in self._caps.values():
            await cap.close()
        self._caps.clear()
        if isinstance(self.storage, MemoryStorage) and self.storage.timer is not None:
            self.storage.timer.cancel()
        if self._pool is not None:
            await self._pool.disconnect()
