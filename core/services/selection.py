"""Use cases for choosing creators: claims, approvals, rejections, ranking, auto-selection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.domain.errors import AlreadyDone, DomainError, InvalidInput, NotAllowed
from core.domain.members import CreatorStats, Member
from core.domain.offers import INELIGIBILITY_MESSAGES, Offer, OfferState, SelectionMode
from core.domain.orders import REJECTION_REASONS, Order, OrderState
from core.domain.ranking import Applicant, Score, rank
from core.ports.repositories import AbstractUnitOfWork
from core.services.base import (
    Actor,
    Marketplace,
    acting_member,
    acting_person,
    load_creator,
    load_offer,
    load_order,
    lock_offer_then_order,
    seller_for_staff,
)
from core.services.offers import end_offer

MAX_BATCH = 100


async def claim_offer(mp: Marketplace, actor: Actor, offer_id: int) -> Order:
    """A creator claims an offer: a new order in ``applied``, the seller is told."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        member = await acting_person(uow, actor)
        member.require_creator()
        assert member.id is not None
        offer = await load_offer(uow, offer_id, for_update=True)
        existing = await uow.orders.by_creator_and_offer(member.id, offer_id)
        if existing is not None:
            raise AlreadyDone(
                f"You already claimed this offer: your order is {existing.number}.",
                code="already_claimed",
                order=existing.number,
            )
        now = mp.clock.now()
        blocked = offer.seller_id in await uow.sellers.blocking(member.id)
        why = offer.ineligibility(member, now, blocked=blocked)
        if why is not None:
            raise NotAllowed(INELIGIBILITY_MESSAGES[why], code=why.value)
        order = Order(
            id=None,
            offer_id=offer_id,
            seller_id=offer.seller_id,
            creator_id=member.id,
            applied_at=now,
        )
        await uow.orders.add(order)
        order.applied()
        # Saving the offer (its counter) serialises claims with approvals and the offer's end.
        offer.count_application()
        await uow.offers.save(offer)
        return order

    return await mp.transaction(work)


async def withdraw_order(mp: Marketplace, actor: Actor, order_id: int) -> Order:
    """A creator withdraws before the sample ships; a held sample goes back to the offer."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        member = await acting_person(uow, actor)
        offer, order = await lock_offer_then_order(uow, order_id)
        if order.creator_id != member.id:
            raise NotAllowed("This is not your order.", code="not_your_order")
        held = order.is_selected
        order.withdraw(mp.clock.now())
        await uow.orders.save(order)
        if held:
            offer.free_slot()
            await uow.offers.save(offer)
        return order

    return await mp.transaction(work)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch did: orders changed, and those left alone with the reason why."""

    done: Sequence[Order] = ()
    skipped: Sequence[tuple[int, DomainError]] = field(default_factory=tuple)
    offer_ended: bool = False


async def _select(
    uow: AbstractUnitOfWork,
    mp: Marketplace,
    offer: Offer,
    order: Order,
    *,
    automatic: bool,
) -> None:
    if offer.state not in (OfferState.LIVE, OfferState.PAUSED):
        raise NotAllowed(
            f"This offer is {offer.state.value}; nobody more can be selected.",
            code="offer_not_open",
        )
    creator = await load_creator(uow, order.creator_id)
    now = mp.clock.now()
    assert creator.creator is not None
    order.select(now, has_address=creator.creator.address is not None, automatic=automatic)
    offer.take_slot()
    creator.record_selection(now)
    await uow.orders.save(order)
    await uow.members.save(creator)


