"""The marketplace in numbers, for operators: creators, offers, orders and queued notices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.domain.offers import OfferState
from core.domain.orders import OrderState
from core.ports.repositories import AbstractUnitOfWork
from core.services.base import Actor, Marketplace, require_operator


@dataclass(frozen=True, slots=True)
class CreatorCounts:
    total: int = 0
    onboarded: int = 0
    top_creators: int = 0
    """Creators with the Top Creator badge."""
    suspended: int = 0


@dataclass(frozen=True, slots=True)
class MarketplaceStats:
    """Counts at one moment. ``offers`` and ``orders`` hold every state, in the order of the
    lifecycle, with zero where there are none."""

    creators: CreatorCounts
    offers: Mapping[OfferState, int]
    orders: Mapping[OrderState, int]
    pending_notices: int
    """Notices in the outbox that are not sent yet."""

    @property
    def total_offers(self) -> int:
        return sum(self.offers.values())

    @property
    def total_orders(self) -> int:
        return sum(self.orders.values())


async def marketplace_stats(mp: Marketplace, actor: Actor) -> MarketplaceStats:
    """The marketplace's numbers (operators only)."""

    async def work(uow: AbstractUnitOfWork) -> MarketplaceStats:
        await require_operator(uow, actor)
        creators = await uow.members.count_creators()
        offers = await uow.offers.count_by_state()
        orders = await uow.orders.count_by_state()
        return MarketplaceStats(
            creators=CreatorCounts(
                total=creators.get("total", 0),
                onboarded=creators.get("onboarded", 0),
                top_creators=creators.get("top_creators", 0),
                suspended=creators.get("suspended", 0),
            ),
            offers={state: offers.get(state.value, 0) for state in OfferState},
            orders={state: orders.get(state.value, 0) for state in OrderState},
            pending_notices=await uow.outbox.count_pending(),
        )

    return await mp.transaction(work)
