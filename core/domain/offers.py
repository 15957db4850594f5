"""Offers: a seller's "free sample of X for an Amazon video", and who may claim it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.domain.common import Money
from core.domain.errors import InvalidInput, InvalidTransition
from core.domain.events import (
    Event,
    OfferCancelled,
    OfferEnded,
    OfferPaused,
    OfferPublished,
    OfferResumed,
)
from core.domain.members import CreatorProfile, Member, MemberStatus


class VideoType(enum.IntEnum):
    """The marketplace's five video types; the number is what people quote."""

    INFLUENCER = 1  # Amazon Influencer, link only
    INFLUENCER_WITH_FILE = 2  # Amazon Influencer, link and file
    AMATEUR_WITH_FILE = 3  # no influencer account needed, the file counts
    TOP_CREATOR = 4  # Top Creator badge, link only
    TOP_CREATOR_WITH_FILE = 5  # Top Creator badge, link and file

    @property
    def needs_file(self) -> bool:
        return self in (
            VideoType.INFLUENCER_WITH_FILE,
            VideoType.AMATEUR_WITH_FILE,
            VideoType.TOP_CREATOR_WITH_FILE,
        )

    @property
    def needs_link(self) -> bool:
        return self is not VideoType.AMATEUR_WITH_FILE

    @property
    def needs_storefront(self) -> bool:
        return self in (
            VideoType.INFLUENCER,
            VideoType.INFLUENCER_WITH_FILE,
            VideoType.TOP_CREATOR,
            VideoType.TOP_CREATOR_WITH_FILE,
        )

    @property
    def needs_top_creator(self) -> bool:
        return self in (VideoType.TOP_CREATOR, VideoType.TOP_CREATOR_WITH_FILE)

    @classmethod
    def open_to(cls, profile: CreatorProfile) -> frozenset[VideoType]:
        """The video types a creator with this profile can take."""
        return frozenset(
            t
            for t in cls
            if (not t.needs_storefront or profile.is_influencer)
            and (not t.needs_top_creator or profile.top_creator)
        )


class SelectionMode(enum.StrEnum):
    SELLER = "seller"  # the seller approves; the ranking is a recommendation
    AUTO = "auto"  # the system selects the top-ranked applicants


