"""Races between whole use cases: slots are never overbooked and a move happens once.

Every racer is a :class:`Marketplace` of its own over a :class:`Database` of its own (its own
connection pool) on the same database, so racing calls run in separate database sessions,
exactly as two bot processes or two web workers would. Racers are started together, either as
tasks of one event loop (``asyncio.gather``) or as OS threads that each run their own event
loop and wait at a barrier. Every race is repeated on a fresh offer, and after every round the
whole database is checked:

* each offer's ``selected_count`` is the number of its orders whose state holds a sample, and
  never more than its slots;
* no order is still waiting (``applied``) on an offer that has ended;
* each creator's ``selected_total`` is the number of their orders that were ever selected;
* every selected order has exactly one ``order_selected`` notice, every declined order exactly
  one ``offer_closed`` or ``order_not_selected`` notice, and outbox keys are unique.

On PostgreSQL the racers really interleave (READ COMMITTED, row locks and the version
check). SQLite starts each transaction with ``BEGIN IMMEDIATE``, so there the same races check
that writers queue up and each sees what the one before it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from core import services as s
from core.domain.common import Platform
from core.domain.errors import AlreadyDone, DomainError, InvalidInput, NotAllowed
from core.domain.members import Member, ShippingAddress
from core.domain.offers import Offer, OfferState, SelectionMode, VideoType
from core.domain.orders import Order, OrderState
from core.notices import NoticeTemplate
from core.ports.clock import FixedClock
from core.services import Actor, Marketplace
from storage.database import create_engine
from storage.migrate import upgrade
from storage.models import OutboxRow, table_of
from storage.unit_of_work import Database

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADDRESS = ShippingAddress(
    name="Ana Creator",
    line1="1 Main St",
    city="Austin",
    postal_code="78701",
    country="US",
    region="TX",
    phone="+15550100",
)
ROUNDS = 5
#: For the races with many racers or a long setup.
FEW_ROUNDS = 4
THREAD_START_TIMEOUT_S = 30.0

#: A racer's move: one use case called on the racer's own marketplace.
Move = Callable[[Marketplace], Awaitable[Any]]
#: What a racer got back: the use case's result, or the domain error it was refused with.
Outcome = Any

RUNNERS = ("tasks", "threads")
OUTBOX = table_of(OutboxRow)


# --- a marketplace over a real database, built through the use cases -------------------------


@dataclass(frozen=True, slots=True)
class Queued:
    """A notice as the outbox holds it."""

    key: str
    recipient_id: int | None
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Shop:
    seller_id: int
    staff: tuple[Actor, Actor]


class Market:
    """A migrated database, a marketplace over it for setting up and looking, and racers."""

    def __init__(self, url: str, clock: FixedClock) -> None:
        self.url = url
        self.clock = clock
        self.db = Database.connect(url, clock)
        self.mp = Marketplace(self.db.unit_of_work, clock)
        self.system = Actor.system()
        self.operator: Actor | None = None
        self.sellers: list[int] = []
        self._racers: dict[int, list[Marketplace]] = {}
        self._databases: list[Database] = [self.db]
        self._people = itertools.count(1)
        self._videos = itertools.count(1)

    def many(self, postgres: int, sqlite: int) -> int:
        """How many racers: fewer on SQLite, where writers queue up anyway (and each waiting
        one sleeps in SQLite's busy handler)."""
        return postgres if self.db.dialect == "postgresql" else sqlite

    async def close(self) -> None:
        for database in self._databases:
            await database.dispose()

    # --- racers ---------------------------------------------------------------------------

    async def racers(self, count: int, clock: FixedClock | None = None) -> list[Marketplace]:
        """``count`` marketplaces, each over a connection pool of its own, already connected."""
        clock = clock or self.clock
        pool = self._racers.setdefault(id(clock), [])
        while len(pool) < count:
            database = Database.connect(self.url, clock)
            self._databases.append(database)
            await _warm_up(database)
            pool.append(Marketplace(database.unit_of_work, clock))
        return pool[:count]

    async def race(
        self, moves: Sequence[Move], *, runner: str = "tasks", clock: FixedClock | None = None
    ) -> list[Outcome]:
        """Run every move at once, each by its own racer; domain errors are outcomes too."""
        if runner == "threads":
            return await asyncio.to_thread(_race_in_threads, self.url, clock or self.clock, moves)
        racers = await self.racers(len(moves), clock)
        results = await asyncio.gather(
            *(move(mp) for move, mp in zip(moves, racers, strict=True)), return_exceptions=True
        )
        return [_outcome(result) for result in results]

    # --- people and offers ----------------------------------------------------------------

    def _identity(self) -> str:
        return str(5000 + next(self._people))

    async def start(self) -> None:
        operator = await s.add_operator(self.mp, self.system, f"telegram:{self._identity()}")
        assert operator.id is not None
        self.operator = Actor.member(operator.id)

    async def shop(self, name: str = "Acme") -> Shop:
        """A seller with two staff members."""
        assert self.operator is not None
        staff = [f"telegram:{self._identity()}", f"telegram:{self._identity()}"]
        seller = await s.add_seller(self.mp, self.operator, name, staff)
        assert seller.id is not None
        self.sellers.append(seller.id)
        first, second = sorted(seller.staff)
        return Shop(seller.id, (Actor.member(first), Actor.member(second)))

    async def creator(self, name: str = "Ana", *, address: bool = True) -> Actor:
        """An onboarded influencer, with a shipping address unless told otherwise."""
        user_id = self._identity()
        member = await s.register_identity(self.mp, Platform.TELEGRAM, user_id, user_id, name, "en")
        assert member.id is not None
        actor = Actor.member(member.id)
        await s.update_profile(
            self.mp,
            actor,
            s.ProfileChanges(
                storefront_url=f"https://www.amazon.com/shop/{name.lower()}{user_id}",
                categories=("kitchen",),
                country="US",
                languages=["en"],
                address=ADDRESS if address else None,
                finish_onboarding=True,
            ),
        )
        return actor

    async def creators(self, count: int) -> list[Actor]:
        return [await self.creator(f"Creator{n}") for n in range(count)]

    async def offer(
        self,
        shop: Shop,
        *,
        slots: int,
        selection: SelectionMode = SelectionMode.SELLER,
        deadline: datetime | None = None,
    ) -> int:
        new = s.NewOffer(
            title="Bamboo cutting board",
            video_type=VideoType.INFLUENCER,
            slots=slots,
            asin="B0C1234567",
            category="kitchen",
            selection=selection,
            application_deadline=deadline,
        )
        offer = await s.create_offer(self.mp, shop.staff[0], shop.seller_id, new, publish=True)
        assert offer.id is not None
        return offer.id

    async def claims(self, offer_id: int, creators: Sequence[Actor]) -> list[int]:
        """The creators claim the offer one after the other; their order ids."""
        ids = []
        for creator in creators:
            order = await s.claim_offer(self.mp, creator, offer_id)
            assert order.id is not None
            ids.append(order.id)
        return ids

    async def shipped_order(self, shop: Shop, creator: Actor) -> int:
        """An order of ``creator`` on a fresh offer, selected and shipped: it awaits a video."""
        offer_id = await self.offer(shop, slots=5)
        (order_id,) = await self.claims(offer_id, [creator])
        await s.approve_order(self.mp, shop.staff[0], order_id)
        await s.record_shipment(self.mp, shop.staff[0], order_id, "UPS", "1Z999AA10123456784")
        return order_id

    def video(self) -> str:
        return f"https://www.amazon.com/vdp/{next(self._videos):032x}"

    # --- looking --------------------------------------------------------------------------

    async def get_offer(self, offer_id: int) -> Offer:
        async with self.db.unit_of_work() as uow:
            offer = await uow.offers.get(offer_id)
        assert offer is not None
        return offer

    async def get_order(self, order_id: int) -> Order:
        async with self.db.unit_of_work() as uow:
            order = await uow.orders.get(order_id)
        assert order is not None
        return order

    async def orders_of(self, offer_id: int) -> list[Order]:
        async with self.db.unit_of_work() as uow:
            return await uow.orders.for_offer(offer_id)

    async def member(self, actor: Actor) -> Member:
        async with self.db.unit_of_work() as uow:
            member = await uow.members.get(actor.member_id or 0)
        assert member is not None
        return member

    async def notices(self, template: NoticeTemplate, **params: int) -> list[Queued]:
        """The queued notices of one kind whose parameters include ``params``."""
        statement = (
            select(OUTBOX.c.key, OUTBOX.c.recipient_member_id, OUTBOX.c.params)
            .where(OUTBOX.c.template == template.value)
            .order_by(OUTBOX.c.id)
        )
        async with self.db.unit_of_work() as uow:
            rows = (await uow.session.execute(statement)).all()
        return [
            Queued(key, recipient_id, dict(values))
            for key, recipient_id, values in rows
            if all(values.get(name) == value for name, value in params.items())
        ]

    async def check_invariants(self) -> None:
        """What must hold for the whole database after any race."""
        async with self.db.unit_of_work() as uow:
            offers = [o for seller in self.sellers for o in await uow.offers.by_seller(seller)]
            orders = {o.id: (await uow.orders.for_offer(o.id or 0)) for o in offers}
            creators = {
                order.creator_id for offer_orders in orders.values() for order in offer_orders
            }
            members = await uow.members.get_many(creators)
            outbox = (
                (
                    await uow.session.execute(
                        select(OUTBOX.c.key, OUTBOX.c.template, OUTBOX.c.params)
                    )
                )
                .mappings()
                .all()
            )
        for offer in offers:
            offer_orders = orders[offer.id]
            holding = sum(o.state.holds_slot for o in offer_orders)
            assert offer.selected_count == holding, (
                f"offer {offer.id}: selected_count {offer.selected_count}, "
                f"{holding} orders hold a sample"
            )
            assert offer.selected_count <= offer.slots, f"offer {offer.id} is overbooked"
            assert len({o.creator_id for o in offer_orders}) == len(offer_orders)
            assert offer.applied_count == len(offer_orders), f"offer {offer.id}: applied_count"
            if offer.finished:
                waiting = [o.id for o in offer_orders if o.state is OrderState.APPLIED]
                assert not waiting, f"orders {waiting} still wait on ended offer {offer.id}"
        every_order = [o for offer_orders in orders.values() for o in offer_orders]
        selections = Counter(o.creator_id for o in every_order if o.selected_at is not None)
        for creator_id, member in members.items():
            assert member.creator is not None
            assert member.creator.selected_total == selections[creator_id], (
                f"creator {creator_id} counted {member.creator.selected_total} selections "
                f"for {selections[creator_id]} selected orders"
            )
        keys = [n["key"] for n in outbox]
        assert len(keys) == len(set(keys)), "an outbox key is stored twice"
        per_order = Counter((n["template"], n["params"].get("order_id")) for n in outbox)
        for order in every_order:
            assert per_order[NoticeTemplate.ORDER_SELECTED, order.id] == (
                1 if order.selected_at is not None else 0
            ), f"order {order.id}: order_selected notices"
            told = (
                per_order[NoticeTemplate.OFFER_CLOSED, order.id]
                + per_order[NoticeTemplate.ORDER_NOT_SELECTED, order.id]
            )
            assert told == (1 if order.state is OrderState.REJECTED else 0), (
                f"order {order.id} ({order.state.value}): {told} rejection notices"
            )


async def _warm_up(database: Database) -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def _outcome(result: object) -> Outcome:
    if isinstance(result, BaseException) and not isinstance(result, DomainError):
        raise result
    return result


def _race_in_threads(url: str, clock: FixedClock, moves: Sequence[Move]) -> list[Outcome]:
    """Each move in an OS thread with its own event loop and connection pool, released
    together by a barrier once every racer is connected."""
    start = threading.Barrier(len(moves), timeout=THREAD_START_TIMEOUT_S)

    def racer(move: Move) -> Outcome:
        loop = asyncio.new_event_loop()
        database = Database.connect(url, clock)
        try:
            loop.run_until_complete(_warm_up(database))
            start.wait()
            try:
                return loop.run_until_complete(move(Marketplace(database.unit_of_work, clock)))
            except DomainError as error:
                return error
        finally:
            loop.run_until_complete(database.dispose())
            loop.close()

    with ThreadPoolExecutor(max_workers=len(moves)) as pool:
        return list(pool.map(racer, moves))


def runner(round_: int) -> str:
    """Rounds take turns: tasks of one event loop, then OS threads with a loop each."""
    return RUNNERS[round_ % len(RUNNERS)]


def call(use_case: Callable[..., Awaitable[Any]], *args: Any) -> Move:
    """The move that calls ``use_case(marketplace, *args)``."""
    return lambda mp: use_case(mp, *args)


def claim(creator: Actor, offer_id: int) -> Move:
    return call(s.claim_offer, creator, offer_id)


def approve(staff: Actor, order_id: int) -> Move:
    return call(s.approve_order, staff, order_id)


def codes(outcomes: Sequence[Outcome]) -> list[str]:
    """The error codes among the outcomes, sorted."""
    return sorted(o.code for o in outcomes if isinstance(o, DomainError))


async def _check_deadlocks_sooner(url: str) -> None:
    """Let PostgreSQL look for deadlocks after 20 ms of waiting instead of the default 1 s.

    Approving the last sample locks the order, then the offer, while ending the offer locks
    the offer, then the other applications: simultaneous approvals deadlock, PostgreSQL
    aborts one and the use case retries. Outcomes are the same; only each wait is shorter.
    Best effort: without the privilege to change it the races just take longer.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    engine = create_engine(url, pool_size=1)
    try:
        with contextlib.suppress(DBAPIError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(f"ALTER DATABASE \"{parsed.database}\" SET deadlock_timeout = '20ms'")
                )
    finally:
        await engine.dispose()


@pytest.fixture
async def market(database_url: str) -> AsyncIterator[Market]:
    await upgrade(database_url)
    await _check_deadlocks_sooner(database_url)
    market = Market(database_url, FixedClock(START))
    try:
        await market.start()
        yield market
    finally:
        await market.close()


# --- 1. two staff approve different applicants for the last sample ---------------------------


async def test_two_staff_approving_different_applicants_for_the_last_slot_select_one(
    market: Market,
) -> None:
    shop = await market.shop()
    creators = await market.creators(4)
    for round_ in range(ROUNDS):
        offer_id = await market.offer(shop, slots=2)
        first, mine, theirs, bystander = await market.claims(offer_id, creators)
        await s.approve_order(market.mp, shop.staff[0], first)  # one sample left
        batch = round_ // 2 % 2 == 1  # approve_orders reports the loser as skipped, not raised

        def press(staff: Actor, order_id: int, batch: bool = batch) -> Move:
            if batch:
                return call(s.approve_orders, staff, [order_id])
            return approve(staff, order_id)

        outcomes = await market.race(
            [press(shop.staff[0], mine), press(shop.staff[1], theirs)], runner=runner(round_)
        )

        if batch:
            assert all(isinstance(o, s.BatchResult) for o in outcomes), outcomes
            done = [order for o in outcomes for order in o.done]
            errors = [error for o in outcomes for _, error in o.skipped]
            assert sum(o.offer_ended for o in outcomes) == 1
        else:
            done = [o for o in outcomes if isinstance(o, Order)]
            errors = [o for o in outcomes if isinstance(o, DomainError)]
        assert len(done) == 1, outcomes
        assert len(errors) == 1, outcomes
        (winner,) = done
        (refusal,) = errors
        loser = theirs if winner.id == mine else mine
        assert isinstance(refusal, NotAllowed), repr(refusal)
        # The winner's transaction filled the offer and declined the other application, so
        # the loser finds it no longer waiting (or, had it read first, the offer full or ended).
        assert refusal.code in ("order_bad_state", "offer_full", "offer_not_open"), refusal

        offer = await market.get_offer(offer_id)
        assert offer.selected_count == offer.slots == 2
        assert offer.state is OfferState.ENDED
        assert offer.end_reason == "slots_filled"
        assert (await market.get_order(winner.id or 0)).state is OrderState.PENDING_SHIPMENT
        for order_id in (loser, bystander):
            order = await market.get_order(order_id)
            assert order.state is OrderState.REJECTED
            assert order.reason == "slots_filled"
            assert len(await market.notices(NoticeTemplate.OFFER_CLOSED, order_id=order_id)) == 1
        selected = [
            n
            for order_id in (mine, theirs)
            for n in await market.notices(NoticeTemplate.ORDER_SELECTED, order_id=order_id)
        ]
        assert len(selected) == 1
        ended = await market.notices(NoticeTemplate.OFFER_ENDED, offer_id=offer_id)
        assert sorted(n.recipient_id or 0 for n in ended) == sorted(
            a.member_id or 0 for a in shop.staff
        )
        await market.check_invariants()


async def test_every_applicant_approved_at_once_for_one_slot_selects_one(market: Market) -> None:
    shop = await market.shop()
    creators = await market.creators(5)
    for round_ in range(FEW_ROUNDS):
        offer_id = await market.offer(shop, slots=1)
        order_ids = await market.claims(offer_id, creators)
        outcomes = await market.race(
            [approve(shop.staff[n % 2], order_id) for n, order_id in enumerate(order_ids)],
            runner=runner(round_),
        )
        winners = [o for o in outcomes if isinstance(o, Order)]
        assert len(winners) == 1, outcomes
        assert all(isinstance(o, NotAllowed) for o in outcomes if not isinstance(o, Order))
        offer = await market.get_offer(offer_id)
        assert (offer.selected_count, offer.state, offer.end_reason) == (
            1,
            OfferState.ENDED,
            "slots_filled",
        )
        for order in await market.orders_of(offer_id):
            if order.id != winners[0].id:
                assert (order.state, order.reason) == (OrderState.REJECTED, "slots_filled")
                assert (
                    len(await market.notices(NoticeTemplate.OFFER_CLOSED, order_id=order.id or 0))
                    == 1
                )
        await market.check_invariants()


# --- 2. one seller double-presses Approve ----------------------------------------------------


async def test_double_pressed_approve_selects_the_order_once(market: Market) -> None:
    shop = await market.shop()
    creators = await market.creators(2)
    for round_ in range(ROUNDS):
        presses = (2, 3, 4, 5, 3)[round_]
        offer_id = await market.offer(shop, slots=3)
        order_id, _other = await market.claims(offer_id, creators)
        before = (await market.member(creators[0])).creator
        assert before is not None
        staff = [shop.staff[n % 2] for n in range(presses)]
        outcomes = await market.race(
            [approve(actor, order_id) for actor in staff],
            runner=runner(round_),
        )

        assert sum(isinstance(o, Order) for o in outcomes) == 1, outcomes
        assert codes(outcomes) == ["already_selected"] * (presses - 1)
        assert all(isinstance(o, AlreadyDone) for o in outcomes if not isinstance(o, Order))
        offer = await market.get_offer(offer_id)
        assert offer.selected_count == 1
        assert offer.state is OfferState.LIVE
        assert (await market.get_order(order_id)).state is OrderState.PENDING_SHIPMENT
        assert len(await market.notices(NoticeTemplate.ORDER_SELECTED, order_id=order_id)) == 1
        after = (await market.member(creators[0])).creator
        assert after is not None
        assert after.selected_total == before.selected_total + 1
        await market.check_invariants()


# --- 3. many creators claim the last sample --------------------------------------------------


async def test_creators_claiming_auto_offer_while_it_selects_fill_it_once(
    market: Market,
) -> None:
    shop = await market.shop()
    first, *crowd = await market.creators(1 + market.many(10, 4))
    for round_ in range(FEW_ROUNDS):
        offer_id = await market.offer(shop, slots=2, selection=SelectionMode.AUTO)
        await market.claims(offer_id, [first])
        assert len((await s.auto_select(market.mp, offer_id)).done) == 1  # one sample left
        # The claims race two auto-selections and the scheduler's auto_select_due.
        moves = [claim(c, offer_id) for c in crowd]
        selectors = [
            call(s.auto_select, offer_id),
            call(s.auto_select, offer_id),
            call(s.auto_select_due),
        ]
        moves[round_:round_] = selectors
        outcomes = await market.race(moves, runner=runner(round_))
        await s.auto_select(market.mp, offer_id)  # the scheduler's next run

        claims = [o for o in outcomes if isinstance(o, Order)]
        refused = [o for o in outcomes if isinstance(o, DomainError)]
        assert all(isinstance(e, NotAllowed) and e.code == "offer_not_live" for e in refused)
        assert len(claims) + len(refused) == len(crowd)
        offer = await market.get_offer(offer_id)
        assert (offer.selected_count, offer.state, offer.end_reason) == (
            2,
            OfferState.ENDED,
            "slots_filled",
        )
        orders = await market.orders_of(offer_id)
        assert len(orders) == 1 + len(claims)
        assert sum(o.state.holds_slot for o in orders) == 2
        for order in orders:
            if not order.state.holds_slot:
                assert (order.state, order.reason) == (OrderState.REJECTED, "slots_filled")
                assert (
                    len(await market.notices(NoticeTemplate.OFFER_CLOSED, order_id=order.id or 0))
                    == 1
                )
        await market.check_invariants()


async def test_claims_racing_the_approval_of_the_last_slot_never_stay_waiting(
    market: Market,
) -> None:
    shop = await market.shop()
    applicant, *crowd = await market.creators(1 + market.many(8, 4))
    for round_ in range(ROUNDS):
        offer_id = await market.offer(shop, slots=1)
        (order_id,) = await market.claims(offer_id, [applicant])
        moves = [claim(c, offer_id) for c in crowd]
        at = round_ % (len(moves) + 1)
        moves.insert(at, approve(shop.staff[round_ % 2], order_id))
        outcomes = await market.race(moves, runner=runner(round_))

        assert isinstance(outcomes[at], Order), outcomes[at]
        assert outcomes[at].id == order_id
        claims = [o for o in outcomes if isinstance(o, Order) and o.id != order_id]
        assert codes(outcomes) == ["offer_not_live"] * (len(crowd) - len(claims))
        offer = await market.get_offer(offer_id)
        assert (offer.selected_count, offer.state, offer.end_reason) == (
            1,
            OfferState.ENDED,
            "slots_filled",
        )
        for late in claims:
            order = await market.get_order(late.id or 0)
            assert (order.state, order.reason) == (OrderState.REJECTED, "slots_filled")
            assert (
                len(await market.notices(NoticeTemplate.OFFER_CLOSED, order_id=late.id or 0)) == 1
            )
        await market.check_invariants()


async def test_creators_pressing_claim_repeatedly_get_one_order_each(market: Market) -> None:
    shop = await market.shop()
    creators = await market.creators(market.many(4, 2))
    presses = 3
    for round_ in range(FEW_ROUNDS):
        offer_id = await market.offer(shop, slots=10)
        moves = [claim(c, offer_id) for _ in range(presses) for c in creators]
        outcomes = await market.race(moves, runner=runner(round_))

        orders = [o for o in outcomes if isinstance(o, Order)]
        assert sorted(o.creator_id for o in orders) == sorted(c.member_id or 0 for c in creators)
        assert codes(outcomes) == ["already_claimed"] * (len(creators) * (presses - 1))
        assert all(isinstance(o, AlreadyDone | Order) for o in outcomes)
        stored = await market.orders_of(offer_id)
        assert sorted(o.id or 0 for o in stored) == sorted(o.id or 0 for o in orders)
        assert (await market.get_offer(offer_id)).applied_count == len(creators)
        applications = await market.notices(NoticeTemplate.NEW_APPLICATION, offer_id=offer_id)
        assert len(applications) == len(creators) * len(shop.staff)
        await market.check_invariants()


# --- 4. a claim racing the offer's end -------------------------------------------------------


async def test_claims_racing_the_offers_end_are_declined_or_refused(market: Market) -> None:
    shop = await market.shop()
    creators = await market.creators(4)
    # The creators press a moment before the deadline; the scheduler runs at it.
    pressing, scheduler = FixedClock(START), FixedClock(START)
    for round_ in range(ROUNDS):
        deadline = START + timedelta(hours=round_ + 1)
        offer_id = await market.offer(shop, slots=3, deadline=deadline)
        pressing.set(deadline - timedelta(seconds=1))
        scheduler.set(deadline)
        claims = market.race(
            [claim(c, offer_id) for c in creators], runner=runner(round_), clock=pressing
        )
        if round_ // 2 % 2 == 0:
            end = market.race([call(s.close_offer, shop.staff[1], offer_id)], runner=runner(round_))
            reason = "closed"
        else:
            end = market.race([call(s.end_due_offers)], runner=runner(round_), clock=scheduler)
            reason = "deadline"
        claimed, ended = await asyncio.gather(claims, end)

        if reason == "deadline":
            assert ended == [1]
        offer = await market.get_offer(offer_id)
        assert (offer.state, offer.end_reason, offer.selected_count) == (
            OfferState.ENDED,
            reason,
            0,
        )
        for outcome in claimed:
            if isinstance(outcome, Order):
                order = await market.get_order(outcome.id or 0)
                assert (order.state, order.reason) == (OrderState.REJECTED, "offer_closed")
                assert (
                    len(await market.notices(NoticeTemplate.OFFER_CLOSED, order_id=order.id or 0))
                    == 1
                )
            else:
                assert isinstance(outcome, NotAllowed), outcome
                assert outcome.code in ("offer_not_live", "offer_past_deadline")
        assert offer.applied_count == sum(isinstance(o, Order) for o in claimed)
        await market.check_invariants()


async def test_approve_racing_close_offer_ends_consistently(market: Market) -> None:
    shop = await market.shop()
    creators = await market.creators(3)
    for round_ in range(ROUNDS):
        offer_id = await market.offer(shop, slots=2)
        order_id, *others = await market.claims(offer_id, creators)
        moves = [approve(shop.staff[0], order_id), call(s.close_offer, shop.staff[1], offer_id)]
        if round_ // 2 % 2:
            moves.reverse()
        outcomes = await market.race(moves, runner=runner(round_))

        assert sum(isinstance(o, Offer) for o in outcomes) == 1, outcomes
        offer = await market.get_offer(offer_id)
        order = await market.get_order(order_id)
        assert (offer.state, offer.end_reason) == (OfferState.ENDED, "closed")
        if any(isinstance(o, Order) for o in outcomes):  # approved, then closed
            assert order.state is OrderState.PENDING_SHIPMENT
            assert offer.selected_count == 1
        else:  # closed first: the application was declined, the approval refused
            assert codes(outcomes) == ["order_bad_state"]
            assert (order.state, order.reason) == (OrderState.REJECTED, "offer_closed")
            assert offer.selected_count == 0
        for other in others:
            assert (await market.get_order(other)).reason == "offer_closed"
        await market.check_invariants()


# --- 5. one video link for two orders --------------------------------------------------------


async def test_one_video_link_sent_for_two_orders_at_once_completes_one(market: Market) -> None:
    shop = await market.shop()
    creator = await market.creator()
    for round_ in range(FEW_ROUNDS):
        one = await market.shipped_order(shop, creator)
        two = await market.shipped_order(shop, creator)
        before = (await market.member(creator)).creator
        assert before is not None
        link = market.video()
        outcomes = await market.race(
            [
                call(s.submit_video, creator, one, link),
                call(s.submit_video, creator, two, link),
            ],
            runner=runner(round_),
        )

        (done,) = [o for o in outcomes if isinstance(o, Order)]
        assert codes(outcomes) == ["video_link_reused"]
        assert all(isinstance(o, InvalidInput | Order) for o in outcomes)
        other = two if done.id == one else one
        assert (await market.get_order(done.id or 0)).state is OrderState.COMPLETED
        left = await market.get_order(other)
        assert (left.state, left.video) == (OrderState.SHIPPED, None)
        after = (await market.member(creator)).creator
        assert after is not None
        assert after.completed_videos == before.completed_videos + 1
        submitted = [
            n
            for order_id in (one, two)
            for n in await market.notices(NoticeTemplate.VIDEO_SUBMITTED, order_id=order_id)
        ]
        assert len(submitted) == len(shop.staff)
        await market.check_invariants()


async def test_double_pressed_video_and_shipment_are_recorded_once(market: Market) -> None:
    shop = await market.shop()
    creator = await market.creator()
    for round_ in range(FEW_ROUNDS):
        offer_id = await market.offer(shop, slots=1)
        (order_id,) = await market.claims(offer_id, [creator])
        await s.approve_order(market.mp, shop.staff[0], order_id)
        shipped = await market.race(
            [
                call(s.record_shipment, a, order_id, "UPS", "1Z999AA10123456784")
                for a in (*shop.staff, *shop.staff)
            ],
            runner=runner(round_),
        )
        assert codes(shipped) == ["already_shipped"] * 3
        assert len(await market.notices(NoticeTemplate.ORDER_SHIPPED, order_id=order_id)) == 1

        before = (await market.member(creator)).creator
        assert before is not None
        link = market.video()
        sent = await market.race(
            [call(s.submit_video, creator, order_id, link)] * 3, runner=runner(round_ + 1)
        )
        assert codes(sent) == ["video_already_submitted"] * 2
        order = await market.get_order(order_id)
        assert (order.state, order.submissions) == (OrderState.COMPLETED, 1)
        after = (await market.member(creator)).creator
        assert after is not None
        assert after.completed_videos == before.completed_videos + 1
        await market.check_invariants()


# --- 6. withdraw racing approve --------------------------------------------------------------


async def test_withdraw_racing_approve_leaves_the_slot_count_right(market: Market) -> None:
    shop = await market.shop()
    creators = await market.creators(2)
    for round_ in range(ROUNDS):
        slots = 1 + round_ // 2 % 2  # with one sample the approval also ends the offer
        offer_id = await market.offer(shop, slots=slots)
        order_id, other = await market.claims(offer_id, creators)
        withdraw = call(s.withdraw_order, creators[0], order_id)
        moves = [withdraw, approve(shop.staff[0], order_id)]
        if round_ % 3 == 0:
            moves.reverse()
        outcomes = await market.race(moves, runner=runner(round_))

        withdrawn, approved = outcomes if moves[0] is withdraw else outcomes[::-1]
        assert isinstance(withdrawn, Order), withdrawn  # allowed before and after selection
        order = await market.get_order(order_id)
        offer = await market.get_offer(offer_id)
        assert order.state is OrderState.WITHDRAWN
        assert offer.selected_count == 0  # the sample, if it was taken, went back
        if isinstance(approved, Order):
            assert order.selected_at is not None
            assert len(await market.notices(NoticeTemplate.ORDER_SELECTED, order_id=order_id)) == 1
            if slots == 1:
                assert (offer.state, offer.end_reason) == (OfferState.ENDED, "slots_filled")
                assert (await market.get_order(other)).reason == "slots_filled"
        else:
            assert isinstance(approved, NotAllowed), approved
            assert (approved.code, approved.params["state"]) == ("order_bad_state", "withdrawn")
            assert order.selected_at is None
            assert offer.state is OfferState.LIVE
        await market.check_invariants()


async def test_withdrawal_racing_the_approval_of_another_applicant_keeps_the_count(
    market: Market,
) -> None:
    shop = await market.shop()
    creators = await market.creators(3)
    for round_ in range(FEW_ROUNDS):
        offer_id = await market.offer(shop, slots=2)
        leaving, waiting, bystander = await market.claims(offer_id, creators)
        await s.approve_order(market.mp, shop.staff[0], leaving)  # one sample left
        moves = [call(s.withdraw_order, creators[0], leaving), approve(shop.staff[1], waiting)]
        if round_ % 2:
            moves.reverse()
        outcomes = await market.race(moves, runner=runner(round_ // 2))

        assert codes(outcomes) == [], outcomes  # both allowed, in either order
        offer = await market.get_offer(offer_id)
        assert (await market.get_order(leaving)).state is OrderState.WITHDRAWN
        assert (await market.get_order(waiting)).state is OrderState.PENDING_SHIPMENT
        assert offer.selected_count == 1
        if offer.state is OfferState.ENDED:  # approved while the sample was still taken
            assert offer.end_reason == "slots_filled"
            assert (await market.get_order(bystander)).reason == "slots_filled"
        else:  # the sample came back first: one is still free
            assert offer.state is OfferState.LIVE
            assert (await market.get_order(bystander)).state is OrderState.APPLIED
        await market.check_invariants()


async def test_withdraw_racing_cancel_frees_the_slot_once(market: Market) -> None:
    shop = await market.shop()
    creators = await market.creators(2)
    for round_ in range(FEW_ROUNDS):
        offer_id = await market.offer(shop, slots=3)
        order_id, other = await market.claims(offer_id, creators)
        await s.approve_orders(market.mp, shop.staff[0], [order_id, other])
        moves = [
            call(s.withdraw_order, creators[0], order_id),
            call(s.cancel_order, shop.staff[0], order_id, "Out of stock"),
            call(s.cancel_order, shop.staff[1], order_id, "Out of stock"),
        ]
        outcomes = await market.race(moves, runner=runner(round_))

        assert sum(isinstance(o, Order) for o in outcomes) == 1, outcomes
        # After a withdrawal nothing can be cancelled, and a cancellation happens once.
        assert set(codes(outcomes)) <= {"order_bad_state", "already_cancelled"}, outcomes
        assert (await market.get_order(order_id)).state in (
            OrderState.WITHDRAWN,
            OrderState.CANCELLED,
        )
        assert (await market.get_offer(offer_id)).selected_count == 1  # the other still holds
        await market.check_invariants()


# --- the address arriving while the creator is selected --------------------------------------


async def test_address_sent_while_being_selected_moves_the_order_on_once(market: Market) -> None:
    shop = await market.shop()
    for round_ in range(FEW_ROUNDS):
        creator = await market.creator(f"Late{round_}", address=False)
        offer_id = await market.offer(shop, slots=2)
        (order_id,) = await market.claims(offer_id, [creator])
        moves = [approve(shop.staff[0], order_id), call(s.set_shipping_address, creator, ADDRESS)]
        if round_ % 2:
            moves.reverse()
        outcomes = await market.race(moves, runner=runner(round_ // 2))

        assert codes(outcomes) == [], outcomes
        order = await market.get_order(order_id)
        # Never left waiting for an address the creator has already given.
        assert order.state is OrderState.PENDING_SHIPMENT
        ready = await market.notices(NoticeTemplate.READY_TO_SHIP, order_id=order_id)
        asked = await market.notices(NoticeTemplate.ADDRESS_NEEDED, order_id=order_id)
        # Selected before the address came: asked for it once, the seller told once it came.
        # Selected after: nothing to ask, and the approving seller needs no notice.
        assert len(asked) in (0, 1)
        assert len(ready) == len(asked) * len(shop.staff)
        await market.check_invariants()
