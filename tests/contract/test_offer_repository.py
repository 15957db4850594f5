"""Offers keep every field, and the offer hall and the schedulers' sweeps find the right
ones — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from core.domain.common import Money
from core.domain.offers import (
    Audience,
    OfferState,
    Requirements,
    Reward,
    RewardKind,
    SelectionMode,
    VideoType,
)
from core.domain.orders import OrderState
from core.ports.repositories import OfferQuery
from storage.unit_of_work import Database
from tests.contract.factories import DAY, NOW, offer, order, seller, stock_marketplace


async def test_an_offer_keeps_every_field(database: Database) -> None:
    berlin = timezone(timedelta(hours=1))
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        full = offer(
            market.seller_id,
            market.product.id or 0,
            video_type=VideoType.TOP_CREATOR_WITH_FILE,
            slots=12,
            application_deadline=datetime(2025, 3, 9, 18, 30, 15, 123456, tzinfo=berlin),
            reward=Reward(RewardKind.FEE, Money(Decimal("35.50"), "EUR")),
            requirements=Requirements(
                text="Show the press crushing garlic.",
                landscape=True,
                min_length_seconds=90,
                outdoor=True,
                with_children=True,
                with_pets=True,
                face_visible=True,
            ),
            selection=SelectionMode.AUTO,
            audience=Audience(
                public=False,
                categories=frozenset({"kitchen", "home"}),
                countries=frozenset({"US", "GB"}),
                languages=frozenset({"en", "de"}),
                min_completed_videos=3,
                top_creators_only=True,
            ),
            content_deadline_days=21,
            state=OfferState.ENDED,
            applied_count=7,
            selected_count=4,
            created_at=NOW - 3 * DAY,
            published_at=NOW - 2 * DAY,
            ended_at=NOW,
            end_reason="slots_filled",
            category="home",
        )
        await uow.offers.add(full)
        await uow.commit()

    async with database.unit_of_work() as uow:
        stored = await uow.offers.get(full.id or 0, for_update=True)

    assert stored == full
    assert stored is not None
    assert stored.application_deadline.tzinfo == UTC
    assert stored.application_deadline == datetime(2025, 3, 9, 17, 30, 15, 123456, tzinfo=UTC)


async def test_the_offer_hall_shows_live_open_offers_newest_first(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)  # live, influencer, kitchen, published a day ago
        make = market.another_offer
        newest = make(
            video_type=VideoType.AMATEUR_WITH_FILE,
            category="home",
            published_at=NOW - timedelta(hours=2),
        )
        paused = make(state=OfferState.PAUSED)
        past_deadline = make(application_deadline=NOW - timedelta(hours=1))
        draft = make(state=OfferState.DRAFT, published_at=None)
        for each in (newest, paused, past_deadline, draft):
            await uow.offers.add(each)
        await uow.commit()

    async with database.unit_of_work() as uow:
        everything = await uow.offers.live(OfferQuery(NOW))
        amateur = await uow.offers.live(
            OfferQuery(NOW, video_types=frozenset({VideoType.AMATEUR_WITH_FILE}))
        )
        kitchen = await uow.offers.live(OfferQuery(NOW, category="kitchen"))
        none = await uow.offers.live(
            OfferQuery(NOW, video_types=frozenset({VideoType.INFLUENCER}), category="home")
        )

    assert everything == [newest, market.offer]
    assert amateur == [newest]
    assert kitchen == [market.offer]
    assert none == []


async def test_the_hall_leaves_out_claimed_offers_and_blocking_sellers(
    database: Database,
) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)  # live, influencer, kitchen, published a day ago
        make = market.another_offer
        claimed = make(published_at=NOW - timedelta(hours=3))
        invited = make(
            published_at=NOW - timedelta(hours=2),
            audience=Audience(public=False, countries=frozenset({"DE"})),
        )
        in_home = make(category="home", published_at=NOW - timedelta(hours=1))
        paused = make(state=OfferState.PAUSED)
        for each in (claimed, invited, in_home, paused):
            await uow.offers.add(each)
        await uow.orders.add(order(claimed, market.creator_id))
        other_shop = seller("Other Shop")
        await uow.sellers.add(other_shop)
        assert other_shop.id is not None
        blocked_offer = offer(other_shop.id, market.product.id or 0, published_at=NOW)
        await uow.offers.add(blocked_offer)
        other_shop.block(market.creator_id)
        await uow.sellers.save(other_shop)
        await uow.commit()

    everything = OfferQuery(NOW)
    async with database.read_unit_of_work() as uow:
        hall = await uow.offers.hall(everything, market.creator_id)
        someone_else = await uow.offers.hall(everything, market.creator_id + 1000)
        home = await uow.offers.hall(OfferQuery(NOW, category="home"), market.creator_id)
        amateur = await uow.offers.hall(
            OfferQuery(NOW, video_types=frozenset({VideoType.AMATEUR_WITH_FILE})),
            market.creator_id,
        )
        found = await uow.offers.get_many([invited.id or 0, market.offer_id, 999_999])
        paired = await uow.offers.with_products([invited.id or 0, 999_999])

    assert [e.offer_id for e in hall] == [in_home.id, invited.id, market.offer_id]
    assert hall[1].seller_id == market.seller_id
    assert hall[1].audience == invited.audience
    assert hall[0].audience is None  # public: anyone may claim it
    assert [e.offer_id for e in someone_else] == [
        blocked_offer.id,
        in_home.id,
        invited.id,
        claimed.id,
        market.offer_id,
    ]
    assert [e.offer_id for e in home] == [in_home.id]
    assert amateur == []
    assert found == {invited.id: invited, market.offer_id: market.offer}
    assert paired == {invited.id: (invited, market.product)}


async def test_offers_by_seller_and_offers_due_to_end(database: Database) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        make = market.another_offer
        late_live = make(application_deadline=NOW - timedelta(minutes=5))
        late_paused = make(state=OfferState.PAUSED, application_deadline=NOW - DAY)
        late_ended = make(state=OfferState.ENDED, application_deadline=NOW - DAY)
        for each in (late_live, late_paused, late_ended):
            await uow.offers.add(each)
        other_shop = seller("Other Shop")
        await uow.sellers.add(other_shop)
        await uow.offers.add(offer(other_shop.id or 0, market.product.id or 0))
        await uow.commit()

    async with database.unit_of_work() as uow:
        all_mine = await uow.offers.by_seller(market.seller_id)
        paused = await uow.offers.by_seller(market.seller_id, frozenset({OfferState.PAUSED}))
        due = await uow.offers.due_to_end(NOW, limit=10)
        first_due = await uow.offers.due_to_end(NOW, limit=1)

    assert all_mine == [late_ended, late_paused, late_live, market.offer]
    assert paused == [late_paused]
    assert due == [late_paused, late_live]
    assert first_due == [late_paused]


async def test_auto_selecting_offers_have_free_slots_and_waiting_applications(
    database: Database,
) -> None:
    async with database.unit_of_work() as uow:
        market = await stock_marketplace(uow)
        make = market.another_offer
        waiting = make(selection=SelectionMode.AUTO)
        full = make(selection=SelectionMode.AUTO, slots=1, selected_count=1)
        nobody_waiting = make(selection=SelectionMode.AUTO)
        paused = make(selection=SelectionMode.AUTO, state=OfferState.PAUSED)
        for each in (waiting, full, nobody_waiting, paused):
            await uow.offers.add(each)
        for each in (waiting, full, paused, market.offer):  # market.offer: seller selects
            await uow.orders.add(order(each, market.creator_id))
        await uow.orders.add(order(nobody_waiting, market.creator_id, state=OrderState.REJECTED))
        await uow.commit()

    async with database.unit_of_work() as uow:
        assert await uow.offers.auto_selecting(limit=10) == [waiting]
