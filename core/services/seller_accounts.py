"""Which sellers a member may act for: the choice at the start of the offer wizard."""

from __future__ import annotations

from core.domain.sellers import Seller
from core.ports.repositories import AbstractUnitOfWork
from core.services.base import Actor, Marketplace, acting_person, seller_for_staff


async def my_sellers(mp: Marketplace, actor: Actor) -> list[Seller]:
    """The sellers whose staff the acting member is on, by name.

    Operators may act for every seller, but only those they are on the staff of are listed;
    they name any other by its number (see :func:`seller_account`).
    """

    async def work(uow: AbstractUnitOfWork) -> list[Seller]:
        member = await acting_person(uow, actor)
        member.require_active()
        assert member.id is not None
        sellers = await uow.sellers.for_member(member.id)
        return sorted(sellers, key=lambda s: (s.name.lower(), s.id or 0))

    return await mp.read(work)


async def seller_account(mp: Marketplace, actor: Actor, seller_id: int) -> Seller:
    """One seller, when the actor may act for it (its staff, or an operator)."""

    async def work(uow: AbstractUnitOfWork) -> Seller:
        seller, _ = await seller_for_staff(uow, actor, seller_id)
        return seller

    return await mp.read(work)
