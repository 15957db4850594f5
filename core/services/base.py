"""What every use case shares: who is acting, the transaction runner, and authorization."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from core.domain.errors import ConcurrencyConflict, DomainError, NotAllowed, NotFound
from core.domain.members import Member
from core.domain.offers import Offer
from core.domain.orders import Order
from core.domain.sellers import Product, Seller
from core.ports.clock import Clock, SystemClock
from core.ports.repositories import AbstractUnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks for a change: a member (checked on every call) or the system itself
    (the command line, the scheduler), which may do everything."""

    member_id: int | None

    @classmethod
    def system(cls) -> Actor:
        return cls(None)

    @classmethod
    def member(cls, member_id: int) -> Actor:
        return cls(member_id)

    @property
    def is_system(self) -> bool:
        return self.member_id is None


@dataclass(frozen=True, slots=True)
class Policy:
    """Marketplace rules that operators may tune."""

    fairness_days: int = 30
    application_window_days: int = 14
    content_deadline_days: int = 14
    """Days after shipping a video is due, for offers that do not say otherwise."""
    reminder_interval_days: int = 3
    reminders_total: int = 4
    """Reminders per overdue video, the first at the deadline and the last marked final."""
    offer_push_daily_cap: int = 3
    """New-offer pushes a creator gets at most in any 24 hours (0 turns pushes off)."""
    offer_push_after_hours: int = 24
    """Hours an offer is live before creators are pushed to it, if it is short of applicants."""
    offer_push_applicant_ratio: int = 2
    """An offer is short of applicants while it has fewer than this many per sample."""
    digest_window_seconds: int = 300
    """How long new-application notices wait to be sent to the seller together as one digest."""
    max_attempts: int = 8
    hall_page_size: int = 5


class Busy(DomainError):
    """Too many people changed the same thing at once, even after retrying."""

    code = "busy"


class _ReadScope:
    """One read-only unit of work that the read use cases of one inbound event share.

    Opened on the first read, closed at the end of the event — or before any transaction
    that changes data starts, so a read never holds a connection (or SQLite's snapshot)
    across a write and the reads after a change see it.
    """

    def __init__(self, factory: Callable[[], AbstractUnitOfWork]) -> None:
        self._factory = factory
        self._uow: AbstractUnitOfWork | None = None
        self.busy = False

    async def run(self, work: Callable[[AbstractUnitOfWork], Awaitable[T]]) -> T:
        if self._uow is None:
            uow = self._factory()
            await uow.__aenter__()
            self._uow = uow
        self.busy = True
        try:
            return await work(self._uow)
        except DomainError:
            raise
        except BaseException:
            # A failed statement can leave the transaction unusable: start afresh next time.
            await self.close()
            raise
        finally:
            self.busy = False

    async def close(self) -> None:
        uow, self._uow = self._uow, None
        if uow is not None:
            await uow.__aexit__(None, None, None)


_READ_SCOPE: ContextVar[_ReadScope | None] = ContextVar("collabbot_read_scope", default=None)


@dataclass
class Marketplace:
    """The dependencies every use case needs: a unit-of-work factory, a clock and the policy.

    ``read_uow_factory`` makes the units of work of read-only use cases (:meth:`read`); it
    defaults to ``uow_factory``.
    """

    uow_factory: Callable[[], AbstractUnitOfWork]
    clock: Clock = field(default_factory=SystemClock)
    policy: Policy = field(default_factory=Policy)
    read_uow_factory: Callable[[], AbstractUnitOfWork] | None = None

    async def transaction(self, work: Callable[[AbstractUnitOfWork], Awaitable[T]]) -> T:
        """Run ``work`` in one unit of work and commit; retry on a concurrent change.

        ``work`` must be safe to run again from the start: it re-reads everything it needs.
        A ``DomainError`` rolls back and reaches the caller unchanged.
        """
        scope = _READ_SCOPE.get()
        if scope is not None:
            await scope.close()
        attempts = self.policy.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self.uow_factory() as uow:
                    uow.digest_hold = timedelta(seconds=self.policy.digest_window_seconds)
                    result = await work(uow)
                    await uow.commit()
                    return result
            except ConcurrencyConflict:
                if attempt == attempts:
                    break
                # Jittered backoff so that racing writers do not collide again in lockstep.
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311
        raise Busy(
            "Many people are doing the same thing right now. Please try again in a moment.",
        )

    async def read(self, work: Callable[[AbstractUnitOfWork], Awaitable[T]]) -> T:
        """Run read-only ``work``: inside :meth:`reading`, in the unit of work shared by
        every read of that block; elsewhere in a unit of work of its own. Nothing is
        committed — ``work`` must not change anything (the SQL units of work refuse to)."""
        scope = _READ_SCOPE.get()
        if scope is not None and not scope.busy:
            return await scope.run(work)
        async with (self.read_uow_factory or self.uow_factory)() as uow:
            return await work(uow)

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        """Let the read-only use cases inside the block share one unit of work (one
        connection, one ``BEGIN``): the conversation engine wraps each inbound event in
        it, so showing a screen costs one round of reads, not one transaction per read."""
        scope = _ReadScope(self.read_uow_factory or self.uow_factory)
        token = _READ_SCOPE.set(scope)
        try:
            yield
        finally:
            _READ_SCOPE.reset(token)
            await scope.close()


