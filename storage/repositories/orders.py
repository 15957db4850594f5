"""Orders, stored flat (shipment, current video, payment), with their video and redo history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, func, select

from core.domain.common import Money
from core.domain.orders import (
    Order,
    OrderState,
    Payment,
    RedoReason,
    RedoRequest,
    Shipment,
    VideoSubmission,
)
from core.ports.repositories import OrderQuery
from storage.models import OrderRow, RedoRequestRow, VideoSubmissionRow, table_of
from storage.repositories._base import TrackingRepository

orders = table_of(OrderRow)
video_history = table_of(VideoSubmissionRow)
redo_history = table_of(RedoRequestRow)

_BY_ID = select(orders).where(orders.c.id == bindparam("order_id"))
_FOR_CREATOR = (
    select(orders).where(orders.c.creator_id == bindparam("creator_id")).order_by(orders.c.id)
)


class SqlOrderRepository(TrackingRepository):
    async def get(self, order_id: int, *, for_update: bool = False) -> Order | None:
        statement = _BY_ID.with_for_update() if for_update else _BY_ID
        found = await self._fetch(statement, {"order_id": order_id})
        return found[0] if found else None

    async def get_many(self, order_ids: Iterable[int]) -> dict[int, Order]:
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        found = await self._fetch(select(orders).where(orders.c.id.in_(ids)))
        return {order.id: order for order in found if order.id is not None}

    async def add(self, order: Order) -> None:
        what = f"order of creator {order.creator_id} for offer {order.offer_id}"
        if order.applied_at is None:
            order.applied_at = self._clock.now()
        order.id = await self._insert(orders, _order_values(order), what=what)
        await self._append_history(order, what=what)
        self._track(order)

    async def save(self, order: Order) -> None:
        what = f"order {order.id}"
        order.version = await self._update_versioned(
            orders, order.id, order.version, _order_values(order), what=what
        )
        await self._append_history(order, what=what)
        self._track(order)

    async def by_creator_and_offer(self, creator_id: int, offer_id: int) -> Order | None:
        found = await self._fetch(
            select(orders).where(orders.c.creator_id == creator_id, orders.c.offer_id == offer_id)
        )
        return found[0] if found else None

    async def for_offer(
        self, offer_id: int, states: frozenset[OrderState] | None = None
    ) -> list[Order]:
        """The offer's orders in the order they were claimed."""
        statement = _in_states(select(orders).where(orders.c.offer_id == offer_id), states)
        return await self._fetch(statement.order_by(orders.c.id))

    async def for_creator(
        self, creator_id: int, states: frozenset[OrderState] | None = None
    ) -> list[Order]:
        """The creator's orders in the order they were claimed."""
        if states is None:
            return await self._fetch(_FOR_CREATOR, {"creator_id": creator_id})
        statement = _in_states(select(orders).where(orders.c.creator_id == creator_id), states)
        return await self._fetch(statement.order_by(orders.c.id))

    async def by_video_key(self, key: str) -> Order | None:
        found = await self._fetch(select(orders).where(orders.c.video_key == key))
        return found[0] if found else None

    async def claimed_offer_ids(self, creator_id: int) -> set[int]:
        statement = select(orders.c.offer_id).where(orders.c.creator_id == creator_id)
        return set((await self._execute(statement, what="orders")).scalars())

    async def due_overdue(self, now: datetime, limit: int) -> list[Order]:
        statement = (
            select(orders)
            .where(orders.c.state == OrderState.SHIPPED.value, orders.c.video_due_at <= now)
            .order_by(orders.c.video_due_at, orders.c.id)
            .limit(limit)
        )
        return await self._fetch(statement)

    async def due_reminders(self, now: datetime, limit: int) -> list[Order]:
        statement = (
            select(orders)
            .where(
                orders.c.state == OrderState.VIDEO_OVERDUE.value,
                orders.c.next_reminder_at <= now,
            )
            .order_by(orders.c.next_reminder_at, orders.c.id)
            .limit(limit)
        )
        return await self._fetch(statement)

    async def submissions(self, order_id: int) -> list[VideoSubmission]:
        result = await self._execute(
            select(video_history)
            .where(video_history.c.order_id == order_id)
            .order_by(video_history.c.number),
            what="video submissions",
        )
        return [_submission(row) for row in result.mappings()]

    async def redo_requests(self, order_id: int) -> list[RedoRequest]:
        result = await self._execute(
            select(redo_history)
            .where(redo_history.c.order_id == order_id)
            .order_by(redo_history.c.number),
            what="redo requests",
        )
        return [_redo_request(row) for row in result.mappings()]

    async def query(self, query: OrderQuery) -> list[Order]:
        statement = select(orders).where(orders.c.id > query.after_id)
        if query.since is not None:
            statement = statement.where(orders.c.applied_at >= query.since)
        if query.until is not None:
            statement = statement.where(orders.c.applied_at < query.until)
        if query.offer_id is not None:
            statement = statement.where(orders.c.offer_id == query.offer_id)
        if query.seller_id is not None:
            statement = statement.where(orders.c.seller_id == query.seller_id)
        if query.creator_id is not None:
            statement = statement.where(orders.c.creator_id == query.creator_id)
        statement = _in_states(statement, query.states)
        return await self._fetch(statement.order_by(orders.c.id).limit(query.limit))

    async def count_by_state(self) -> dict[str, int]:
        statement = select(orders.c.state, func.count().label("count")).group_by(orders.c.state)
        result = await self._execute(statement, what="order counts")
        return {row["state"]: int(row["count"]) for row in result.mappings()}

    async def _fetch(
        self, statement: Select[Any], params: dict[str, Any] | None = None
    ) -> list[Order]:
        result = await self._execute(statement, params, what="orders")
        return [_order(row) for row in result.mappings()]

    async def _append_history(self, order: Order, *, what: str) -> None:
        """Store the videos handed in and redos asked for since the order was read."""
        assert order.id is not None
        order_id = order.id
        await self._insert_many(
            video_history,
            [_submission_values(order_id, s) for s in order.new_submissions],
            what=f"{what}'s video",
        )
        await self._insert_many(
            redo_history,
            [_redo_request_values(order_id, r) for r in order.new_redo_requests],
            what=f"{what}'s redo request",
        )
        order.new_submissions.clear()
        order.new_redo_requests.clear()


