"""Ports to the durable store: repositories and the unit of work.

Repositories map stored rows to domain objects and back. ``save`` is an optimistic,
conditional update: when the stored ``version`` is not the one that was read, it raises
:class:`~core.domain.errors.ConcurrencyConflict` and the service layer retries the whole unit
of work. A unique-constraint violation (a second claim of the same offer, the same video
link twice) also raises ``ConcurrencyConflict``: after the retry the use case's own check
sees the winner and answers with a clear message.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import ClassVar, Protocol, Self

from core.domain.broadcasts import Broadcast, BroadcastAudience
from core.domain.common import Platform
from core.domain.events import Event
from core.domain.members import Member
from core.domain.offers import Audience, Offer, OfferState, VideoType
from core.domain.orders import Order, OrderState, RedoRequest, VideoSubmission
from core.domain.sellers import Product, Seller
from core.notices import Notice, NoticeTemplate, notices_for
from core.ports.clock import Clock


class HasEvents(Protocol):
    def pull_events(self) -> list[Event]: ...


class MemberRepository(Protocol):
    async def get(self, member_id: int) -> Member | None: ...
    async def get_many(self, member_ids: Iterable[int]) -> dict[int, Member]: ...
    async def by_identity(self, platform: Platform, user_id: str) -> Member | None: ...
    async def add(self, member: Member) -> None:
        """Store a new member (with identities and profile) and set its ``id``."""

    async def save(self, member: Member) -> None:
        """Store changes to the member, its profile and identities (version-checked)."""

    async def creators_after(self, after_id: int, limit: int) -> list[Member]:
        """Creators by ascending id, for exports and audience expansion in batches."""

    async def count_creators(self) -> dict[str, int]:
        """How many creators there are: ``total``, ``onboarded``, ``top_creators`` (with the
        badge) and ``suspended``."""

    async def audience_after(
        self, audience: BroadcastAudience, after_id: int, limit: int
    ) -> list[int]:
        """Ids of the creators a broadcast to ``audience`` reaches, ascending, after
        ``after_id``: onboarded, active, not opted out of announcements, and in the audience
        (on that platform, in that category, country or language, an applicant of that
        offer, or with the Top Creator badge)."""

    async def count_audience(self, audience: BroadcastAudience) -> int:
        """How many creators :meth:`audience_after` would list, all pages together."""


class SellerRepository(Protocol):
    async def get(self, seller_id: int) -> Seller | None: ...
    async def by_name(self, name: str) -> Seller | None: ...
    async def for_member(self, member_id: int) -> list[Seller]: ...
    async def blocking(self, creator_id: int) -> set[int]:
        """Ids of the sellers that blocked this creator."""

    async def staff_of(self, seller_id: int) -> set[int]: ...
    async def add(self, seller: Seller) -> None: ...
    async def save(self, seller: Seller) -> None: ...


class ProductRepository(Protocol):
    async def get(self, product_id: int) -> Product | None: ...
    async def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]: ...
    async def add(self, product: Product) -> None: ...


@dataclass(frozen=True, slots=True)
class OfferQuery:
    """Live offers open at ``now``, optionally of given video types or one category."""

    now: datetime
    video_types: frozenset[VideoType] | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class HallEntry:
    """An offer in the hall before its page is chosen: just what filtering needs."""

    offer_id: int
    seller_id: int
    audience: Audience | None
    """Who may claim it; ``None`` when anyone may (a public offer)."""


class OfferRepository(Protocol):
    seen: list[HasEvents]
    """Offers passed to ``add`` or ``save`` in this unit of work."""

    async def get(self, offer_id: int, *, for_update: bool = False) -> Offer | None:
        """One offer; ``for_update`` locks its row until commit where the database can."""

    async def add(self, offer: Offer) -> None: ...
    async def save(self, offer: Offer) -> None: ...
    async def live(self, query: OfferQuery) -> list[Offer]:
        """Live offers whose application deadline is after ``query.now``, newest first."""

    async def hall(self, query: OfferQuery, creator_id: int) -> list[HallEntry]:
        """The :meth:`live` offers the creator has no order for and whose seller does not
        block them, newest first — without loading whole offers."""

    async def get_many(self, offer_ids: Iterable[int]) -> dict[int, Offer]:
        """The offers with these ids (missing ones left out)."""

    async def with_products(self, offer_ids: Iterable[int]) -> dict[int, tuple[Offer, Product]]:
        """Like :meth:`get_many`, each offer with its product, in one round trip."""

    async def by_seller(
        self, seller_id: int, states: frozenset[OfferState] | None = None
    ) -> list[Offer]: ...
    async def due_to_end(self, now: datetime, limit: int) -> list[Offer]:
        """Live or paused offers whose application deadline has passed."""

    async def auto_selecting(self, limit: int) -> list[Offer]:
        """Live ``auto`` offers with free slots and applications waiting."""

    async def count_by_state(self) -> dict[str, int]:
        """How many offers are in each state (states with none are left out)."""


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """Filters for exports: all given filters must match."""

    since: datetime | None = None
    until: datetime | None = None
    offer_id: int | None = None
    seller_id: int | None = None
    creator_id: int | None = None
    states: frozenset[OrderState] | None = None
    after_id: int = 0
    limit: int = 1000


class OrderRepository(Protocol):
    seen: list[HasEvents]
    """Orders passed to ``add`` or ``save`` in this unit of work."""

    async def get(self, order_id: int, *, for_update: bool = False) -> Order | None: ...
    async def get_many(self, order_ids: Iterable[int]) -> dict[int, Order]: ...
    async def add(self, order: Order) -> None:
        """Store a new order and set its ``id``; a second order of the same creator for the
        same offer raises ``ConcurrencyConflict``."""

    async def save(self, order: Order) -> None:
        """Store changes and append ``new_submissions`` / ``new_redo_requests`` to history."""

    async def by_creator_and_offer(self, creator_id: int, offer_id: int) -> Order | None: ...
    async def for_offer(
        self, offer_id: int, states: frozenset[OrderState] | None = None
    ) -> list[Order]: ...
    async def for_creator(
        self, creator_id: int, states: frozenset[OrderState] | None = None
    ) -> list[Order]: ...
    async def by_video_key(self, key: str) -> Order | None:
        """The order whose current video has this key, if any."""

    async def claimed_offer_ids(self, creator_id: int) -> set[int]: ...
    async def due_overdue(self, now: datetime, limit: int) -> list[Order]:
        """Shipped orders whose video due time has passed."""

    async def due_reminders(self, now: datetime, limit: int) -> list[Order]:
        """Overdue orders whose next reminder time has passed."""

    async def submissions(self, order_id: int) -> list[VideoSubmission]: ...
    async def redo_requests(self, order_id: int) -> list[RedoRequest]: ...
    async def query(self, query: OrderQuery) -> list[Order]:
        """Orders matching the filters, by ascending id after ``query.after_id``."""

    async def count_by_state(self) -> dict[str, int]:
        """How many orders are in each state (states with none are left out)."""


def announcement_key(broadcast_id: int, member_id: int) -> str:
    """The outbox key of one creator's notice of a broadcast: at most one per creator."""
    return f"announcement:{broadcast_id}:{member_id}"


