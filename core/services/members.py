"""Use cases for people: joining from a chat, onboarding, profiles, and a creator's orders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.amazon import InvalidStorefrontUrl, storefront_url
from core.domain.common import Platform
from core.domain.errors import InvalidInput, NotFound
from core.domain.members import (
    ChannelIdentity,
    CreatorStats,
    Member,
    Role,
    ShippingAddress,
)
from core.domain.offers import Offer
from core.domain.orders import Order, OrderState
from core.domain.sellers import Product
from core.ports.repositories import AbstractUnitOfWork
from core.services.base import (
    Actor,
    Marketplace,
    acting_member,
    acting_person,
    load_creator,
    load_order,
)

CATEGORIES = (
    "beauty",
    "personal_care",
    "health",
    "baby",
    "kids",
    "toys",
    "pets",
    "home",
    "kitchen",
    "garden",
    "outdoors",
    "sports",
    "fitness",
    "electronics",
    "office",
    "tools",
    "automotive",
    "fashion",
    "jewelry",
    "books",
    "grocery",
    "other",
)
UI_LANGUAGES = ("en", "zh")
LAST_SEEN_PRECISION = timedelta(minutes=5)
"""How stale "last wrote at" may get before it is written again. WhatsApp's 24-hour window
is counted from it, and the channel keeps a margin larger than this."""
MAX_CATEGORIES = 8
MAX_LANGUAGES = 6


def ui_language(code: str | None, default: str = "en") -> str:
    """The interface language for a platform language code such as ``zh-hans`` or ``en-GB``."""
    base = (code or "").lower().replace("_", "-").split("-")[0]
    return base if base in UI_LANGUAGES else default


def normalise_user_id(platform: Platform, user_id: str) -> str:
    """The form a platform's user id is stored in: WhatsApp ids are phone numbers in
    international form without ``+``, spaces or dashes, as WhatsApp's webhooks send them."""
    user_id = user_id.strip()
    if platform is Platform.WHATSAPP:
        user_id = "".join(c for c in user_id if c.isdigit())
    return user_id


def _identity_key(platform: Platform, user_id: str) -> tuple[Platform, str]:
    user_id = normalise_user_id(platform, user_id)
    if not user_id or len(user_id) > 64:
        raise InvalidInput("That user id is not valid.", code="bad_user_id")
    return platform, user_id


async def register_identity(
    mp: Marketplace,
    platform: Platform,
    user_id: str,
    chat_id: str,
    display_name: str,
    language_code: str | None = None,
) -> Member:
    """The member behind a chat account, created as a creator on first contact.

    Called by the channels for every person who writes; it also records the chat to write
    back to and when they last wrote (WhatsApp's 24-hour window is counted from there).
    """
    platform, user_id = _identity_key(platform, user_id)

    def up_to_date(member: Member, now: datetime) -> bool:
        identity = member.identity_on(platform)
        assert identity is not None
        fresh = (
            identity.last_inbound_at is not None
            and now - identity.last_inbound_at < LAST_SEEN_PRECISION
        )
        return fresh and identity.reachable and (not chat_id or identity.chat_id == chat_id)

    async def look(uow: AbstractUnitOfWork) -> Member | None:
        return await uow.members.by_identity(platform, user_id)

    # Most updates come from a known person who wrote a moment ago: nothing to record.
    known = await mp.read(look)
    if known is not None and up_to_date(known, mp.clock.now()):
        return known

    async def work(uow: AbstractUnitOfWork) -> Member:
        now = mp.clock.now()
        member = await uow.members.by_identity(platform, user_id)
        if member is None:
            name = " ".join(display_name.split())[: Member.MAX_NAME] or "Creator"
            member = Member(
                id=None,
                display_name=name,
                language=ui_language(language_code),
                created_at=now,
            )
            member.grant(Role.CREATOR)
            member.attach(ChannelIdentity(platform, user_id, chat_id, True, now))
            await uow.members.add(member)
            return member
        if up_to_date(member, now):
            return member
        identity = member.identity_on(platform)
        assert identity is not None
        identity.chat_id = chat_id or identity.chat_id
        identity.reachable = True
        identity.last_inbound_at = now
        await uow.members.save(member)
        return member

    return await mp.transaction(work)


