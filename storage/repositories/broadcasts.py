"""Broadcasts: announcements to all or part of the creators, with their delivery counts.

A broadcast's notices are outbox rows carrying its id in ``outbox.broadcast_id`` (indexed
with ``status``): they are queued here in batches and counted and cancelled together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, case, func, or_, select, update

from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastAudience, BroadcastState
from core.notices import NoticeTemplate
from core.ports.repositories import (
    BroadcastDeliveries,
    BroadcastExpansion,
    announcement_key,
)
from storage.models import BroadcastRow, table_of
from storage.repositories._base import TrackingRepository
from storage.repositories.outbox import OutboxStatus, outbox

broadcasts = table_of(BroadcastRow)

CANCELLED_NOTE = "Cancelled: the broadcast was cancelled before this was sent"
"""``last_error`` of a notice closed unsent because its broadcast was cancelled."""
UNREACHABLE = "Unreachable%"
"""How the dispatcher's ``last_error`` starts when no chat account took the notice."""


class SqlBroadcastRepository(TrackingRepository):
    async def get(self, broadcast_id: int) -> Broadcast | None:
        result = await self._execute(
            select(broadcasts).where(broadcasts.c.id == broadcast_id), what="broadcast"
        )
        row = result.mappings().first()
        return _broadcast(row) if row is not None else None

    async def add(self, broadcast: Broadcast) -> None:
        if broadcast.created_at is None:
            broadcast.created_at = self._clock.now()
        broadcast.id = await self._insert(
            broadcasts, _broadcast_values(broadcast), what="new broadcast"
        )
        self._track(broadcast)

    async def save(self, broadcast: Broadcast) -> None:
        broadcast.version = await self._update_versioned(
            broadcasts,
            broadcast.id,
            broadcast.version,
            _broadcast_values(broadcast),
            what=f"broadcast {broadcast.id}",
        )
        self._track(broadcast)

    async def recent(self, limit: int) -> list[Broadcast]:
        statement = select(broadcasts).order_by(broadcasts.c.id.desc()).limit(limit)
        result = await self._execute(statement, what="broadcasts")
        return [_broadcast(row) for row in result.mappings()]

    async def to_expand(self, now: datetime, limit: int) -> list[Broadcast]:
        statement = (
            select(broadcasts)
            .where(
                or_(
                    and_(
                        broadcasts.c.state == BroadcastState.SCHEDULED.value,
                        broadcasts.c.scheduled_at <= now,
                    ),
                    and_(
                        broadcasts.c.state == BroadcastState.SENDING.value,
                        broadcasts.c.expanded_at.is_(None),
                    ),
                )
            )
            .order_by(broadcasts.c.scheduled_at, broadcasts.c.id)
            .limit(limit)
        )
        result = await self._execute(statement, what="broadcasts due")
        return [_broadcast(row) for row in result.mappings()]

    async def sending(self, limit: int) -> list[Broadcast]:
        statement = (
            select(broadcasts)
            .where(broadcasts.c.state == BroadcastState.SENDING.value)
            .order_by(broadcasts.c.id)
            .limit(limit)
        )
        result = await self._execute(statement, what="broadcasts being sent")
        return [_broadcast(row) for row in result.mappings()]

    # --- the audience, queued in batches ---------------------------------------------------

    async def expansion(self, broadcast_id: int) -> BroadcastExpansion:
        statement = select(broadcasts.c.expansion_cursor, broadcasts.c.expanded_at).where(
            broadcasts.c.id == broadcast_id
        )
        row = (await self._execute(statement, what="broadcast")).first()
        if row is None:
            return BroadcastExpansion()
        return BroadcastExpansion(row.expansion_cursor, row.expanded_at is not None)

    async def record_expansion(self, broadcast_id: int, expansion: BroadcastExpansion) -> None:
        statement = (
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id)
            .values(
                expansion_cursor=expansion.after_member_id,
                expanded_at=self._clock.now() if expansion.complete else None,
            )
        )
        await self._execute(statement, what=f"broadcast {broadcast_id}")

    async def queue_announcements(
        self, broadcast_id: int, member_ids: Sequence[int], now: datetime
    ) -> int:
        if not member_ids:
            return 0
        rows = [_announcement_row(broadcast_id, member_id, now) for member_id in member_ids]
        # One statement compiled once for many rows ("insertmanyvalues"): compiling a
        # VALUES list of hundreds of rows costs more than sending them.
        statement = (
            self._upsert(outbox)
            .on_conflict_do_nothing(index_elements=[outbox.c.key])
            .returning(outbox.c.id)
        )
        result = await self._execute(statement, rows, what=f"broadcast {broadcast_id}'s notices")
        return len(result.all())

    # --- what became of the notices ----------------------------------------------------------

    async def deliveries(self, broadcast_id: int) -> BroadcastDeliveries:
        status, channel, note = outbox.c.status, outbox.c.channel, outbox.c.last_error
        sent = status == OutboxStatus.SENT.value
        dead = status == OutboxStatus.DEAD.value
        # ``IS NOT NULL`` first keeps each condition true or false, never NULL, so that NOT
        # of it counts the rows without a note.
        cancelled = and_(note.is_not(None), note == CANCELLED_NOTE)
        unreachable = and_(note.is_not(None), note.like(UNREACHABLE))
        statement = select(
            func.count().label("queued"),
            _tally(and_(sent, channel.is_not(None))).label("sent"),
            _tally(and_(sent, channel.is_(None), ~cancelled)).label("skipped"),
            _tally(and_(sent, channel.is_(None), cancelled)).label("cancelled"),
            _tally(and_(dead, ~unreachable)).label("failed"),
            _tally(and_(dead, unreachable)).label("unreachable"),
        ).where(outbox.c.broadcast_id == broadcast_id)
        row = (await self._execute(statement, what="broadcast deliveries")).mappings().one()
        return BroadcastDeliveries(**{name: int(value) for name, value in row.items()})

    async def cancel_deliveries(self, broadcast_id: int, now: datetime) -> int:
        statement = (
            update(outbox)
            .where(
                outbox.c.broadcast_id == broadcast_id,
                outbox.c.status == OutboxStatus.PENDING.value,
            )
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=now,
                channel=None,
                lease_until=None,
                last_error=CANCELLED_NOTE,
            )
        )
        result = await self._execute(statement, what=f"broadcast {broadcast_id}'s notices")
        return int(getattr(result, "rowcount", 0))


