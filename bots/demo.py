"""A small, realistic marketplace to try collabbot with: sellers, creators, offers, orders.

Everything is made through the use cases, as people would make it in the chats, on a clock
that starts three weeks ago and runs up to now — so orders carry believable dates and one
video is overdue. The people are fictional; creators log in with web identities such as
``web:demo-creator-1``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core import services as s
from core.domain.common import Money, Platform
from core.domain.members import ShippingAddress
from core.domain.offers import (
    Audience,
    Offer,
    Requirements,
    Reward,
    RewardKind,
    SelectionMode,
    VideoType,
)
from core.domain.orders import Order, OrderState, RedoReason
from core.ports.clock import FixedClock, SystemClock
from core.ports.repositories import AbstractUnitOfWork
from core.services import Actor, Marketplace

__all__ = ["DEMO_LOGINS", "DemoAlreadyThere", "DemoIncomplete", "DemoSummary", "seed_demo"]

STORY_DAYS = 20
"""How long ago the demo story starts."""

OPERATOR = "web:demo-operator"
# The operator is made last: when it exists, the whole demo was seeded.
SELLERS = (
    ("Lumina Kitchenware", ("telegram:7100000001", "web:demo-seller-lumina")),
    ("PawPals Pet Supplies", ("discord:1180000000000000001", "web:demo-seller-pawpals")),
    ("Glow Theory Beauty", ("whatsapp:15550100101", "web:demo-seller-glow")),
)


@dataclass(frozen=True, slots=True)
class _Creator:
    name: str
    country: str
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    storefront: str = ""
    top: bool = False
    address: ShippingAddress | None = None


def _address(
    name: str, line1: str, city: str, postal: str, country: str, region: str = ""
) -> ShippingAddress:
    return ShippingAddress(
        name=name, line1=line1, city=city, postal_code=postal, country=country, region=region
    )


CREATORS = (
    _Creator(
        "Maya Chen",
        "US",
        ("beauty", "personal_care"),
        ("en", "zh"),
        "https://www.amazon.com/shop/mayachenreviews",
        top=True,
        address=_address("Maya Chen", "418 Alder Street", "Portland", "97205", "US", "OR"),
    ),
    _Creator(
        "Jordan Blake",
        "US",
        ("kitchen", "home"),
        ("en",),
        "https://www.amazon.com/shop/jordanblakecooks",
        address=_address("Jordan Blake", "77 Magnolia Ave", "Austin", "78704", "US", "TX"),
    ),
    _Creator(
        "Priya Nair",
        "GB",
        ("beauty", "health"),
        ("en", "hi"),
        "https://www.amazon.co.uk/shop/priyanairbeauty",
        top=True,
        address=_address("Priya Nair", "12 Wellington Road", "Leeds", "LS1 4AP", "GB"),
    ),
    _Creator(
        "Sofia Martínez",
        "MX",
        ("kids", "toys", "baby"),
        ("es", "en"),
        address=_address("Sofia Martínez", "Calle Durango 214", "Ciudad de México", "06700", "MX"),
    ),
    _Creator(
        "Jonas Weber",
        "DE",
        ("outdoors", "sports", "fitness"),
        ("de", "en"),
        "https://www.amazon.de/shop/jonasdraussen",
    ),
    _Creator(
        "Emily Carter",
        "CA",
        ("pets", "home"),
        ("en", "fr"),
        address=_address("Emily Carter", "55 Harbord Street", "Toronto", "M5S 1G2", "CA", "ON"),
    ),
    _Creator(
        "Kenji Sato",
        "US",
        ("electronics", "office"),
        ("en", "ja"),
        "https://www.amazon.com/shop/kenjitechdesk",
        address=_address("Kenji Sato", "901 Pine Street", "Seattle", "98101", "US", "WA"),
    ),
    _Creator(
        "Olivia Brooks",
        "US",
        ("kitchen", "garden", "pets"),
        ("en",),
        "https://www.amazon.com/shop/oliviabrookshome",
        address=_address("Olivia Brooks", "3 Orchard Lane", "Asheville", "28801", "US", "NC"),
    ),
)

DEMO_LOGINS = (
    OPERATOR,
    *(identity for _, staff in SELLERS for identity in staff if identity.startswith("web:")),
    *(f"web:demo-creator-{n}" for n in range(1, len(CREATORS) + 1)),
)
"""Web identities a playground can log in as: the operator, one per seller, the creators."""


class DemoAlreadyThere(Exception):
    """The demo data is already in the database; nothing was changed."""


class DemoIncomplete(Exception):
    """An earlier seed stopped half-way; the demo cannot be completed in this database."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    sellers: int
    creators: int
    offers: int
    orders: Counter[OrderState]


