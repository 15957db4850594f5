"""Use cases for offers: the seller's wizard, the offer's life, and the creators' offer hall."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.domain.common import Money
from core.domain.errors import InvalidInput, NotAllowed
from core.domain.members import MemberStatus
from core.domain.offers import (
    INELIGIBILITY_MESSAGES,
    Audience,
    Ineligibility,
    Offer,
    OfferState,
    Requirements,
    Reward,
    SelectionMode,
    VideoType,
)
from core.domain.orders import OrderState
from core.domain.sellers import Product
from core.ports.repositories import AbstractUnitOfWork, OfferQuery
from core.services.base import (
    Actor,
    Marketplace,
    acting_member,
    acting_person,
    load_offer,
    load_offer_with_product,
    seller_for_staff,
)


@dataclass(frozen=True, slots=True)
class NewOffer:
    """Everything the offer wizard (or an import file) collects."""

    title: str
    video_type: VideoType
    slots: int
    marketplace: str = "amazon.com"
    asin: str = ""
    product_url: str = ""
    category: str = ""
    price: Money | None = None
    image_url: str = ""
    reward: Reward = field(default_factory=Reward)
    requirements: Requirements = field(default_factory=Requirements)
    selection: SelectionMode = SelectionMode.SELLER
    audience: Audience = field(default_factory=Audience)
    application_deadline: datetime | None = None
    content_deadline_days: int | None = None


async def create_offer(
    mp: Marketplace, actor: Actor, seller_id: int, new: NewOffer, *, publish: bool = False
) -> Offer:
    """Create the product and a draft offer (published at once when ``publish``)."""

    async def work(uow: AbstractUnitOfWork) -> Offer:
        return await add_offer(uow, mp, actor, seller_id, new, publish=publish)

    return await mp.transaction(work)


async def add_offer(
    uow: AbstractUnitOfWork,
    mp: Marketplace,
    actor: Actor,
    seller_id: int,
    new: NewOffer,
    *,
    publish: bool,
) -> Offer:
    """The body of :func:`create_offer`, for callers that add many offers in one transaction."""
    await seller_for_staff(uow, actor, seller_id)
    now = mp.clock.now()
    product = Product(
        id=None,
        seller_id=seller_id,
        title=new.title,
        marketplace=new.marketplace,
        asin=new.asin,
        url=new.product_url,
        category=new.category,
        price=new.price,
        image_url=new.image_url,
    )
    await uow.products.add(product)
    assert product.id is not None
    deadline = new.application_deadline or now + timedelta(days=mp.policy.application_window_days)
    offer = Offer(
        id=None,
        seller_id=seller_id,
        product_id=product.id,
        video_type=new.video_type,
        slots=new.slots,
        application_deadline=deadline,
        reward=new.reward,
        requirements=new.requirements,
        selection=new.selection,
        audience=new.audience,
        content_deadline_days=new.content_deadline_days or mp.policy.content_deadline_days,
        created_at=now,
        category=product.category,
    )
    await uow.offers.add(offer)
    if publish:
        offer.publish(now)
        await uow.offers.save(offer)
    return offer


async def _change_offer(mp: Marketplace, actor: Actor, offer_id: int, change: str) -> Offer:
    async def work(uow: AbstractUnitOfWork) -> Offer:
        offer = await load_offer(uow, offer_id, for_update=True)
        await seller_for_staff(uow, actor, offer.seller_id)
        now = mp.clock.now()
        if change == "publish":
            offer.publish(now)
        elif change == "pause":
            offer.pause()
        elif change == "resume":
            offer.resume(now)
        elif change == "close":
            await end_offer(uow, offer, now, "closed")
        elif change == "cancel":
            offer.cancel(now)
            await _decline_pending(uow, offer.id, now, "offer_closed")
        await uow.offers.save(offer)
        return offer

    return await mp.transaction(work)


async def publish_offer(mp: Marketplace, actor: Actor, offer_id: int) -> Offer:
    return await _change_offer(mp, actor, offer_id, "publish")


async def pause_offer(mp: Marketplace, actor: Actor, offer_id: int) -> Offer:
    return await _change_offer(mp, actor, offer_id, "pause")


async def resume_offer(mp: Marketplace, actor: Actor, offer_id: int) -> Offer:
    return await _change_offer(mp, actor, offer_id, "resume")


async def close_offer(mp: Marketplace, actor: Actor, offer_id: int) -> Offer:
    """Close early: the offer ends and every pending applicant is declined and told."""
    return await _change_offer(mp, actor, offer_id, "close")


async def cancel_offer(mp: Marketplace, actor: Actor, offer_id: int) -> Offer:
    """Withdraw an offer nobody was selected for yet; pending applicants are told."""
    return await _change_offer(mp, actor, offer_id, "cancel")


async def end_offer(uow: AbstractUnitOfWork, offer: Offer, now: datetime, reason: str) -> None:
    """End ``offer`` and decline every application still waiting (the caller saves the offer)."""
    offer.end(now, reason)
    assert offer.id is not None
    decline = "slots_filled" if reason == "slots_filled" else "offer_closed"
    await _decline_pending(uow, offer.id, now, decline)


async def _decline_pending(
    uow: AbstractUnitOfWork, offer_id: int | None, now: datetime, reason: str
) -> None:
    assert offer_id is not None
    for order in await uow.orders.for_offer(offer_id, frozenset({OrderState.APPLIED})):
        order.reject(now, reason)
        await uow.orders.save(order)


async def end_due_offers(mp: Marketplace, *, limit: int = 100) -> int:
    """End every offer whose application deadline has passed; returns how many ended."""
    now = mp.clock.now()

    async def due(uow: AbstractUnitOfWork) -> list[int]:
        return [o.id for o in await uow.offers.due_to_end(now, limit) if o.id is not None]

    ended = 0
    for offer_id in await mp.transaction(due):

        async def work(uow: AbstractUnitOfWork, offer_id: int = offer_id) -> bool:
            offer = await load_offer(uow, offer_id, for_update=True)
            if offer.state not in (OfferState.LIVE, OfferState.PAUSED):
                return False
            if offer.application_deadline > mp.clock.now():
                return False
            await end_offer(uow, offer, mp.clock.now(), "deadline")
            await uow.offers.save(offer)
            return True

        ended += await mp.transaction(work)
    return ended


# --- the offer hall ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferCard:
    offer: Offer
    product: Product


@dataclass(frozen=True, slots=True)
class HallPage:
    cards: Sequence[OfferCard]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class HallFilter:
    category: str | None = None
    video_type: VideoType | None = None


async def offer_hall(
    mp: Marketplace,
    actor: Actor,
    filters: HallFilter | None = None,
    page: int = 1,
    page_size: int | None = None,
) -> HallPage:
    """Live offers this creator may claim now (eligible, not blocked, not yet claimed)."""
    filters = filters or HallFilter()
    size = page_size or mp.policy.hall_page_size

    async def work(uow: AbstractUnitOfWork) -> HallPage:
        member = await acting_person(uow, actor)
        profile = member.require_creator()
        now = mp.clock.now()
        types = VideoType.open_to(profile)
        if filters.video_type is not None:
            types = types & {filters.video_type}
        if not types or member.status is MemberStatus.SUSPENDED or not profile.onboarded:
            # No offer is open to them (Offer.ineligibility says why, for a claim).
            return HallPage((), 1, 1, 0)
        assert member.id is not None
        query = OfferQuery(now, frozenset(types), filters.category)
        # Claimed offers and blocking sellers are left out by the query; the audience is
        # checked here; whole offers are read for the page shown only.
        entries = await uow.offers.hall(query, member.id)
        entries = [e for e in entries if e.audience is None or e.audience.admits(profile)]
        total = len(entries)
        pages = max(1, math.ceil(total / size))
        current = min(max(1, page), pages)
        ids = [e.offer_id for e in entries[(current - 1) * size : current * size]]
        found = await uow.offers.with_products(ids)
        cards = tuple(
            OfferCard(*found[i])
            for i in ids
            if i in found and found[i][0].ineligibility(member, now, blocked=False) is None
        )
        return HallPage(cards, current, pages, total)

    return await mp.read(work)


async def offer_card(mp: Marketplace, actor: Actor, offer_id: int) -> OfferCard:
    """One offer's details, for a creator who may see it or for the seller's staff."""

    async def work(uow: AbstractUnitOfWork) -> OfferCard:
        member = await acting_member(uow, actor)
        offer, product = await load_offer_with_product(uow, offer_id)
        if member is not None and not member.is_operator:
            seller = await uow.sellers.get(offer.seller_id)
            staff = seller is not None and seller.is_staff(member)
            if not staff and offer.state is OfferState.DRAFT:
                raise NotAllowed("This offer is not published yet.", code="offer_not_live")
            if (
                not staff
                and seller is not None
                and member.creator is not None
                and member.id is not None
                and seller.blocks(member.id)
            ):
                raise NotAllowed(
                    INELIGIBILITY_MESSAGES[Ineligibility.BLOCKED],
                    code=Ineligibility.BLOCKED.value,
                )
        return OfferCard(offer, product)

    return await mp.read(work)


@dataclass(frozen=True, slots=True)
class SellerOffer:
    card: OfferCard
    counts: dict[OrderState, int]


async def seller_offers(
    mp: Marketplace, actor: Actor, seller_id: int, *, include_finished: bool = False
) -> list[SellerOffer]:
    """A seller's offers with their orders counted by state, newest first."""

    async def work(uow: AbstractUnitOfWork) -> list[SellerOffer]:
        await seller_for_staff(uow, actor, seller_id)
        states = (
            None
            if include_finished
            else frozenset({OfferState.DRAFT, OfferState.LIVE, OfferState.PAUSED})
        )
        offers = await uow.offers.by_seller(seller_id, states)
        products = await uow.products.get_many(o.product_id for o in offers)
        return [await _counted(uow, offer, products[offer.product_id]) for offer in offers]

    return await mp.read(work)


