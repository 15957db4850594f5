"""Use cases after selection: address, shipping, videos, redos, acceptance, payment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.amazon import AmazonVideoLink, InvalidVideoLink, find_video_link, parse_video_link
from core.carriers import (
    InvalidTrackingNumber,
    carrier_name,
    normalise_tracking_number,
    tracking_url,
)
from core.domain.errors import AlreadyDone, InvalidInput, InvalidTransition, NotAllowed
from core.domain.members import Member, ShippingAddress
from core.domain.offers import Offer
from core.domain.orders import (
    OPEN_VIDEO_STATES,
    Order,
    OrderState,
    RedoReason,
    Shipment,
)
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
    member_id,
    seller_for_staff,
)

MAX_CARRIER = 60


async def _own_order(uow: AbstractUnitOfWork, actor: Actor, order_id: int) -> tuple[Member, Order]:
    member = await acting_person(uow, actor)
    order = await load_order(uow, order_id, for_update=True)
    if order.creator_id != member.id:
        raise NotAllowed("This is not your order.", code="not_your_order")
    return member, order


async def _staff_order(
    uow: AbstractUnitOfWork, actor: Actor, order_id: int
) -> tuple[Member | None, Order]:
    order = await load_order(uow, order_id, for_update=True)
    _, member = await seller_for_staff(uow, actor, order.seller_id)
    return member, order


# --- address ----------------------------------------------------------------------------


async def shipping_address(mp: Marketplace, actor: Actor, order_id: int) -> ShippingAddress:
    """The address to ship an order to: only for the seller of a selected order (and the
    creator themself)."""

    async def work(uow: AbstractUnitOfWork) -> ShippingAddress:
        order = await load_order(uow, order_id)
        member = await acting_member(uow, actor)
        if member is None or member.id != order.creator_id:
            await seller_for_staff(uow, actor, order.seller_id)
            if not order.is_selected or order.state is OrderState.PAID:
                raise NotAllowed(
                    "The address is shown only for selected orders that are still open.",
                    code="address_hidden",
                )
        creator = await load_creator(uow, order.creator_id)
        assert creator.creator is not None
        if creator.creator.address is None:
            raise InvalidTransition(
                "The creator has not sent an address yet; you will be told when they do.",
                code="address_not_yet",
            )
        return creator.creator.address

    return await mp.read(work)


# --- shipping ---------------------------------------------------------------------------


async def record_shipment(
    mp: Marketplace, actor: Actor, order_id: int, carrier: str, tracking_number: str
) -> Order:
    """The seller enters carrier and tracking; the creator is told and the video clock starts."""
    carrier = " ".join(carrier.split())
    if not carrier:
        raise InvalidInput("Choose or type the carrier (e.g. UPS, USPS, DHL).", code="no_carrier")
    if len(carrier) > MAX_CARRIER:
        raise InvalidInput("That carrier name is too long.", code="carrier_too_long")
    try:
        number = normalise_tracking_number(tracking_number)
    except InvalidTrackingNumber as error:
        raise InvalidInput(str(error), code="bad_tracking_number") from None

    async def work(uow: AbstractUnitOfWork) -> Order:
        _, order = await _staff_order(uow, actor, order_id)
        if order.state is OrderState.AWAITING_ADDRESS:
            raise InvalidTransition(
                "The creator has not sent a shipping address yet. You will be told as soon as "
                "they do.",
                code="address_not_yet",
            )
        offer = await load_offer(uow, order.offer_id)
        now = mp.clock.now()
        shipment = Shipment(
            carrier_name(carrier) or carrier, number, tracking_url(carrier, number), now
        )
        order.ship(shipment, offer.content_due(now))
        await uow.orders.save(order)
        return order

    return await mp.transaction(work)


# --- videos -----------------------------------------------------------------------------


def _link(text: str) -> AmazonVideoLink:
    try:
        return parse_video_link(text)
    except InvalidVideoLink as error:
        raise InvalidInput(str(error), code=f"video_link_{error.reason}") from None


async def submit_video(
    mp: Marketplace, actor: Actor, order_id: int, link: str = "", file_ref: str = ""
) -> Order:
    """The creator hands in the Amazon video link (and the file where the type needs one)."""
    parsed = _link(link) if link.strip() else None
    file_ref = file_ref.strip()
    if len(file_ref) > 300:
        raise InvalidInput("That file reference is too long.", code="file_ref_too_long")

    async def work(uow: AbstractUnitOfWork) -> Order:
        member, order = await _own_order(uow, actor, order_id)
        offer = await load_offer(uow, order.offer_id)
        _check_video_parts(offer, parsed, file_ref)
        key = parsed.key if parsed is not None else f"file:{file_ref}"
        other = await uow.orders.by_video_key(key)
        if other is not None and other.id != order.id:
            whose = (
                f"your order {other.number}" if other.creator_id == member.id else "another order"
            )
            raise InvalidInput(
                f"This video was already submitted for {whose}. Each order needs its own "
                "video: please send the link of the video you made for this product.",
                code="video_link_reused",
            )
        if (
            order.video is not None
            and order.video.key == key
            and order.state not in (OPEN_VIDEO_STATES)
        ):
            raise AlreadyDone(
                "This video was already submitted for this order.",
                code="video_already_submitted",
            )
        if order.state not in OPEN_VIDEO_STATES:
            raise InvalidTransition(
                _not_waiting_message(order), code="order_bad_state", state=order.state.value
            )
        counts = order.submit_video(mp.clock.now(), parsed.url if parsed else "", key, file_ref)
        await uow.orders.save(order)
        if counts:
            member.record_completion(on_time=bool(order.on_time))
            await uow.members.save(member)
        return order

    return await mp.transaction(work)


def _check_video_parts(offer: Offer, link: AmazonVideoLink | None, file_ref: str) -> None:
    if offer.video_type.needs_link and link is None:
        raise InvalidInput(
            "Please send the Amazon link of your video (it starts with amazon.com/vdp/ or "
            "amzn.to/).",
            code="video_link_missing",
        )
    if offer.video_type.needs_file and not file_ref:
        raise InvalidInput(
            "This offer also needs the video file. Please send the video file as well.",
            code="video_file_missing",
        )


def _not_waiting_message(order: Order) -> str:
    if order.state in (
        OrderState.APPLIED,
        OrderState.AWAITING_ADDRESS,
        OrderState.PENDING_SHIPMENT,
    ):
        return "This order is not shipped yet; send your video after the sample arrives."
    if order.state is OrderState.COMPLETED:
        return "Your video for this order is already in and waiting for the seller."
    return f"This order is {order.state.value.replace('_', ' ')}; it takes no video now."


@dataclass(frozen=True, slots=True)
class LinkMatch:
    """A pasted link and the orders it could be for (one: submit; several: ask; none: say so)."""

    link: AmazonVideoLink
    orders: Sequence[Order]


async def match_video_link(mp: Marketplace, actor: Actor, text: str) -> LinkMatch | None:
    """Find an Amazon video link in a chat message and the creator's orders awaiting a video.

    ``None`` when the message holds no Amazon link; a clear error when it holds an Amazon link
    that is not a video.
    """
    try:
        link = find_video_link(text)
    except InvalidVideoLink as error:
        raise InvalidInput(str(error), code=f"video_link_{error.reason}") from None
    if link is None:
        return None

    async def work(uow: AbstractUnitOfWork) -> LinkMatch:
        member = await acting_person(uow, actor)
        assert member.id is not None
        orders = await uow.orders.for_creator(member.id, OPEN_VIDEO_STATES)
        return LinkMatch(link, tuple(sorted(orders, key=lambda o: o.video_due_at or o.id or 0)))

    return await mp.read(work)


# --- the seller's review ----------------------------------------------------------------


async def request_redo(
    mp: Marketplace,
    actor: Actor,
    order_id: int,
    reasons: Sequence[RedoReason],
    note: str = "",
) -> Order:
    """Send the video back with the ticked reasons and an optional note."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        member, order = await _staff_order(uow, actor, order_id)
        first = order.request_redo(mp.clock.now(), member_id(member), frozenset(reasons), note)
        await uow.orders.save(order)
        if first:
            creator = await load_creator(uow, order.creator_id)
            creator.record_first_redo()
            await uow.members.save(creator)
        return order

    return await mp.transaction(work)