def _money(amount: str, currency: str = "USD") -> Money:
    return Money(Decimal(amount), currency)


def _video(seed: str) -> str:
    video_id = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return f"https://www.amazon.com/vdp/{video_id}"


async def _demo_state(mp: Marketplace) -> tuple[bool, bool]:
    """(the first demo seller exists, the demo operator exists)."""
    platform, user_id = s.parse_identity(OPERATOR)

    async def work(uow: AbstractUnitOfWork) -> tuple[bool, bool]:
        seller = await uow.sellers.by_name(SELLERS[0][0])
        operator = await uow.members.by_identity(platform, user_id)
        return seller is not None, operator is not None

    return await mp.transaction(work)


async def seed_demo(mp: Marketplace, clock: FixedClock) -> DemoSummary:
    """Create the demo marketplace; ``mp`` must run on ``clock``.

    Raises :class:`DemoAlreadyThere` when the demo data is already in the database, and
    :class:`DemoIncomplete` when only part of it is.
    """
    seller_there, operator_there = await _demo_state(mp)
    if operator_there:
        raise DemoAlreadyThere("The demo data is already there; nothing was changed.")
    if seller_there:
        raise DemoIncomplete(
            "An earlier demo seed stopped half-way, so the demo data is incomplete. Seed into "
            "an empty database instead (for example a new SQLite file)."
        )
    story = _Story(mp, clock)
    return await story.run()


