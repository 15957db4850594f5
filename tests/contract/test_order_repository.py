"""Orders through their whole life, their history, their guards and their queries — on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain.common import Money
from core.domain.errors import ConcurrencyConflict
from core.domain.orders import Order, OrderState, RedoReason, Shipment
from core.ports.repositories import OrderQuery
from storage.unit_of_work import Database
from tests.contract.factories import DAY, NOW, Marketplace, creator, offer, order, seller
from tests.contract.factories import stock_marketplace as stock

HOUR = timedelta(hours=1)


async def _stored(database: Database, order_id: int | None) -> Order | None:
    async with database.unit_of_work() as uow:
        return await uow.orders.get(order_id or 0)


async def _creators(database: Database, count: int) -> list[int]:
    async with database.unit_of_work() as uow:
        ids = []
        for n in range(count):
            member = creator(f"Creator {n}", user_id=f"c{n}")
            await uow.members.add(member)
            ids.append(member.id or 0)
        await uow.commit()
    return ids


async def _marketplace(database: Database) -> Marketplace:
    async with database.unit_of_work() as uow:
        return await stock(uow)


async def test_an_order_keeps_every_step_from_claim_to_payment(database: Database) -> None:
    market = await _marketplace(database)
    claim = order(market.offer, market.creator_id)
    async with database.unit_of_work() as uow:
        await uow.orders.add(claim)
        await uow.commit()
    assert await _stored(database, claim.id) == claim

    steps: list[Callable[[Order], object]] = [
        lambda o: o.select(NOW, has_address=True, automatic=False),
        lambda o: o.ship(
            Shipment("UPS", "1Z999AA10123456784", "https://www.ups.com/track?n=1Z9", NOW + DAY),
            video_due_at=NOW + 15 * DAY,
        ),
        lambda o: o.mark_overdue(NOW + 15 * DAY + HOUR, next_reminder_at=NOW + 18 * DAY),
        lambda o: o.submit_video(
            NOW + 16 * DAY, "https://www.amazon.com/vdp/0a1b2c", "vdp:0a1b2c", file_ref="f-1"
        ),
        lambda o: o.request_redo(
            NOW + 17 * DAY,
            market.staff_id,
            frozenset({RedoReason.PORTRAIT, RedoReason.OTHER}),
            "Please film it outdoors, in landscape.",
        ),
        lambda o: o.submit_video(NOW + 18 * DAY, "https://www.amazon.com/vdp/3d4e5f", "vdp:3d4e5f"),
        lambda o: o.confirm_payment(
            NOW + 19 * DAY, market.staff_id, Money(Decimal("35.00"), "USD"), "PAY-7781"
        ),
    ]
    for step in steps:
        async with database.unit_of_work() as uow:
            current = await uow.orders.get(claim.id or 0)
            assert current is not None
            step(current)
            await uow.orders.save(current)
            assert current.new_submissions == []
            assert current.new_redo_requests == []
            await uow.commit()
        assert await _stored(database, claim.id) == current

    async with database.unit_of_work() as uow:
        paid = await uow.orders.get(claim.id or 0)
        videos = await uow.orders.submissions(claim.id or 0)
        redos = await uow.orders.redo_requests(claim.id or 0)
    assert paid is not None
    assert paid.state is OrderState.PAID
    assert paid.version == len(steps)
    assert [v.key for v in videos] == ["vdp:0a1b2c", "vdp:3d4e5f"]
    assert videos[-1] == paid.video
    assert redos == [paid.last_redo]
    assert redos[0].reasons == {RedoReason.PORTRAIT, RedoReason.OTHER}


async def test_an_accepted_free_product_order_has_a_payment_without_amount(
    database: Database,
) -> None:
    market = await _marketplace(database)
    claim = order(
        market.offer,
        market.creator_id,
        state=OrderState.SHIPPED,
        shipment=Shipment("DHL", "00340434161234567890", None, NOW),
        video_due_at=NOW + 14 * DAY,
    )
    async with database.unit_of_work() as uow:
        await uow.orders.add(claim)
        claim.submit_video(NOW + DAY, "https://www.amazon.com/vdp/aa", "vdp:aa")
        claim.accept_video(NOW + 2 * DAY, has_fee=False, by=market.staff_id)
        await uow.orders.save(claim)
        await uow.commit()

    stored = await _stored(database, claim.id)
    assert stored == claim
    assert stored is not None
    assert stored.payment is not None
    assert stored.payment.amount is None
    async with database.unit_of_work() as uow:
        assert len(await uow.orders.submissions(claim.id or 0)) == 1


async def test_a_second_claim_of_the_same_offer_by_the_same_creator_conflicts(
    database: Database,
) -> None:
    market = await _marketplace(database)
    async with database.unit_of_work() as uow:
        await uow.orders.add(order(market.offer, market.creator_id))
        await uow.commit()

    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrencyConflict):
            await uow.orders.add(order(market.offer, market.creator_id))


async def test_the_same_video_link_on_two_orders_conflicts(database: Database) -> None:
    market = await _marketplace(database)
    [other_creator] = await _creators(database, 1)
    shipped = {
        "state": OrderState.SHIPPED,
        "shipment": Shipment("UPS", "1Z1", None, NOW),
        "video_due_at": NOW + 14 * DAY,
    }
    first = order(market.offer, market.creator_id, **shipped)
    second = order(market.offer, other_creator, **shipped)
    async with database.unit_of_work() as uow:
        await uow.orders.add(first)
        await uow.orders.add(second)
        first.submit_video(NOW + DAY, "https://www.amazon.com/vdp/same", "vdp:same")
        await uow.orders.save(first)
        await uow.commit()

    async with database.unit_of_work() as uow:
        late = await uow.orders.get(second.id or 0)
        assert late is not None
        late.submit_video(NOW + DAY, "https://www.amazon.com/vdp/same", "vdp:same")
        with pytest.raises(ConcurrencyConflict):
            await uow.orders.save(late)

    async with database.unit_of_work() as uow:
        assert await uow.orders.by_video_key("vdp:same") == first
        assert await uow.orders.by_video_key("vdp:unknown") is None


async def test_orders_of_an_offer_and_of_a_creator(database: Database) -> None:
    market = await _marketplace(database)
    ana, ben = await _creators(database, 2)
    async with database.unit_of_work() as uow:
        second_offer = offer(market.seller_id, market.product.id or 0)
        await uow.offers.add(second_offer)
        a1 = order(market.offer, ana)
        b1 = order(market.offer, ben, state=OrderState.REJECTED)
        a2 = order(second_offer, ana, state=OrderState.PENDING_SHIPMENT)
        for each in (a1, b1, a2):
            await uow.orders.add(each)
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.orders.for_offer(market.offer_id) == [a1, b1]
        applied = frozenset({OrderState.APPLIED})
        assert await uow.orders.for_offer(market.offer_id, applied) == [a1]
        assert await uow.orders.for_creator(ana) == [a1, a2]
        assert await uow.orders.for_creator(ana, frozenset({OrderState.PENDING_SHIPMENT})) == [a2]
        assert await uow.orders.by_creator_and_offer(ben, market.offer_id) == b1
        assert await uow.orders.by_creator_and_offer(ben, second_offer.id or 0) is None
        assert await uow.orders.claimed_offer_ids(ana) == {market.offer_id, second_offer.id}
        assert await uow.orders.claimed_offer_ids(market.creator_id) == set()
        assert await uow.orders.get_many([a2.id or 0, b1.id or 0, 999]) == {a2.id: a2, b1.id: b1}


async def test_overdue_videos_and_due_reminders_are_found(database: Database) -> None:
    market = await _marketplace(database)
    people = await _creators(database, 6)
    shipment = Shipment("UPS", "1Z1", None, NOW - 20 * DAY)
    cases = {
        "late": {"state": OrderState.SHIPPED, "video_due_at": NOW - HOUR},
        "later": {"state": OrderState.SHIPPED, "video_due_at": NOW - DAY},
        "on_time": {"state": OrderState.SHIPPED, "video_due_at": NOW + DAY},
        "remind": {
            "state": OrderState.VIDEO_OVERDUE,
            "video_due_at": NOW - 5 * DAY,
            "next_reminder_at": NOW - timedelta(minutes=1),
        },
        "remind_later": {
            "state": OrderState.VIDEO_OVERDUE,
            "video_due_at": NOW - 5 * DAY,
            "next_reminder_at": NOW + DAY,
        },
        "reminded_enough": {
            "state": OrderState.VIDEO_OVERDUE,
            "video_due_at": NOW - 9 * DAY,
            "next_reminder_at": None,
        },
    }
    orders = {
        name: order(market.offer, person, shipment=shipment, **fields)
        for (name, fields), person in zip(cases.items(), people, strict=True)
    }
    async with database.unit_of_work() as uow:
        for each in orders.values():
            await uow.orders.add(each)
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.orders.due_overdue(NOW, limit=10) == [orders["later"], orders["late"]]
        assert await uow.orders.due_overdue(NOW, limit=1) == [orders["later"]]
        assert await uow.orders.due_reminders(NOW, limit=10) == [orders["remind"]]


async def test_the_export_query_applies_every_filter(database: Database) -> None:
    market = await _marketplace(database)
    people = await _creators(database, 4)
    async with database.unit_of_work() as uow:
        other_shop = seller("Other Shop")
        await uow.sellers.add(other_shop)
        other_offer = offer(other_shop.id or 0, market.product.id or 0)
        await uow.offers.add(other_offer)
        early = order(market.offer, people[0], applied_at=NOW - 10 * DAY)
        middle = order(market.offer, people[1], applied_at=NOW - 5 * DAY, state=OrderState.REJECTED)
        late = order(market.offer, people[2], applied_at=NOW - DAY)
        elsewhere = order(other_offer, people[3], applied_at=NOW - 5 * DAY)
        for each in (early, middle, late, elsewhere):
            await uow.orders.add(each)
        await uow.commit()

    async with database.unit_of_work() as uow:
        query = uow.orders.query
        assert await query(OrderQuery()) == [early, middle, late, elsewhere]
        assert await query(OrderQuery(since=NOW - 5 * DAY, until=NOW - DAY)) == [middle, elsewhere]
        assert await query(OrderQuery(seller_id=market.seller_id)) == [early, middle, late]
        assert await query(OrderQuery(offer_id=other_offer.id)) == [elsewhere]
        assert await query(OrderQuery(creator_id=people[2])) == [late]
        assert await query(OrderQuery(states=frozenset({OrderState.REJECTED}))) == [middle]
        assert await query(OrderQuery(after_id=early.id or 0, limit=2)) == [middle, late]