@dataclass(frozen=True, slots=True)
class BroadcastExpansion:
    """How far a broadcast's audience has been turned into outbox notices."""

    after_member_id: int = 0
    """The last creator queued; the next batch starts after this id."""
    complete: bool = False
    """The whole audience is queued."""


@dataclass(frozen=True, slots=True)
class BroadcastDeliveries:
    """What became of a broadcast's queued notices so far, counted from the outbox."""

    queued: int = 0
    sent: int = 0
    skipped: int = 0
    """Nothing was sent: the creator turned announcements off after the notice was queued."""
    cancelled: int = 0
    """Closed unsent because the broadcast was cancelled."""
    failed: int = 0
    unreachable: int = 0
    """Given up on because no chat account of the creator takes messages (blocked the bot,
    left, deactivated)."""

    @property
    def unsent(self) -> int:
        """Notices still waiting for a dispatcher, or being sent right now."""
        settled = self.sent + self.skipped + self.cancelled + self.failed + self.unreachable
        return max(0, self.queued - settled)


class BroadcastRepository(Protocol):
    """Broadcasts, and their notices in the outbox.

    A broadcast's notices are outbox rows with template ``announcement``, key
    :func:`announcement_key`, params ``{"broadcast_id": id}`` and the broadcast's id in an
    indexed column of their own, so they can be counted and cancelled together.
    """

    seen: list[HasEvents]
    """Broadcasts passed to ``add`` or ``save`` in this unit of work."""

    async def get(self, broadcast_id: int) -> Broadcast | None: ...
    async def add(self, broadcast: Broadcast) -> None: ...
    async def save(self, broadcast: Broadcast) -> None: ...
    async def recent(self, limit: int) -> list[Broadcast]:
        """The newest broadcasts first."""

    async def to_expand(self, now: datetime, limit: int) -> list[Broadcast]:
        """Broadcasts whose audience must be queued: scheduled ones due at ``now``, and ones
        being sent whose audience is not fully queued yet; the earliest due first."""

    async def sending(self, limit: int) -> list[Broadcast]:
        """Broadcasts being sent, oldest first."""

    async def expansion(self, broadcast_id: int) -> BroadcastExpansion: ...
    async def record_expansion(self, broadcast_id: int, expansion: BroadcastExpansion) -> None:
        """Remember how far the audience is queued (the cursor a restart continues from)."""

    async def queue_announcements(
        self, broadcast_id: int, member_ids: Sequence[int], now: datetime
    ) -> int:
        """Queue the broadcast's notice for each member, due at ``now``; a member already
        queued is skipped. Returns how many were new."""

    async def deliveries(self, broadcast_id: int) -> BroadcastDeliveries: ...
    async def cancel_deliveries(self, broadcast_id: int, now: datetime) -> int:
        """Close the broadcast's notices that wait for a dispatcher as cancelled (recorded as
        sent through no channel, so nothing is sent); notices a dispatcher holds right now
        are left to it. Returns how many were closed."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A stored notice, as the outbox holds it.

    ``attempts`` counts the deliveries that failed (a reclaimed lease counts as one);
    ``last_error`` is the class of the last error and the platform's short description,
    never personal data; ``channel`` is the platform it was sent through.
    """

    id: int
    key: str
    template: NoticeTemplate
    recipient_id: int | None
    params: dict[str, str | int | bool]
    digest: str | None
    status: str
    created_at: datetime
    attempts: int = 0
    available_at: datetime | None = None
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    channel: str | None = None

    ERROR_MAX: ClassVar[int] = 300
    """Longest ``last_error`` kept."""
    LEASE_EXPIRED: ClassVar[str] = "LeaseExpired: the dispatcher stopped before it finished"
    """``last_error`` of a notice reclaimed from a dispatcher whose lease ran out."""