async def accept_video(mp: Marketplace, actor: Actor, order_id: int) -> Order:
    """Accept the video. A free-product order is then done; a fee order awaits payment."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        member, order = await _staff_order(uow, actor, order_id)
        offer = await load_offer(uow, order.offer_id)
        order.accept_video(mp.clock.now(), has_fee=offer.reward.has_fee, by=member_id(member))
        await uow.orders.save(order)
        return order

    return await mp.transaction(work)


async def confirm_payment(
    mp: Marketplace, actor: Actor, order_id: int, reference: str = ""
) -> Order:
    """Confirm the fee was paid (this also accepts the video when not yet done)."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        member, order = await _staff_order(uow, actor, order_id)
        offer = await load_offer(uow, order.offer_id)
        if not offer.reward.has_fee or offer.reward.fee is None:
            raise InvalidTransition(
                "This offer pays no fee; accept the video instead.", code="no_fee_to_pay"
            )
        order.confirm_payment(mp.clock.now(), member_id(member), offer.reward.fee, reference)
        await uow.orders.save(order)
        return order

    return await mp.transaction(work)


async def cancel_order(mp: Marketplace, actor: Actor, order_id: int, reason: str) -> Order:
    """The seller (or an operator) cancels an order, with a reason the creator sees."""

    async def work(uow: AbstractUnitOfWork) -> Order:
        offer, order = await lock_offer_then_order(uow, order_id)
        await seller_for_staff(uow, actor, order.seller_id)
        held = order.is_selected
        order.cancel(mp.clock.now(), reason)
        await uow.orders.save(order)
        if held:
            offer.free_slot()
            await uow.offers.save(offer)
        return order

    return await mp.transaction(work)


