"""Importing a seller's offers from a JSON or CSV file (format: docs/offer-import.md).

The file is read and every row checked first; each problem is reported with where it is
(CSV line or JSON index), the field, and what to change. Only a file without problems is
imported, and then all of its offers are added in one transaction: all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bots import offer_fields as parse
from bots.lookups import seller_named
from bots.offer_file import COLUMNS, ImportRejected, OfferRow, Problem, unknown_field
from core.domain.common import Money
from core.domain.errors import DomainError
from core.domain.offers import Audience, Offer, Requirements, Reward, RewardKind, SelectionMode
from core.domain.sellers import Product
from core.ports.repositories import AbstractUnitOfWork
from core.services import Actor, Marketplace, NewOffer, add_offer, parse_deadline

__all__ = ["CheckedOffer", "ImportedOffer", "import_offers", "parse_rows"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CheckedOffer:
    """A row that passed every check, ready for :func:`add_offer`."""

    where: str
    offer: NewOffer
    publish: bool


@dataclass(frozen=True, slots=True)
class ImportedOffer:
    offer: Offer
    title: str
    where: str


class _Missing(Exception):
    """The field is absent or empty."""


@dataclass
class _RowChecker:
    """Reads one row field by field and keeps every problem instead of stopping at the first."""

    row: OfferRow
    problems: list[Problem] = field(default_factory=list)

    def _raw(self, name: str) -> Any:
        value = self.row.values.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value in (None, "", []):
            raise _Missing
        return value

    def has(self, name: str) -> bool:
        try:
            self._raw(name)
        except _Missing:
            return False
        return True

    def problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.row.where, name, message))

    def get(self, name: str, read: Callable[[Any], T], default: T, *, required: str = "") -> T:
        """``read`` the field's value; ``default`` when empty (a problem if ``required``)."""
        try:
            return read(self._raw(name))
        except _Missing:
            if required:
                self.problem(name, required)
        except parse.BadValue as error:
            self.problem(name, str(error))
        except DomainError as error:
            self.problem(name, error.message)
        return default

    def check(self, name: str, build: Callable[[], object]) -> bool:
        """Run a domain constructor whose refusal concerns field ``name``."""
        try:
            build()
        except DomainError as error:
            self.problem(name, error.message)
            return False
        return True


def _check_row(
    row: OfferRow, now: datetime, zone: ZoneInfo, content_days: int, publish: bool
) -> tuple[CheckedOffer | None, list[Problem]]:
    c = _RowChecker(row)
    for name in row.values:
        if name not in COLUMNS:
            c.problems.append(Problem(row.where, str(name), unknown_field(str(name))))
    product = _product(c)
    video_type = c.get(
        "video_type", parse.video_type, None, required="missing. Write 1, 2, 3, 4 or 5."
    )
    slots = c.get(
        "slots",
        parse.whole_number(1, Offer.MAX_SLOTS, example=5),
        0,
        required="missing. Write how many creators get a sample, e.g. 5.",
    )
    reward = _reward(c, product.price.currency if product.price else product.local_currency)
    requirements = _requirements(c)
    selection = c.get("selection", parse.choice(parse.SELECTIONS), SelectionMode.SELLER)
    audience = _audience(c)

    def deadline(value: Any) -> datetime:
        text = str(value).strip() if not isinstance(value, bool) else ""
        text = text.removesuffix(".0")
        # A date is the end of that day where the marketplace team works.
        return parse_deadline(text, now.astimezone(zone)).astimezone(UTC)

    application_deadline = c.get("application_deadline", deadline, None)
    content_deadline_days = c.get(
        "content_deadline_days", parse.whole_number(1, 365, example=14), content_days
    )
    publish_row = c.get("publish", parse.flag, publish)

    if c.problems or video_type is None:
        return None, c.problems
    new = NewOffer(
        title=product.title,
        video_type=video_type,
        slots=slots,
        marketplace=product.marketplace,
        asin=product.asin,
        product_url=product.url,
        category=product.category,
        price=product.price,
        image_url=product.image_url,
        reward=reward,
        requirements=requirements,
        selection=selection,
        audience=audience,
        application_deadline=application_deadline,
        content_deadline_days=content_deadline_days,
    )
    return CheckedOffer(row.where, new, publish_row), []


@dataclass(frozen=True, slots=True)
class _ProductFields:
    title: str
    asin: str
    url: str
    image_url: str
    marketplace: str
    category: str
    price: Money | None

    @property
    def local_currency(self) -> str:
        return parse.CURRENCY_OF_MARKETPLACE.get(self.marketplace, "USD")


