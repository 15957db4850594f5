"""People: members, the chat identities they use, and creator profiles."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from core.domain.common import Platform
from core.domain.errors import InvalidInput, NotAllowed


class Role(enum.StrEnum):
    CREATOR = "creator"
    SELLER = "seller"  # seller staff; which sellers is kept on the Seller
    OPERATOR = "operator"


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(slots=True)
class ChannelIdentity:
    """One chat account of a member: a platform, the user's id there and the chat to write to."""

    platform: Platform
    user_id: str
    chat_id: str
    reachable: bool = True
    last_inbound_at: datetime | None = None

    def __repr__(self) -> str:
        # WhatsApp user ids are phone numbers: never print them.
        return f"ChannelIdentity(platform={self.platform.value!r}, reachable={self.reachable})"


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    """Where a sample is shipped. Personal data: shown only to the seller of a selected order."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""
    phone: str = ""

    REQUIRED = ("name", "line1", "city", "postal_code", "country")
    MAX_FIELD = 200

    def __post_init__(self) -> None:
        missing = [f for f in self.REQUIRED if not str(getattr(self, f)).strip()]
        if missing:
            raise InvalidInput(
                "The address is missing: "
                + ", ".join(m.replace("_", " ") for m in missing)
                + ". Please send the full address.",
                code="address_missing_fields",
                missing=",".join(missing),
            )
        for name in ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone"):
            if len(str(getattr(self, name))) > self.MAX_FIELD:
                raise InvalidInput(
                    f"The {name.replace('_', ' ')} is too long (at most {self.MAX_FIELD} "
                    "characters).",
                    code="address_field_too_long",
                    field=name,
                )
        if len(self.country.strip()) != 2 or not self.country.strip().isalpha():
            raise InvalidInput(
                "The country must be a two-letter code such as US, GB or DE.",
                code="address_bad_country",
            )

    def __repr__(self) -> str:
        return f"ShippingAddress(country={self.country!r})"

    def lines(self) -> list[str]:
        """The address as lines to print on a parcel."""
        city_line = " ".join(p for p in (self.postal_code, self.city) if p)
        rows = [self.name, self.line1, self.line2, city_line, self.region, self.country.upper()]
        if self.phone:
            rows.append(self.phone)
        return [r for r in rows if r]


@dataclass(slots=True)
class CreatorProfile:
    """What the marketplace knows about a creator, and the counters ranking is based on."""

    storefront_url: str = ""
    top_creator: bool = False
    categories: frozenset[str] = frozenset()
    country: str = ""
    languages: frozenset[str] = frozenset()
    address: ShippingAddress | None = None
    announcements_opt_out: bool = False
    onboarded: bool = False
    completed_videos: int = 0
    on_time_videos: int = 0
    redo_orders: int = 0
    selected_total: int = 0
    last_selected_at: datetime | None = None

    def __repr__(self) -> str:
        return (
            f"CreatorProfile(completed_videos={self.completed_videos}, "
            f"top_creator={self.top_creator})"
        )

    @property
    def is_influencer(self) -> bool:
        """Has an Amazon Influencer storefront (needed for influencer video types)."""
        return bool(self.storefront_url)

    def stats(self) -> CreatorStats:
        return CreatorStats(
            completed_videos=self.completed_videos,
            on_time_videos=self.on_time_videos,
            redo_orders=self.redo_orders,
        )


@dataclass(frozen=True, slots=True)
class CreatorStats:
    completed_videos: int
    on_time_videos: int
    redo_orders: int

    @property
    def on_time_rate(self) -> float | None:
        """Share of completed videos delivered by their deadline; ``None`` before the first."""
        if self.completed_videos == 0:
            return None
        return self.on_time_videos / self.completed_videos

    @property
    def redo_rate(self) -> float | None:
        """Share of completed orders that needed at least one redo."""
        if self.completed_videos == 0:
            return None
        return min(1.0, self.redo_orders / self.completed_videos)


@dataclass(slots=True)
class Member:
    """A person. One member may use several chat platforms (identities)."""

    id: int | None
    display_name: str
    language: str = "en"
    roles: frozenset[Role] = frozenset({Role.CREATOR})
    status: MemberStatus = MemberStatus.ACTIVE
    preferred_platform: Platform | None = None
    identities: list[ChannelIdentity] = field(default_factory=list)
    creator: CreatorProfile | None = None
    created_at: datetime | None = None
    version: int = 0

    MAX_NAME = 64

    def __repr__(self) -> str:
        roles = ",".join(sorted(r.value for r in self.roles))
        return f"Member(id={self.id}, roles={roles})"

    # --- roles ---------------------------------------------------------------------------

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles and self.status is MemberStatus.ACTIVE

    def grant(self, role: Role) -> None:
        self.roles = self.roles | {role}
        if role is Role.CREATOR and self.creator is None:
            self.creator = CreatorProfile()

    def require_active(self) -> None:
        if self.status is MemberStatus.SUSPENDED:
            raise NotAllowed(
                "Your account is suspended. Please contact the marketplace team.",
                code="member_suspended",
            )

    def require_creator(self) -> CreatorProfile:
        self.require_active()
        if Role.CREATOR not in self.roles or self.creator is None:
            raise NotAllowed("Only creators can do this.", code="creators_only")
        return self.creator

    def require_operator(self) -> None:
        if not self.is_operator:
            raise NotAllowed("Only marketplace operators can do this.", code="operators_only")

    # --- identities ----------------------------------------------------------------------

    def identity_on(self, platform: Platform) -> ChannelIdentity | None:
        for identity in self.identities:
            if identity.platform is platform:
                return identity
        return None

    def attach(self, identity: ChannelIdentity) -> None:
        """Join another chat account to this member (one account per platform)."""
        existing = self.identity_on(identity.platform)
        if existing is not None and existing.user_id != identity.user_id:
            raise NotAllowed(
                f"This account already has a {identity.platform.value} login. "
                "Unlink it first, then link the new one.",
                code="platform_already_linked",
                platform=identity.platform.value,
            )
        if existing is None:
            self.identities.append(identity)
        if self.preferred_platform is None:
            self.preferred_platform = identity.platform

    def delivery_order(self) -> list[ChannelIdentity]:
        """Reachable identities, the preferred platform first: where notices should go."""
        reachable = [i for i in self.identities if i.reachable]
        reachable.sort(key=lambda i: (i.platform is not self.preferred_platform, i.platform.value))
        return reachable

    def rename(self, name: str) -> None:
        name = " ".join(name.split())
        if not name:
            raise InvalidInput("Please send a name.", code="name_empty")
        if len(name) > self.MAX_NAME:
            raise InvalidInput(
                f"That name is too long (at most {self.MAX_NAME} characters).",
                code="name_too_long",
            )
        self.display_name = name

    def choose_platform(self, platform: Platform) -> None:
        identity = self.identity_on(platform)
        if identity is None:
            raise InvalidInput(
                f"You have not linked {platform.value} yet. Use /link there first.",
                code="platform_not_linked",
                platform=platform.value,
            )
        self.preferred_platform = platform

    # --- creator counters ----------------------------------------------------------------

    def record_selection(self, at: datetime) -> None:
        profile = self.require_creator_profile()
        profile.selected_total += 1
        profile.last_selected_at = at

    def record_completion(self, *, on_time: bool) -> None:
        profile = self.require_creator_profile()
        profile.completed_videos += 1
        if on_time:
            profile.on_time_videos += 1

    def record_first_redo(self) -> None:
        profile = self.require_creator_profile()
        profile.redo_orders += 1

    def require_creator_profile(self) -> CreatorProfile:
        if self.creator is None:
            self.creator = CreatorProfile()
        return self.creator

    def set_address(self, address: ShippingAddress) -> None:
        profile = self.require_creator()
        profile.address = address
