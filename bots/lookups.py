"""Finding sellers and creators by what a person types on the command line."""

from __future__ import annotations

from core.domain.errors import NotFound
from core.domain.sellers import Seller
from core.ports.repositories import AbstractUnitOfWork
from core.services import Marketplace, parse_identity


def clean_seller_name(name: str) -> str:
    """A seller name as :func:`core.services.add_seller` stores it (single spaces)."""
    return " ".join(name.split())


async def seller_named(uow: AbstractUnitOfWork, name: str) -> Seller:
    """The seller called ``name``, or a :class:`NotFound` that says how to add one."""
    name = clean_seller_name(name)
    seller = await uow.sellers.by_name(name)
    if seller is None:
        raise NotFound(
            f"There is no seller named {name!r}. Check the spelling (names are case-sensitive), "
            f'or add the seller with: collabbot seller add "{name}" --member PLATFORM:USER_ID',
            code="seller_not_found",
        )
    return seller


async def seller_id(mp: Marketplace, name: str) -> int:
    """The id of the seller called ``name`` (see :func:`seller_named`)."""

    async def work(uow: AbstractUnitOfWork) -> int:
        seller = await seller_named(uow, name)
        assert seller.id is not None
        return seller.id

    return await mp.transaction(work)


async def require_offer(mp: Marketplace, offer_id: int) -> None:
    """Raise :class:`NotFound` unless offer ``offer_id`` exists."""

    async def work(uow: AbstractUnitOfWork) -> bool:
        return await uow.offers.get(offer_id) is not None

    if not await mp.transaction(work):
        raise NotFound(f"There is no offer {offer_id}.", code="offer_not_found")


async def creator_id(mp: Marketplace, reference: str) -> int:
    """The member id behind ``reference``: a member id (``42``) or a chat account
    (``telegram:123456``)."""
    reference = reference.strip()
    if reference.isdigit():
        member_id = int(reference)

        async def by_id(uow: AbstractUnitOfWork) -> bool:
            return await uow.members.get(member_id) is not None

        if not await mp.transaction(by_id):
            raise NotFound(f"There is no member with id {member_id}.", code="member_not_found")
        return member_id
    platform, user_id = parse_identity(reference)

    async def by_identity(uow: AbstractUnitOfWork) -> int | None:
        member = await uow.members.by_identity(platform, user_id)
        return member.id if member is not None else None

    found = await mp.transaction(by_identity)
    if found is None:
        raise NotFound(
            f"Nobody uses the {platform.value} account {user_id!r} yet.",
            code="member_not_found",
        )
    return found
