"""Use cases for running the marketplace: operators, sellers and their staff, creator
verification and suspension, and sellers' blocklists."""

from __future__ import annotations

from collections.abc import Sequence

from core.domain.common import Platform
from core.domain.errors import AlreadyDone, InvalidInput, NotAllowed
from core.domain.members import ChannelIdentity, Member, MemberStatus, Role
from core.domain.sellers import Seller
from core.ports.repositories import AbstractUnitOfWork
from core.services.base import (
    Actor,
    Marketplace,
    load_creator,
    require_operator,
    seller_for_staff,
)
from core.services.members import normalise_user_id

MAX_SELLER_NAME = 120


def parse_identity(text: str) -> tuple[Platform, str]:
    """``telegram:123456`` → (telegram, "123456"), with a clear message when malformed."""
    platform_name, sep, user_id = text.strip().partition(":")
    platforms = ", ".join(p.value for p in Platform)
    if not sep or not user_id.strip():
        raise InvalidInput(
            f"Write a chat account as PLATFORM:USER_ID, e.g. telegram:123456 ({platforms}).",
            code="bad_identity",
        )
    try:
        platform = Platform(platform_name.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown platform {platform_name!r}; use one of {platforms}.",
            code="bad_platform",
        ) from None
    user_id = normalise_user_id(platform, user_id)
    if not user_id or len(user_id) > 64 or any(c.isspace() for c in user_id):
        raise InvalidInput("That user id is not valid.", code="bad_user_id")
    return platform, user_id


async def _member_for_identity(
    uow: AbstractUnitOfWork, platform: Platform, user_id: str, name: str, role: Role
) -> Member:
    member = await uow.members.by_identity(platform, user_id)
    if member is None:
        member = Member(
            id=None, display_name=name, roles=frozenset({role}), created_at=uow.clock.now()
        )
        member.attach(ChannelIdentity(platform, user_id, user_id))
        await uow.members.add(member)
    elif role not in member.roles:
        member.grant(role)
        await uow.members.save(member)
    return member


async def add_operator(mp: Marketplace, actor: Actor, identity: str) -> Member:
    """Make the person behind a chat account an operator (created if unknown)."""
    platform, user_id = parse_identity(identity)

    async def work(uow: AbstractUnitOfWork) -> Member:
        await require_operator(uow, actor)
        return await _member_for_identity(uow, platform, user_id, "Operator", Role.OPERATOR)

    return await mp.transaction(work)


async def add_seller(mp: Marketplace, actor: Actor, name: str, staff: Sequence[str] = ()) -> Seller:
    """A new seller with the given chat accounts as its staff."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("The seller needs a name.", code="seller_name_missing")
    if len(name) > MAX_SELLER_NAME:
        raise InvalidInput("That seller name is too long.", code="seller_name_too_long")
    identities = [parse_identity(s) for s in staff]

    async def work(uow: AbstractUnitOfWork) -> Seller:
        await require_operator(uow, actor)
        if await uow.sellers.by_name(name) is not None:
            raise AlreadyDone(f"A seller named {name!r} already exists.", code="seller_exists")
        seller = Seller(id=None, name=name)
        for platform, user_id in identities:
            member = await _member_for_identity(uow, platform, user_id, name, Role.SELLER)
            assert member.id is not None
            seller.add_staff(member.id)
        await uow.sellers.add(seller)
        return seller

    return await mp.transaction(work)


async def add_seller_staff(mp: Marketplace, actor: Actor, seller_id: int, identity: str) -> Member:
    """Add a chat account to a seller's staff (operators, or the seller's own staff)."""
    platform, user_id = parse_identity(identity)

    async def work(uow: AbstractUnitOfWork) -> Member:
        seller, _ = await seller_for_staff(uow, actor, seller_id)
        member = await _member_for_identity(uow, platform, user_id, seller.name, Role.SELLER)
        assert member.id is not None
        seller.add_staff(member.id)
        await uow.sellers.save(seller)
        return member

    return await mp.transaction(work)


async def verify_top_creator(
    mp: Marketplace, actor: Actor, creator_id: int, verified: bool = True
) -> Member:
    """Set or clear a creator's Top Creator badge (operators only)."""

    async def work(uow: AbstractUnitOfWork) -> Member:
        await require_operator(uow, actor)
        creator = await load_creator(uow, creator_id)
        assert creator.creator is not None
        creator.creator.top_creator = verified
        await uow.members.save(creator)
        return creator

    return await mp.transaction(work)


async def suspend_creator(
    mp: Marketplace, actor: Actor, creator_id: int, suspended: bool = True
) -> Member:
    """Suspend (or reinstate) a creator: a suspended creator can claim nothing new; orders
    already running go on."""

    async def work(uow: AbstractUnitOfWork) -> Member:
        operator = await require_operator(uow, actor)
        creator = await load_creator(uow, creator_id)
        if operator is not None and operator.id == creator.id:
            raise NotAllowed("You cannot suspend yourself.", code="suspend_self")
        creator.status = MemberStatus.SUSPENDED if suspended else MemberStatus.ACTIVE
        await uow.members.save(creator)
        return creator

    return await mp.transaction(work)


async def block_creator(
    mp: Marketplace, actor: Actor, seller_id: int, creator_id: int, blocked: bool = True
) -> Seller:
    """A seller blocks (or unblocks) a creator: future offers only, running orders go on."""

    async def work(uow: AbstractUnitOfWork) -> Seller:
        seller, _ = await seller_for_staff(uow, actor, seller_id)
        await load_creator(uow, creator_id)
        if blocked:
            seller.block(creator_id)
        else:
            seller.unblock(creator_id)
        await uow.sellers.save(seller)
        return seller

    return await mp.transaction(work)
