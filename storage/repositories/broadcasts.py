"""Broadcasts: announcements to all or part of the creators, with their delivery counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, select

from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastAudience, BroadcastState
from storage.models import BroadcastRow, table_of
from storage.repositories._base import TrackingRepository

broadcasts = table_of(BroadcastRow)


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


def _broadcast(row: RowMapping) -> Broadcast:
    return Broadcast(
        id=row["id"],
        author_id=row["author_id"],
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
        "author_id": broadcast.author_id,
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
