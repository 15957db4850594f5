"""Use cases for the marketplace's web portal (through the integration API): editing a
draft offer, and finding creators with their public card."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.domain.errors import InvalidInput, InvalidTransition
from core.domain.members import Member, MemberStatus
from core.domain.offers import Offer, OfferState
from core.domain.sellers import Product
from core.ports.repositories import AbstractUnitOfWork
from core.services import Actor, CreatorCard, Marketplace
from core.services.base import load_creator, load_offer, require_operator, seller_for_staff

__all__ = [
    "OFFER_FIELDS",
    "PRODUCT_FIELDS",
    "CreatorFilter",
    "CreatorPage",
    "CreatorSummary",
    "creator_summary",
    "find_creators",
    "update_draft_offer",
]

PRODUCT_FIELDS = frozenset(
    {"title", "marketplace", "asin", "url", "category", "price", "image_url"}
)
"""What of a draft's product can change (a changed product is stored as a new one)."""

OFFER_FIELDS = frozenset(
    {
        "video_type",
        "slots",
        "application_deadline",
        "reward",
        "requirements",
        "selection",
        "audience",
        "content_deadline_days",
    }
)
"""What of a draft offer itself can change."""


async def update_draft_offer(
    mp: Marketplace,
    actor: Actor,
    offer_id: int,
    product: Mapping[str, Any],
    offer: Mapping[str, Any],
) -> Offer:
    """Change fields of a draft offer (its seller's staff, an operator or the system).

    ``product`` holds new values for :data:`PRODUCT_FIELDS`, ``offer`` for
    :data:`OFFER_FIELDS`; fields not given stay. Published, paused, ended and cancelled
    offers are refused: creators may have seen them.
    """
    unknown = (set(product) - PRODUCT_FIELDS) | (set(offer) - OFFER_FIELDS)
    if unknown:
        raise InvalidInput(
            f"These fields cannot be changed: {', '.join(sorted(unknown))}.",
            code="offer_field_fixed",
        )

    async def work(uow: AbstractUnitOfWork) -> Offer:
        current = await load_offer(uow, offer_id, for_update=True)
        await seller_for_staff(uow, actor, current.seller_id)
        if current.state is not OfferState.DRAFT:
            raise InvalidTransition(
                f"This offer is {current.state.value}; only a draft can be edited.",
                code="offer_not_draft",
                state=current.state.value,
            )
        changed = current
        if product:
            stored = await uow.products.get(current.product_id)
            assert stored is not None
            values = {f.name: getattr(stored, f.name) for f in dataclasses.fields(Product)}
            new_product = Product(**(values | dict(product) | {"id": None}))
            await uow.products.add(new_product)
            assert new_product.id is not None
            changed = dataclasses.replace(
                changed, product_id=new_product.id, category=new_product.category
            )
        if offer:
            # The offer's own checks (slots, content deadline) run again on the new values.
            changed = dataclasses.replace(changed, **offer)
        if changed is not current:
            await uow.offers.save(changed)
        return changed

    return await mp.transaction(work)


@dataclass(frozen=True, slots=True)
class CreatorFilter:
    """Which creators to list; ``None`` (or empty) matches everyone."""

    country: str | None = None
    category: str | None = None
    language: str | None = None
    top_creator: bool | None = None
    onboarded: bool | None = None
    status: MemberStatus | None = None
    name: str | None = None
    """Part of the display name, any case."""

    def matches(self, member: Member) -> bool:
        profile = member.creator
        if profile is None:
            return False
        checks = (
            self.country is None or profile.country.upper() == self.country.upper(),
            self.category is None or self.category in profile.categories,
            self.language is None or self.language in profile.languages,
            self.top_creator is None or profile.top_creator == self.top_creator,
            self.onboarded is None or profile.onboarded == self.onboarded,
            self.status is None or member.status is self.status,
            not self.name or self.name.casefold() in member.display_name.casefold(),
        )
        return all(checks)


@dataclass(frozen=True, slots=True)
class CreatorSummary:
    """A creator as a seller may see them (no address or contact details), with the
    account's standing."""

    card: CreatorCard
    status: MemberStatus
    onboarded: bool

    @classmethod
    def of(cls, member: Member) -> CreatorSummary:
        assert member.creator is not None
        return cls(CreatorCard.of(member), member.status, member.creator.onboarded)


@dataclass(frozen=True, slots=True)
class CreatorPage:
    """Creators found, and where the next page starts (``None``: there is none)."""

    creators: list[CreatorSummary]
    next_after: int | None


async def find_creators(
    mp: Marketplace,
    actor: Actor,
    filters: CreatorFilter,
    *,
    after: int = 0,
    limit: int = 50,
    scan: int = 5000,
) -> CreatorPage:
    """Creators matching ``filters`` with ids above ``after``, by id, for operators.

    At most ``scan`` creators are looked at per call: a page may then hold fewer than
    ``limit`` (even none) and still have a next one.
    """
    batch = min(500, max(limit, 100))

    async def work(uow: AbstractUnitOfWork) -> CreatorPage:
        await require_operator(uow, actor)
        found: list[CreatorSummary] = []
        cursor, scanned = after, 0
        while scanned < scan:
            members = await uow.members.creators_after(cursor, batch)
            for member in members:
                assert member.id is not None
                cursor = member.id
                if filters.matches(member):
                    found.append(CreatorSummary.of(member))
                    if len(found) == limit:
                        return CreatorPage(found, cursor)
            if len(members) < batch:
                return CreatorPage(found, None)
            scanned += len(members)
        return CreatorPage(found, cursor)

    return await mp.read(work)


async def creator_summary(mp: Marketplace, actor: Actor, creator_id: int) -> CreatorSummary:
    """One creator as a seller may see them, for operators."""

    async def work(uow: AbstractUnitOfWork) -> CreatorSummary:
        await require_operator(uow, actor)
        return CreatorSummary.of(await load_creator(uow, creator_id))

    return await mp.read(work)
