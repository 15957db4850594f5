"""Where a member can be reached: the recipient of a notice, and chat accounts that stopped
working (the person blocked the bot, deleted the account, closed their DMs).

A member who writes to the bot again on that platform is reachable there again:
:func:`core.services.members.register_identity` sets the flag back.
"""

from __future__ import annotations

from core.domain.common import Platform
from core.domain.members import Member
from core.ports.repositories import AbstractUnitOfWork
from core.services.base import Actor, Marketplace, require_operator


async def notice_recipient(mp: Marketplace, actor: Actor, member_id: int) -> Member | None:
    """The member a notice is for, with their identities and settings (``None`` when gone).

    For the system (the dispatcher) and operators only: it shows where a person can be
    reached.
    """

    async def work(uow: AbstractUnitOfWork) -> Member | None:
        await require_operator(uow, actor)
        return await uow.members.get(member_id)

    return await mp.transaction(work)


async def mark_unreachable(
    mp: Marketplace, actor: Actor, member_id: int, platform: Platform, chat_id: str
) -> bool:
    """Stop sending to the member's ``platform`` account: the platform refused a message to
    ``chat_id`` for good. Returns whether anything changed.

    Nothing changes when the member has meanwhile moved to another chat on that platform
    (the refusal was about the old one) or is already marked. The save is version-checked;
    on a concurrent change the member is read again and the check repeated.
    """

    async def work(uow: AbstractUnitOfWork) -> bool:
        await require_operator(uow, actor)
        member = await uow.members.get(member_id)
        if member is None:
            return False
        identity = member.identity_on(platform)
        if identity is None or not identity.reachable or identity.chat_id != chat_id:
            return False
        identity.reachable = False
        await uow.members.save(member)
        return True

    return await mp.transaction(work)