# --- deadlines and reminders (run by the scheduler) -------------------------------------


async def mark_overdue_videos(mp: Marketplace, *, limit: int = 200) -> int:
    """Shipped orders past their content deadline become overdue; the first reminder is queued."""
    now = mp.clock.now()
    interval = timedelta(days=mp.policy.reminder_interval_days)

    async def work(uow: AbstractUnitOfWork) -> int:
        count = 0
        for order in await uow.orders.due_overdue(now, limit):
            more = mp.policy.reminders_total > 1
            order.mark_overdue(now, now + interval if more else None)
            await uow.orders.save(order)
            count += 1
        return count

    return await mp.transaction(work)


async def send_due_reminders(mp: Marketplace, *, limit: int = 200) -> int:
    """Further reminders for overdue videos, every few days, the last one marked final."""
    now = mp.clock.now()
    interval = timedelta(days=mp.policy.reminder_interval_days)

    async def work(uow: AbstractUnitOfWork) -> int:
        count = 0
        for order in await uow.orders.due_reminders(now, limit):
            final = order.reminders_sent + 1 >= mp.policy.reminders_total
            order.remind(now, final=final, next_reminder_at=now + interval)
            await uow.orders.save(order)
            count += 1
        return count

    return await mp.transaction(work)


@dataclass(frozen=True, slots=True)
class OfferOrder:
    """An order of an offer with the creator's public name, for the seller's lists."""

    order: Order
    creator_name: str


async def offer_orders(
    mp: Marketplace, actor: Actor, offer_id: int, states: frozenset[OrderState]
) -> list[OfferOrder]:
    """The offer's orders in the given states, for its seller's staff."""

    async def work(uow: AbstractUnitOfWork) -> list[OfferOrder]:
        offer = await load_offer(uow, offer_id)
        await seller_for_staff(uow, actor, offer.seller_id)
        orders = await uow.orders.for_offer(offer_id, states)
        members = await uow.members.get_many(o.creator_id for o in orders)
        return [
            OfferOrder(o, members[o.creator_id].display_name if o.creator_id in members else "")
            for o in orders
        ]

    return await mp.read(work)
