"""The outbox: notices queued in the same transaction as the change that caused them."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.notices import Notice, NoticeTemplate
from core.ports.repositories import OutboxEntry
from storage.models import OutboxRow, table_of
from storage.repositories._base import SqlRepository

outbox = table_of(OutboxRow)

# Rows per INSERT: well below the bound-parameter limits of SQLite and asyncpg.
INSERT_BATCH = 500


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a dispatcher
    SENDING = "sending"  # claimed by a dispatcher until ``lease_until``
    SENT = "sent"
    DEAD = "dead"  # given up after too many failures


class SqlOutboxRepository(SqlRepository):
    async def add(self, notices: Sequence[Notice], now: datetime) -> int:
        """Queue notices; keys already stored (or repeated in ``notices``) are skipped."""
        first_by_key: dict[str, Notice] = {}
        for notice in notices:
            first_by_key.setdefault(notice.key, notice)
        rows = [_row(notice, now) for notice in first_by_key.values()]
        added = 0
        for start in range(0, len(rows), INSERT_BATCH):
            statement = (
                self._upsert(outbox)
                .values(rows[start : start + INSERT_BATCH])
                .on_conflict_do_nothing(index_elements=[outbox.c.key])
                .returning(outbox.c.id)
            )
            added += len((await self._execute(statement, what="queued notices")).all())
        return added

    async def pending(self, limit: int = 100) -> list[OutboxEntry]:
        statement = (
            select(outbox)
            .where(outbox.c.status == OutboxStatus.PENDING.value)
            .order_by(outbox.c.available_at, outbox.c.id)
            .limit(limit)
        )
        result = await self._execute(statement, what="queued notices")
        return [
            OutboxEntry(
                id=row["id"],
                key=row["key"],
                template=NoticeTemplate(row["template"]),
                recipient_id=row["recipient_member_id"],
                params=dict(row["params"]),
                digest=row["digest"],
                status=row["status"],
                created_at=row["created_at"],
            )
            for row in result.mappings()
        ]


def _row(notice: Notice, now: datetime) -> dict[str, Any]:
    return {
        "key": notice.key,
        "template": notice.template.value,
        "recipient_member_id": notice.recipient_id,
        "params": dict(notice.params),
        "digest": notice.digest,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "available_at": now,
        "created_at": now,
    }
