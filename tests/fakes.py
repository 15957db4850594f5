"""In-memory fakes of the storage ports, for unit tests of the core (no I/O, no mocks).

The fake store behaves like a database where it matters to the rules: what a unit of work
reads is a copy, nothing is visible to others until commit, ``save`` checks versions, and
the unique constraints (one order per creator and offer, one video per order) hold.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastAudience, BroadcastState
from core.domain.common import Platform
from core.domain.errors import ConcurrencyConflict
from core.domain.members import Member, MemberStatus, Role
from core.domain.offers import Offer, OfferState, SelectionMode
from core.domain.orders import Order, OrderState, RedoRequest, VideoSubmission
from core.domain.sellers import Product, Seller
from core.notices import OPTIONAL_TEMPLATES, Notice, NoticeTemplate
from core.ports.clock import Clock
from core.ports.repositories import (
    AbstractUnitOfWork,
    BroadcastDeliveries,
    BroadcastExpansion,
    HallEntry,
    HasEvents,
    OfferQuery,
    OrderQuery,
    OutboxEntry,
    announcement_key,
)
from storage.repositories.broadcasts import CANCELLED_NOTE


@dataclass
class FakeStore:
    """The committed state of the fake database."""

    members: dict[int, Member] = field(default_factory=dict)
    sellers: dict[int, Seller] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    offers: dict[int, Offer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    submissions: dict[int, list[VideoSubmission]] = field(default_factory=dict)
    redos: dict[int, list[RedoRequest]] = field(default_factory=dict)
    broadcasts: dict[int, Broadcast] = field(default_factory=dict)
    broadcast_expansions: dict[int, BroadcastExpansion] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    last_id: int = 0
    commits: int = 0

    def new_id(self) -> int:
        self.last_id += 1
        return self.last_id


def _copy(obj: Any) -> Any:
    clone = copy.deepcopy(obj)
    for name in ("events", "new_submissions", "new_redo_requests"):
        if hasattr(clone, name):
            setattr(clone, name, [])
    return clone


def _versioned_put(table: dict[int, Any], obj: Any) -> None:
    stored = table.get(obj.id)
    if stored is None or stored.version != obj.version:
        raise ConcurrencyConflict(f"{type(obj).__name__} {obj.id} changed meanwhile")
    obj.version += 1
    table[obj.id] = _copy(obj)


class _Repo:
    def __init__(self, data: FakeStore) -> None:
        self.data = data
        self.seen: list[HasEvents] = []


class FakeMembers(_Repo):
    async def get(self, member_id: int) -> Member | None:
        m = self.data.members.get(member_id)
        return _copy(m) if m else None

    async def get_many(self, member_ids: Iterable[int]) -> dict[int, Member]:
        return {i: _copy(self.data.members[i]) for i in set(member_ids) if i in self.data.members}

    async def by_identity(self, platform: Platform, user_id: str) -> Member | None:
        for m in self.data.members.values():
            if any(i.platform is platform and i.user_id == user_id for i in m.identities):
                return _copy(m)
        return None

    def _unique_identities(self, member: Member) -> None:
        for other in self.data.members.values():
            if other.id == member.id:
                continue
            for i in member.identities:
                if any(
                    o.platform is i.platform and o.user_id == i.user_id for o in other.identities
                ):
                    raise ConcurrencyConflict("identity already taken")

    async def add(self, member: Member) -> None:
        self._unique_identities(member)
        member.id = self.data.new_id()
        self.data.members[member.id] = _copy(member)

    async def save(self, member: Member) -> None:
        self._unique_identities(member)
        _versioned_put(self.data.members, member)

    async def creators_after(self, after_id: int, limit: int) -> list[Member]:
        ids = sorted(i for i, m in self.data.members.items() if i > after_id and m.creator)
        return [_copy(self.data.members[i]) for i in ids[:limit]]

    def _in_audience(self, member: Member, audience: BroadcastAudience) -> bool:
        profile = member.creator
        if (
            profile is None
            or Role.CREATOR not in member.roles
            or member.status is not MemberStatus.ACTIVE
            or not profile.onboarded
            or profile.announcements_opt_out
        ):
            return False
        value = audience.value
        match audience.kind:
            case AudienceKind.PLATFORM:
                return any(i.platform.value == value for i in member.identities)
            case AudienceKind.CATEGORY:
                return value in profile.categories
            case AudienceKind.COUNTRY:
                return profile.country == value.upper()
            case AudienceKind.LANGUAGE:
                return value in profile.languages
            case AudienceKind.OFFER_APPLICANTS:
                return any(
                    o.creator_id == member.id and o.offer_id == int(value)
                    for o in self.data.orders.values()
                )
            case AudienceKind.TOP_CREATORS:
                return profile.top_creator
        return True

    async def audience_after(
        self, audience: BroadcastAudience, after_id: int, limit: int
    ) -> list[int]:
        ids = sorted(
            i
            for i, m in self.data.members.items()
            if i > after_id and self._in_audience(m, audience)
        )
        return ids[:limit]

    async def count_audience(self, audience: BroadcastAudience) -> int:
        return sum(self._in_audience(m, audience) for m in self.data.members.values())

    async def count_creators(self) -> dict[str, int]:
        profiles = [
            (m, m.creator)
            for m in self.data.members.values()
            if Role.CREATOR in m.roles and m.creator is not None
        ]
        return {
            "total": len(profiles),
            "onboarded": sum(p.onboarded for _, p in profiles),
            "top_creators": sum(p.top_creator for _, p in profiles),
            "suspended": sum(m.status is MemberStatus.SUSPENDED for m, _ in profiles),
        }


class FakeSellers(_Repo):
    async def get(self, seller_id: int) -> Seller | None:
        s = self.data.sellers.get(seller_id)
        return _copy(s) if s else None

    async def by_name(self, name: str) -> Seller | None:
        for s in self.data.sellers.values():
            if s.name.lower() == name.lower():
                return _copy(s)
        return None

    async def for_member(self, member_id: int) -> list[Seller]:
        return [_copy(s) for s in self.data.sellers.values() if member_id in s.staff]

    async def blocking(self, creator_id: int) -> set[int]:
        return {i for i, s in self.data.sellers.items() if creator_id in s.blocked}

    async def staff_of(self, seller_id: int) -> set[int]:
        s = self.data.sellers.get(seller_id)
        return set(s.staff) if s else set()

    async def add(self, seller: Seller) -> None:
        if await self.by_name(seller.name):
            raise ConcurrencyConflict("seller name taken")
        seller.id = self.data.new_id()
        self.data.sellers[seller.id] = _copy(seller)

    async def save(self, seller: Seller) -> None:
        _versioned_put(self.data.sellers, seller)


class FakeProducts(_Repo):
    async def get(self, product_id: int) -> Product | None:
        p = self.data.products.get(product_id)
        return _copy(p) if p else None

    async def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]:
        return {
            i: _copy(self.data.products[i]) for i in set(product_ids) if i in self.data.products
        }

    async def add(self, product: Product) -> None:
        product.id = self.data.new_id()
        self.data.products[product.id] = _copy(product)


class FakeOffers(_Repo):
    async def get(self, offer_id: int, *, for_update: bool = False) -> Offer | None:
        o = self.data.offers.get(offer_id)
        return _copy(o) if o else None

    async def add(self, offer: Offer) -> None:
        offer.id = self.data.new_id()
        self.data.offers[offer.id] = _copy(offer)
        self.seen.append(offer)

    async def save(self, offer: Offer) -> None:
        _versioned_put(self.data.offers, offer)
        self.seen.append(offer)

    async def live(self, query: OfferQuery) -> list[Offer]:
        found = [
            o
            for o in self.data.offers.values()
            if o.state is OfferState.LIVE
            and o.application_deadline > query.now
            and (query.video_types is None or o.video_type in query.video_types)
            and (query.category is None or o.category == query.category)
        ]
        found.sort(key=lambda o: (o.published_at or query.now, o.id or 0), reverse=True)
        return [_copy(o) for o in found]

    async def hall(self, query: OfferQuery, creator_id: int) -> list[HallEntry]:
        claimed = {o.offer_id for o in self.data.orders.values() if o.creator_id == creator_id}
        blocking = {i for i, s in self.data.sellers.items() if creator_id in s.blocked}
        return [
            HallEntry(o.id, o.seller_id, None if o.audience.public else o.audience)
            for o in await self.live(query)
            if o.id is not None and o.id not in claimed and o.seller_id not in blocking
        ]

    async def get_many(self, offer_ids: Iterable[int]) -> dict[int, Offer]:
        return {i: _copy(self.data.offers[i]) for i in set(offer_ids) if i in self.data.offers}

    async def with_products(self, offer_ids: Iterable[int]) -> dict[int, tuple[Offer, Product]]:
        found = await self.get_many(offer_ids)
        return {
            i: (o, _copy(self.data.products[o.product_id]))
            for i, o in found.items()
            if o.product_id in self.data.products
        }

    async def by_seller(
        self, seller_id: int, states: frozenset[OfferState] | None = None
    ) -> list[Offer]:
        found = [
            o
            for o in self.data.offers.values()
            if o.seller_id == seller_id and (states is None or o.state in states)
        ]
        return [_copy(o) for o in sorted(found, key=lambda o: -(o.id or 0))]

    async def due_to_end(self, now: datetime, limit: int) -> list[Offer]:
        found = [
            o
            for o in self.data.offers.values()
            if o.state in (OfferState.LIVE, OfferState.PAUSED) and o.application_deadline <= now
        ]
        return [_copy(o) for o in sorted(found, key=lambda o: o.application_deadline)[:limit]]

    async def auto_selecting(self, limit: int) -> list[Offer]:
        found = [
            o
            for o in self.data.offers.values()
            if o.state is OfferState.LIVE
            and o.selection is SelectionMode.AUTO
            and o.selected_count < o.slots
            and o.applied_count > o.selected_count
        ]
        return [_copy(o) for o in sorted(found, key=lambda o: o.id or 0)[:limit]]

    async def count_by_state(self) -> dict[str, int]:
        return dict(Counter(o.state.value for o in self.data.offers.values()))


class FakeOrders(_Repo):
    def _check_unique(self, order: Order) -> None:
        for other in self.data.orders.values():
            if other.id == order.id:
                continue
            if other.creator_id == order.creator_id and other.offer_id == order.offer_id:
                raise ConcurrencyConflict("one order per creator and offer")
            if order.video and other.video and other.video.key == order.video.key:
                raise ConcurrencyConflict("video already used")

    def _history(self, order: Order) -> None:
        assert order.id is not None
        self.data.submissions.setdefault(order.id, []).extend(order.new_submissions)
        self.data.redos.setdefault(order.id, []).extend(order.new_redo_requests)
        order.new_submissions.clear()
        order.new_redo_requests.clear()

    async def get(self, order_id: int, *, for_update: bool = False) -> Order | None:
        o = self.data.orders.get(order_id)
        return _copy(o) if o else None

    async def get_many(self, order_ids: Iterable[int]) -> dict[int, Order]:
        return {i: _copy(self.data.orders[i]) for i in set(order_ids) if i in self.data.orders}

    async def add(self, order: Order) -> None:
        self._check_unique(order)
        order.id = self.data.new_id()
        self._history(order)
        self.data.orders[order.id] = _copy(order)
        self.seen.append(order)

    async def save(self, order: Order) -> None:
        self._check_unique(order)
        self._history(order)
        _versioned_put(self.data.orders, order)
        self.seen.append(order)

    async def by_creator_and_offer(self, creator_id: int, offer_id: int) -> Order | None:
        for o in self.data.orders.values():
            if o.creator_id == creator_id and o.offer_id == offer_id:
                return _copy(o)
        return None

    def _where(self, **match: Any) -> list[Order]:
        states = match.pop("states", None)
        return [
            _copy(o)
            for o in sorted(self.data.orders.values(), key=lambda o: o.id or 0)
            if all(getattr(o, k) == v for k, v in match.items())
            and (states is None or o.state in states)
        ]

    async def for_offer(
        self, offer_id: int, states: frozenset[OrderState] | None = None
    ) -> list[Order]:
        return self._where(offer_id=offer_id, states=states)

    async def for_creator(
        self, creator_id: int, states: frozenset[OrderState] | None = None
    ) -> list[Order]:
        return self._where(creator_id=creator_id, states=states)

    async def by_video_key(self, key: str) -> Order | None:
        for o in self.data.orders.values():
            if o.video is not None and o.video.key == key:
                return _copy(o)
        return None

    async def claimed_offer_ids(self, creator_id: int) -> set[int]:
        return {o.offer_id for o in self.data.orders.values() if o.creator_id == creator_id}

    async def due_overdue(self, now: datetime, limit: int) -> list[Order]:
        return [
            o
            for o in self._where(state=OrderState.SHIPPED)
            if o.video_due_at is not None and o.video_due_at <= now
        ][:limit]

    async def due_reminders(self, now: datetime, limit: int) -> list[Order]:
        return [
            o
            for o in self._where(state=OrderState.VIDEO_OVERDUE)
            if o.next_reminder_at is not None and o.next_reminder_at <= now
        ][:limit]

    async def submissions(self, order_id: int) -> list[VideoSubmission]:
        return list(self.data.submissions.get(order_id, []))

    async def redo_requests(self, order_id: int) -> list[RedoRequest]:
        return list(self.data.redos.get(order_id, []))

    async def query(self, query: OrderQuery) -> list[Order]:
        out = []
        for o in self._where(states=query.states):
            assert o.id is not None
            assert o.applied_at is not None
            if o.id <= query.after_id:
                continue
            if query.since and o.applied_at < query.since:
                continue
            if query.until and o.applied_at >= query.until:
                continue
            if query.offer_id is not None and o.offer_id != query.offer_id:
                continue
            if query.seller_id is not None and o.seller_id != query.seller_id:
                continue
            if query.creator_id is not None and o.creator_id != query.creator_id:
                continue
            out.append(o)
        return out[: query.limit]

    async def count_by_state(self) -> dict[str, int]:
        return dict(Counter(o.state.value for o in self.data.orders.values()))


class FakeBroadcasts(_Repo):
    async def get(self, broadcast_id: int) -> Broadcast | None:
        b = self.data.broadcasts.get(broadcast_id)
        return _copy(b) if b else None

    async def add(self, broadcast: Broadcast) -> None:
        broadcast.id = self.data.new_id()
        self.data.broadcasts[broadcast.id] = _copy(broadcast)
        self.seen.append(broadcast)

    async def save(self, broadcast: Broadcast) -> None:
        _versioned_put(self.data.broadcasts, broadcast)
        self.seen.append(broadcast)

    async def recent(self, limit: int) -> list[Broadcast]:
        return [_copy(self.data.broadcasts[i]) for i in sorted(self.data.broadcasts)[::-1][:limit]]

    async def to_expand(self, now: datetime, limit: int) -> list[Broadcast]:
        found = [
            b
            for b in self.data.broadcasts.values()
            if (
                b.state is BroadcastState.SCHEDULED
                and b.scheduled_at is not None
                and b.scheduled_at <= now
            )
            or (
                b.state is BroadcastState.SENDING
                and not self.data.broadcast_expansions.get(b.id or 0, BroadcastExpansion()).complete
            )
        ]
        found.sort(key=lambda b: (b.scheduled_at or now, b.id or 0))
        return [_copy(b) for b in found[:limit]]

    async def sending(self, limit: int) -> list[Broadcast]:
        found = [b for b in self.data.broadcasts.values() if b.state is BroadcastState.SENDING]
        return [_copy(b) for b in sorted(found, key=lambda b: b.id or 0)[:limit]]

    async def expansion(self, broadcast_id: int) -> BroadcastExpansion:
        return self.data.broadcast_expansions.get(broadcast_id, BroadcastExpansion())

    async def record_expansion(self, broadcast_id: int, expansion: BroadcastExpansion) -> None:
        self.data.broadcast_expansions[broadcast_id] = expansion

    async def queue_announcements(
        self, broadcast_id: int, member_ids: Sequence[int], now: datetime
    ) -> int:
        notices = [
            Notice(
                announcement_key(broadcast_id, member_id),
                NoticeTemplate.ANNOUNCEMENT,
                member_id,
                {"broadcast_id": broadcast_id},
            )
            for member_id in member_ids
        ]
        return await FakeOutbox(self.data).add(notices, now)

    def _notices_of(self, broadcast_id: int) -> list[OutboxEntry]:
        return [
            e
            for e in self.data.outbox
            if e.template is NoticeTemplate.ANNOUNCEMENT
            and e.params.get("broadcast_id") == broadcast_id
        ]

    async def deliveries(self, broadcast_id: int) -> BroadcastDeliveries:
        counts: Counter[str] = Counter()
        for e in self._notices_of(broadcast_id):
            note = e.last_error or ""
            if e.status == "sent":
                kind = "sent" if e.channel else "cancelled" if note == CANCELLED_NOTE else "skipped"
            elif e.status == "dead":
                kind = "unreachable" if note.startswith("Unreachable") else "failed"
            else:
                kind = "unsent"
            counts[kind] += 1
        counts.pop("unsent", None)
        return BroadcastDeliveries(queued=len(self._notices_of(broadcast_id)), **counts)

    async def cancel_deliveries(self, broadcast_id: int, now: datetime) -> int:
        ids = [e.id for e in self._notices_of(broadcast_id) if e.status == "pending"]
        return FakeOutbox(self.data)._change(
            ids,
            ("pending",),
            status="sent",
            sent_at=now,
            channel=None,
            lease_until=None,
            last_error=CANCELLED_NOTE,
        )


class FakeOutbox(_Repo):
    """The outbox as a list; the same claim rules as the SQL one, one unit of work at a time."""

    async def add(self, notices: Sequence[Notice], now: datetime) -> int:
        keys = {e.key for e in self.data.outbox}
        new = 0
        for n in notices:
            if n.key in keys:
                continue
            keys.add(n.key)
            self.data.outbox.append(
                OutboxEntry(
                    len(self.data.outbox) + 1,
                    n.key,
                    n.template,
                    n.recipient_id,
                    dict(n.params),
                    n.digest,
                    "pending",
                    now,
                    available_at=now + n.hold,
                )
            )
            new += 1
        return new

    async def pending(self, limit: int = 100) -> list[OutboxEntry]:
        return [e for e in self.data.outbox if e.status == "pending"][:limit]

    async def count_pending(self) -> int:
        return sum(e.status in ("pending", "sending") for e in self.data.outbox)

    async def count_for(self, recipient_id: int, template: NoticeTemplate, since: datetime) -> int:
        return sum(
            e.recipient_id == recipient_id and e.template == template and e.created_at >= since
            for e in self.data.outbox
        )

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> list[OutboxEntry]:
        def due(e: OutboxEntry) -> bool:
            if e.status == "pending":
                return (e.available_at or e.created_at) <= now
            return e.status == "sending" and e.lease_until is not None and e.lease_until <= now

        heads: dict[int, OutboxEntry] = {}
        for e in sorted(self.data.outbox, key=lambda e: e.id):
            if e.recipient_id is None or e.status not in ("pending", "sending"):
                continue
            held = (
                e.status == "pending"
                and e.digest is not None
                and e.attempts == 0
                and (e.available_at or e.created_at) > now
            )
            if held:
                continue  # a digest waiting for company does not hold back the rest
            if e.recipient_id not in heads:
                heads[e.recipient_id] = e  # the recipient's oldest unsent notice
        claimed: list[OutboxEntry] = []

        def priority(e: OutboxEntry) -> tuple[bool, int]:
            return (e.template in OPTIONAL_TEMPLATES, e.id)

        for head in sorted((h for h in heads.values() if due(h)), key=priority)[:limit]:
            claimed.append(head)
            if head.digest is not None:
                claimed.extend(
                    e
                    for e in self.data.outbox
                    if e.id > head.id
                    and e.recipient_id == head.recipient_id
                    and e.digest == head.digest
                    and (e.status == "pending" or due(e))
                )
        out = []
        for e in claimed:
            reclaimed = e.status == "sending"
            out.append(
                self._put(
                    e,
                    status="sending",
                    lease_until=now + lease,
                    attempts=e.attempts + reclaimed,
                    last_error=OutboxEntry.LEASE_EXPIRED if reclaimed else e.last_error,
                )
            )
        return sorted(out, key=lambda e: e.id)

    async def mark_sent(self, ids: Sequence[int], now: datetime, channel: str | None) -> int:
        return self._change(
            ids,
            ("pending", "sending"),
            status="sent",
            sent_at=now,
            channel=channel,
            lease_until=None,
        )

    async def retry(
        self,
        ids: Sequence[int],
        available_at: datetime,
        error: str,
        *,
        failed: bool = True,
    ) -> int:
        return self._change(
            ids,
            ("pending", "sending"),
            status="pending",
            available_at=available_at,
            lease_until=None,
            last_error=error[: OutboxEntry.ERROR_MAX],
            add_attempt=failed,
        )

    async def dead(self, ids: Sequence[int], error: str) -> int:
        return self._change(
            ids,
            ("pending", "sending"),
            status="dead",
            lease_until=None,
            last_error=error[: OutboxEntry.ERROR_MAX],
            add_attempt=True,
        )

    async def dead_letters(self, limit: int = 100) -> list[OutboxEntry]:
        return [e for e in self.data.outbox if e.status == "dead"][:limit]

    async def revive(self, ids: Sequence[int], now: datetime) -> int:
        return self._change(
            ids, ("dead",), status="pending", available_at=now, lease_until=None, attempts=0
        )

    def _change(
        self, ids: Sequence[int], states: Sequence[str], *, add_attempt: bool = False, **values: Any
    ) -> int:
        changed = 0
        for e in list(self.data.outbox):
            if e.id in ids and e.status in states:
                extra = {"attempts": e.attempts + 1} if add_attempt else {}
                self._put(e, **values, **extra)
                changed += 1
        return changed

    def _put(self, entry: OutboxEntry, **values: Any) -> OutboxEntry:
        changed = dataclasses.replace(entry, **values)
        self.data.outbox[self.data.outbox.index(entry)] = changed
        return changed


class FakeUnitOfWork(AbstractUnitOfWork):
    """A unit of work over a :class:`FakeStore`: works on a copy, publishes it on commit."""

    def __init__(self, store: FakeStore, clock: Clock) -> None:
        super().__init__(clock)
        self.store = store
        self.committed = False

    async def _begin(self) -> None:
        self.committed = False
        self.working = copy.deepcopy(self.store)
        self.members = FakeMembers(self.working)
        self.sellers = FakeSellers(self.working)
        self.products = FakeProducts(self.working)
        self.offers = FakeOffers(self.working)
        self.orders = FakeOrders(self.working)
        self.broadcasts = FakeBroadcasts(self.working)
        self.outbox = FakeOutbox(self.working)

    async def _commit(self) -> None:
        # The fake runs one unit of work at a time, so publishing the copy is the commit.
        for name in FakeStore.__dataclass_fields__:
            if name != "commits":
                setattr(self.store, name, getattr(self.working, name))
        self.store.commits += 1
        self.committed = True

    async def rollback(self) -> None:
        return None