def _in_states(statement: Select[Any], states: frozenset[OrderState] | None) -> Select[Any]:
    if states is None:
        return statement
    return statement.where(orders.c.state.in_(sorted(s.value for s in states)))


# --- rows ⇄ domain ---------------------------------------------------------------------------


def _order(row: RowMapping) -> Order:
    return Order(
        id=row["id"],
        offer_id=row["offer_id"],
        seller_id=row["seller_id"],
        creator_id=row["creator_id"],
        state=OrderState(row["state"]),
        applied_at=row["applied_at"],
        selected_at=row["selected_at"],
        shipment=_shipment(row),
        video_due_at=row["video_due_at"],
        reminders_sent=row["reminders_sent"],
        next_reminder_at=row["next_reminder_at"],
        video=_current_video(row),
        submissions=row["submissions"],
        completion_counted=row["completion_counted"],
        on_time=row["on_time"],
        redo_count=row["redo_count"],
        last_redo=_redo_from_document(row["last_redo"]),
        accepted_at=row["accepted_at"],
        payment=_payment(row),
        reason=row["reason"],
        closed_at=row["closed_at"],
        version=row["version"],
    )


def _order_values(order: Order) -> dict[str, Any]:
    shipment, video, payment = order.shipment, order.video, order.payment
    amount = payment.amount if payment else None
    return {
        "offer_id": order.offer_id,
        "seller_id": order.seller_id,
        "creator_id": order.creator_id,
        "state": order.state.value,
        "applied_at": order.applied_at,
        "selected_at": order.selected_at,
        "carrier": shipment.carrier if shipment else None,
        "tracking_number": shipment.tracking_number if shipment else None,
        "tracking_url": shipment.tracking_url if shipment else None,
        "shipped_at": shipment.shipped_at if shipment else None,
        "video_due_at": order.video_due_at,
        "reminders_sent": order.reminders_sent,
        "next_reminder_at": order.next_reminder_at,
        "video_number": video.number if video else None,
        "video_url": video.url if video else None,
        "video_key": video.key if video else None,
        "video_submitted_at": video.submitted_at if video else None,
        "video_file_ref": video.file_ref if video else None,
        "submissions": order.submissions,
        "completion_counted": order.completion_counted,
        "on_time": order.on_time,
        "redo_count": order.redo_count,
        "last_redo": _redo_document(order.last_redo) if order.last_redo else None,
        "accepted_at": order.accepted_at,
        "payment_amount": amount.amount if amount else None,
        "payment_currency": amount.currency if amount else None,
        "payment_confirmed_at": payment.confirmed_at if payment else None,
        "payment_confirmed_by": payment.confirmed_by if payment else None,
        "payment_reference": payment.reference if payment else None,
        "reason": order.reason,
        "closed_at": order.closed_at,
        "version": order.version,
    }


