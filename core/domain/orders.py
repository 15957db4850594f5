"""Orders: a creator's claim of an offer, and the state machine it moves through.

```
applied ──select──► awaiting_address ──address──► pending_shipment ──ship──► shipped
   │                      │                              │                    │ deadline
   ├─reject─► rejected    └──────────withdraw / cancel───┴─► withdrawn        ▼
   └─withdraw─► withdrawn                                     cancelled  video_overdue
shipped / video_overdue ──submit video──► completed ──accept (free) / confirm payment──► paid
                                           │    ▲
                              request redo ▼    │ resubmit
                                        redo_requested
```
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from core.domain.common import Money, base36
from core.domain.errors import AlreadyDone, InvalidInput, InvalidTransition
from core.domain.events import (
    AddressReceived,
    Event,
    OrderApplied,
    OrderCancelled,
    OrderRejected,
    OrderSelected,
    OrderShipped,
    OrderWithdrawn,
    PaymentConfirmed,
    RedoRequested,
    VideoAccepted,
    VideoBecameOverdue,
    VideoReminderDue,
    VideoSubmitted,
)


class OrderState(enum.StrEnum):
    APPLIED = "applied"
    AWAITING_ADDRESS = "awaiting_address"
    PENDING_SHIPMENT = "pending_shipment"
    SHIPPED = "shipped"
    VIDEO_OVERDUE = "video_overdue"
    COMPLETED = "completed"
    REDO_REQUESTED = "redo_requested"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def holds_slot(self) -> bool:
        """Selected and not withdrawn or cancelled: the order uses one of the offer's samples."""
        return self in SLOT_STATES


TERMINAL_STATES = frozenset(
    {OrderState.PAID, OrderState.REJECTED, OrderState.WITHDRAWN, OrderState.CANCELLED}
)
SLOT_STATES = frozenset(
    {
        OrderState.AWAITING_ADDRESS,
        OrderState.PENDING_SHIPMENT,
        OrderState.SHIPPED,
        OrderState.VIDEO_OVERDUE,
        OrderState.COMPLETED,
        OrderState.REDO_REQUESTED,
        OrderState.PAID,
    }
)
OPEN_VIDEO_STATES = frozenset(
    {OrderState.SHIPPED, OrderState.VIDEO_OVERDUE, OrderState.REDO_REQUESTED}
)

#: Every allowed move. The order refuses anything else with a message.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.APPLIED: frozenset(
        {
            OrderState.AWAITING_ADDRESS,
            OrderState.PENDING_SHIPMENT,
            OrderState.REJECTED,
            OrderState.WITHDRAWN,
            OrderState.CANCELLED,
        }
    ),
    OrderState.AWAITING_ADDRESS: frozenset(
        {OrderState.PENDING_SHIPMENT, OrderState.WITHDRAWN, OrderState.CANCELLED}
    ),
    OrderState.PENDING_SHIPMENT: frozenset(
        {OrderState.SHIPPED, OrderState.WITHDRAWN, OrderState.CANCELLED}
    ),
    OrderState.SHIPPED: frozenset(
        {OrderState.VIDEO_OVERDUE, OrderState.COMPLETED, OrderState.CANCELLED}
    ),
    OrderState.VIDEO_OVERDUE: frozenset({OrderState.COMPLETED, OrderState.CANCELLED}),
    OrderState.COMPLETED: frozenset({OrderState.REDO_REQUESTED, OrderState.PAID}),
    OrderState.REDO_REQUESTED: frozenset({OrderState.COMPLETED, OrderState.CANCELLED}),
    OrderState.PAID: frozenset(),
    OrderState.REJECTED: frozenset(),
    OrderState.WITHDRAWN: frozenset(),
    OrderState.CANCELLED: frozenset(),
}


class RedoReason(enum.StrEnum):
    """The standard reasons a seller can tick when asking for a redo."""

    PORTRAIT = "portrait"
    BLURRY = "blurry"
    SHAKY = "shaky"
    TOO_SHORT = "too_short"
    NO_AUDIO = "no_audio"
    NOT_OUTDOORS = "not_outdoors"
    CHILDREN_OR_PETS_MISSING = "children_or_pets_missing"
    PRODUCT_NOT_CLEAR = "product_not_clear"
    OTHER = "other"


