"""One inbound event reads in one round: the read-only use cases inside
``Marketplace.reading()`` share one connection, and a change made in between is seen by
the reads after it — on SQLite and PostgreSQL."""

from __future__ import annotations

from core import services as s
from core.domain.common import Platform
from core.services import Actor, Marketplace
from storage.unit_of_work import Database
from tests.contract.factories import stock_marketplace
from tests.contract.watching import watching


def marketplace(database: Database) -> Marketplace:
    return Marketplace(
        database.unit_of_work, database.clock, read_uow_factory=database.read_unit_of_work
    )


async def test_a_screen_reads_on_one_connection(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    mp = marketplace(database)
    # The first contact records when the creator last wrote; the next ones only read.
    await s.register_identity(mp, Platform.TELEGRAM, "1001", "1001", "Ada")

    with watching(database) as traffic:
        async with mp.reading():
            member = await s.register_identity(mp, Platform.TELEGRAM, "1001", "1001", "Ada")
            assert member.id is not None
            actor = Actor.member(member.id)
            page = await s.offer_hall(mp, actor)
            orders = await s.my_orders(mp, actor)

    assert [card.offer.id for card in page.cards] == [market.offer_id]
    assert orders == []
    assert traffic.checkouts == 1
    # The member (read once for all three), the hall, its page with products, the orders.
    assert len(traffic.statements) == 4


async def test_reads_after_a_change_see_it(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    mp = marketplace(database)
    actor = Actor.member(market.creator_id)

    async with mp.reading():
        before = await s.offer_hall(mp, actor)
        await s.claim_offer(mp, actor, market.offer_id)  # a write in the middle of the event
        after = await s.offer_hall(mp, actor)
        mine = await s.my_orders(mp, actor)

    assert before.total == 1
    assert after.total == 0
    assert [view.offer.id for view in mine] == [market.offer_id]


async def test_reading_outside_an_event_needs_no_scope(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    mp = marketplace(database)

    found = await s.find_member(mp, Platform.TELEGRAM, "1001")

    assert found is not None
    assert found.id == market.creator_id
