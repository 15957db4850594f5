"""The outbox: notices queued in the same transaction as the change that caused them."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, update

from core.notices import OPTIONAL_TEMPLATES, Notice, NoticeTemplate
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


UNSENT = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


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
        return [_entry(row) for row in result.mappings()]

    async def count_pending(self) -> int:
        waiting = [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]
        statement = select(func.count()).select_from(outbox).where(outbox.c.status.in_(waiting))
        return int((await self._execute(statement, what="queued notices")).scalar_one())

    async def count_for(self, recipient_id: int, template: NoticeTemplate, since: datetime) -> int:
        statement = (
            select(func.count())
            .select_from(outbox)
            .where(
                outbox.c.recipient_member_id == recipient_id,
                outbox.c.template == template.value,
                outbox.c.created_at >= since,
            )
        )
        return int((await self._execute(statement, what="queued notices")).scalar_one())

    # --- delivery -----------------------------------------------------------------------

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[OutboxEntry]:
        """See :meth:`core.ports.repositories.OutboxRepository.claim`.

        PostgreSQL: the heads (each recipient's oldest unsent row, when due) and then their
        digest companions are read ``FOR UPDATE SKIP LOCKED``, so concurrent dispatchers
        skip each other's rows instead of waiting; a row another dispatcher claimed and
        committed meanwhile fails the re-check of its status. SQLite: the transaction began
        with ``BEGIN IMMEDIATE`` and holds the write lock, so the whole claim is atomic.
        """
        if limit <= 0:
            return []
        earlier = outbox.alias("earlier")
        # One index probe per due row (ix_outbox_recipient), as a scalar subquery: written as
        # NOT EXISTS, PostgreSQL makes it an anti-join, and with the statistics of a table
        # that grew by thousands of rows a second it may pick a nested loop over every
        # unsent row for every due row — seconds per claim in a large broadcast.
        earlier_unsent = (
            select(earlier.c.id)
            .where(
                earlier.c.recipient_member_id == outbox.c.recipient_member_id,
                earlier.c.id < outbox.c.id,
                earlier.c.status.in_(UNSENT),
                # A digest notice still waiting for company does not hold back the rest.
                ~and_(
                    earlier.c.status == OutboxStatus.PENDING.value,
                    earlier.c.digest.is_not(None),
                    earlier.c.attempts == 0,
                    earlier.c.available_at > now,
                ),
            )
            .limit(1)
            .scalar_subquery()
        )
        heads = (
            select(outbox.c.id, outbox.c.recipient_member_id, outbox.c.digest)
            .where(outbox.c.recipient_member_id.is_not(None), _due(now), earlier_unsent.is_(None))
            # Order notices go before announcements, so a large broadcast never delays them.
            .order_by(_announcements_last, outbox.c.id)
            .limit(limit)
        )
        found = (await self._execute(self._skip_locked(heads), what="due notices")).all()
        ids = {row.id for row in found}
        digests = [
            and_(
                outbox.c.recipient_member_id == row.recipient_member_id,
                outbox.c.digest == row.digest,
                outbox.c.id > row.id,
            )
            for row in found
            if row.digest is not None
        ]
        if digests:
            # The rest of each head's digest group goes with it, whenever it was due.
            companions = select(outbox.c.id).where(
                or_(*digests),
                or_(
                    outbox.c.status == OutboxStatus.PENDING.value,
                    and_(
                        outbox.c.status == OutboxStatus.SENDING.value,
                        outbox.c.lease_until <= now,
                    ),
                ),
            )
            result = await self._execute(self._skip_locked(companions), what="due notices")
            ids.update(result.scalars())
        if not ids:
            return []
        reclaimed = outbox.c.status == OutboxStatus.SENDING.value
        statement = (
            update(outbox)
            .where(outbox.c.id.in_(sorted(ids)))
            .values(
                status=OutboxStatus.SENDING.value,
                lease_until=now + lease,
                attempts=outbox.c.attempts + case((reclaimed, 1), else_=0),
                last_error=case((reclaimed, OutboxEntry.LEASE_EXPIRED), else_=outbox.c.last_error),
            )
            .returning(*outbox.c)
        )
        result = await self._execute(statement, what="claimed notices")
        return sorted((_entry(row) for row in result.mappings()), key=lambda e: e.id)

    async def mark_sent(self, ids: Sequence[int], now: datetime, channel: str | None) -> int:
        return await self._change(
            ids,
            UNSENT,
            status=OutboxStatus.SENT.value,
            sent_at=now,
            channel=channel,
            lease_until=None,
        )

    async def retry(
        self,
        ids: Sequence[int],
        available_at: datetime,
        error: str,
        *,
        failed: bool = True,
    ) -> int:
        return await self._change(
            ids,
            UNSENT,
            status=OutboxStatus.PENDING.value,
            available_at=available_at,
            lease_until=None,
            attempts=outbox.c.attempts + (1 if failed else 0),
            last_error=error[: OutboxEntry.ERROR_MAX],
        )

    async def dead(self, ids: Sequence[int], error: str) -> int:
        return await self._change(
            ids,
            UNSENT,
            status=OutboxStatus.DEAD.value,
            lease_until=None,
            attempts=outbox.c.attempts + 1,
            last_error=error[: OutboxEntry.ERROR_MAX],
        )

    async def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        statement = (
            select(outbox)
            .where(outbox.c.status == OutboxStatus.DEAD.value)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        result = await self._execute(statement, what="dead notices")
        return [_entry(row) for row in result.mappings()]

    async def revive(self, ids: Sequence[int], now: datetime) -> int:
        return await self._change(
            ids,
            (OutboxStatus.DEAD.value,),
            status=OutboxStatus.PENDING.value,
            available_at=now,
            lease_until=None,
            attempts=0,
        )

    async def _change(self, ids: Sequence[int], states: Sequence[str], **values: Any) -> int:
        """Update the rows among ``ids`` that are in one of ``states``; how many changed."""
        if not ids:
            return 0
        statement = (
            update(outbox)
            .where(outbox.c.id.in_(list(ids)), outbox.c.status.in_(list(states)))
            .values(**values)
        )
        result = await self._execute(statement, what="notices")
        return int(getattr(result, "rowcount", 0))

    def _skip_locked(self, statement: Select[Any]) -> Select[Any]:
        if self._dialect == "postgresql":
            return statement.with_for_update(skip_locked=True, of=outbox)
        return statement


_announcements_last = case(
    (outbox.c.template.in_(sorted(t.value for t in OPTIONAL_TEMPLATES)), 1), else_=0
)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.available_at <= now,
        ),
        and_(
            outbox.c.status == OutboxStatus.SENDING.value,
            outbox.c.lease_until <= now,
        ),
    )


def _entry(row: Mapping[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        key=row["key"],
        template=NoticeTemplate(row["template"]),
        recipient_id=row["recipient_member_id"],
        params=dict(row["params"]),
        digest=row["digest"],
        status=row["status"],
        created_at=row["created_at"],
        attempts=row["attempts"],
        available_at=row["available_at"],
        lease_until=row["lease_until"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        channel=row["channel"],
    )


def _row(notice: Notice, now: datetime) -> dict[str, Any]:
    return {
        "key": notice.key,
        "template": notice.template.value,
        "recipient_member_id": notice.recipient_id,
        "params": dict(notice.params),
        "digest": notice.digest,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "available_at": now + notice.hold,
        "created_at": now,
    }