def _tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _announcement_row(broadcast_id: int, member_id: int, now: datetime) -> dict[str, Any]:
    return {
        "key": announcement_key(broadcast_id, member_id),
        "template": NoticeTemplate.ANNOUNCEMENT.value,
        "recipient_member_id": member_id,
        "params": {"broadcast_id": broadcast_id},
        "digest": None,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "available_at": now,
        "created_at": now,
        "broadcast_id": broadcast_id,
    }


def _broadcast(row: RowMapping) -> Broadcast:
    return Broadcast(
        id=row["id"],
        author_id=row["author_id"] or 0,
        text=row["text"],
        audience=BroadcastAudience(AudienceKind(row["audience_kind"]), row["audience_value"]),
        image_url=row["image_url"],
        link_label=row["link_label"],
        link_url=row["link_url"],
        state=BroadcastState(row["state"]),
        scheduled_at=row["scheduled_at"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        recipients=row["recipients"],
        sent=row["sent"],
        failed=row["failed"],
        unreachable=row["unreachable"],
        version=row["version"],
    )


def _broadcast_values(broadcast: Broadcast) -> dict[str, Any]:
    return {
        # 0 stands for the system (the command line), which is no member.
        "author_id": broadcast.author_id or None,
        "text": broadcast.text,
        "audience_kind": broadcast.audience.kind.value,
        "audience_value": broadcast.audience.value,
        "image_url": broadcast.image_url,
        "link_label": broadcast.link_label,
        "link_url": broadcast.link_url,
        "state": broadcast.state.value,
        "scheduled_at": broadcast.scheduled_at,
        "created_at": broadcast.created_at,
        "started_at": broadcast.started_at,
        "finished_at": broadcast.finished_at,
        "recipients": broadcast.recipients,
        "sent": broadcast.sent,
        "failed": broadcast.failed,
        "unreachable": broadcast.unreachable,
        "version": broadcast.version,
    }