async def find_member(mp: Marketplace, platform: Platform, user_id: str) -> Member | None:
    """The member behind a chat account, without creating one."""

    async def work(uow: AbstractUnitOfWork) -> Member | None:
        return await uow.members.by_identity(*_identity_key(platform, user_id))

    return await mp.read(work)


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Profile fields to change; ``None`` leaves a field as it is."""

    display_name: str | None = None
    language: str | None = None
    storefront_url: str | None = None
    categories: Iterable[str] | None = None
    country: str | None = None
    languages: Iterable[str] | None = None
    announcements_opt_out: bool | None = None
    preferred_platform: Platform | None = None
    address: ShippingAddress | None = None
    finish_onboarding: bool = False


def _apply(member: Member, changes: ProfileChanges) -> None:
    profile = member.require_creator()
    if changes.display_name is not None:
        member.rename(changes.display_name)
    if changes.language is not None:
        if changes.language not in UI_LANGUAGES:
            raise InvalidInput("Choose one of the offered languages.", code="bad_language")
        member.language = changes.language
    if changes.storefront_url is not None:
        if changes.storefront_url.strip() == "":
            profile.storefront_url = ""
        else:
            try:
                profile.storefront_url = storefront_url(changes.storefront_url)
            except InvalidStorefrontUrl as error:
                raise InvalidInput(str(error), code="bad_storefront") from None
    if changes.categories is not None:
        chosen = frozenset(c.strip().lower() for c in changes.categories if c.strip())
        unknown = chosen - set(CATEGORIES)
        if unknown:
            raise InvalidInput(
                "Unknown category: " + ", ".join(sorted(unknown)) + ". Choose from the list.",
                code="bad_category",
            )
        if len(chosen) > MAX_CATEGORIES:
            raise InvalidInput(
                f"Choose at most {MAX_CATEGORIES} categories.", code="too_many_categories"
            )
        profile.categories = chosen
    if changes.country is not None:
        country = changes.country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise InvalidInput(
                "Send your country as a two-letter code such as US, GB or DE.",
                code="bad_country",
            )
        profile.country = country
    if changes.languages is not None:
        spoken = frozenset(s.strip().lower() for s in changes.languages if s.strip())
        if len(spoken) > MAX_LANGUAGES or any(
            not (2 <= len(s) <= 3 and s.isalpha()) for s in spoken
        ):
            raise InvalidInput(
                "Send the languages you speak as two-letter codes, e.g. en, es, zh.",
                code="bad_languages",
            )
        profile.languages = spoken
    if changes.announcements_opt_out is not None:
        profile.announcements_opt_out = changes.announcements_opt_out
    if changes.preferred_platform is not None:
        member.choose_platform(changes.preferred_platform)
    if changes.address is not None:
        profile.address = changes.address
    if changes.finish_onboarding:
        if not profile.country:
            raise InvalidInput("Please tell us your country first.", code="country_missing")
        profile.onboarded = True


async def update_profile(mp: Marketplace, actor: Actor, changes: ProfileChanges) -> Member:
    """Change the creator's own profile (onboarding uses this step by step)."""

    async def work(uow: AbstractUnitOfWork) -> Member:
        member = await acting_person(uow, actor)
        _apply(member, changes)
        await uow.members.save(member)
        if changes.address is not None:
            assert member.id is not None
            waiting = frozenset({OrderState.AWAITING_ADDRESS})
            for order in await uow.orders.for_creator(member.id, waiting):
                order.address_received()
                await uow.orders.save(order)
        return member

    return await mp.transaction(work)


async def set_shipping_address(mp: Marketplace, actor: Actor, address: ShippingAddress) -> Member:
    """Save the creator's address; orders waiting for it move on to shipping (sellers told)."""
    return await update_profile(mp, actor, ProfileChanges(address=address))


