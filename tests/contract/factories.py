"""Domain objects for storage tests, with sensible defaults and every field settable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.domain.common import Money, Platform
from core.domain.members import ChannelIdentity, CreatorProfile, Member, Role, ShippingAddress
from core.domain.offers import Offer, OfferState, VideoType
from core.domain.orders import Order
from core.domain.sellers import Product, Seller
from core.ports.repositories import AbstractUnitOfWork

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def address(**overrides: Any) -> ShippingAddress:
    fields = {
        "name": "Ada Lovelace",
        "line1": "12 Market Street",
        "line2": "Flat 3",
        "city": "Springfield",
        "region": "IL",
        "postal_code": "62701",
        "country": "US",
        "phone": "+15550100",
    }
    return ShippingAddress(**{**fields, **overrides})


def creator(
    name: str = "Ada",
    *,
    user_id: str = "1001",
    platform: Platform = Platform.TELEGRAM,
    **profile: Any,
) -> Member:
    """An onboarded creator with one chat identity."""
    defaults: dict[str, Any] = {
        "storefront_url": "https://www.amazon.com/shop/ada",
        "categories": frozenset({"home", "kitchen"}),
        "country": "US",
        "languages": frozenset({"en"}),
        "onboarded": True,
    }
    return Member(
        id=None,
        display_name=name,
        identities=[ChannelIdentity(platform, user_id, chat_id=user_id)],
        preferred_platform=platform,
        creator=CreatorProfile(**{**defaults, **profile}),
    )


def staff_member(name: str = "Sam", *, user_id: str = "2001") -> Member:
    return Member(
        id=None,
        display_name=name,
        roles=frozenset({Role.SELLER}),
        identities=[ChannelIdentity(Platform.DISCORD, user_id, chat_id=f"dm-{user_id}")],
        preferred_platform=Platform.DISCORD,
    )


def seller(name: str = "Acme Home", *, staff: set[int] | None = None) -> Seller:
    return Seller(id=None, name=name, staff=set(staff or ()))


def product(seller_id: int, **overrides: Any) -> Product:
    fields: dict[str, Any] = {
        "title": "Stainless steel garlic press",
        "asin": "B0C1234567",
        "category": "kitchen",
        "price": Money(Decimal("24.99"), "USD"),
        "image_url": "https://images.example.com/press.jpg",
    }
    return Product(id=None, seller_id=seller_id, **{**fields, **overrides})


def offer(seller_id: int, product_id: int, **overrides: Any) -> Offer:
    """A live offer open for a week, free product, seller selection."""
    fields: dict[str, Any] = {
        "video_type": VideoType.INFLUENCER,
        "slots": 5,
        "application_deadline": NOW + 7 * DAY,
        "state": OfferState.LIVE,
        "published_at": NOW - DAY,
        "category": "kitchen",
    }
    return Offer(id=None, seller_id=seller_id, product_id=product_id, **{**fields, **overrides})


def order(placed_for: Offer, creator_id: int, **overrides: Any) -> Order:
    assert placed_for.id is not None
    return Order(
        id=None,
        offer_id=placed_for.id,
        seller_id=placed_for.seller_id,
        creator_id=creator_id,
        **{"applied_at": NOW, **overrides},
    )


@dataclass
class Marketplace:
    """One seller with one staff member, a product, a live offer and a creator, all stored."""

    staff: Member
    creator: Member
    seller: Seller
    product: Product
    offer: Offer

    @property
    def staff_id(self) -> int:
        assert self.staff.id is not None
        return self.staff.id

    @property
    def creator_id(self) -> int:
        assert self.creator.id is not None
        return self.creator.id

    @property
    def seller_id(self) -> int:
        assert self.seller.id is not None
        return self.seller.id

    @property
    def offer_id(self) -> int:
        assert self.offer.id is not None
        return self.offer.id

    def another_offer(self, **overrides: Any) -> Offer:
        """A new (unstored) offer of the same seller and product."""
        assert self.product.id is not None
        return offer(self.seller_id, self.product.id, **overrides)


async def stock_marketplace(uow: AbstractUnitOfWork) -> Marketplace:
    """Store a small marketplace and commit it."""
    staff = staff_member()
    maker = creator()
    await uow.members.add(staff)
    await uow.members.add(maker)
    assert staff.id is not None
    shop = seller(staff={staff.id})
    await uow.sellers.add(shop)
    assert shop.id is not None
    item = product(shop.id)
    await uow.products.add(item)
    assert item.id is not None
    live = offer(shop.id, item.id)
    await uow.offers.add(live)
    await uow.commit()
    return Marketplace(staff, maker, shop, item, live)