async def _approve(
    uow: AbstractUnitOfWork, mp: Marketplace, actor: Actor, order_ids: Sequence[int]
) -> BatchResult:
    if len(order_ids) > MAX_BATCH:
        raise InvalidInput(f"Approve at most {MAX_BATCH} at a time.", code="batch_too_large")
    done: list[Order] = []
    skipped: list[tuple[int, DomainError]] = []
    offers: dict[int, Offer] = {}
    changed: dict[int, Offer] = {}
    for order_id in dict.fromkeys(order_ids):
        try:
            peek = await load_order(uow, order_id)
            if peek.offer_id not in offers:
                await seller_for_staff(uow, actor, peek.seller_id)
                # The offer is locked before its orders, as everywhere (no deadlocks).
                offers[peek.offer_id] = await load_offer(uow, peek.offer_id, for_update=True)
            offer = offers[peek.offer_id]
            order = await load_order(uow, order_id, for_update=True)
            if order.state is not OrderState.APPLIED:
                if order.is_selected:
                    raise AlreadyDone("This creator is already selected.", code="already_selected")
                if order.reason == "slots_filled":
                    raise NotAllowed(
                        "All samples of this offer are already taken.", code="offer_full"
                    )
                raise NotAllowed(
                    f"This application is {order.state.value}; it cannot be approved.",
                    code="order_bad_state",
                    state=order.state.value,
                )
            if offer.open_slots == 0:
                raise NotAllowed("All samples of this offer are taken.", code="offer_full")
            await _select(uow, mp, offer, order, automatic=False)
            changed[order.offer_id] = offer
            done.append(order)
        except NotAllowed as error:
            if error.code == "not_seller_staff":
                raise
            skipped.append((order_id, error))
        except DomainError as error:
            skipped.append((order_id, error))
    ended = await _finish_offers(uow, mp, changed.values())
    return BatchResult(tuple(done), tuple(skipped), ended)


async def _finish_offers(uow: AbstractUnitOfWork, mp: Marketplace, offers: Iterable[Offer]) -> bool:
    ended = False
    for offer in offers:
        if offer.open_slots == 0 and offer.state in (OfferState.LIVE, OfferState.PAUSED):
            await end_offer(uow, offer, mp.clock.now(), "slots_filled")
            ended = True
        await uow.offers.save(offer)
    return ended


async def approve_orders(mp: Marketplace, actor: Actor, order_ids: Sequence[int]) -> BatchResult:
    """Select several applicants at once. Orders that cannot be approved are reported, not
    failed; when the samples run out the offer ends and the rest are declined and told."""

    async def work(uow: AbstractUnitOfWork) -> BatchResult:
        return await _approve(uow, mp, actor, order_ids)

    return await mp.transaction(work)


async def approve_order(mp: Marketplace, actor: Actor, order_id: int) -> Order:
    """Select one applicant; anything that stops it is raised as a clear error."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        result = await _approve(uow, mp, actor, [order_id])
        if result.skipped:
            raise result.skipped[0][1]
        return result.done[0]

    return await mp.transaction(work)


async def approve_top(mp: Marketplace, actor: Actor, offer_id: int, count: int) -> BatchResult:
    """Approve the ``count`` best-ranked applicants (the recommendation) in one go."""
    if count < 1:
        raise InvalidInput("Choose at least one applicant.", code="batch_empty")

    async def work(uow: AbstractUnitOfWork) -> BatchResult:
        offer = await load_offer(uow, offer_id)
        await seller_for_staff(uow, actor, offer.seller_id)
        ranked = await _ranked(uow, mp, offer_id)
        chosen = [r.order.id for r in ranked[: min(count, offer.open_slots)] if r.order.id]
        return await _approve(uow, mp, actor, chosen)

    return await mp.transaction(work)


async def _reject(
    uow: AbstractUnitOfWork, mp: Marketplace, actor: Actor, order_ids: Sequence[int], reason: str
) -> BatchResult:
    if reason not in REJECTION_REASONS:
        raise InvalidInput("Please choose a reason from the list.", code="bad_reject_reason")
    if len(order_ids) > MAX_BATCH:
        raise InvalidInput(f"Decline at most {MAX_BATCH} at a time.", code="batch_too_large")
    done: list[Order] = []
    skipped: list[tuple[int, DomainError]] = []
    checked: set[int] = set()
    for order_id in dict.fromkeys(order_ids):
        try:
            order = await load_order(uow, order_id, for_update=True)
            if order.seller_id not in checked:
                await seller_for_staff(uow, actor, order.seller_id)
                checked.add(order.seller_id)
            order.reject(mp.clock.now(), reason)
            await uow.orders.save(order)
            done.append(order)
        except NotAllowed as error:
            if error.code == "not_seller_staff":
                raise
            skipped.append((order_id, error))
        except DomainError as error:
            skipped.append((order_id, error))
    return BatchResult(tuple(done), tuple(skipped))


async def reject_orders(
    mp: Marketplace, actor: Actor, order_ids: Sequence[int], reason: str
) -> BatchResult:
    """Decline applications with a reason from ``REJECTION_REASONS``; creators are told."""

    async def work(uow: AbstractUnitOfWork) -> BatchResult:
        return await _reject(uow, mp, actor, order_ids, reason)

    return await mp.transaction(work)


async def reject_order(mp: Marketplace, actor: Actor, order_id: int, reason: str) -> Order:
    """Decline one application; anything that stops it is raised as a clear error."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        result = await _reject(uow, mp, actor, [order_id], reason)
        if result.skipped:
            raise result.skipped[0][1]
        return result.done[0]

    return await mp.transaction(work)