def _product(c: _RowChecker) -> _ProductFields:
    # The product's own rules (title length, ASIN shape) are checked by building one.
    sample: dict[str, Any] = {"id": None, "seller_id": 0, "title": "sample"}
    title = c.get("title", parse.text, "", required="missing. Every offer needs a product title.")
    if title:
        c.check("title", lambda: Product(**{**sample, "title": title}))
    asin = c.get("asin", parse.text, "")
    if asin:
        c.check("asin", lambda: Product(**sample, asin=asin))
    url = c.get("product_url", parse.web_link, "")
    if not c.has("asin") and not c.has("product_url"):
        c.problem("asin", "give the product's ASIN or its product_url (or both).")
    image_url = c.get("image_url", parse.web_link, "")
    marketplace = c.get("marketplace", parse.marketplace, "amazon.com")
    local = parse.CURRENCY_OF_MARKETPLACE.get(marketplace, "USD")
    category = c.get("category", parse.category, "")
    amount = c.get("price", parse.amount, None)
    currency = c.get("currency", parse.currency, local)
    price = Money(amount, currency) if amount is not None else None
    return _ProductFields(title, asin.upper(), url, image_url, marketplace, category, price)


def _reward(c: _RowChecker, currency: str) -> Reward:
    fee = c.get("fee", parse.amount, None)
    kind = c.get(
        "reward",
        parse.choice(parse.REWARDS),
        RewardKind.FEE if c.has("fee") else RewardKind.FREE_PRODUCT,
    )
    fee_currency = c.get("fee_currency", parse.currency, currency)
    if kind is RewardKind.FEE and not c.has("fee"):
        c.problem("fee", "missing: the reward is a fee, so write its amount, e.g. 25.00.")
    elif kind is RewardKind.FREE_PRODUCT and c.has("fee"):
        c.problem("reward", "is free, but a fee is given: write fee here, or leave the fee empty.")
    elif fee is not None:
        return Reward(RewardKind.FEE, Money(fee, fee_currency))
    return Reward()


def _requirements(c: _RowChecker) -> Requirements:
    text = c.get("requirements", parse.text, "")
    if text and not c.check("requirements", lambda: Requirements(text=text)):
        text = ""
    return Requirements(
        text=text,
        landscape=c.get("landscape", parse.flag, False),
        min_length_seconds=c.get("min_length_seconds", parse.whole_number(0, 3600, example=60), 60),
        outdoor=c.get("outdoor", parse.flag, False),
        with_children=c.get("with_children", parse.flag, False),
        with_pets=c.get("with_pets", parse.flag, False),
        face_visible=c.get("face_visible", parse.flag, False),
    )


def _audience(c: _RowChecker) -> Audience:
    group = Audience(
        public=False,
        categories=c.get("audience_categories", parse.categories, frozenset()),
        countries=c.get("audience_countries", parse.countries, frozenset()),
        languages=c.get("audience_languages", parse.languages, frozenset()),
        min_completed_videos=c.get("min_completed_videos", parse.whole_number(0, example=3), 0),
        top_creators_only=c.get("top_creators_only", parse.flag, False),
    )
    # Only a real restriction makes an offer targeted (its invited creators are notified).
    targeted = (
        group.categories
        or group.countries
        or group.languages
        or group.min_completed_videos > 0
        or group.top_creators_only
    )
    return group if targeted else Audience()


def parse_rows(
    source: str,
    rows: Sequence[OfferRow],
    *,
    now: datetime,
    timezone: str = "UTC",
    content_deadline_days: int = 14,
    publish: bool = False,
) -> list[CheckedOffer]:
    """Check every row; raise :class:`ImportRejected` with all problems of all rows.

    Dates in ``application_deadline`` are the end of that day in ``timezone``.
    """
    zone = ZoneInfo(timezone)
    checked: list[CheckedOffer] = []
    problems: list[Problem] = []
    for row in rows:
        offer, found = _check_row(row, now, zone, content_deadline_days, publish)
        problems.extend(found)
        if offer is not None:
            checked.append(offer)
    if problems:
        raise ImportRejected(source, problems)
    return checked


# --- importing ----------------------------------------------------------------------------


async def import_offers(
    mp: Marketplace, actor: Actor, seller_name: str, source: str, offers: Sequence[CheckedOffer]
) -> list[ImportedOffer]:
    """Add every offer for the seller in one transaction; any refusal rolls all of them back."""

    async def work(uow: AbstractUnitOfWork) -> list[ImportedOffer]:
        seller = await seller_named(uow, seller_name)
        assert seller.id is not None
        imported: list[ImportedOffer] = []
        problems: list[Problem] = []
        for checked in offers:
            try:
                offer = await add_offer(
                    uow, mp, actor, seller.id, checked.offer, publish=checked.publish
                )
            except DomainError as error:
                problems.append(Problem(checked.where, "", error.message))
                continue
            title = " ".join(checked.offer.title.split())
            imported.append(ImportedOffer(offer, title, checked.where))
        if problems:
            raise ImportRejected(source, problems)
        return imported

    return await mp.transaction(work)
