"""What became of a delivery, and writing it to the outbox.

Outcomes are group-committed: a delivery that finishes while another's outcome is being
written joins the next write, so at a thousand notices a second one transaction records
dozens of them instead of each paying for its own. Every caller still returns only once its
own outcome is committed, so a dispatcher that dies can repeat no more than the notices it
was sending or recording at that moment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from core.ports.repositories import AbstractUnitOfWork
from core.services import Marketplace

__all__ = ["Dead", "OutcomeLedger", "Sent", "Settled", "Wait"]


@dataclass(frozen=True, slots=True)
class Sent:
    """Delivered through ``channel`` (``None``: nothing needed sending)."""

    channel: str | None

    @property
    def kind(self) -> str:
        return "sent" if self.channel else "skipped"


@dataclass(frozen=True, slots=True)
class Wait:
    """Back to the queue for ``seconds``; ``failed`` counts it as a failed attempt."""

    seconds: float
    error: str
    failed: bool = False
    kind: str = "throttled"


@dataclass(frozen=True, slots=True)
class Dead:
    """Given up on."""

    error: str
    kind: str = "dead"


Settled = Sent | Wait | Dead


@dataclass
class _Pending:
    ids: list[int]
    settled: Settled
    written: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class OutcomeLedger:
    """Records settled deliveries in the outbox, many in one transaction."""

    def __init__(self, mp: Marketplace) -> None:
        self.mp = mp
        self._queue: list[_Pending] = []
        self._writing = asyncio.Lock()

    async def record(self, ids: Sequence[int], settled: Settled) -> None:
        """Write ``settled`` for the notices ``ids``; returns once it is committed."""
        mine = _Pending(list(ids), settled)
        self._queue.append(mine)
        async with self._writing:
            if not mine.written.done():
                # Nobody wrote it while this waited: write everything queued so far.
                batch, self._queue = self._queue, []
                try:
                    await self._write(batch)
                except BaseException as error:
                    for pending in batch:
                        if pending is not mine and not pending.written.done():
                            pending.written.set_exception(error)
                    raise
                for pending in batch:
                    if not pending.written.done():
                        pending.written.set_result(None)
        await mine.written

    async def _write(self, batch: Sequence[_Pending]) -> None:
        now = self.mp.clock.now()
        sent: dict[str | None, list[int]] = {}
        retries: dict[tuple[float, str, bool], list[int]] = {}
        dead: dict[str, list[int]] = {}
        for pending in batch:
            match pending.settled:
                case Sent(channel=channel):
                    sent.setdefault(channel, []).extend(pending.ids)
                case Wait(seconds=seconds, error=error, failed=failed):
                    retries.setdefault((seconds, error, failed), []).extend(pending.ids)
                case Dead(error=error):
                    dead.setdefault(error, []).extend(pending.ids)

        async def work(uow: AbstractUnitOfWork) -> None:
            for channel, ids in sent.items():
                await uow.outbox.mark_sent(ids, now, channel)
            for (seconds, error, failed), ids in retries.items():
                at = now + timedelta(seconds=max(0.0, seconds))
                await uow.outbox.retry(ids, at, error, failed=failed)
            for error, ids in dead.items():
                await uow.outbox.dead(ids, error)

        await self.mp.transaction(work)
