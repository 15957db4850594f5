"""Notices: the chat messages a change causes, decided in the core and sent later.

A use case never sends anything. Its aggregates record events; when the unit of work
commits, :func:`notices_for` turns those events into :class:`Notice` rows that are written
to the outbox in the same transaction. The dispatcher renders and sends them afterwards.

Notice parameters are ids and codes only — never names, addresses or phone numbers: the
renderer looks up what it needs when it sends.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from core.domain import events as ev


class NoticeTemplate(enum.StrEnum):
    # to creators
    ORDER_SELECTED = "order_selected"
    ADDRESS_NEEDED = "address_needed"
    ORDER_NOT_SELECTED = "order_not_selected"
    OFFER_CLOSED = "offer_closed"
    ORDER_SHIPPED = "order_shipped"
    VIDEO_OVERDUE = "video_overdue"
    VIDEO_REMINDER = "video_reminder"
    REDO_REQUESTED = "redo_requested"
    VIDEO_ACCEPTED = "video_accepted"
    PAYMENT_CONFIRMED = "payment_confirmed"
    ORDER_CANCELLED = "order_cancelled"
    OFFER_INVITATION = "offer_invitation"
    ANNOUNCEMENT = "announcement"
    # to seller staff
    NEW_APPLICATION = "new_application"
    READY_TO_SHIP = "ready_to_ship"
    VIDEO_SUBMITTED = "video_submitted"
    VIDEO_RESUBMITTED = "video_resubmitted"
    CREATOR_WITHDREW = "creator_withdrew"
    OFFER_ENDED = "offer_ended"


#: Notices a creator may opt out of; order notices can never be turned off.
OPTIONAL_TEMPLATES = frozenset({NoticeTemplate.ANNOUNCEMENT, NoticeTemplate.OFFER_INVITATION})

Param = str | int | bool


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice for one member (or, with ``recipient_id=None``, for an audience to expand).

    ``key`` makes the notice idempotent: the outbox stores a key once, so a retried or
    repeated transition never queues the same notice twice. Notices with the same ``digest``
    for the same recipient may be sent together as one message.
    """

    key: str
    template: NoticeTemplate
    recipient_id: int | None
    params: Mapping[str, Param] = field(default_factory=dict)
    digest: str | None = None
    hold: timedelta = timedelta(0)
    """How long to wait before sending, so that more notices of the same digest can join."""


StaffLookup = Callable[[int], Awaitable[Iterable[int]]]