class OutboxRepository(Protocol):
    """The outbox: notices queued with the change that caused them, until they are sent.

    A row is ``pending`` (waiting, due at ``available_at``), ``sending`` (claimed by a
    dispatcher until ``lease_until``), ``sent`` or ``dead`` (given up on; an operator may
    :meth:`revive` it). Rows without a recipient are audiences for the broadcast expander:
    :meth:`claim` leaves them alone.
    """

    async def add(self, notices: Sequence[Notice], now: datetime) -> int:
        """Queue notices; a key already stored is skipped. Returns how many were new."""

    async def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Queued, unsent notices, oldest first."""

    async def count_pending(self) -> int:
        """How many notices are not sent yet: queued, or claimed by a dispatcher right now."""

    async def count_for(self, recipient_id: int, template: NoticeTemplate, since: datetime) -> int:
        """How many ``template`` notices were queued for ``recipient_id`` at or after ``since``,
        whatever became of them (for caps such as new-offer pushes per day)."""

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[OutboxEntry]:
        """Claim up to ``limit`` due notices for delivery, oldest first, by id.

        Due means ``pending`` with ``available_at <= now``, or ``sending`` with an expired
        lease (its dispatcher died; the reclaim counts as a failed attempt). Claimed rows
        become ``sending`` with ``lease_until = now + lease``. Notices to one person go in
        the order they were queued: a row is claimable only while no older row for the same
        recipient is unsent, and a claimed row brings along the recipient's other unsent
        rows with the same digest key, so a digest goes out as one message (a digest group
        counts once against ``limit``). Several dispatchers may claim at once; no row is
        handed to two of them while its lease runs.
        """

    async def mark_sent(self, ids: Sequence[int], now: datetime, channel: str | None) -> int:
        """Record notices as delivered through ``channel`` (``None``: nothing was sent, e.g.
        what they were about is gone). Returns how many rows changed."""

    async def retry(
        self,
        ids: Sequence[int],
        available_at: datetime,
        error: str,
        *,
        failed: bool = True,
    ) -> int:
        """Put claimed notices back to ``pending`` until ``available_at``, noting ``error``.

        ``failed`` adds one to ``attempts``; a platform asking to wait (HTTP 429) is pacing,
        not failure, and passes ``failed=False``.
        """

    async def dead(self, ids: Sequence[int], error: str) -> int:
        """Give up on notices (``dead``), counting the failed attempt and noting ``error``."""

    async def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        """Notices given up on, oldest first."""

    async def revive(self, ids: Sequence[int], now: datetime) -> int:
        """Queue dead notices again, due at ``now`` with ``attempts`` reset to 0."""


class AbstractUnitOfWork(abc.ABC):
    """One transaction over every repository.

    Use as ``async with uow: ...; await uow.commit()``. Leaving the block without commit
    rolls back. ``commit`` first turns the events of every offer, order and broadcast that
    was added or saved into notices and queues them in the outbox, inside the same
    transaction — a change and the notices it causes are stored together or not at all.
    """

    members: MemberRepository
    sellers: SellerRepository
    products: ProductRepository
    offers: OfferRepository
    orders: OrderRepository
    broadcasts: BroadcastRepository
    outbox: OutboxRepository

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.digest_hold = timedelta(0)
        """How long digest notices (new applications) wait for company; set by the caller."""

    async def __aenter__(self) -> Self:
        await self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        finally:
            await self._close()

    async def commit(self) -> None:
        events: list[Event] = []
        for repository in (self.offers, self.orders, self.broadcasts):
            for aggregate in repository.seen:
                events.extend(aggregate.pull_events())
            repository.seen.clear()
        notices = await notices_for(events, self.sellers.staff_of, self.digest_hold)
        if notices:
            await self.outbox.add(notices, self.clock.now())
        await self._commit()

    @abc.abstractmethod
    async def _begin(self) -> None:
        """Open the transaction and create the repositories."""

    @abc.abstractmethod
    async def _commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo everything not committed; harmless after a commit."""

    async def _close(self) -> None:
        return None