@dataclass(frozen=True, slots=True)
class RankedApplication:
    order: Order
    creator: Member
    score: Score


async def _ranked(
    uow: AbstractUnitOfWork, mp: Marketplace, offer_id: int
) -> list[RankedApplication]:
    orders = await uow.orders.for_offer(offer_id, frozenset({OrderState.APPLIED}))
    members = await uow.members.get_many(o.creator_id for o in orders)
    by_id = {o.id: o for o in orders}
    applicants = []
    for o in orders:
        creator = members.get(o.creator_id)
        if o.id is None or creator is None or creator.creator is None:
            continue
        applicants.append(Applicant(o.id, o.applied_at or mp.clock.now(), creator.creator))
    ranked = rank(applicants, mp.clock.now(), fairness_days=mp.policy.fairness_days)
    return [
        RankedApplication(by_id[a.order_id], members[by_id[a.order_id].creator_id], s)
        for a, s in ranked
    ]


async def ranked_applications(
    mp: Marketplace, actor: Actor, offer_id: int
) -> list[RankedApplication]:
    """The offer's waiting applications, best first: the recommendation shown to sellers."""

    async def work(uow: AbstractUnitOfWork) -> list[RankedApplication]:
        offer = await load_offer(uow, offer_id)
        await seller_for_staff(uow, actor, offer.seller_id)
        return await _ranked(uow, mp, offer_id)

    return await mp.read(work)


async def auto_select(mp: Marketplace, offer_id: int) -> BatchResult:
    """For an ``auto`` offer, select the best-ranked applicants for the free samples."""

    async def work(uow: AbstractUnitOfWork) -> BatchResult:
        offer = await load_offer(uow, offer_id, for_update=True)
        if offer.selection is not SelectionMode.AUTO or offer.state is not OfferState.LIVE:
            return BatchResult()
        done: list[Order] = []
        for ranked in await _ranked(uow, mp, offer_id):
            if offer.open_slots == 0:
                break
            await _select(uow, mp, offer, ranked.order, automatic=True)
            done.append(ranked.order)
        ended = await _finish_offers(uow, mp, [offer])
        return BatchResult(tuple(done), (), ended)

    return await mp.transaction(work)


async def auto_select_due(mp: Marketplace, *, limit: int = 100) -> int:
    """Run auto-selection on every ``auto`` offer with free samples and waiting applicants."""

    async def due(uow: AbstractUnitOfWork) -> list[int]:
        return [o.id for o in await uow.offers.auto_selecting(limit) if o.id is not None]

    selected = 0
    for offer_id in await mp.transaction(due):
        selected += len((await auto_select(mp, offer_id)).done)
    return selected


@dataclass(frozen=True, slots=True)
class CreatorCard:
    """What a seller may see of a creator: never the address or contact details."""

    member_id: int
    display_name: str
    storefront_url: str
    top_creator: bool
    categories: frozenset[str]
    country: str
    languages: frozenset[str]
    stats: CreatorStats

    @classmethod
    def of(cls, member: Member) -> CreatorCard:
        profile = member.creator
        assert profile is not None
        assert member.id is not None
        return cls(
            member.id,
            member.display_name,
            profile.storefront_url,
            profile.top_creator,
            profile.categories,
            profile.country,
            profile.languages,
            profile.stats(),
        )


async def applicant_profile(mp: Marketplace, actor: Actor, order_id: int) -> CreatorCard:
    """The creator behind an application, for the seller deciding on it."""

    async def work(uow: AbstractUnitOfWork) -> CreatorCard:
        order = await load_order(uow, order_id)
        member = await acting_member(uow, actor)
        if member is None or member.id != order.creator_id:
            await seller_for_staff(uow, actor, order.seller_id)
        return CreatorCard.of(await load_creator(uow, order.creator_id))

    return await mp.read(work)