async def notices_for(
    events: Iterable[ev.Event],
    seller_staff: StaffLookup,
    digest_hold: timedelta = timedelta(0),
) -> list[Notice]:
    """Every notice the given events cause, in the order they happened.

    Notices that may be batched into a digest (new applications for a seller) wait
    ``digest_hold`` first, so a burst of claims reaches the seller as one message.
    """
    out: list[Notice] = []

    async def to_staff(
        seller_id: int,
        key: str,
        template: NoticeTemplate,
        params: dict[str, Param],
        digest: str | None = None,
    ) -> None:
        hold = digest_hold if digest is not None else timedelta(0)
        for member_id in sorted(await seller_staff(seller_id)):
            out.append(Notice(f"{key}:m{member_id}", template, member_id, params, digest, hold))

    def to_creator(
        creator_id: int, key: str, template: NoticeTemplate, params: dict[str, Param]
    ) -> None:
        out.append(Notice(key, template, creator_id, params))

    for e in events:
        match e:
            case ev.OfferEnded(offer_id=offer_id, seller_id=seller_id, reason=reason):
                await to_staff(
                    seller_id,
                    f"offer_ended:{offer_id}",
                    NoticeTemplate.OFFER_ENDED,
                    {"offer_id": offer_id, "reason": reason},
                )
            case ev.OrderApplied(order_id=oid, offer_id=offer_id, seller_id=seller_id):
                await to_staff(
                    seller_id,
                    f"new_application:{oid}",
                    NoticeTemplate.NEW_APPLICATION,
                    {"order_id": oid, "offer_id": offer_id},
                    digest=f"applications:{offer_id}",
                )
            case ev.OrderSelected() as s:
                to_creator(
                    s.creator_id,
                    f"order_selected:{s.order_id}",
                    NoticeTemplate.ORDER_SELECTED,
                    {"order_id": s.order_id, "needs_address": s.needs_address},
                )
                if s.needs_address:
                    to_creator(
                        s.creator_id,
                        f"address_needed:{s.order_id}",
                        NoticeTemplate.ADDRESS_NEEDED,
                        {"order_id": s.order_id},
                    )
                elif s.automatic:
                    await to_staff(
                        s.seller_id,
                        f"ready_to_ship:{s.order_id}",
                        NoticeTemplate.READY_TO_SHIP,
                        {"order_id": s.order_id},
                    )
            case ev.OrderRejected(order_id=oid, creator_id=cid, reason=reason):
                template = (
                    NoticeTemplate.OFFER_CLOSED
                    if reason in ("offer_closed", "slots_filled")
                    else NoticeTemplate.ORDER_NOT_SELECTED
                )
                to_creator(
                    cid, f"order_rejected:{oid}", template, {"order_id": oid, "reason": reason}
                )
            case ev.OrderWithdrawn(order_id=oid, seller_id=seller_id, was_selected=was_selected):
                await to_staff(
                    seller_id,
                    f"order_withdrawn:{oid}",
                    NoticeTemplate.CREATOR_WITHDREW,
                    {"order_id": oid, "was_selected": was_selected},
                )
            case ev.AddressReceived(order_id=oid, seller_id=seller_id):
                await to_staff(
                    seller_id,
                    f"ready_to_ship:{oid}",
                    NoticeTemplate.READY_TO_SHIP,
                    {"order_id": oid},
                )
            case ev.OrderShipped(order_id=oid, creator_id=cid):
                to_creator(
                    cid, f"order_shipped:{oid}", NoticeTemplate.ORDER_SHIPPED, {"order_id": oid}
                )
            case ev.VideoBecameOverdue(order_id=oid, creator_id=cid):
                to_creator(
                    cid,
                    f"video_reminder:{oid}:1",
                    NoticeTemplate.VIDEO_OVERDUE,
                    {"order_id": oid, "number": 1},
                )
            case ev.VideoReminderDue(order_id=oid, creator_id=cid, number=n, final=final):
                to_creator(
                    cid,
                    f"video_reminder:{oid}:{n}",
                    NoticeTemplate.VIDEO_REMINDER,
                    {"order_id": oid, "number": n, "final": final},
                )
            case ev.VideoSubmitted(order_id=oid, seller_id=seller_id) as v:
                template = (
                    NoticeTemplate.VIDEO_RESUBMITTED
                    if v.resubmission
                    else NoticeTemplate.VIDEO_SUBMITTED
                )
                await to_staff(
                    seller_id,
                    f"video_submitted:{oid}:{v.submission_number}",
                    template,
                    {"order_id": oid, "submission": v.submission_number},
                )
            case ev.RedoRequested(order_id=oid, creator_id=cid, redo_number=n):
                to_creator(
                    cid,
                    f"redo_requested:{oid}:{n}",
                    NoticeTemplate.REDO_REQUESTED,
                    {"order_id": oid, "redo": n},
                )
            case ev.VideoAccepted(order_id=oid, creator_id=cid):
                to_creator(
                    cid, f"video_accepted:{oid}", NoticeTemplate.VIDEO_ACCEPTED, {"order_id": oid}
                )
            case ev.PaymentConfirmed(order_id=oid, creator_id=cid):
                to_creator(
                    cid,
                    f"payment_confirmed:{oid}",
                    NoticeTemplate.PAYMENT_CONFIRMED,
                    {"order_id": oid},
                )
            case ev.OrderCancelled(order_id=oid, creator_id=cid):
                to_creator(
                    cid, f"order_cancelled:{oid}", NoticeTemplate.ORDER_CANCELLED, {"order_id": oid}
                )
            case _:
                pass
    return out
