"""Members, sellers, products and broadcasts survive a round trip through the database
unchanged, their queries return what they promise, and a stale save of any aggregate is
refused — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastAudience, BroadcastState
from core.domain.common import Money, Platform
from core.domain.errors import ConcurrencyConflict
from core.domain.members import ChannelIdentity, Member, MemberStatus, Role
from core.domain.offers import Offer
from core.domain.orders import Order
from core.domain.sellers import Seller
from storage.unit_of_work import Database, SqlUnitOfWork
from tests.contract.factories import (
    DAY,
    NOW,
    address,
    creator,
    order,
    product,
    seller,
    staff_member,
    stock_marketplace,
)

# --- members -----------------------------------------------------------------------------


async def test_a_member_comes_back_with_identities_profile_and_address(
    database: Database,
) -> None:
    ada = creator(address=address(), top_creator=True, last_selected_at=NOW - DAY)
    ada.identities.append(
        ChannelIdentity(Platform.WHATSAPP, "+15550123", "+15550123", last_inbound_at=NOW)
    )
    async with database.unit_of_work() as uow:
        await uow.members.add(ada)
        await uow.commit()
    assert ada.id is not None

    async with database.unit_of_work() as uow:
        by_id = await uow.members.get(ada.id)
        by_identity = await uow.members.by_identity(Platform.WHATSAPP, "+15550123")

    assert by_id == ada
    assert by_identity == ada
    assert by_id is not None
    assert by_id.created_at == NOW
    assert by_id.creator is not None
    assert by_id.creator.address == address()
    assert by_id.identities[1].last_inbound_at == NOW


async def test_saving_a_member_updates_profile_and_identities(database: Database) -> None:
    async with database.unit_of_work() as uow:
        ada = creator()
        await uow.members.add(ada)
        await uow.commit()

    async with database.unit_of_work() as uow:
        member = await uow.members.by_identity(Platform.TELEGRAM, "1001")
        assert member is not None
        member.rename("Ada L.")
        member.grant(Role.OPERATOR)
        member.set_address(address(line2=""))
        member.record_completion(on_time=True)
        member.identities[0].reachable = False
        member.identities[0].last_inbound_at = NOW
        member.attach(ChannelIdentity(Platform.DISCORD, "42", "dm-42"))
        member.choose_platform(Platform.DISCORD)
        await uow.members.save(member)
        await uow.commit()
    assert member.version == 1

    async with database.unit_of_work() as uow:
        assert await uow.members.get(ada.id or 0) == member
        member.identities = [i for i in member.identities if i.platform is Platform.DISCORD]
        member.status = MemberStatus.SUSPENDED
        await uow.members.save(member)
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.members.get(ada.id or 0) == member
        assert await uow.members.by_identity(Platform.TELEGRAM, "1001") is None


async def test_an_identity_already_held_by_another_member_conflicts(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await uow.members.add(creator("Ada", user_id="1001"))
        await uow.commit()

    async with database.unit_of_work() as uow:
        with pytest.raises(ConcurrencyConflict):
            await uow.members.add(creator("Impostor", user_id="1001"))


async def test_creators_are_listed_in_batches_by_id(database: Database) -> None:
    async with database.unit_of_work() as uow:
        first, second = creator("A", user_id="1"), creator("B", user_id="2")
        await uow.members.add(first)
        await uow.members.add(staff_member())
        await uow.members.add(second)
        third = creator("C", user_id="3")
        await uow.members.add(third)
        await uow.commit()

    async with database.unit_of_work() as uow:
        page = await uow.members.creators_after(0, 2)
        rest = await uow.members.creators_after(page[-1].id or 0, 10)
        many = await uow.members.get_many([first.id or 0, third.id or 0, 999])

    assert page == [first, second]
    assert rest == [third]
    assert many == {first.id: first, third.id: third}


# --- sellers and products ------------------------------------------------------------------


async def test_a_seller_keeps_its_staff_and_blocklist(database: Database) -> None:
    async with database.unit_of_work() as uow:
        sam, kim = staff_member("Sam", user_id="1"), staff_member("Kim", user_id="2")
        ada, bob = creator("Ada", user_id="3"), creator("Bob", user_id="4")
        for member in (sam, kim, ada, bob):
            await uow.members.add(member)
        shop = seller("Acme Home", staff={sam.id or 0})
        shop.block(ada.id or 0)
        await uow.sellers.add(shop)
        other = seller("Other Shop", staff={sam.id or 0})
        await uow.sellers.add(other)
        await uow.commit()

    async with database.unit_of_work() as uow:
        stored = await uow.sellers.by_name("Acme Home")
        assert stored == shop
        assert stored is not None
        stored.add_staff(kim.id or 0)
        stored.staff.discard(sam.id or 0)
        stored.unblock(ada.id or 0)
        stored.block(bob.id or 0)
        await uow.sellers.save(stored)
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.sellers.get(shop.id or 0) == stored
        assert await uow.sellers.for_member(sam.id or 0) == [other]
        assert await uow.sellers.for_member(kim.id or 0) == [stored]
        assert await uow.sellers.staff_of(shop.id or 0) == {kim.id}
        assert await uow.sellers.blocking(bob.id or 0) == {shop.id}
        assert await uow.sellers.blocking(ada.id or 0) == set()
        assert await uow.sellers.by_name("Nobody") is None


async def test_a_second_seller_with_the_same_name_conflicts(database: Database) -> None:
    async with database.unit_of_work() as uow:
        await uow.sellers.add(seller("Acme Home"))
        with pytest.raises(ConcurrencyConflict):
            await uow.sellers.add(seller("Acme Home"))


async def test_products_come_back_with_their_price(database: Database) -> None:
    async with database.unit_of_work() as uow:
        shop = seller()
        await uow.sellers.add(shop)
        priced = product(shop.id or 0, price=Money(Decimal("1234567890.05"), "EUR"))
        unpriced = product(shop.id or 0, title="Sample pack", price=None, asin="", url="https://x")
        await uow.products.add(priced)
        await uow.products.add(unpriced)
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.products.get(priced.id or 0) == priced
        assert await uow.products.get_many([unpriced.id or 0, priced.id or 0]) == {
            priced.id: priced,
            unpriced.id: unpriced,
        }
        assert await uow.products.get(999) is None


# --- every aggregate ------------------------------------------------------------------------


async def test_a_stale_save_of_any_aggregate_conflicts(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        placed = order(market.offer, market.creator_id)
        await uow.orders.add(placed)
        news = Broadcast(id=None, author_id=market.staff_id, text="Hello creators")
        await uow.broadcasts.add(news)
        await uow.commit()

    ids = (market.creator_id, market.seller_id, market.offer_id, placed.id or 0, news.id or 0)
    async with database.unit_of_work() as first:
        member, shop, live, claim, broadcast = await _load_each_kind(first, *ids)
        await first.rollback()  # end the read, so that SQLite lets the other writer in

        async with database.unit_of_work() as second:
            for aggregate in await _load_each_kind(second, *ids):
                await _save(second, aggregate)
            await second.commit()

        with pytest.raises(ConcurrencyConflict):
            await first.members.save(member)
        with pytest.raises(ConcurrencyConflict):
            await first.sellers.save(shop)
        with pytest.raises(ConcurrencyConflict):
            await first.offers.save(live)
        with pytest.raises(ConcurrencyConflict):
            await first.orders.save(claim)
        with pytest.raises(ConcurrencyConflict):
            await first.broadcasts.save(broadcast)


async def _load_each_kind(
    uow: SqlUnitOfWork,
    member_id: int,
    seller_id: int,
    offer_id: int,
    order_id: int,
    broadcast_id: int,
) -> tuple[Member, Seller, Offer, Order, Broadcast]:
    member = await uow.members.get(member_id)
    shop = await uow.sellers.get(seller_id)
    live = await uow.offers.get(offer_id)
    claim = await uow.orders.get(order_id)
    broadcast = await uow.broadcasts.get(broadcast_id)
    assert member is not None
    assert shop is not None
    assert live is not None
    assert claim is not None
    assert broadcast is not None
    return member, shop, live, claim, broadcast


async def _save(uow: SqlUnitOfWork, aggregate: Member | Seller | Offer | Order | Broadcast) -> None:
    match aggregate:
        case Member():
            await uow.members.save(aggregate)
        case Seller():
            await uow.sellers.save(aggregate)
        case Offer():
            await uow.offers.save(aggregate)
        case Order():
            await uow.orders.save(aggregate)
        case Broadcast():
            await uow.broadcasts.save(aggregate)


# --- broadcasts ----------------------------------------------------------------------------


async def test_a_broadcast_keeps_its_audience_schedule_and_counts(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        news = Broadcast(
            id=None,
            author_id=market.staff_id,
            text="New kitchen offers this week!",
            audience=BroadcastAudience(AudienceKind.CATEGORY, "kitchen"),
            image_url="https://images.example.com/banner.jpg",
            link_label="See offers",
            link_url="https://example.com/offers",
        )
        await uow.broadcasts.add(news)
        news.schedule(NOW + DAY, NOW)
        await uow.broadcasts.save(news)
        await uow.commit()

    async with database.unit_of_work() as uow:
        stored = await uow.broadcasts.get(news.id or 0)
        assert stored == news
        assert stored is not None
        stored.start(NOW + DAY)
        stored.recipients, stored.sent, stored.failed, stored.unreachable = 100, 97, 2, 1
        stored.finish(NOW + DAY + timedelta(minutes=3))
        await uow.broadcasts.save(stored)
        await uow.commit()

    async with database.unit_of_work() as uow:
        done = await uow.broadcasts.get(news.id or 0)
    assert done == stored
    assert done is not None
    assert done.state is BroadcastState.DONE
    assert done.version == 2
    assert done.created_at == NOW
