"""The counting queries behind /stats give the same numbers on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update

from core.domain.members import MemberStatus
from core.domain.offers import OfferState
from core.domain.orders import OrderState
from core.notices import Notice, NoticeTemplate
from storage.models import OutboxRow, table_of
from storage.unit_of_work import Database
from tests.contract.factories import NOW, creator, order, stock_marketplace


async def test_an_empty_database_counts_nothing(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.members.count_creators() == {
            "total": 0,
            "onboarded": 0,
            "top_creators": 0,
            "suspended": 0,
        }
        assert await uow.offers.count_by_state() == {}
        assert await uow.orders.count_by_state() == {}
        assert await uow.outbox.count_pending() == 0


async def test_creators_are_counted_by_onboarding_badge_and_suspension(
    database: Database,
) -> None:
    suspended = creator("Cleo", user_id="1003")
    suspended.status = MemberStatus.SUSPENDED
    async with database.unit_of_work() as uow:
        await stock_marketplace(uow)  # one creator (onboarded) and one staff member
        await uow.members.add(creator("Ben", user_id="1002", top_creator=True))
        await uow.members.add(suspended)
        await uow.members.add(creator("Dee", user_id="1004", onboarded=False))
        await uow.commit()

    async with database.unit_of_work() as uow:
        counts = await uow.members.count_creators()

    assert counts == {"total": 4, "onboarded": 3, "top_creators": 1, "suspended": 1}


async def test_offers_and_orders_are_counted_by_state(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)  # one live offer
        await uow.offers.add(market.another_offer(state=OfferState.DRAFT, published_at=None))
        await uow.offers.add(market.another_offer(state=OfferState.ENDED, ended_at=NOW))
        await uow.offers.add(market.another_offer(state=OfferState.ENDED, ended_at=NOW))
        ben = creator("Ben", user_id="1002")
        cleo = creator("Cleo", user_id="1003")
        await uow.members.add(ben)
        await uow.members.add(cleo)
        await uow.orders.add(order(market.offer, market.creator_id))
        await uow.orders.add(order(market.offer, ben.id or 0))
        await uow.orders.add(order(market.offer, cleo.id or 0, state=OrderState.REJECTED))
        await uow.commit()

    async with database.unit_of_work() as uow:
        offers = await uow.offers.count_by_state()
        orders = await uow.orders.count_by_state()

    assert offers == {"live": 1, "draft": 1, "ended": 2}
    assert orders == {"applied": 2, "rejected": 1}


async def test_only_notices_not_yet_sent_are_counted(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
    notices = [
        Notice(f"offer_ended:{n}:m1", NoticeTemplate.OFFER_ENDED, market.staff_id, {"offer_id": n})
        for n in range(1, 5)
    ]
    outbox = table_of(OutboxRow)
    async with database.unit_of_work() as uow:
        await uow.outbox.add(notices, NOW)
        for key, status in (("offer_ended:1:m1", "sent"), ("offer_ended:2:m1", "sending")):
            await uow.session.execute(
                update(outbox).where(outbox.c.key == key).values(status=status)
            )
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.outbox.count_pending() == 3  # two queued and one being sent