def parse_deadline(text: str, now: datetime) -> datetime:
    """A deadline typed as days from now (``14``) or a date (``2026-12-31``), end of day UTC."""
    text = text.strip()
    if text.isdigit():
        days = int(text)
        if not 1 <= days <= 365:
            raise InvalidInput("Give a number of days between 1 and 365.", code="bad_days")
        return now + timedelta(days=days)
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=now.tzinfo)
    except ValueError:
        raise InvalidInput(
            "Send the deadline as a number of days (14) or a date (2026-12-31).",
            code="bad_deadline",
        ) from None
    deadline = day + timedelta(hours=23, minutes=59)
    if deadline <= now:
        raise InvalidInput("That date is in the past. Send a later date.", code="deadline_in_past")
    return deadline


async def seller_offer(mp: Marketplace, actor: Actor, offer_id: int) -> SellerOffer:
    """One offer with its orders counted by state, for its seller's staff."""

    async def work(uow: AbstractUnitOfWork) -> SellerOffer:
        offer = await load_offer(uow, offer_id)
        await seller_for_staff(uow, actor, offer.seller_id)
        product = await uow.products.get(offer.product_id)
        assert product is not None
        return await _counted(uow, offer, product)

    return await mp.read(work)


async def _counted(uow: AbstractUnitOfWork, offer: Offer, product: Product) -> SellerOffer:
    assert offer.id is not None
    counts: dict[OrderState, int] = {}
    for order in await uow.orders.for_offer(offer.id):
        counts[order.state] = counts.get(order.state, 0) + 1
    return SellerOffer(OfferCard(offer, product), counts)
