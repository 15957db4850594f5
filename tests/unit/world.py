"""A small marketplace in memory for unit tests: an operator, a seller, creators, offers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core import services as s
from core.domain.common import Money, Platform
from core.domain.members import Member, ShippingAddress
from core.domain.offers import Offer, Reward, RewardKind, SelectionMode, VideoType
from core.domain.orders import Order
from core.ports.clock import FixedClock
from core.services import Actor, Marketplace, Policy
from tests.fakes import FakeStore, FakeUnitOfWork

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADDRESS = ShippingAddress(
    name="Ana Creator",
    line1="1 Main St",
    city="Austin",
    postal_code="78701",
    country="US",
    region="TX",
    phone="+15550100",
)
VIDEO = "https://www.amazon.com/vdp/{:032x}"


class World:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.clock = FixedClock(START)
        # Notices go out at once here; the digest hold has tests of its own.
        self.mp = Marketplace(
            lambda: FakeUnitOfWork(self.store, self.clock),
            self.clock,
            Policy(digest_window_seconds=0),
        )
        self.system = Actor.system()
        self._users = 0
        self._videos = 0

    # --- people --------------------------------------------------------------------------

    async def person(self, name: str = "Someone", platform: Platform = Platform.TELEGRAM) -> Actor:
        self._users += 1
        member = await s.register_identity(
            self.mp, platform, str(1000 + self._users), str(1000 + self._users), name, "en"
        )
        assert member.id is not None
        return Actor.member(member.id)

    async def creator(
        self,
        name: str = "Ana",
        *,
        storefront: bool = True,
        top: bool = False,
        address: bool = True,
        country: str = "US",
        categories: tuple[str, ...] = ("beauty",),
    ) -> Actor:
        actor = await self.person(name)
        await s.update_profile(
            self.mp,
            actor,
            s.ProfileChanges(
                storefront_url=f"https://www.amazon.com/shop/{name.lower()}{self._users}"
                if storefront
                else None,
                categories=categories,
                country=country,
                languages=["en"],
                address=ADDRESS if address else None,
                finish_onboarding=True,
            ),
        )
        if top:
            await s.verify_top_creator(self.mp, self.system, actor.member_id or 0)
        return actor

    async def operator(self) -> Actor:
        self._users += 1
        member = await s.add_operator(self.mp, self.system, f"telegram:{1000 + self._users}")
        assert member.id is not None
        return Actor.member(member.id)

    async def seller(self, name: str = "Acme") -> tuple[int, Actor]:
        self._users += 1
        seller = await s.add_seller(self.mp, self.system, name, [f"telegram:{1000 + self._users}"])
        assert seller.id is not None
        staff = next(iter(seller.staff))
        return seller.id, Actor.member(staff)

    # --- offers and orders ---------------------------------------------------------------

    async def offer(
        self,
        seller_id: int,
        *,
        slots: int = 3,
        video_type: VideoType = VideoType.INFLUENCER,
        fee: str | None = None,
        selection: SelectionMode = SelectionMode.SELLER,
        publish: bool = True,
        **extra: object,
    ) -> Offer:
        reward = Reward(RewardKind.FEE, Money(Decimal(fee), "USD")) if fee else Reward()
        new = s.NewOffer(
            title="Bamboo cutting board",
            video_type=video_type,
            slots=slots,
            asin="B0C1234567",
            category="kitchen",
            reward=reward,
            selection=selection,
            **extra,
        )  # type: ignore[arg-type]
        return await s.create_offer(self.mp, self.system, seller_id, new, publish=publish)

    def video(self) -> str:
        self._videos += 1
        return VIDEO.format(self._videos)

    async def order(self, order_id: int) -> Order:
        order = self.store.orders[order_id]
        return order

    def member(self, actor: Actor) -> Member:
        assert actor.member_id is not None
        return self.store.members[actor.member_id]

    def notices(self, template: str | None = None, recipient: Actor | None = None) -> list:
        return [
            e
            for e in self.store.outbox
            if (template is None or e.template == template)
            and (recipient is None or e.recipient_id == recipient.member_id)
        ]

    def later(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))