class _Story:
    """Three weeks of a small marketplace, told through the use cases."""

    def __init__(self, mp: Marketplace, clock: FixedClock) -> None:
        self.mp = mp
        self.clock = clock
        self.system = Actor.system()
        self.now = SystemClock().now().replace(second=0, microsecond=0)
        self.creators: dict[str, Actor] = {}
        self.staff: dict[str, Actor] = {}
        self.sellers: dict[str, int] = {}
        self.orders: dict[tuple[str, str], Order] = {}

    def at(self, days: float) -> None:
        """Move the story's clock to ``days`` after its start."""
        self.clock.set(self.now - timedelta(days=STORY_DAYS) + timedelta(days=days))

    def later(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def deadline(self, days: int) -> datetime:
        return self.now + timedelta(days=days)

    async def run(self) -> DemoSummary:
        self.at(0)
        await self.people()
        self.at(0.1)
        offers = await self.offers()
        self.at(1)
        await self.claims(offers)
        self.at(2)
        await self.selection(offers)
        self.at(3)
        await self.shipping()
        self.at(8)
        await self.videos()
        self.at(9)
        await self.reviews()
        self.at(STORY_DAYS - 2)
        await self.late_shipping()
        self.clock.set(self.now)
        await s.mark_overdue_videos(self.mp)
        await s.add_operator(self.mp, self.system, OPERATOR)
        return DemoSummary(
            sellers=len(SELLERS),
            creators=len(CREATORS),
            offers=len(offers),
            orders=Counter(order.state for order in await self.current_orders()),
        )

    # --- people --------------------------------------------------------------------------

    async def people(self) -> None:
        await s.add_operator(self.mp, self.system, "telegram:7000000001")
        for name, staff in SELLERS:
            seller = await s.add_seller(self.mp, self.system, name, staff)
            assert seller.id is not None
            self.sellers[name] = seller.id
            platform, user_id = s.parse_identity(staff[-1])
            member = await s.find_member(self.mp, platform, user_id)
            assert member is not None
            assert member.id is not None
            self.staff[name] = Actor.member(member.id)
        for number, creator in enumerate(CREATORS, start=1):
            login = f"demo-creator-{number}"
            member = await s.register_identity(
                self.mp, Platform.WEB, login, login, creator.name, "en"
            )
            assert member.id is not None
            actor = Actor.member(member.id)
            await s.update_profile(
                self.mp,
                actor,
                s.ProfileChanges(
                    storefront_url=creator.storefront or None,
                    categories=creator.categories,
                    country=creator.country,
                    languages=creator.languages,
                    address=creator.address,
                    finish_onboarding=True,
                ),
            )
            if creator.top:
                await s.verify_top_creator(self.mp, self.system, member.id)
            self.creators[creator.name.split()[0]] = actor

    # --- offers --------------------------------------------------------------------------

    async def offers(self) -> dict[str, Offer]:
        lumina, pawpals, glow = (name for name, _ in SELLERS)
        fee = RewardKind.FEE
        plans = {
            "board": (
                lumina,
                s.NewOffer(
                    title="Bamboo Cutting Board Set, 3 pieces",
                    video_type=VideoType.INFLUENCER,
                    slots=6,
                    asin="B0CX3KBD01",
                    category="kitchen",
                    price=_money("34.99"),
                    requirements=Requirements(
                        text="Show all three boards in use and the juice groove.", landscape=True
                    ),
                    application_deadline=self.deadline(12),
                ),
            ),
            "skillet": (
                lumina,
                s.NewOffer(
                    title="Pre-Seasoned Cast Iron Skillet, 10 inch",
                    video_type=VideoType.INFLUENCER_WITH_FILE,
                    slots=4,
                    asin="B0CX3SKL10",
                    category="kitchen",
                    price=_money("39.90"),
                    reward=Reward(fee, _money("25.00")),
                    requirements=Requirements(
                        text="Cook one full meal in it; show the sear.",
                        landscape=True,
                        min_length_seconds=90,
                    ),
                    selection=SelectionMode.AUTO,
                    application_deadline=self.deadline(9),
                    content_deadline_days=10,
                ),
            ),
            "fountain": (
                pawpals,
                s.NewOffer(
                    title="Automatic Cat Water Fountain, 2.5 L",
                    video_type=VideoType.AMATEUR_WITH_FILE,
                    slots=4,
                    asin="B0CP4WFT25",
                    category="pets",
                    price=_money("29.99"),
                    requirements=Requirements(
                        text="Your cat drinking from it; show the filter.", with_pets=True
                    ),
                    application_deadline=self.deadline(16),
                ),
            ),
            "serum": (
                glow,
                s.NewOffer(
                    title="Vitamin C Brightening Serum, 30 ml",
                    video_type=VideoType.TOP_CREATOR,
                    slots=2,
                    asin="B0CG7VCS30",
                    category="beauty",
                    price=_money("24.00"),
                    reward=Reward(fee, _money("60.00")),
                    requirements=Requirements(
                        text="Morning routine, before and after.", face_visible=True
                    ),
                    audience=Audience(
                        public=False,
                        categories=frozenset({"beauty", "personal_care"}),
                        countries=frozenset({"US", "GB"}),
                    ),
                    application_deadline=self.deadline(10),
                ),
            ),
            "mask": (
                glow,
                s.NewOffer(
                    title="Mulberry Silk Sleep Mask",
                    video_type=VideoType.TOP_CREATOR_WITH_FILE,
                    slots=3,
                    marketplace="amazon.co.uk",
                    asin="B0CG7SLM01",
                    category="beauty",
                    price=_money("18.50", "GBP"),
                    requirements=Requirements(
                        text="Evening routine; mention the adjustable strap."
                    ),
                    application_deadline=self.deadline(14),
                ),
            ),
            "harness": (
                pawpals,
                s.NewOffer(
                    title="No-Pull Dog Harness, Reflective",
                    video_type=VideoType.INFLUENCER,
                    slots=3,
                    asin="B0CP4HRN02",
                    category="pets",
                    price=_money("22.95"),
                    requirements=Requirements(
                        text="On a walk, clipping the leash front and back.",
                        outdoor=True,
                        with_pets=True,
                    ),
                    selection=SelectionMode.AUTO,
                    application_deadline=self.deadline(21),
                ),
            ),
        }
        offers = {}
        for key, (seller, new) in plans.items():
            staff = self.staff[seller]
            offers[key] = await s.create_offer(
                self.mp, staff, self.sellers[seller], new, publish=True
            )
        draft = s.NewOffer(
            title="Silicone Baking Mat Set, 2 pieces",
            video_type=VideoType.AMATEUR_WITH_FILE,
            slots=5,
            asin="B0CX3BMT02",
            category="kitchen",
            application_deadline=self.deadline(30),
        )
        offers["baking mat"] = await s.create_offer(
            self.mp, self.staff[lumina], self.sellers[lumina], draft
        )
        return offers

    # --- orders --------------------------------------------------------------------------

    async def claims(self, offers: dict[str, Offer]) -> None:
        wanted = {
            "board": ("Jordan", "Olivia", "Kenji", "Maya", "Jonas"),
            "skillet": ("Jordan", "Olivia", "Kenji"),
            "fountain": ("Emily", "Sofia", "Olivia"),
            "serum": ("Priya", "Maya"),
            "mask": ("Priya", "Maya"),
            "harness": ("Olivia",),
        }
        for key, creators in wanted.items():
            offer_id = offers[key].id
            assert offer_id is not None
            for turn, creator in enumerate(creators):
                self.later(minutes=37 * turn + 11)
                order = await s.claim_offer(self.mp, self.creators[creator], offer_id)
                self.orders[key, creator] = order

    def order_id(self, key: str, creator: str) -> int:
        order_id = self.orders[key, creator].id
        assert order_id is not None
        return order_id

    async def selection(self, offers: dict[str, Offer]) -> None:
        lumina, pawpals, glow = (self.staff[name] for name, _ in SELLERS)
        await s.approve_orders(
            self.mp,
            lumina,
            [self.order_id("board", c) for c in ("Jordan", "Olivia", "Kenji", "Jonas")],
        )
        self.later(hours=1)
        skillet = offers["skillet"].id
        assert skillet is not None
        await s.auto_select(self.mp, skillet)
        self.later(hours=2)
        await s.approve_order(self.mp, pawpals, self.order_id("fountain", "Emily"))
        await s.reject_order(self.mp, pawpals, self.order_id("fountain", "Olivia"), "not_a_fit")
        self.later(hours=1)
        await s.withdraw_order(self.mp, self.creators["Sofia"], self.order_id("fountain", "Sofia"))
        self.later(hours=3)
        await s.approve_order(self.mp, glow, self.order_id("serum", "Priya"))
        await s.approve_order(self.mp, glow, self.order_id("mask", "Priya"))

    async def shipping(self) -> None:
        lumina, _, glow = (self.staff[name] for name, _ in SELLERS)
        parcels = (
            (lumina, "board", "Jordan", "UPS", "1Z 999 AA1 01 2345 6784"),
            (lumina, "board", "Olivia", "UPS", "1Z 999 AA1 01 2345 6791"),
            (lumina, "board", "Kenji", "USPS", "9400 1118 9922 3817 2834 95"),
            (lumina, "skillet", "Jordan", "FedEx", "7712 3456 7890"),
            (lumina, "skillet", "Olivia", "FedEx", "7712 3456 7891"),
            (glow, "serum", "Priya", "Royal Mail", "AB123456789GB"),
        )
        for staff, key, creator, carrier, number in parcels:
            self.later(minutes=23)
            await s.record_shipment(self.mp, staff, self.order_id(key, creator), carrier, number)
        self.later(hours=2)
        await s.cancel_order(
            self.mp,
            glow,
            self.order_id("mask", "Priya"),
            "Our UK stock of this mask ran out before we could ship. Sorry! You are welcome "
            "to claim our next offer.",
        )

    async def videos(self) -> None:
        handed_in = (
            ("board", "Jordan", ""),
            ("board", "Olivia", ""),
            ("skillet", "Jordan", "demo/skillet-jordan-blake.mp4"),
            ("skillet", "Olivia", "demo/skillet-olivia-brooks.mp4"),
            ("serum", "Priya", ""),
        )
        for key, creator, file_ref in handed_in:
            self.later(hours=3)
            await s.submit_video(
                self.mp,
                self.creators[creator],
                self.order_id(key, creator),
                _video(f"{key}-{creator}"),
                file_ref,
            )

    async def reviews(self) -> None:
        lumina, _, glow = (self.staff[name] for name, _ in SELLERS)
        await s.accept_video(self.mp, lumina, self.order_id("board", "Jordan"))
        self.later(hours=2)
        await s.request_redo(
            self.mp,
            lumina,
            self.order_id("skillet", "Jordan"),
            [RedoReason.PORTRAIT, RedoReason.PRODUCT_NOT_CLEAR],
            "Please film in landscape and show the pan's surface after cooking.",
        )
        self.later(hours=20)
        await s.confirm_payment(
            self.mp, lumina, self.order_id("skillet", "Olivia"), "PayPal 5TY04418XJ"
        )
        self.later(hours=5)
        await s.confirm_payment(self.mp, glow, self.order_id("serum", "Priya"), "Wise 88211740")

    async def late_shipping(self) -> None:
        pawpals = self.staff[SELLERS[1][0]]
        await s.record_shipment(
            self.mp, pawpals, self.order_id("fountain", "Emily"), "Canada Post", "7023210039414604"
        )

    async def current_orders(self) -> list[Order]:
        async def work(uow: AbstractUnitOfWork) -> list[Order]:
            orders: list[Order] = []
            for order in self.orders.values():
                assert order.id is not None
                stored = await uow.orders.get(order.id)
                if stored is not None:
                    orders.append(stored)
            return orders

        return await self.mp.transaction(work)
