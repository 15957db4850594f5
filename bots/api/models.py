"""What the integration API reads and writes: pydantic models, and their mapping to the core.

Request models refuse what the database could not store (over-long text, NUL characters,
ids beyond its integers, amounts beyond ``NUMERIC(12, 2)``) so that such input gets a 422,
never a server error; the marketplace's own rules are then checked by the use cases.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from core.amazon import MARKETPLACES
from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastState
from core.domain.common import CURRENCIES, Money
from core.domain.members import MemberStatus
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
from core.services import CATEGORIES, SellerOffer
from core.services.broadcasts import BroadcastProgress
from core.services.portal import CreatorSummary
from core.services.reports import OrderRow

MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in PostgreSQL."""
MAX_URL = 2000


def _plain(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return text


def _in_range(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not 2000 <= utc.year <= 9000:
        raise ValueError("must be between the years 2000 and 9000")
    return utc


def _web_url(url: str) -> str:
    if url and (
        not url.lower().startswith(("https://", "http://")) or any(c.isspace() for c in url)
    ):
        raise ValueError("must be a full web address starting with https://")
    return url


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, AfterValidator(_plain)]
Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
WebUrl = Annotated[str, Field(max_length=MAX_URL), AfterValidator(_plain), AfterValidator(_web_url)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]

Currency = enum.StrEnum("Currency", {code: code for code in sorted(CURRENCIES)})  # type: ignore[misc]
Marketplace = enum.StrEnum("Marketplace", {name: name for name in MARKETPLACES})  # type: ignore[misc]
Category = enum.StrEnum("Category", {name: name for name in CATEGORIES})  # type: ignore[misc]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -------------------------------------------------------------------------------


class Problem(BaseModel):
    """Why a request was refused."""

    error: str = Field(description="A stable code, e.g. `offer_not_found`, `unauthorized`.")
    message: str = Field(description="What went wrong, in English, fit to show a person.")


class FieldProblem(BaseModel):
    location: list[str | int] = Field(description="Where: `body`, `query` or `path`, then names.")
    message: str


class ValidationProblem(Problem):
    details: list[FieldProblem] = []


# --- money and offers ---------------------------------------------------------------------


class MoneyIn(Request):
    amount: Amount = Field(description="Up to 10 digits and 2 decimals, above zero.")
    currency: Currency

    def money(self) -> Money:
        return Money(self.amount, str(self.currency))


class MoneyOut(BaseModel):
    amount: str = Field(description="A decimal with two places, as text, e.g. `19.99`.")
    currency: str

    @classmethod
    def of(cls, money: Money | None) -> MoneyOut | None:
        return None if money is None else cls(amount=f"{money.amount:.2f}", currency=money.currency)


class RewardIn(Request):
    kind: RewardKind = RewardKind.FREE_PRODUCT
    fee: MoneyIn | None = Field(None, description="Needed with kind `fee`, absent otherwise.")

    def reward(self) -> Reward:
        return Reward(self.kind, self.fee.money() if self.fee else None)


class RewardOut(BaseModel):
    kind: RewardKind
    fee: MoneyOut | None


class RequirementsModel(Request):
    text: Text = Field("", max_length=Requirements.MAX_TEXT)
    landscape: bool = False
    min_length_seconds: int = Field(60, ge=0, le=3600)
    outdoor: bool = False
    with_children: bool = False
    with_pets: bool = False
    face_visible: bool = False

    def requirements(self) -> Requirements:
        return Requirements(**self.model_dump())


class AudienceModel(Request):
    """Who may claim: everyone eligible (`public`), or only creators matching every given
    restriction (empty lists mean any)."""

    public: bool = True
    categories: list[Category] = Field([], max_length=len(CATEGORIES))
    countries: list[CountryCode] = Field([], max_length=50)
    languages: list[LanguageCode] = Field([], max_length=20)
    min_completed_videos: int = Field(0, ge=0, le=100_000)
    top_creators_only: bool = False

    def audience(self) -> Audience:
        return Audience(
            public=self.public,
            categories=frozenset(str(c) for c in self.categories),
            countries=frozenset(c.upper() for c in self.countries),
            languages=frozenset(self.languages),
            min_completed_videos=self.min_completed_videos,
            top_creators_only=self.top_creators_only,
        )


VIDEO_TYPES = (
    "1 Amazon Influencer video (link); 2 Influencer, link and file; 3 no influencer account "
    "needed, the file counts; 4 Top Creator (link); 5 Top Creator, link and file."
)


class OfferFields(Request):
    """The fields of a draft offer (all optional when updating)."""

    title: Text | None = Field(None, min_length=1, max_length=200)
    video_type: VideoType | None = Field(None, description=VIDEO_TYPES)
    slots: int | None = Field(None, ge=1, le=Offer.MAX_SLOTS, description="Samples to give away.")
    marketplace: Marketplace | None = None
    asin: str | None = Field(None, pattern=r"^([A-Za-z0-9]{10})?$")
    product_url: WebUrl | None = None
    category: Category | None = None
    price: MoneyIn | None = None
    image_url: WebUrl | None = None
    reward: RewardIn | None = None
    requirements: RequirementsModel | None = None
    selection: SelectionMode | None = Field(
        None, description="`seller`: the seller approves; `auto`: the best-ranked are selected."
    )
    audience: AudienceModel | None = None
    application_deadline: Moment | None = Field(
        None, description="When applications close (default: the marketplace's window)."
    )
    content_deadline_days: int | None = Field(
        None, ge=1, le=365, description="Days after shipping the video is due."
    )

    def product_changes(self) -> dict[str, Any]:
        """The product fields given, as :class:`~core.domain.sellers.Product` names them."""
        given = self.model_fields_set
        out: dict[str, Any] = {}
        for name, target in (
            ("title", "title"),
            ("asin", "asin"),
            ("product_url", "url"),
            ("image_url", "image_url"),
        ):
            if name in given:
                out[target] = getattr(self, name) or ""
        if "marketplace" in given:
            out["marketplace"] = str(self.marketplace or "amazon.com")
        if "category" in given:
            out["category"] = str(self.category or "")
        if "price" in given:
            out["price"] = self.price.money() if self.price else None
        return out

    def offer_changes(self) -> dict[str, Any]:
        """The offer fields given, as :class:`~core.domain.offers.Offer` names them; a field
        given as null goes back to its default."""
        given = self.model_fields_set
        out: dict[str, Any] = {}
        if "video_type" in given and self.video_type is not None:
            out["video_type"] = self.video_type
        if "slots" in given and self.slots is not None:
            out["slots"] = self.slots
        if "application_deadline" in given and self.application_deadline is not None:
            out["application_deadline"] = self.application_deadline
        if "content_deadline_days" in given and self.content_deadline_days is not None:
            out["content_deadline_days"] = self.content_deadline_days
        if "reward" in given:
            out["reward"] = self.reward.reward() if self.reward else Reward()
        if "requirements" in given:
            out["requirements"] = (
                self.requirements.requirements() if self.requirements else Requirements()
            )
        if "selection" in given:
            out["selection"] = self.selection or SelectionMode.SELLER
        if "audience" in given:
            out["audience"] = self.audience.audience() if self.audience else Audience()
        return out


class OfferCreate(OfferFields):
    seller_id: Id
    title: Text = Field(min_length=1, max_length=200)
    video_type: VideoType = Field(description=VIDEO_TYPES)
    slots: int = Field(ge=1, le=Offer.MAX_SLOTS, description="Samples to give away.")
    publish: bool = Field(False, description="Publish at once instead of keeping a draft.")


class OfferUpdate(OfferFields):
    """Only the fields given change; the offer must still be a draft."""


class RequirementsOut(BaseModel):
    text: str
    landscape: bool
    min_length_seconds: int
    outdoor: bool
    with_children: bool
    with_pets: bool
    face_visible: bool


class AudienceOut(BaseModel):
    public: bool
    categories: list[str]
    countries: list[str]
    languages: list[str]
    min_completed_videos: int
    top_creators_only: bool


class OfferOut(BaseModel):
    id: int
    seller_id: int
    state: OfferState
    title: str
    marketplace: str
    asin: str
    product_url: str
    category: str
    price: MoneyOut | None
    image_url: str
    video_type: VideoType
    slots: int
    open_slots: int
    applied_count: int
    selected_count: int
    selection: SelectionMode
    reward: RewardOut
    requirements: RequirementsOut
    audience: AudienceOut
    application_deadline: datetime
    content_deadline_days: int
    created_at: datetime | None
    published_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    orders_by_state: dict[OrderState, int] = Field(description="The offer's orders counted.")

    @classmethod
    def of(cls, found: SellerOffer) -> OfferOut:
        offer, product = found.card.offer, found.card.product
        assert offer.id is not None
        audience = offer.audience
        return cls(
            id=offer.id,
            seller_id=offer.seller_id,
            state=offer.state,
            title=product.title,
            marketplace=product.marketplace,
            asin=product.asin,
            product_url=product.url,
            category=product.category,
            price=MoneyOut.of(product.price),
            image_url=product.image_url,
            video_type=offer.video_type,
            slots=offer.slots,
            open_slots=offer.open_slots,
            applied_count=offer.applied_count,
            selected_count=offer.selected_count,
            selection=offer.selection,
            reward=RewardOut(kind=offer.reward.kind, fee=MoneyOut.of(offer.reward.fee)),
            requirements=RequirementsOut(
                text=offer.requirements.text,
                landscape=offer.requirements.landscape,
                min_length_seconds=offer.requirements.min_length_seconds,
                outdoor=offer.requirements.outdoor,
                with_children=offer.requirements.with_children,
                with_pets=offer.requirements.with_pets,
                face_visible=offer.requirements.face_visible,
            ),
            audience=AudienceOut(
                public=audience.public,
                categories=sorted(audience.categories),
                countries=sorted(audience.countries),
                languages=sorted(audience.languages),
                min_completed_videos=audience.min_completed_videos,
                top_creators_only=audience.top_creators_only,
            ),
            application_deadline=offer.application_deadline,
            content_deadline_days=offer.content_deadline_days,
            created_at=offer.created_at,
            published_at=offer.published_at,
            ended_at=offer.ended_at,
            end_reason=offer.end_reason,
            orders_by_state=dict(found.counts),
        )


class OfferList(BaseModel):
    offers: list[OfferOut]


# --- orders -------------------------------------------------------------------------------


class OrderOut(BaseModel):
    """An order as the "data review" export shows it: no address or contact details."""

    id: int
    number: str = Field(description="The order number people see in chat.")
    state: OrderState
    offer_id: int
    seller_id: int
    seller: str
    product: str
    asin: str
    marketplace: str
    video_type: VideoType
    creator_id: int
    creator_name: str
    applied_at: datetime | None
    selected_at: datetime | None
    shipped_at: datetime | None
    carrier: str
    tracking_number: str
    video_due_at: datetime | None
    video_url: str
    video_submitted_at: datetime | None
    on_time: bool | None
    redo_count: int
    accepted_at: datetime | None
    paid_at: datetime | None
    payment: MoneyOut | None
    reason: str

    @classmethod
    def of(cls, row: OrderRow) -> OrderOut:
        o = row.order
        assert o.id is not None
        return cls(
            id=o.id,
            number=o.number,
            state=o.state,
            offer_id=o.offer_id,
            seller_id=o.seller_id,
            seller=row.seller_name,
            product=row.product.title,
            asin=row.product.asin,
            marketplace=row.product.marketplace,
            video_type=row.offer.video_type,
            creator_id=o.creator_id,
            creator_name=row.creator_name,
            applied_at=o.applied_at,
            selected_at=o.selected_at,
            shipped_at=o.shipment.shipped_at if o.shipment else None,
            carrier=o.shipment.carrier if o.shipment else "",
            tracking_number=o.shipment.tracking_number if o.shipment else "",
            video_due_at=o.video_due_at,
            video_url=o.video.url if o.video else "",
            video_submitted_at=o.video.submitted_at if o.video else None,
            on_time=o.on_time,
            redo_count=o.redo_count,
            accepted_at=o.accepted_at,
            paid_at=o.payment.confirmed_at if o.payment else None,
            payment=MoneyOut.of(o.payment.amount if o.payment else None),
            reason=o.reason,
        )


class OrderList(BaseModel):
    orders: list[OrderOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )


# --- creators -----------------------------------------------------------------------------


class CreatorStatsOut(BaseModel):
    completed_videos: int
    on_time_videos: int
    redo_orders: int
    on_time_rate: float | None = Field(description="Share of videos on time; null before one.")


class CreatorOut(BaseModel):
    """What a seller may see of a creator: never the address or contact details."""

    id: int
    name: str
    status: MemberStatus
    onboarded: bool
    country: str
    categories: list[str]
    languages: list[str]
    storefront_url: str
    top_creator: bool
    stats: CreatorStatsOut

    @classmethod
    def of(cls, found: CreatorSummary) -> CreatorOut:
        card = found.card
        return cls(
            id=card.member_id,
            name=card.display_name,
            status=found.status,
            onboarded=found.onboarded,
            country=card.country,
            categories=sorted(card.categories),
            languages=sorted(card.languages),
            storefront_url=card.storefront_url,
            top_creator=card.top_creator,
            stats=CreatorStatsOut(
                completed_videos=card.stats.completed_videos,
                on_time_videos=card.stats.on_time_videos,
                redo_orders=card.stats.redo_orders,
                on_time_rate=card.stats.on_time_rate,
            ),
        )


class CreatorList(BaseModel):
    creators: list[CreatorOut]
    next_after: int | None = Field(
        description=(
            "Pass as `after` for the next page; null when no creator is left. A page may hold "
            "fewer creators than `limit` (even none) when a filter is rare."
        )
    )


# --- broadcasts ---------------------------------------------------------------------------


class BroadcastAudienceIn(Request):
    kind: AudienceKind = AudienceKind.ALL_CREATORS
    value: Text = Field(
        "",
        max_length=64,
        description=(
            "The platform (`telegram`), category (`beauty`), country (`US`), language (`en`) "
            "or offer id (`12`), as `kind` needs; empty for `all` and `top_creators`."
        ),
    )


class BroadcastCreate(Request):
    text: Text = Field(min_length=1, max_length=Broadcast.MAX_TEXT)
    audience: BroadcastAudienceIn = Field(default_factory=BroadcastAudienceIn)
    image_url: WebUrl = Field("", description="An https:// picture shown with the text.")
    link_label: Text = Field("", max_length=100, description="A link button's label.")
    link_url: WebUrl = Field("", description="Where the link button leads (https://).")
    send: Literal["draft", "now", "at"] = Field(
        "draft",
        description="Keep a draft (send it later with `/send`), send now, or at `send_at`.",
    )
    send_at: Moment | None = Field(None, description="With `send: at`: when to send.")


class BroadcastSend(Request):
    send_at: Moment | None = Field(None, description="When to send; now when absent or past.")


class BroadcastOut(BaseModel):
    id: int
    state: BroadcastState
    text: str
    audience_kind: AudienceKind
    audience_value: str
    image_url: str
    link_label: str
    link_url: str
    scheduled_at: datetime | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recipients: int = Field(description="Creators it goes to (so far, while being queued).")
    sent: int
    failed: int
    unreachable: int
    skipped: int = Field(description="Turned announcements off after it was queued.")
    pending: int = Field(description="Still to get it.")

    @classmethod
    def of(cls, progress: BroadcastProgress) -> BroadcastOut:
        b = progress.broadcast
        assert b.id is not None
        return cls(
            id=b.id,
            state=b.state,
            text=b.text,
            audience_kind=b.audience.kind,
            audience_value=b.audience.value,
            image_url=b.image_url,
            link_label=b.link_label,
            link_url=b.link_url,
            scheduled_at=b.scheduled_at,
            created_at=b.created_at,
            started_at=b.started_at,
            finished_at=b.finished_at,
            recipients=progress.recipients,
            sent=progress.sent,
            failed=progress.failed,
            unreachable=progress.unreachable,
            skipped=progress.skipped,
            pending=progress.pending,
        )


class BroadcastSummary(BaseModel):
    id: int
    state: BroadcastState
    text: str
    audience_kind: AudienceKind
    audience_value: str
    scheduled_at: datetime | None
    created_at: datetime | None
    finished_at: datetime | None
    recipients: int
    sent: int
    failed: int
    unreachable: int

    @classmethod
    def of(cls, b: Broadcast) -> BroadcastSummary:
        assert b.id is not None
        return cls(
            id=b.id,
            state=b.state,
            text=b.text,
            audience_kind=b.audience.kind,
            audience_value=b.audience.value,
            scheduled_at=b.scheduled_at,
            created_at=b.created_at,
            finished_at=b.finished_at,
            recipients=b.recipients,
            sent=b.sent,
            failed=b.failed,
            unreachable=b.unreachable,
        )


class BroadcastList(BaseModel):
    broadcasts: list[BroadcastSummary]