class OfferState(enum.StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    PAUSED = "paused"
    ENDED = "ended"
    CANCELLED = "cancelled"


class RewardKind(enum.StrEnum):
    FREE_PRODUCT = "free_product"
    FEE = "fee"


@dataclass(frozen=True, slots=True)
class Reward:
    """Free product only, or a fixed fee paid after the video is accepted."""

    kind: RewardKind = RewardKind.FREE_PRODUCT
    fee: Money | None = None

    def __post_init__(self) -> None:
        if self.kind is RewardKind.FEE and (self.fee is None or self.fee.amount <= Decimal(0)):
            raise InvalidInput("A fee reward needs an amount above zero.", code="fee_missing")
        if self.kind is RewardKind.FREE_PRODUCT and self.fee is not None:
            raise InvalidInput("A free-product reward has no fee.", code="fee_on_free_offer")

    @property
    def has_fee(self) -> bool:
        return self.kind is RewardKind.FEE


@dataclass(frozen=True, slots=True)
class Requirements:
    text: str = ""
    landscape: bool = False
    min_length_seconds: int = 60
    outdoor: bool = False
    with_children: bool = False
    with_pets: bool = False
    face_visible: bool = False

    MAX_TEXT = 2000

    def __post_init__(self) -> None:
        if len(self.text) > self.MAX_TEXT:
            raise InvalidInput(
                f"The requirements text is too long (at most {self.MAX_TEXT} characters).",
                code="requirements_too_long",
            )
        if not 0 <= self.min_length_seconds <= 3600:
            raise InvalidInput(
                "The minimum video length must be between 0 and 3600 seconds.",
                code="bad_min_length",
            )


@dataclass(frozen=True, slots=True)
class Audience:
    """Public (everyone eligible) or targeted to a creator group; empty sets mean "any"."""

    public: bool = True
    categories: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    min_completed_videos: int = 0
    top_creators_only: bool = False

    def admits(self, profile: CreatorProfile) -> bool:
        if self.public:
            return True
        if self.categories and not (self.categories & profile.categories):
            return False
        if self.countries and profile.country.upper() not in self.countries:
            return False
        if self.languages and not (self.languages & profile.languages):
            return False
        if profile.completed_videos < self.min_completed_videos:
            return False
        return not (self.top_creators_only and not profile.top_creator)


class Ineligibility(enum.StrEnum):
    """Why a creator may not claim an offer; each has a message in ``INELIGIBILITY_MESSAGES``."""

    NOT_LIVE = "offer_not_live"
    PAST_DEADLINE = "offer_past_deadline"
    NEEDS_STOREFRONT = "needs_storefront"
    NEEDS_TOP_CREATOR = "needs_top_creator"
    NOT_IN_AUDIENCE = "not_in_audience"
    BLOCKED = "blocked_by_seller"
    SUSPENDED = "member_suspended"
    NOT_ONBOARDED = "not_onboarded"


INELIGIBILITY_MESSAGES: dict[Ineligibility, str] = {
    Ineligibility.NOT_LIVE: "This offer is not open for applications any more.",
    Ineligibility.PAST_DEADLINE: "The application deadline for this offer has passed.",
    Ineligibility.NEEDS_STOREFRONT: (
        "This offer needs an Amazon Influencer storefront. Add your storefront URL in /profile."
    ),
    Ineligibility.NEEDS_TOP_CREATOR: (
        "This offer is for creators with the Top Creator badge. Ask the marketplace team to "
        "verify your badge."
    ),
    Ineligibility.NOT_IN_AUDIENCE: "This offer is for a different group of creators.",
    Ineligibility.BLOCKED: "This offer is not available to you.",
    Ineligibility.SUSPENDED: "Your account is suspended. Please contact the marketplace team.",
    Ineligibility.NOT_ONBOARDED: "Please finish setting up your profile first: send /start.",
}


@dataclass(slots=True)
class Offer:
    """A seller's offer. State: draft → live ⇄ paused → ended; cancelled."""

    id: int | None
    seller_id: int
    product_id: int
    video_type: VideoType
    slots: int
    application_deadline: datetime
    reward: Reward = field(default_factory=Reward)
    requirements: Requirements = field(default_factory=Requirements)
    selection: SelectionMode = SelectionMode.SELLER
    audience: Audience = field(default_factory=Audience)
    content_deadline_days: int = 14
    state: OfferState = OfferState.DRAFT
    applied_count: int = 0
    selected_count: int = 0
    created_at: datetime | None = None
    published_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str = ""
    category: str = ""
    version: int = 0
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    MAX_SLOTS = 10_000

    def __post_init__(self) -> None:
        if not 1 <= self.slots <= self.MAX_SLOTS:
            raise InvalidInput(
                f"The number of samples must be between 1 and {self.MAX_SLOTS}.",
                code="bad_slots",
            )
        if not 1 <= self.content_deadline_days <= 365:
            raise InvalidInput(
                "The content deadline must be between 1 and 365 days after shipping.",
                code="bad_content_deadline",
            )
        if self.application_deadline.tzinfo is None:
            raise ValueError("application_deadline must be timezone-aware")

    @property
    def open_slots(self) -> int:
        return max(0, self.slots - self.selected_count)

    @property
    def is_open(self) -> bool:
        return self.state is OfferState.LIVE

    @property
    def finished(self) -> bool:
        return self.state in (OfferState.ENDED, OfferState.CANCELLED)

    def content_due(self, shipped_at: datetime) -> datetime:
        return shipped_at + timedelta(days=self.content_deadline_days)

    # --- eligibility ---------------------------------------------------------------------

    def ineligibility(
        self, member: Member, now: datetime, *, blocked: bool
    ) -> Ineligibility | None:
        """Why ``member`` may not claim this offer now, or ``None`` when they may."""
        if member.status is MemberStatus.SUSPENDED:
            return Ineligibility.SUSPENDED
        profile = member.creator
        if profile is None or not profile.onboarded:
            return Ineligibility.NOT_ONBOARDED
        if self.state is not OfferState.LIVE:
            return Ineligibility.NOT_LIVE
        if now >= self.application_deadline:
            return Ineligibility.PAST_DEADLINE
        if self.video_type.needs_storefront and not profile.is_influencer:
            return Ineligibility.NEEDS_STOREFRONT
        if self.video_type.needs_top_creator and not profile.top_creator:
            return Ineligibility.NEEDS_TOP_CREATOR
        if blocked:
            return Ineligibility.BLOCKED
        if not self.audience.admits(profile):
            return Ineligibility.NOT_IN_AUDIENCE
        return None

    # --- state changes -------------------------------------------------------------------

    def _require(self, *states: OfferState, action: str) -> None:
        if self.state not in states:
            raise InvalidTransition(
                f"This offer is {self.state.value}; it cannot be {action} now.",
                code="offer_bad_state",
                state=self.state.value,
                action=action,
            )

    def publish(self, now: datetime) -> None:
        self._require(OfferState.DRAFT, action="published")
        if self.application_deadline <= now:
            raise InvalidInput(
                "The application deadline is in the past. Set a later deadline, then publish.",
                code="deadline_in_past",
            )
        self.state = OfferState.LIVE
        self.published_at = now
        assert self.id is not None
        self.events.append(OfferPublished(self.id, self.seller_id, not self.audience.public))

    def pause(self) -> None:
        self._require(OfferState.LIVE, action="paused")
        self.state = OfferState.PAUSED
        assert self.id is not None
        self.events.append(OfferPaused(self.id))

    def resume(self, now: datetime) -> None:
        self._require(OfferState.PAUSED, action="resumed")
        if now >= self.application_deadline:
            raise InvalidTransition(
                "The application deadline has passed; this offer cannot be resumed.",
                code="offer_past_deadline",
            )
        self.state = OfferState.LIVE
        assert self.id is not None
        self.events.append(OfferResumed(self.id))

    def end(self, now: datetime, reason: str) -> None:
        """Stop taking applications (deadline, slots filled, or closed early by the seller)."""
        self._require(OfferState.LIVE, OfferState.PAUSED, action="closed")
        self.state = OfferState.ENDED
        self.ended_at = now
        self.end_reason = reason
        assert self.id is not None
        self.events.append(OfferEnded(self.id, self.seller_id, reason))

    def cancel(self, now: datetime) -> None:
        self._require(OfferState.DRAFT, OfferState.LIVE, OfferState.PAUSED, action="cancelled")
        if self.selected_count:
            raise InvalidTransition(
                "Creators were already selected for this offer. Close it early instead, or "
                "cancel their orders one by one with a reason.",
                code="offer_has_selected",
            )
        self.state = OfferState.CANCELLED
        self.ended_at = now
        self.end_reason = "cancelled"
        assert self.id is not None
        self.events.append(OfferCancelled(self.id, self.seller_id))

    def count_application(self) -> None:
        self.applied_count += 1

    def take_slot(self) -> None:
        if self.selected_count >= self.slots:
            raise InvalidTransition(
                "All samples of this offer are already taken.", code="offer_full"
            )
        self.selected_count += 1

    def free_slot(self) -> None:
        if self.selected_count > 0:
            self.selected_count -= 1

    def pull_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events
