"""Offers: stored flat, with the audience as a small JSON document."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Select, bindparam, case, exists, func, null, select

from core.domain.common import Money
from core.domain.offers import (
    Audience,
    Offer,
    OfferState,
    Requirements,
    Reward,
    RewardKind,
    SelectionMode,
    VideoType,
)
from core.domain.orders import OrderState
from core.domain.sellers import Product
from core.ports.repositories import HallEntry, OfferQuery
from storage.models import OfferRow, OrderRow, ProductRow, SellerBlockRow, table_of
from storage.repositories._base import OneOf, TrackingRepository
from storage.repositories.sellers import product_from_row

offers = table_of(OfferRow)
orders = table_of(OrderRow)
blocks = table_of(SellerBlockRow)
products = table_of(ProductRow)


def _live(*columns: Any) -> Select[Any]:
    """``columns`` of the offers live at ``:now`` of ``:video_types``, newest first (see
    :func:`_live_params`); the offer hall and :meth:`SqlOfferRepository.live` share it."""
    return (
        select(*columns)
        .where(
            offers.c.state == OfferState.LIVE.value,
            offers.c.application_deadline > bindparam("now"),
            OneOf(offers.c.video_type, "video_types"),
        )
        .order_by(offers.c.published_at.desc(), offers.c.id.desc())
    )


def _in_category(statement: Select[Any]) -> Select[Any]:
    return statement.where(offers.c.category == bindparam("category"))


_LIVE = _live(offers)
_LIVE_IN_CATEGORY = _in_category(_LIVE)
_HALL = _live(
    offers.c.id,
    offers.c.seller_id,
    # Public offers (most) need no audience check: their document is not even sent.
    case((offers.c.audience["public"].as_boolean(), null()), else_=offers.c.audience),
).where(
    ~exists().where(
        orders.c.offer_id == offers.c.id, orders.c.creator_id == bindparam("creator_id")
    ),
    ~exists().where(
        blocks.c.seller_id == offers.c.seller_id, blocks.c.creator_id == bindparam("creator_id")
    ),
)
"""The offer hall of one creator (see :meth:`SqlOfferRepository.hall`), built once."""
_HALL_IN_CATEGORY = _in_category(_HALL)
_BY_ID = select(offers).where(offers.c.id == bindparam("offer_id"))
_BY_IDS = select(offers).where(OneOf(offers.c.id, "offer_ids"))
_WITH_PRODUCTS = (
    select(offers, *(column.label(f"product__{column.name}") for column in products.c))
    .join(products, products.c.id == offers.c.product_id)
    .where(OneOf(offers.c.id, "offer_ids"))
)


class SqlOfferRepository(TrackingRepository):
    async def get(self, offer_id: int, *, for_update: bool = False) -> Offer | None:
        statement = _BY_ID.with_for_update() if for_update else _BY_ID
        found = await self._fetch(statement, {"offer_id": offer_id})
        return found[0] if found else None

    async def get_many(self, offer_ids: Iterable[int]) -> dict[int, Offer]:
        ids = sorted(set(offer_ids))
        if not ids:
            return {}
        found = await self._fetch(_BY_IDS, {"offer_ids": ids})
        return {offer.id: offer for offer in found if offer.id is not None}

    async def with_products(self, offer_ids: Iterable[int]) -> dict[int, tuple[Offer, Product]]:
        ids = sorted(set(offer_ids))
        if not ids:
            return {}
        result = await self._execute(_WITH_PRODUCTS, {"offer_ids": ids}, what="offers")
        found = {}
        for row in result.mappings():
            product = product_from_row({c.name: row[f"product__{c.name}"] for c in products.c})
            found[row["id"]] = (_offer(row), product)
        return found

    async def add(self, offer: Offer) -> None:
        if offer.created_at is None:
            offer.created_at = self._clock.now()
        offer.id = await self._insert(offers, _offer_values(offer), what="new offer")
        self._track(offer)

    async def save(self, offer: Offer) -> None:
        offer.version = await self._update_versioned(
            offers, offer.id, offer.version, _offer_values(offer), what=f"offer {offer.id}"
        )
        self._track(offer)

    async def live(self, query: OfferQuery) -> list[Offer]:
        statement = _LIVE if query.category is None else _LIVE_IN_CATEGORY
        return await self._fetch(statement, _live_params(query))

    async def hall(self, query: OfferQuery, creator_id: int) -> list[HallEntry]:
        statement = _HALL if query.category is None else _HALL_IN_CATEGORY
        params = {**_live_params(query), "creator_id": creator_id}
        result = await self._execute(statement, params, what="offers")
        return [
            HallEntry(row[0], row[1], None if row[2] is None else _audience(row[2]))
            for row in result
        ]

    async def by_seller(
        self, seller_id: int, states: frozenset[OfferState] | None = None
    ) -> list[Offer]:
        """The seller's offers, newest first."""
        statement = select(offers).where(offers.c.seller_id == seller_id)
        if states is not None:
            statement = statement.where(offers.c.state.in_(sorted(s.value for s in states)))
        return await self._fetch(statement.order_by(offers.c.id.desc()))

    async def due_to_end(self, now: datetime, limit: int) -> list[Offer]:
        statement = (
            select(offers)
            .where(
                offers.c.state.in_([OfferState.LIVE.value, OfferState.PAUSED.value]),
                offers.c.application_deadline <= now,
            )
            .order_by(offers.c.application_deadline, offers.c.id)
            .limit(limit)
        )
        return await self._fetch(statement)

    async def auto_selecting(self, limit: int) -> list[Offer]:
        waiting = exists().where(
            orders.c.offer_id == offers.c.id, orders.c.state == OrderState.APPLIED.value
        )
        statement = (
            select(offers)
            .where(
                offers.c.state == OfferState.LIVE.value,
                offers.c.selection == SelectionMode.AUTO.value,
                offers.c.selected_count < offers.c.slots,
                waiting,
            )
            .order_by(offers.c.application_deadline, offers.c.id)
            .limit(limit)
        )
        return await self._fetch(statement)

    async def count_by_state(self) -> dict[str, int]:
        statement = select(offers.c.state, func.count().label("count")).group_by(offers.c.state)
        result = await self._execute(statement, what="offer counts")
        return {row["state"]: int(row["count"]) for row in result.mappings()}

    async def _fetch(
        self, statement: Select[Any], params: dict[str, Any] | None = None
    ) -> list[Offer]:
        result = await self._execute(statement, params, what="offers")
        return [_offer(row) for row in result.mappings()]