async def creator_stats(
    mp: Marketplace, actor: Actor, creator_id: int | None = None
) -> CreatorStats:
    """Completed videos, on-time rate and redo rate: one's own, or anyone's for operators."""

    async def work(uow: AbstractUnitOfWork) -> CreatorStats:
        member = await acting_member(uow, actor)
        target = creator_id if creator_id is not None else (member.id if member else None)
        if target is None:
            raise InvalidInput("Which creator?", code="creator_missing")
        if member is not None and member.id != target:
            member.require_operator()
        creator = await load_creator(uow, target)
        assert creator.creator is not None
        return creator.creator.stats()

    return await mp.read(work)


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order with its offer and product, as its creator or seller sees it."""

    order: Order
    offer: Offer
    product: Product


async def my_orders(
    mp: Marketplace, actor: Actor, states: frozenset[OrderState] | None = None
) -> list[OrderView]:
    """The creator's orders, those needing action first, then the newest."""

    async def work(uow: AbstractUnitOfWork) -> list[OrderView]:
        member = await acting_person(uow, actor)
        assert member.id is not None
        orders = await uow.orders.for_creator(member.id, states)
        return await _views(uow, orders)

    views = await mp.read(work)
    views.sort(key=lambda v: (v.order.state.terminal, -(v.order.id or 0)))
    return views


async def _views(uow: AbstractUnitOfWork, orders: list[Order]) -> list[OrderView]:
    found = await uow.offers.with_products(o.offer_id for o in orders)
    return [OrderView(o, *found[o.offer_id]) for o in orders if o.offer_id in found]


async def order_view(mp: Marketplace, actor: Actor, order_id: int) -> OrderView:
    """One order, for its creator, the seller's staff or an operator."""

    async def work(uow: AbstractUnitOfWork) -> OrderView:
        member = await acting_member(uow, actor)
        order = await load_order(uow, order_id)
        if member is not None and member.id != order.creator_id and not member.is_operator:
            seller = await uow.sellers.get(order.seller_id)
            if seller is None or not seller.is_staff(member):
                # Do not confirm that someone else's order exists.
                raise NotFound(
                    "There is no such order. Check the order number.", code="order_not_found"
                )
        views = await _views(uow, [order])
        if not views:
            raise NotFound("There is no such order.", code="order_not_found")
        return views[0]

    return await mp.read(work)


async def link_identity(mp: Marketplace, actor: Actor, target_member_id: int) -> Member:
    """Move the acting chat account onto another member (``/link`` with a code from there).

    Allowed only while the acting account is fresh — no orders and no seller or operator
    role — so no history is ever split between two members.
    """

    async def work(uow: AbstractUnitOfWork) -> Member:
        source = await acting_person(uow, actor)
        if source.id == target_member_id:
            raise InvalidInput(
                "This chat is already linked to your account.", code="already_linked"
            )
        target = await uow.members.get(target_member_id)
        if target is None:
            raise NotFound("That link code is not valid any more.", code="link_code_invalid")
        assert source.id is not None
        if source.roles - {Role.CREATOR} or await uow.orders.for_creator(source.id):
            raise InvalidInput(
                "This chat account already has its own orders or roles, so it cannot be "
                "joined to another account. Please contact the marketplace team.",
                code="link_has_history",
            )
        moving = list(source.identities)
        for identity in moving:
            if target.identity_on(identity.platform) is not None:
                raise InvalidInput(
                    f"Your account already has a {identity.platform.value} login.",
                    code="platform_already_linked",
                    platform=identity.platform.value,
                )
        # The account losing the identity is saved first: one login per platform and user.
        source.identities = []
        await uow.members.save(source)
        for identity in moving:
            target.attach(identity)
        await uow.members.save(target)
        return target

    return await mp.transaction(work)


async def member_name(mp: Marketplace, member_id: int) -> str:
    """The name a member shows to others ("" when unknown)."""

    async def work(uow: AbstractUnitOfWork) -> str:
        member = await uow.members.get(member_id)
        return member.display_name if member else ""

    return await mp.read(work)
