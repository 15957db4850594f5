"""A platform's overall cap in one process: slots taken from the shared moving window a few
at a time and handed to the waiting messages in the order they came, each together with a
slot of its chat's own limit.

Locally the slots are paced at ``PACE`` of the rate, at most ``chunk`` at once (``BURST``
seconds' worth: 10 at 1000 a second, one at 30), so in any second one process takes at most
99 % of the cap and messages leave in a steady stream. The shared window binds when other
processes send too; then the next slots are taken ``margin`` seconds after the old ones
leave it, because the platform counts arrivals and requests take different times to
arrive: a slot reused at the very edge of the window could arrive inside it. The chat slots
of a chunk are taken in one round trip (``take_chats``), so a message costs a small share of
two round trips to the shared store.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter

__all__ = ["BURST", "PACE", "ChatLimit", "PlatformCap"]

PACE = 0.98
"""The share of the cap one process paces itself at."""
BURST = 0.01
"""Seconds of sending whose slots are taken at once."""

ChatLimit = tuple[RateLimitItem, str]
"""A chat's limit and its key in the shared store."""
TakeChats = Callable[[Sequence[ChatLimit]], Awaitable[list[bool]]]


@dataclass(eq=False, slots=True)
class _Waiter:
    chat: ChatLimit | None
    answer: asyncio.Future[bool]


class PlatformCap:
    """Hands out one platform's sending slots; see the module."""

    def __init__(
        self,
        limiter: MovingWindowRateLimiter,
        item: RateLimitItem,
        key: str,
        margin: float,
        take_chats: TakeChats,
    ) -> None:
        self._limiter = limiter
        self._item = item
        self._key = key
        self._margin = margin
        self._take_chats = take_chats
        rate = item.amount / item.get_expiry()
        self.chunk = max(1, min(item.amount, math.floor(rate * BURST)))
        self.pace = rate * PACE
        self._tokens = float(self.chunk)
        self._refilled = time.monotonic()
        self._spare = 0
        self._spare_since = 0.0
        self._waiting: deque[_Waiter] = deque()
        self._filler: asyncio.Task[None] | None = None

    async def take(self, chat: ChatLimit | None, deadline: float) -> bool:
        """Wait until ``deadline`` (``time.monotonic()``) for the platform's next slot and
        take ``chat``'s with it; ``False`` when the chat is not free yet (the platform's slot
        goes to the next message). Raises :class:`TimeoutError` at the deadline, and what the
        shared store raised when it failed."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiter(chat, answer))
        if self._filler is None or self._filler.done():
            self._filler = asyncio.create_task(self._fill(), name="sending-slots")
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            return await answer

    def expected_wait(self) -> float:
        """Seconds until a message queued now would get its slot, about."""
        return max(self._margin, len(self._waiting) / self.pace)

    async def _fill(self) -> None:
        try:
            while self._live():
                await self._fill_once()
        except Exception as error:
            # The shared store failed: everyone waiting hears of it (and may try again).
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.answer.done():
                    waiter.answer.set_exception(error)

    async def _fill_once(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.chunk, self._tokens + (now - self._refilled) * self.pace)
        self._refilled = now
        # With a chunk's worth of messages waiting, wait for a whole chunk of slots: fewer,
        # fuller round trips to the shared store at the same pace.
        needed = min(self.chunk, self._live())
        if self._tokens < needed:
            await asyncio.sleep((needed - self._tokens) / self.pace)
            return
        wanted = min(self._live(), int(self._tokens))
        if self._spare and now - self._spare_since > self._margin / 2:
            self._spare = 0  # taken too long ago to be used now
        slots = min(wanted, self._spare)
        self._spare -= slots
        if slots < wanted:
            slots += await self._take_overall(wanted - slots)
        if not slots:
            return
        self._tokens -= slots
        batch: list[_Waiter] = []
        while len(batch) < slots and self._live():
            batch.append(self._waiting.popleft())
        chats = [waiter.chat for waiter in batch if waiter.chat is not None]
        free = iter(await self._take_chats(chats) if chats else [])
        unused = slots - len(batch)
        for waiter in batch:
            go = waiter.chat is None or next(free)
            if waiter.answer.done():
                unused += 1  # gave up meanwhile
            else:
                waiter.answer.set_result(go)
                unused += 0 if go else 1
        if unused:
            self._spare, self._spare_since = self._spare + unused, time.monotonic()

    async def _take_overall(self, wanted: int) -> int:
        """Take up to ``wanted`` slots from the shared window; waits when it is full."""
        if await self._limiter.hit(self._item, self._key, cost=wanted):
            return wanted
        stats = await self._limiter.get_window_stats(self._item, self._key)
        if stats.remaining >= 1:
            # Part of a chunk is free (or another process was quicker): take what is.
            free = min(wanted, stats.remaining)
            return free if await self._limiter.hit(self._item, self._key, cost=free) else 0
        await asyncio.sleep(max(stats.reset_time - time.time(), 0.0) + self._margin)
        return 0

    def _live(self) -> int:
        while self._waiting and self._waiting[0].answer.done():
            self._waiting.popleft()  # gave up waiting
        return len(self._waiting)

    async def close(self) -> None:
        if self._filler is not None:
            self._filler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._filler
            self._filler = None
