"""How fast notices may go out: per platform overall and per chat.

Built on the ``limits`` library's moving-window limiter. In one process the counters live in
memory; with Redis (``COLLABBOT_REDIS_URL``) every process counts in the same buckets, so
two dispatcher processes together still stay under the platform's cap.

Rates are written in the ``limits`` notation (``"30/second"``, ``"20/minute"``). The
defaults are the platforms' published limits: Telegram about 30 messages a second overall,
one a second per private chat and 20 a minute per group (or up to 1000 a second overall
with paid broadcasts), Discord 50 requests a second, WhatsApp 80 messages a second.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from core.domain.common import Platform

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

    def _limits(self, platform: Platform, chat_id: str) -> list[tuple[RateLimitItem, str]]:
        out: list[tuple[RateLimitItem, str]] = []
        overall = self._overall.get(platform)
        if overall is not None:
            out.append((overall, f"{self.namespace}/{platform.value}/all"))
        per_chat = (self._group if _is_group(platform, chat_id) else self._private).get(platform)
        if per_chat is not None:
            out.append((per_chat, f"{self.namespace}/{platform.value}/chat/{_chat_key(chat_id)}"))
        return out

    async def wait_for_slot(self, platform: Platform, chat_id: str) -> float:
        """Wait until a message to ``chat_id`` may go, take the slot, and return the seconds
        waited. Raises :class:`NoSlot` instead of waiting longer than ``max_wait``."""
        limits = self._limits(platform, chat_id)
        waited = 0.0
        while limits:
            wait = await self._wait_needed(limits)
            if wait <= 0:
                if await self._take(limits):
                    break
                # Another process took the slot between the look and the take.
                wait = self.margin
            if waited + wait > self.max_wait:
                raise NoSlot(wait)
            await asyncio.sleep(wait)
            waited += wait
        return waited

    async def _wait_needed(self, limits: list[tuple[RateLimitItem, str]]) -> float:
        wait = 0.0
        for item, key in limits:
            stats = await self._limiter.get_window_stats(item, key)
            if stats.remaining < 1:
                wait = max(wait, stats.reset_time - time.time() + self.margin)
        return wait

    async def _take(self, limits: list[tuple[RateLimitItem, str]]) -> bool:
        # Each hit is atomic; a slot taken before a later hit fails stays used (a little
        # lost capacity, only when processes race for the very same slot).
        for item, key in limits:
            if not await self._limiter.hit(item, key):
                return False
        return True

    async def close(self) -> None:
        """Release the connection pool or the in-memory expiry task."""
        if isinstance(self.storage, MemoryStorage) and self.storage.timer is not None:
            self.storage.timer.cancel()
        if self._pool is not None:
            await self._pool.disconnect()
