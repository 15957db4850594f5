"""The operators' numbers: creators, offers and orders by state, notices not yet sent."""

from __future__ import annotations

import pytest

from core import services as s
from core.domain.errors import NotAllowed
from core.domain.offers import OfferState
from core.domain.orders import OrderState
from core.services.stats import CreatorCounts, marketplace_stats
from tests.unit.world import World


async def test_an_empty_marketplace_counts_zero_everywhere() -> None:
    w = World()
    operator = await w.operator()

    stats = await marketplace_stats(w.mp, operator)

    assert stats.creators == CreatorCounts(0, 0, 0, 0)
    assert set(stats.offers) == set(OfferState)
    assert set(stats.orders) == set(OrderState)
    assert stats.total_offers == stats.total_orders == stats.pending_notices == 0


async def test_operators_see_creators_offers_orders_and_waiting_notices() -> None:
    w = World()
    operator = await w.operator()
    seller_id, staff = await w.seller()
    ana = await w.creator("Ana", top=True)
    ben = await w.creator("Ben")
    cleo = await w.creator("Cleo")
    await w.person("Dana")  # wrote to the bot, never finished onboarding
    await s.suspend_creator(w.mp, operator, cleo.member_id or 0)

    live = await w.offer(seller_id)
    assert live.id is not None
    await w.offer(seller_id, publish=False)
    paused = await w.offer(seller_id)
    assert paused.id is not None
    await s.pause_offer(w.mp, staff, paused.id)
    first = await s.claim_offer(w.mp, ana, live.id)
    await s.claim_offer(w.mp, ben, live.id)
    assert first.id is not None
    await s.approve_order(w.mp, staff, first.id)

    stats = await marketplace_stats(w.mp, operator)

    assert stats.creators == CreatorCounts(total=4, onboarded=3, top_creators=1, suspended=1)
    assert stats.offers[OfferState.LIVE] == 1
    assert stats.offers[OfferState.DRAFT] == 1
    assert stats.offers[OfferState.PAUSED] == 1
    assert stats.offers[OfferState.ENDED] == 0
    assert stats.total_offers == 3
    assert stats.orders[OrderState.APPLIED] == 1
    assert stats.orders[OrderState.PENDING_SHIPMENT] == 1
    assert stats.total_orders == 2
    assert stats.pending_notices == len(w.store.outbox) > 0


async def test_sellers_and_creators_may_not_see_the_stats() -> None:
    w = World()
    _, staff = await w.seller()
    creator = await w.creator()

    for outsider in (staff, creator):
        with pytest.raises(NotAllowed) as refused:
            await marketplace_stats(w.mp, outsider)
        assert refused.value.code == "operators_only"


async def test_the_system_may_read_the_stats() -> None:
    w = World()
    await w.creator()

    stats = await marketplace_stats(w.mp, w.system)

    assert stats.creators.total == 1
