"""Sending broadcasts: due ones are expanded into one outbox notice per creator, in batches,
and finished with their report once every notice is settled.

Two jobs for the scheduler, both safe to run at any time, repeatedly or after a crash:

- :func:`expand_due_broadcasts` starts the scheduled broadcasts that are due (``sending``,
  with the audience counted) and queues their audience ``batch`` creators per transaction,
  by ascending member id. The broadcast row keeps a cursor (the last member queued), so a
  restart continues where the last committed batch ended; the notice key
  ``announcement:<broadcast>:<member>`` is unique, so a batch repeated anyway queues nothing
  twice. Only member ids are read, one batch at a time: a broadcast to 100,000 creators never
  holds them all in memory.
- :func:`finish_broadcasts` records the counts of broadcasts being sent (sent, failed,
  unreachable, counted from their notices in the outbox by ``outbox.broadcast_id``) and marks
  a broadcast ``done`` once its whole audience is queued and no notice is left unsent.

Every batch saves the broadcast with its version checked, so a cancel that commits while a
batch is being queued makes that batch roll back and stop; the cancel closes every notice
queued before it (see :func:`core.services.broadcasts.cancel_broadcast`).
"""

from __future__ import annotations

import logging

from core.domain.broadcasts import Broadcast, BroadcastState
from core.ports.repositories import AbstractUnitOfWork, BroadcastExpansion
from core.services import Marketplace

__all__ = ["BATCH", "expand_broadcast", "expand_due_broadcasts", "finish_broadcasts"]

logger = logging.getLogger(__name__)

BATCH = 1000
"""Creators queued per transaction."""
SWEEP_LIMIT = 100
"""Broadcasts one run looks at, at most."""


async def expand_due_broadcasts(
    mp: Marketplace, *, batch: int = BATCH, max_batches: int | None = None
) -> int:
    """Start the broadcasts that are due and queue their audiences; returns how many notices
    were queued. ``max_batches`` bounds the batches per broadcast in this run (the rest is
    queued by the next run); ``None`` queues each audience completely."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    now = mp.clock.now()

    async def due(uow: AbstractUnitOfWork) -> list[Broadcast]:
        return await uow.broadcasts.to_expand(now, SWEEP_LIMIT)

    queued = 0
    for broadcast in await mp.transaction(due):
        assert broadcast.id is not None
        queued += await expand_broadcast(mp, broadcast.id, batch=batch, max_batches=max_batches)
    return queued


async def expand_broadcast(
    mp: Marketplace, broadcast_id: int, *, batch: int = BATCH, max_batches: int | None = None
) -> int:
    """Start one due broadcast (if scheduled) and queue its audience from its cursor on, at
    most ``max_batches`` batches; returns how many notices were queued."""
    if not await _start(mp, broadcast_id):
        return 0
    queued = 0
    batches = 0
    while max_batches is None or batches < max_batches:

        async def step(uow: AbstractUnitOfWork) -> tuple[int, bool]:
            return await _queue_batch(uow, mp, broadcast_id, batch)

        added, finished = await mp.transaction(step)
        queued += added
        batches += 1
        if finished:
            break
    if queued:
        logger.info("broadcast %s: %s notices queued", broadcast_id, queued)
    return queued


async def _start(mp: Marketplace, broadcast_id: int) -> bool:
    """Scheduled and due → sending, with the audience counted; whether it is sending now."""

    async def work(uow: AbstractUnitOfWork) -> bool:
        broadcast = await uow.broadcasts.get(broadcast_id)
        if broadcast is None:
            return False
        now = mp.clock.now()
        if broadcast.state is BroadcastState.SCHEDULED:
            if broadcast.scheduled_at is not None and broadcast.scheduled_at > now:
                return False
            broadcast.start(now)
            # The count the progress shows until the whole audience is queued.
            broadcast.recipients = await uow.members.count_audience(broadcast.audience)
            await uow.broadcasts.save(broadcast)
            logger.info("broadcast %s: sending to %s creators", broadcast_id, broadcast.recipients)
        return broadcast.state is BroadcastState.SENDING

    return await mp.transaction(work)


async def _queue_batch(
    uow: AbstractUnitOfWork, mp: Marketplace, broadcast_id: int, batch: int
) -> tuple[int, bool]:
    """Queue the next ``batch`` creators of the audience; (how many were new, whether the
    broadcast needs no more batches)."""
    broadcast = await uow.broadcasts.get(broadcast_id)
    if broadcast is None or broadcast.state is not BroadcastState.SENDING:
        return 0, True  # cancelled meanwhile: nothing more is queued
    cursor = await uow.broadcasts.expansion(broadcast_id)
    if cursor.complete:
        return 0, True
    member_ids = await uow.members.audience_after(broadcast.audience, cursor.after_member_id, batch)
    now = mp.clock.now()
    added = await uow.broadcasts.queue_announcements(broadcast_id, member_ids, now)
    complete = len(member_ids) < batch
    last = member_ids[-1] if member_ids else cursor.after_member_id
    await uow.broadcasts.record_expansion(broadcast_id, BroadcastExpansion(last, complete))
    if complete:
        broadcast.recipients = (await uow.broadcasts.deliveries(broadcast_id)).queued
    # Saved every batch, version-checked: a cancel committed meanwhile rolls this batch back.
    await uow.broadcasts.save(broadcast)
    return added, complete


async def finish_broadcasts(mp: Marketplace) -> int:
    """Record the counts of the broadcasts being sent, and finish those fully queued with
    every notice settled; returns how many finished."""

    async def sending(uow: AbstractUnitOfWork) -> list[Broadcast]:
        return await uow.broadcasts.sending(SWEEP_LIMIT)

    finished = 0
    for broadcast in await mp.transaction(sending):
        assert broadcast.id is not None
        broadcast_id = broadcast.id

        async def work(uow: AbstractUnitOfWork, broadcast_id: int = broadcast_id) -> bool:
            return await _settle(uow, mp, broadcast_id)

        if await mp.transaction(work):
            finished += 1
    return finished


async def _settle(uow: AbstractUnitOfWork, mp: Marketplace, broadcast_id: int) -> bool:
    broadcast = await uow.broadcasts.get(broadcast_id)
    if broadcast is None or broadcast.state is not BroadcastState.SENDING:
        return False
    done = await uow.broadcasts.deliveries(broadcast_id)
    complete = (await uow.broadcasts.expansion(broadcast_id)).complete
    counts = (done.sent, done.failed, done.unreachable)
    changed = counts != (broadcast.sent, broadcast.failed, broadcast.unreachable)
    broadcast.sent, broadcast.failed, broadcast.unreachable = counts
    if complete:
        changed |= broadcast.recipients != done.queued
        broadcast.recipients = done.queued
    finished = complete and done.unsent == 0
    if finished:
        broadcast.finish(mp.clock.now())
        logger.info(
            "broadcast %s done: %s sent, %s failed, %s unreachable, %s skipped",
            broadcast_id,
            done.sent,
            done.failed,
            done.unreachable,
            done.skipped,
        )
    if changed or finished:
        # Only when something changed: every save bumps the version a cancel checks.
        await uow.broadcasts.save(broadcast)
    return finished
