"""Broadcast audiences and deliveries give the same answers on SQLite and PostgreSQL: who is
in an audience, page by page; the notices queued once; how they are counted and cancelled."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update

from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastAudience, BroadcastState
from core.domain.common import Platform
from core.domain.members import MemberStatus
from core.ports.clock import SystemClock
from core.ports.repositories import AbstractUnitOfWork, BroadcastExpansion
from core.services import Actor, Marketplace
from core.services.broadcasts import BroadcastDraft, cancel_broadcast, create_broadcast
from notifications.broadcasts import expand_due_broadcasts
from storage.repositories.members import SqlMemberRepository
from storage.repositories.outbox import outbox
from storage.unit_of_work import Database
from tests.contract.conftest import postgres_only
from tests.contract.factories import NOW, creator, order, stock_marketplace

SYSTEM = Actor.system()


@dataclass
class People:
    ids: dict[str, int]
    offer_id: int

    def __call__(self, *names: str) -> list[int]:
        return sorted(self.ids[name] for name in names)


async def people(database: Database) -> People:
    """Creators of every kind an audience can pick, and some who are never in one."""
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)  # "Ada": US, home+kitchen, en, Telegram
    members = {
        "ben": creator("Ben", user_id="b", country="GB", categories=frozenset({"beauty"})),
        "cleo": creator(
            "Cleo", user_id="c", platform=Platform.DISCORD, languages=frozenset({"zh", "en"})
        ),
        "dan": creator("Dan", user_id="d", top_creator=True, country="DE"),
        "opted_out": creator("Ola", user_id="o", announcements_opt_out=True),
        "unfinished": creator("Una", user_id="u", onboarded=False),
        "suspended": creator("Sue", user_id="s"),
    }
    members["suspended"].status = MemberStatus.SUSPENDED
    async with database.unit_of_work() as uow:
        for member in members.values():
            await uow.members.add(member)
        for name in ("ben", "opted_out"):
            await uow.orders.add(order(market.offer, members[name].id or 0))
        await uow.commit()
    ids = {name: m.id or 0 for name, m in members.items()}
    return People({"ada": market.creator_id, **ids}, market.offer_id)


def audiences(offer_id: int) -> list[tuple[BroadcastAudience, tuple[str, ...]]]:
    a = BroadcastAudience
    return [
        (a(), ("ada", "ben", "cleo", "dan")),
        (a(AudienceKind.PLATFORM, "telegram"), ("ada", "ben", "dan")),
        (a(AudienceKind.PLATFORM, "discord"), ("cleo",)),
        (a(AudienceKind.CATEGORY, "kitchen"), ("ada", "cleo", "dan")),
        (a(AudienceKind.CATEGORY, "beauty"), ("ben",)),
        (a(AudienceKind.COUNTRY, "US"), ("ada", "cleo")),
        (a(AudienceKind.COUNTRY, "gb"), ("ben",)),
        (a(AudienceKind.LANGUAGE, "zh"), ("cleo",)),
        (a(AudienceKind.LANGUAGE, "en"), ("ada", "ben", "cleo", "dan")),
        (a(AudienceKind.OFFER_APPLICANTS, str(offer_id)), ("ben",)),
        (a(AudienceKind.OFFER_APPLICANTS, str(offer_id + 1000)), ()),
        (a(AudienceKind.TOP_CREATORS), ("dan",)),
    ]


async def test_every_audience_lists_and_counts_the_same_creators(database: Database) -> None:
    who = await people(database)
    async with database.unit_of_work() as uow:
        for audience, names in audiences(who.offer_id):
            listed = await uow.members.audience_after(audience, 0, 100)
            counted = await uow.members.count_audience(audience)
            assert (listed, counted) == (who(*names), len(names)), audience


async def test_an_audience_is_read_page_by_page_in_id_order(database: Database) -> None:
    who = await people(database)
    everyone = who("ada", "ben", "cleo", "dan")
    pages: list[list[int]] = []
    after = 0
    async with database.unit_of_work() as uow:
        while page := await uow.members.audience_after(BroadcastAudience(), after, 3):
            pages.append(page)
            after = page[-1]
    assert pages == [everyone[:3], everyone[3:]]


# --- a broadcast's notices ---------------------------------------------------------------------


async def stored_broadcast(uow: AbstractUnitOfWork, author_id: int = 0) -> Broadcast:
    broadcast = Broadcast(id=None, author_id=author_id, text="Hello creators")
    await uow.broadcasts.add(broadcast)
    broadcast.schedule(NOW, NOW)
    await uow.broadcasts.save(broadcast)
    return broadcast


async def test_a_broadcast_by_the_system_is_stored_without_an_author(database: Database) -> None:
    async with database.unit_of_work() as uow:
        broadcast = await stored_broadcast(uow)
        await uow.commit()
    assert broadcast.id is not None
    async with database.unit_of_work() as uow:
        found = await uow.broadcasts.get(broadcast.id)
        due = await uow.broadcasts.to_expand(NOW, 10)
        recent = await uow.broadcasts.recent(10)
    assert found is not None
    assert (found.author_id, found.state) == (0, BroadcastState.SCHEDULED)
    assert [b.id for b in due] == [b.id for b in recent] == [broadcast.id]


async def test_notices_are_queued_once_and_the_cursor_is_kept(database: Database) -> None:
    who = await people(database)
    async with database.unit_of_work() as uow:
        broadcast = await stored_broadcast(uow)
        assert broadcast.id is not None
        first = await uow.broadcasts.queue_announcements(broadcast.id, who("ada", "ben"), NOW)
        again = await uow.broadcasts.queue_announcements(
            broadcast.id, who("ada", "ben", "cleo"), NOW
        )
        await uow.broadcasts.record_expansion(broadcast.id, BroadcastExpansion(who.ids["ben"]))
        await uow.commit()
    async with database.unit_of_work() as uow:
        cursor = await uow.broadcasts.expansion(broadcast.id)
        deliveries = await uow.broadcasts.deliveries(broadcast.id)
        pending = await uow.outbox.pending(10)
    assert (first, again) == (2, 1)
    assert cursor == BroadcastExpansion(who.ids["ben"], complete=False)
    assert (deliveries.queued, deliveries.unsent) == (3, 3)
    assert {e.key for e in pending} == {
        f"announcement:{broadcast.id}:{member_id}" for member_id in who("ada", "ben", "cleo")
    }
    assert {e.params["broadcast_id"] for e in pending} == {broadcast.id}


async def test_deliveries_are_counted_by_what_became_of_each_notice(database: Database) -> None:
    who = await people(database)
    everyone = who("ada", "ben", "cleo", "dan")
    async with database.unit_of_work() as uow:
        broadcast = await stored_broadcast(uow)
        assert broadcast.id is not None
        await uow.broadcasts.queue_announcements(broadcast.id, everyone, NOW)
        rows = {e.recipient_id: e.id for e in await uow.outbox.pending(10)}
        ada, ben, cleo, dan = (rows[m] for m in everyone)
        await uow.outbox.mark_sent([ada], NOW, "telegram")
        await uow.outbox.mark_sent([ben], NOW, None)  # turned announcements off meanwhile
        await uow.outbox.dead([cleo], "Unreachable: Forbidden: bot was blocked by the user")
        await uow.commit()
    async with database.unit_of_work() as uow:
        before = await uow.broadcasts.deliveries(broadcast.id)
        closed = await uow.broadcasts.cancel_deliveries(broadcast.id, NOW)
        after = await uow.broadcasts.deliveries(broadcast.id)
        await uow.commit()
    assert (before.sent, before.skipped, before.unreachable, before.unsent) == (1, 1, 1, 1)
    assert closed == 1
    assert (after.cancelled, after.unsent, after.failed) == (1, 0, 0)
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(outbox).where(outbox.c.id == dan).values(status="dead", last_error="Timeout")
        )
        assert (await uow.broadcasts.deliveries(broadcast.id)).failed == 1


async def test_a_dispatcher_holding_a_notice_keeps_it_when_the_broadcast_is_cancelled(
    database: Database,
) -> None:
    who = await people(database)
    async with database.unit_of_work() as uow:
        broadcast = await stored_broadcast(uow)
        assert broadcast.id is not None
        await uow.broadcasts.queue_announcements(broadcast.id, who("ada", "ben"), NOW)
        await uow.commit()
    async with database.unit_of_work() as uow:
        [held] = await uow.outbox.claim(NOW, timedelta(minutes=1), 1)
        await uow.commit()
    async with database.unit_of_work() as uow:
        assert await uow.broadcasts.cancel_deliveries(broadcast.id, NOW) == 1
        await uow.outbox.mark_sent([held.id], NOW, "telegram")
        done = await uow.broadcasts.deliveries(broadcast.id)
    assert (done.sent, done.cancelled, done.unsent) == (1, 1, 0)


async def test_the_expander_queues_a_whole_audience_in_batches(database: Database) -> None:
    who = await people(database)
    mp = Marketplace(database.unit_of_work, database.clock)
    broadcast = await create_broadcast(
        mp, SYSTEM, BroadcastDraft("Hi", BroadcastAudience()), send_at=NOW
    )
    assert broadcast.id is not None

    assert await expand_due_broadcasts(mp, batch=3) == 4
    assert await expand_due_broadcasts(mp, batch=3) == 0

    async with database.unit_of_work() as uow:
        stored = await uow.broadcasts.get(broadcast.id)
        cursor = await uow.broadcasts.expansion(broadcast.id)
        queued = await uow.outbox.pending(10)
    assert stored is not None
    assert (stored.state, stored.recipients) == (BroadcastState.SENDING, 4)
    assert cursor == BroadcastExpansion(who.ids["dan"], complete=True)
    assert sorted(e.recipient_id or 0 for e in queued) == who("ada", "ben", "cleo", "dan")


@postgres_only
async def test_a_cancel_committed_during_a_batch_stops_the_expansion(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch being queued when the cancel commits is rolled back; nothing is left pending."""
    await people(database)
    mp = Marketplace(database.unit_of_work, SystemClock())
    broadcast = await create_broadcast(
        mp, SYSTEM, BroadcastDraft("Hi", BroadcastAudience()), send_at=NOW
    )
    assert broadcast.id is not None
    real = SqlMemberRepository.audience_after
    cancelled = asyncio.Event()

    async def cancel_meanwhile(
        self: SqlMemberRepository, audience: BroadcastAudience, after: int, limit: int
    ) -> list[int]:
        found = await real(self, audience, after, limit)
        if not cancelled.is_set():
            cancelled.set()
            await cancel_broadcast(mp, SYSTEM, broadcast.id or 0)
        return found

    monkeypatch.setattr(SqlMemberRepository, "audience_after", cancel_meanwhile)

    await expand_due_broadcasts(mp, batch=2)

    async with database.unit_of_work() as uow:
        stored = await uow.broadcasts.get(broadcast.id)
        done = await uow.broadcasts.deliveries(broadcast.id)
    assert stored is not None
    assert stored.state is BroadcastState.CANCELLED
    assert done.unsent == 0