def _live_params(query: OfferQuery) -> dict[str, Any]:
    """The parameters of the :func:`_live` statements for ``query``."""
    types = query.video_types if query.video_types is not None else frozenset(VideoType)
    params: dict[str, Any] = {"now": query.now, "video_types": sorted(int(t) for t in types)}
    if query.category is not None:
        params["category"] = query.category
    return params


# --- rows ⇄ domain ---------------------------------------------------------------------------


def _offer(row: RowMapping) -> Offer:
    amount, currency = row["reward_amount"], row["reward_currency"]
    return Offer(
        id=row["id"],
        seller_id=row["seller_id"],
        product_id=row["product_id"],
        video_type=VideoType(row["video_type"]),
        slots=row["slots"],
        application_deadline=row["application_deadline"],
        reward=Reward(
            kind=RewardKind(row["reward_kind"]),
            fee=Money(amount, currency) if amount is not None and currency else None,
        ),
        requirements=Requirements(
            text=row["requirements_text"],
            landscape=row["landscape"],
            min_length_seconds=row["min_length_seconds"],
            outdoor=row["outdoor"],
            with_children=row["with_children"],
            with_pets=row["with_pets"],
            face_visible=row["face_visible"],
        ),
        selection=SelectionMode(row["selection"]),
        audience=_audience(row["audience"]),
        content_deadline_days=row["content_deadline_days"],
        state=OfferState(row["state"]),
        applied_count=row["applied_count"],
        selected_count=row["selected_count"],
        created_at=row["created_at"],
        published_at=row["published_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        category=row["category"],
        version=row["version"],
    )


def _offer_values(offer: Offer) -> dict[str, Any]:
    fee = offer.reward.fee
    requirements = offer.requirements
    return {
        "seller_id": offer.seller_id,
        "product_id": offer.product_id,
        "video_type": int(offer.video_type),
        "slots": offer.slots,
        "application_deadline": offer.application_deadline,
        "reward_kind": offer.reward.kind.value,
        "reward_amount": fee.amount if fee else None,
        "reward_currency": fee.currency if fee else None,
        "requirements_text": requirements.text,
        "landscape": requirements.landscape,
        "min_length_seconds": requirements.min_length_seconds,
        "outdoor": requirements.outdoor,
        "with_children": requirements.with_children,
        "with_pets": requirements.with_pets,
        "face_visible": requirements.face_visible,
        "selection": offer.selection.value,
        "audience": _audience_document(offer.audience),
        "content_deadline_days": offer.content_deadline_days,
        "state": offer.state.value,
        "applied_count": offer.applied_count,
        "selected_count": offer.selected_count,
        "created_at": offer.created_at,
        "published_at": offer.published_at,
        "ended_at": offer.ended_at,
        "end_reason": offer.end_reason,
        "category": offer.category,
        "version": offer.version,
    }


def _audience(document: dict[str, Any]) -> Audience:
    return Audience(
        public=document["public"],
        categories=frozenset(document["categories"]),
        countries=frozenset(document["countries"]),
        languages=frozenset(document["languages"]),
        min_completed_videos=document["min_completed_videos"],
        top_creators_only=document["top_creators_only"],
    )


def _audience_document(audience: Audience) -> dict[str, Any]:
    return {
        "public": audience.public,
        "categories": sorted(audience.categories),
        "countries": sorted(audience.countries),
        "languages": sorted(audience.languages),
        "min_completed_videos": audience.min_completed_videos,
        "top_creators_only": audience.top_creators_only,
    }