def _shipment(row: RowMapping) -> Shipment | None:
    if row["shipped_at"] is None:
        return None
    return Shipment(
        carrier=row["carrier"] or "",
        tracking_number=row["tracking_number"] or "",
        tracking_url=row["tracking_url"],
        shipped_at=row["shipped_at"],
    )


def _current_video(row: RowMapping) -> VideoSubmission | None:
    if row["video_number"] is None:
        return None
    return VideoSubmission(
        number=row["video_number"],
        url=row["video_url"] or "",
        key=row["video_key"] or "",
        submitted_at=row["video_submitted_at"],
        file_ref=row["video_file_ref"] or "",
    )


def _payment(row: RowMapping) -> Payment | None:
    if row["payment_confirmed_at"] is None:
        return None
    amount, currency = row["payment_amount"], row["payment_currency"]
    return Payment(
        amount=Money(amount, currency) if amount is not None and currency else None,
        confirmed_at=row["payment_confirmed_at"],
        confirmed_by=row["payment_confirmed_by"],
        reference=row["payment_reference"] or "",
    )


def _redo_document(request: RedoRequest) -> dict[str, Any]:
    return {
        "number": request.number,
        "reasons": sorted(r.value for r in request.reasons),
        "note": request.note,
        "requested_at": request.requested_at.astimezone(UTC).isoformat(),
        "requested_by": request.requested_by,
    }


def _redo_from_document(document: dict[str, Any] | None) -> RedoRequest | None:
    if document is None:
        return None
    return RedoRequest(
        number=document["number"],
        reasons=frozenset(RedoReason(r) for r in document["reasons"]),
        note=document["note"],
        requested_at=datetime.fromisoformat(document["requested_at"]).astimezone(UTC),
        requested_by=document["requested_by"],
    )


def _submission(row: RowMapping) -> VideoSubmission:
    return VideoSubmission(
        number=row["number"],
        url=row["url"],
        key=row["key"],
        submitted_at=row["submitted_at"],
        file_ref=row["file_ref"],
    )


def _submission_values(order_id: int, submission: VideoSubmission) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "number": submission.number,
        "url": submission.url,
        "key": submission.key,
        "submitted_at": submission.submitted_at,
        "file_ref": submission.file_ref,
    }


def _redo_request(row: RowMapping) -> RedoRequest:
    return RedoRequest(
        number=row["number"],
        reasons=frozenset(RedoReason(r) for r in row["reasons"]),
        note=row["note"],
        requested_at=row["requested_at"],
        requested_by=row["requested_by"],
    )


def _redo_request_values(order_id: int, request: RedoRequest) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "number": request.number,
        "reasons": sorted(r.value for r in request.reasons),
        "note": request.note,
        "requested_at": request.requested_at,
        "requested_by": request.requested_by,
    }
