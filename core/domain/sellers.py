"""Sellers (brands and shops), their staff, their blocklist, and their products."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from core.amazon import MARKETPLACES
from core.domain.common import Money
from core.domain.errors import InvalidInput, NotAllowed
from core.domain.members import Member


@dataclass(slots=True)
class Seller:
    """A brand or shop. Staff members act for it; blocked creators see none of its new offers."""

    id: int | None
    name: str
    staff: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    version: int = 0

    def is_staff(self, member: Member) -> bool:
        return member.id is not None and member.id in self.staff

    def require_staff(self, member: Member) -> None:
        """Staff of this seller or an operator; anyone else is refused."""
        member.require_active()
        if member.is_operator or self.is_staff(member):
            return
        raise NotAllowed(
            "This is not for you: you are not on this seller's team.", code="not_seller_staff"
        )

    def add_staff(self, member_id: int) -> None:
        self.staff.add(member_id)

    def block(self, creator_id: int) -> None:
        self.blocked.add(creator_id)

    def unblock(self, creator_id: int) -> None:
        self.blocked.discard(creator_id)

    def blocks(self, creator_id: int) -> bool:
        return creator_id in self.blocked


@dataclass(slots=True)
class Product:
    """What the seller gives away: one Amazon listing."""

    id: int | None
    seller_id: int
    title: str
    marketplace: str = "amazon.com"
    asin: str = ""
    url: str = ""
    category: str = ""
    price: Money | None = None
    image_url: str = ""

    MAX_TITLE = 200

    def __post_init__(self) -> None:
        self.title = " ".join(self.title.split())
        if not self.title:
            raise InvalidInput("The product needs a title.", code="product_title_missing")
        if len(self.title) > self.MAX_TITLE:
            raise InvalidInput(
                f"The product title is too long (at most {self.MAX_TITLE} characters).",
                code="product_title_too_long",
            )
        if self.marketplace not in MARKETPLACES:
            raise InvalidInput(
                f"Unknown Amazon marketplace {self.marketplace!r}. Use one such as amazon.com, "
                "amazon.co.uk or amazon.de.",
                code="unknown_marketplace",
            )
        asin = self.asin.strip().upper()
        if asin and (len(asin) != 10 or not asin.isalnum()):
            raise InvalidInput(
                "An ASIN has 10 letters and digits, such as B0C1234567.", code="bad_asin"
            )
        self.asin = asin
        if self.price is not None and self.price.amount <= Decimal(0):
            raise InvalidInput("The product price must be above zero.", code="bad_price")
        self.category = self.category.strip().lower()

    @property
    def link(self) -> str:
        """The product's page on its marketplace."""
        if self.url:
            return self.url
        if self.asin:
            return f"https://www.{self.marketplace}/dp/{self.asin}"
        return ""