# --- loading with authorization ---------------------------------------------------------


async def acting_member(uow: AbstractUnitOfWork, actor: Actor) -> Member | None:
    """The acting member (``None`` for the system); refuses unknown or suspended members."""
    if actor.member_id is None:
        return None
    member = await uow.members.get(actor.member_id)
    if member is None:
        raise NotAllowed("Please send /start first.", code="unknown_member")
    return member


async def acting_person(uow: AbstractUnitOfWork, actor: Actor) -> Member:
    """Like :func:`acting_member`, for use cases only a person can perform."""
    member = await acting_member(uow, actor)
    if member is None:
        raise NotAllowed("This needs a member to act.", code="member_required")
    return member


async def require_operator(uow: AbstractUnitOfWork, actor: Actor) -> Member | None:
    member = await acting_member(uow, actor)
    if member is not None:
        member.require_operator()
    return member


async def seller_for_staff(
    uow: AbstractUnitOfWork, actor: Actor, seller_id: int
) -> tuple[Seller, Member | None]:
    """The seller, when the actor is its staff (or an operator, or the system)."""
    member = await acting_member(uow, actor)
    seller = await uow.sellers.get(seller_id)
    if seller is None:
        raise NotFound("That seller does not exist.", code="seller_not_found")
    if member is not None:
        seller.require_staff(member)
    return seller, member


def _offer_gone() -> NotFound:
    return NotFound("This offer no longer exists.", code="offer_not_found")


async def load_offer(uow: AbstractUnitOfWork, offer_id: int, *, for_update: bool = False) -> Offer:
    offer = await uow.offers.get(offer_id, for_update=for_update)
    if offer is None:
        raise _offer_gone()
    return offer


async def load_offer_with_product(uow: AbstractUnitOfWork, offer_id: int) -> tuple[Offer, Product]:
    """The offer and its product, read together (see :func:`load_offer`)."""
    found = (await uow.offers.with_products([offer_id])).get(offer_id)
    if found is None:
        raise _offer_gone()
    return found


async def load_order(uow: AbstractUnitOfWork, order_id: int, *, for_update: bool = False) -> Order:
    order = await uow.orders.get(order_id, for_update=for_update)
    if order is None:
        raise NotFound("There is no such order. Check the order number.", code="order_not_found")
    return order


async def lock_offer_then_order(uow: AbstractUnitOfWork, order_id: int) -> tuple[Offer, Order]:
    """Lock an order's offer, then the order.

    Every use case that changes an offer and its orders takes the locks in this one order —
    offer first — so two of them running at once wait for each other instead of deadlocking.
    """
    peek = await load_order(uow, order_id)
    offer = await load_offer(uow, peek.offer_id, for_update=True)
    order = await load_order(uow, order_id, for_update=True)
    return offer, order


async def load_creator(uow: AbstractUnitOfWork, creator_id: int) -> Member:
    member = await uow.members.get(creator_id)
    if member is None or member.creator is None:
        raise NotFound("There is no such creator.", code="creator_not_found")
    return member


def member_id(member: Member | None) -> int:
    """The id to record as "done by"; 0 stands for the system."""
    if member is None or member.id is None:
        return 0
    return member.id