REDO_REASON_TEXT: dict[RedoReason, str] = {
    RedoReason.PORTRAIT: "Portrait instead of landscape",
    RedoReason.BLURRY: "Blurry",
    RedoReason.SHAKY: "Shaky",
    RedoReason.TOO_SHORT: "Shorter than one minute",
    RedoReason.NO_AUDIO: "No audio",
    RedoReason.NOT_OUTDOORS: "Indoors where outdoors was asked",
    RedoReason.CHILDREN_OR_PETS_MISSING: "Children or pets missing where asked",
    RedoReason.PRODUCT_NOT_CLEAR: "Product not shown clearly",
    RedoReason.OTHER: "Other",
}

REJECTION_REASONS = ("not_a_fit", "profile_incomplete", "slots_filled", "offer_closed", "other")


@dataclass(frozen=True, slots=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str | None
    shipped_at: datetime


@dataclass(frozen=True, slots=True)
class VideoSubmission:
    """One video handed in for an order; an order keeps the history of all of them."""

    number: int
    url: str
    key: str
    submitted_at: datetime
    file_ref: str = ""


@dataclass(frozen=True, slots=True)
class RedoRequest:
    number: int
    reasons: frozenset[RedoReason]
    note: str
    requested_at: datetime
    requested_by: int

    MAX_NOTE = 1000


@dataclass(frozen=True, slots=True)
class Payment:
    amount: Money | None
    confirmed_at: datetime
    confirmed_by: int
    reference: str = ""


ORDER_NUMBER_PREFIX = "CB-"


def order_number(order_id: int) -> str:
    """The number both sides see and quote: ``CB-`` and the id in base 36, upper case."""
    return ORDER_NUMBER_PREFIX + base36(order_id).upper()


def parse_order_number(text: str) -> int | None:
    """The order id in a quoted number such as ``CB-2S`` or ``cb2s``; ``None`` if it is not one."""
    cleaned = text.strip().upper().lstrip("#")
    if cleaned.startswith("CB-"):
        cleaned = cleaned[3:]
    elif cleaned.startswith("CB"):
        cleaned = cleaned[2:]
    else:
        return None
    if not cleaned or len(cleaned) > 12 or not cleaned.isalnum():
        return None
    try:
        return int(cleaned, 36)
    except ValueError:
        return None


@dataclass(slots=True)
class Order:
    """A creator's claim of an offer. Every change goes through a method that checks the rule."""

    id: int | None
    offer_id: int
    seller_id: int
    creator_id: int
    state: OrderState = OrderState.APPLIED
    applied_at: datetime | None = None
    selected_at: datetime | None = None
    shipment: Shipment | None = None
    video_due_at: datetime | None = None
    reminders_sent: int = 0
    next_reminder_at: datetime | None = None
    video: VideoSubmission | None = None
    submissions: int = 0
    completion_counted: bool = False
    on_time: bool | None = None
    redo_count: int = 0
    last_redo: RedoRequest | None = None
    accepted_at: datetime | None = None
    payment: Payment | None = None
    reason: str = ""
    closed_at: datetime | None = None
    version: int = 0
    events: list[Event] = field(default_factory=list, repr=False, compare=False)
    new_submissions: list[VideoSubmission] = field(default_factory=list, repr=False, compare=False)
    new_redo_requests: list[RedoRequest] = field(default_factory=list, repr=False, compare=False)

    @property
    def number(self) -> str:
        assert self.id is not None, "an order gets its number when it is stored"
        return order_number(self.id)

    @property
    def is_selected(self) -> bool:
        return self.state.holds_slot

    def _move(self, target: OrderState, action: str) -> None:
        if target not in TRANSITIONS[self.state]:
            raise InvalidTransition(
                f"This order is {self.state.value.replace('_', ' ')}; it cannot be {action} now.",
                code="order_bad_state",
                state=self.state.value,
                action=action,
            )
        self.state = target

    def _id(self) -> int:
        assert self.id is not None
        return self.id

    # --- selection -----------------------------------------------------------------------

    def applied(self) -> None:
        """Record the claim once the order has its id."""
        self.events.append(OrderApplied(self._id(), self.offer_id, self.seller_id, self.creator_id))

    def select(self, now: datetime, *, has_address: bool, automatic: bool) -> None:
        if self.state is not OrderState.APPLIED and self.is_selected:
            raise AlreadyDone("This creator is already selected.", code="already_selected")
        target = OrderState.PENDING_SHIPMENT if has_address else OrderState.AWAITING_ADDRESS
        self._move(target, "selected")
        self.selected_at = now
        self.events.append(
            OrderSelected(
                self._id(),
                self.offer_id,
                self.seller_id,
                self.creator_id,
                needs_address=not has_address,
                automatic=automatic,
            )
        )

    def reject(self, now: datetime, reason: str) -> None:
        if self.state is OrderState.REJECTED:
            raise AlreadyDone("This application was already declined.", code="already_rejected")
        if reason not in REJECTION_REASONS:
            raise InvalidInput("Please choose a reason from the list.", code="bad_reject_reason")
        self._move(OrderState.REJECTED, "declined")
        self.reason = reason
        self.closed_at = now
        self.events.append(OrderRejected(self._id(), self.offer_id, self.creator_id, reason))

    def withdraw(self, now: datetime) -> None:
        if self.state is OrderState.WITHDRAWN:
            raise AlreadyDone("You already withdrew from this offer.", code="already_withdrawn")
        was_selected = self.is_selected
        if self.state in (OrderState.SHIPPED, OrderState.VIDEO_OVERDUE):
            raise InvalidTransition(
                "The sample is already on its way, so you can no longer withdraw. Please "
                "submit your video, or contact the marketplace team.",
                code="withdraw_after_shipping",
            )
        self._move(OrderState.WITHDRAWN, "withdrawn")
        self.closed_at = now
        self.events.append(
            OrderWithdrawn(self._id(), self.offer_id, self.seller_id, self.creator_id, was_selected)
        )

    def address_received(self) -> None:
        self._move(OrderState.PENDING_SHIPMENT, "moved to shipping")
        self.events.append(AddressReceived(self._id(), self.seller_id, self.creator_id))

    # --- shipping and video --------------------------------------------------------------

    def ship(self, shipment: Shipment, video_due_at: datetime) -> None:
        if self.state in (OrderState.SHIPPED, OrderState.VIDEO_OVERDUE) and self.shipment:
            raise AlreadyDone(
                "Tracking was already entered for this order.", code="already_shipped"
            )
        self._move(OrderState.SHIPPED, "shipped")
        self.shipment = shipment
        self.video_due_at = video_due_at
        self.events.append(OrderShipped(self._id(), self.creator_id))

    def mark_overdue(self, now: datetime, next_reminder_at: datetime | None) -> None:
        """The content deadline passed without a video: first reminder goes out."""
        if self.video_due_at is None or now < self.video_due_at:
            raise InvalidTransition("The video is not due yet.", code="not_due_yet")
        self._move(OrderState.VIDEO_OVERDUE, "marked overdue")
        self.reminders_sent = 1
        self.next_reminder_at = next_reminder_at
        self.events.append(VideoBecameOverdue(self._id(), self.creator_id))

    def remind(self, now: datetime, *, final: bool, next_reminder_at: datetime | None) -> None:
        """A further reminder while the video is overdue."""
        if self.state is not OrderState.VIDEO_OVERDUE:
            raise InvalidTransition("No video is overdue for this order.", code="not_overdue")
        if self.next_reminder_at is None or now < self.next_reminder_at:
            raise InvalidTransition("No reminder is due yet.", code="reminder_not_due")
        self.reminders_sent += 1
        self.next_reminder_at = None if final else next_reminder_at
        self.events.append(
            VideoReminderDue(self._id(), self.creator_id, self.reminders_sent, final)
        )

    def submit_video(self, now: datetime, url: str, key: str, file_ref: str = "") -> bool:
        """Hand in a video; ``True`` when this completion raises the creator's count."""
        if self.state is OrderState.COMPLETED and self.video is not None and self.video.key == key:
            raise AlreadyDone("This video was already submitted.", code="video_already_submitted")
        resubmission = self.state is OrderState.REDO_REQUESTED
        self._move(OrderState.COMPLETED, "given a video")
        self.submissions += 1
        submission = VideoSubmission(self.submissions, url, key, now, file_ref)
        self.video = submission
        self.new_submissions.append(submission)
        self.next_reminder_at = None
        counts = not self.completion_counted
        if counts:
            self.completion_counted = True
            self.on_time = self.video_due_at is None or now <= self.video_due_at
        self.events.append(
            VideoSubmitted(
                self._id(), self.seller_id, self.creator_id, self.submissions, resubmission
            )
        )
        return counts

    def request_redo(
        self, now: datetime, by: int, reasons: frozenset[RedoReason], note: str
    ) -> bool:
        """Send the video back; ``True`` when this is the order's first redo."""
        if self.state is OrderState.REDO_REQUESTED:
            raise AlreadyDone("A redo was already requested.", code="redo_already_requested")
        if not reasons:
            raise InvalidInput("Tick at least one reason for the redo.", code="redo_no_reason")
        note = note.strip()
        if RedoReason.OTHER in reasons and not note:
            raise InvalidInput(
                "You ticked “Other”: please add a short note saying what to change.",
                code="redo_other_needs_note",
            )
        if len(note) > RedoRequest.MAX_NOTE:
            raise InvalidInput(
                f"The note is too long (at most {RedoRequest.MAX_NOTE} characters).",
                code="redo_note_too_long",
            )
        self._move(OrderState.REDO_REQUESTED, "sent back for a redo")
        self.redo_count += 1
        request = RedoRequest(self.redo_count, reasons, note, now, by)
        self.last_redo = request
        self.new_redo_requests.append(request)
        self.events.append(RedoRequested(self._id(), self.creator_id, self.redo_count))
        return self.redo_count == 1

    def accept_video(self, now: datetime, *, has_fee: bool, by: int) -> None:
        """Seller accepts the video. Free-product offers are then done (``paid``)."""
        if self.accepted_at is not None:
            raise AlreadyDone("This video was already accepted.", code="already_accepted")
        if self.state is not OrderState.COMPLETED:
            raise InvalidTransition(
                f"This order is {self.state.value.replace('_', ' ')}; there is no video to "
                "accept now.",
                code="order_bad_state",
                state=self.state.value,
                action="accepted",
            )
        self.accepted_at = now
        self.events.append(VideoAccepted(self._id(), self.creator_id))
        if not has_fee:
            self._move(OrderState.PAID, "closed")
            self.payment = Payment(None, now, by)
            self.closed_at = now

    def confirm_payment(self, now: datetime, by: int, amount: Money, reference: str = "") -> None:
        """Seller confirms the fee was paid (accepting the video if not yet done)."""
        if self.state is OrderState.PAID:
            raise AlreadyDone("Payment was already confirmed.", code="already_paid")
        if self.state is not OrderState.COMPLETED:
            raise InvalidTransition(
                f"This order is {self.state.value.replace('_', ' ')}; payment can be confirmed "
                "only after a video was submitted.",
                code="order_bad_state",
                state=self.state.value,
                action="paid",
            )
        if self.accepted_at is None:
            self.accepted_at = now
            self.events.append(VideoAccepted(self._id(), self.creator_id))
        self._move(OrderState.PAID, "paid")
        self.payment = Payment(amount, now, by, reference.strip()[:100])
        self.closed_at = now
        self.events.append(PaymentConfirmed(self._id(), self.creator_id))

    def cancel(self, now: datetime, reason: str) -> None:
        reason = reason.strip()
        if self.state is OrderState.CANCELLED:
            raise AlreadyDone("This order was already cancelled.", code="already_cancelled")
        if not reason:
            raise InvalidInput(
                "Cancelling an order needs a reason the creator will see.",
                code="cancel_reason_missing",
            )
        if len(reason) > 500:
            raise InvalidInput(
                "The reason is too long (at most 500 characters).", code="cancel_reason_too_long"
            )
        self._move(OrderState.CANCELLED, "cancelled")
        self.reason = reason
        self.closed_at = now
        self.next_reminder_at = None
        self.events.append(
            OrderCancelled(self._id(), self.offer_id, self.seller_id, self.creator_id)
        )

    def pull_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events
