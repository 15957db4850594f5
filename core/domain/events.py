"""Domain events: facts, in the past tense, recorded by aggregates as they change.

Events carry ids only. The service layer turns them into notices (see ``core.notices``)
and writes those into the outbox in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of every domain event."""


# --- offers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferPublished(Event):
    offer_id: int
    seller_id: int
    targeted: bool


@dataclass(frozen=True, slots=True)
class OfferPaused(Event):
    offer_id: int


@dataclass(frozen=True, slots=True)
class OfferResumed(Event):
    offer_id: int


@dataclass(frozen=True, slots=True)
class OfferEnded(Event):
    """The offer stopped taking applications: ``reason`` is deadline, slots_filled or closed."""

    offer_id: int
    seller_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class OfferCancelled(Event):
    offer_id: int
    seller_id: int


# --- orders -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderApplied(Event):
    order_id: int
    offer_id: int
    seller_id: int
    creator_id: int


@dataclass(frozen=True, slots=True)
class OrderSelected(Event):
    order_id: int
    offer_id: int
    seller_id: int
    creator_id: int
    needs_address: bool
    automatic: bool


@dataclass(frozen=True, slots=True)
class OrderRejected(Event):
    """Not selected. ``reason`` is a code (``offer_closed`` when the offer ended)."""

    order_id: int
    offer_id: int
    creator_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderWithdrawn(Event):
    order_id: int
    offer_id: int
    seller_id: int
    creator_id: int
    was_selected: bool


@dataclass(frozen=True, slots=True)
class AddressReceived(Event):
    order_id: int
    seller_id: int
    creator_id: int


@dataclass(frozen=True, slots=True)
class OrderShipped(Event):
    order_id: int
    creator_id: int


@dataclass(frozen=True, slots=True)
class VideoBecameOverdue(Event):
    order_id: int
    creator_id: int


@dataclass(frozen=True, slots=True)
class VideoReminderDue(Event):
    """The ``number``-th reminder after the deadline; ``final`` for the last one."""

    order_id: int
    creator_id: int
    number: int
    final: bool


@dataclass(frozen=True, slots=True)
class VideoSubmitted(Event):
    order_id: int
    seller_id: int
    creator_id: int
    submission_number: int
    resubmission: bool


@dataclass(frozen=True, slots=True)
class RedoRequested(Event):
    order_id: int
    creator_id: int
    redo_number: int


@dataclass(frozen=True, slots=True)
class VideoAccepted(Event):
    order_id: int
    creator_id: int


@dataclass(frozen=True, slots=True)
class PaymentConfirmed(Event):
    order_id: int
    creator_id: int


@dataclass(frozen=True, slots=True)
class OrderCancelled(Event):
    order_id: int
    offer_id: int
    seller_id: int
    creator_id: int


# --- broadcasts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BroadcastQueued(Event):
    broadcast_id: int
