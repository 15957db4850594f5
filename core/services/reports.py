"""Reports for operators and sellers: the orders "data review" export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime

from core.domain.offers import Offer
from core.domain.orders import Order
from core.domain.sellers import Product
from core.ports.repositories import AbstractUnitOfWork, OrderQuery
from core.services.base import Actor, Marketplace, acting_member, seller_for_staff

EXPORT_COLUMNS = (
    "order_number",
    "state",
    "offer_id",
    "seller",
    "product",
    "asin",
    "marketplace",
    "video_type",
    "creator_id",
    "creator_name",
    "applied_at",
    "selected_at",
    "shipped_at",
    "carrier",
    "tracking_number",
    "video_due_at",
    "video_url",
    "video_submitted_at",
    "on_time",
    "redo_count",
    "accepted_at",
    "paid_at",
    "payment_amount",
    "payment_currency",
    "reason",
)


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One exported order. No addresses or contact details: exports leave the system."""

    order: Order
    offer: Offer
    product: Product
    seller_name: str
    creator_name: str

    def values(self) -> dict[str, str]:
        o = self.order

        def when(moment: datetime | None) -> str:
            return moment.isoformat() if moment else ""

        amount = o.payment.amount if o.payment else None
        return {
            "order_number": o.number,
            "state": o.state.value,
            "offer_id": str(o.offer_id),
            "seller": self.seller_name,
            "product": self.product.title,
            "asin": self.product.asin,
            "marketplace": self.product.marketplace,
            "video_type": str(int(self.offer.video_type)),
            "creator_id": str(o.creator_id),
            "creator_name": self.creator_name,
            "applied_at": when(o.applied_at),
            "selected_at": when(o.selected_at),
            "shipped_at": when(o.shipment.shipped_at if o.shipment else None),
            "carrier": o.shipment.carrier if o.shipment else "",
            "tracking_number": o.shipment.tracking_number if o.shipment else "",
            "video_due_at": when(o.video_due_at),
            "video_url": o.video.url if o.video else "",
            "video_submitted_at": when(o.video.submitted_at if o.video else None),
            "on_time": "" if o.on_time is None else ("yes" if o.on_time else "no"),
            "redo_count": str(o.redo_count),
            "accepted_at": when(o.accepted_at),
            "paid_at": when(o.payment.confirmed_at if o.payment else None),
            "payment_amount": f"{amount.amount:.2f}" if amount else "",
            "payment_currency": amount.currency if amount else "",
            "reason": o.reason,
        }


async def export_orders(
    mp: Marketplace, actor: Actor, query: OrderQuery, *, batch: int = 500
) -> AsyncIterator[OrderRow]:
    """Orders matching ``query`` in id order, fetched in batches (operators see every seller's;
    seller staff only their own seller's, so they must give ``seller_id``)."""
    query = replace(query, limit=batch)

    async def check(uow: AbstractUnitOfWork) -> None:
        member = await acting_member(uow, actor)
        if member is None or member.is_operator:
            return
        if query.seller_id is None:
            member.require_operator()
        else:
            await seller_for_staff(uow, actor, query.seller_id)

    await mp.transaction(check)
    while True:

        async def page(uow: AbstractUnitOfWork, q: OrderQuery = query) -> list[OrderRow]:
            orders = await uow.orders.query(q)
            offers: dict[int, Offer] = {}
            for offer_id in {o.offer_id for o in orders}:
                offer = await uow.offers.get(offer_id)
                if offer is not None:
                    offers[offer_id] = offer
            products = await uow.products.get_many(o.product_id for o in offers.values())
            members = await uow.members.get_many(o.creator_id for o in orders)
            sellers: dict[int, str] = {}
            for seller_id in {o.seller_id for o in orders}:
                seller = await uow.sellers.get(seller_id)
                sellers[seller_id] = seller.name if seller else ""
            rows = []
            for o in orders:
                offer = offers[o.offer_id]
                creator = members.get(o.creator_id)
                rows.append(
                    OrderRow(
                        o,
                        offer,
                        products[offer.product_id],
                        sellers[o.seller_id],
                        creator.display_name if creator else "",
                    )
                )
            return rows

        rows = await mp.transaction(page)
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        last = rows[-1].order.id
        assert last is not None
        query = replace(query, after_id=last)
