"""Property-based tests of the order and offer state machines.

Three layers:

1. random days in the marketplace: creators, sellers and the scheduler call the use cases
   (through the in-memory marketplace of :mod:`tests.unit.world`) in any order, and after
   every step the rules the product promises still hold;
2. random calls on one :class:`Order`, with no services around it;
3. the transition table itself, against the table in the product description.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import functools
import os
import pickle
import re
from collections import Counter
from collections.abc import Coroutine
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core import services as s
from core.domain.common import Money
from core.domain.errors import DomainError
from core.domain.members import ShippingAddress
from core.domain.offers import Offer, OfferState, Reward, RewardKind, SelectionMode, VideoType
from core.domain.orders import (
    OPEN_VIDEO_STATES,
    REJECTION_REASONS,
    TERMINAL_STATES,
    TRANSITIONS,
    Order,
    OrderState,
    RedoReason,
    Shipment,
)
from core.notices import NoticeTemplate as T
from core.services import Actor
from tests.fakes import FakeStore
from tests.unit.world import ADDRESS, START, World

# --- 1. random days in the marketplace, through the use cases ---------------------------

CREATOR_NOTICES = frozenset(
    {
        T.ORDER_SELECTED,
        T.ADDRESS_NEEDED,
        T.ORDER_NOT_SELECTED,
        T.OFFER_CLOSED,
        T.ORDER_SHIPPED,
        T.VIDEO_OVERDUE,
        T.VIDEO_REMINDER,
        T.REDO_REQUESTED,
        T.VIDEO_ACCEPTED,
        T.PAYMENT_CONFIRMED,
        T.ORDER_CANCELLED,
    }
)
STAFF_ORDER_NOTICES = frozenset(
    {T.NEW_APPLICATION, T.READY_TO_SHIP, T.VIDEO_SUBMITTED, T.VIDEO_RESUBMITTED, T.CREATOR_WITHDREW}
)
SECOND_ADDRESS = ShippingAddress(
    name="Ana Creator", line1="9 Elm Rd", city="Leeds", postal_code="LS1 4AP", country="GB"
)
PRODUCT_PAGE = "https://www.amazon.com/dp/B0C1234567"
MAX_OFFERS = 8

# Indices into whatever exists at the time (taken modulo its length); they shrink to 0.
pick = st.integers(min_value=0, max_value=1_000)
# Mostly aim a move at an order or offer it could apply to, so that journeys get far.
aim = st.sampled_from((True, True, True, False))
WAITING = frozenset({OrderState.APPLIED})
BEFORE_SHIPPING = frozenset(
    {OrderState.APPLIED, OrderState.AWAITING_ADDRESS, OrderState.PENDING_SHIPMENT}
)
VIDEO_IN = frozenset({OrderState.COMPLETED})
OPEN_OFFERS = frozenset({OfferState.DRAFT, OfferState.LIVE, OfferState.PAUSED})
# How far each first claim gets before the random moves start.
STAGES = ("applied", "selected", "shipped", "video_in", "sent_back")
# Who presses a seller's button: mostly the seller's own staff, sometimes someone else.
seller_side = st.sampled_from(
    ("own_staff",) * 6 + ("other_staff", "its_creator", "another_creator")
)
# Who acts on a creator's order: mostly its creator, sometimes someone else.
creator_side = st.sampled_from(("owner",) * 6 + ("another_creator", "its_staff"))
# Ticked redo reasons: mostly a usable choice, sometimes none, or "other" with no note.
redo_reasons = st.sampled_from(
    (
        frozenset({RedoReason.PORTRAIT}),
        frozenset({RedoReason.SHAKY, RedoReason.NO_AUDIO}),
        frozenset({RedoReason.PRODUCT_NOT_CLEAR}),
        frozenset({RedoReason.OTHER}),
        frozenset(),
    )
)


class QuickStore(FakeStore):
    """The fake store, deep-copied by a pickle round trip: the same copy, several times faster
    (the fake unit of work copies the whole store at the start of every transaction)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> QuickStore:
        copied: QuickStore = pickle.loads(pickle.dumps(self))
        return copied


def _snapshot(store: FakeStore) -> dict[str, Any]:
    """What the store holds, except its count of commits (an empty commit is harmless).

    The fake commits by swapping in the tables of the transaction's working copy; committed
    records are never changed in place. So the tables as they are now, shallow-copied, stay
    a true picture of this moment, and comparing them later compares every record.
    """
    return {
        f.name: copy.copy(getattr(store, f.name))
        for f in dataclasses.fields(store)
        if f.name != "commits"
    }


def _changes_since(before: dict[str, Any], store: FakeStore) -> list[str]:
    """The tables (and ids) that differ from ``before``; empty when nothing changed."""
    out = []
    for name, old in before.items():
        new = getattr(store, name)
        if old == new:
            continue
        if isinstance(old, dict):
            changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            out.append(f"{name} {changed}")
        else:
            out.append(name)
    return out


async def _post_offer(
    w: World,
    staff: Actor,
    seller_id: int,
    *,
    slots: int,
    fee: bool,
    auto: bool,
    video_type: VideoType,
    days: int,
    content_days: int = 14,
    publish: bool = True,
) -> None:
    reward = Reward(RewardKind.FEE, Money(Decimal("25.00"), "USD")) if fee else Reward()
    new = s.NewOffer(
        title="Bamboo cutting board",
        video_type=video_type,
        slots=slots,
        asin="B0C1234567",
        category="kitchen",
        reward=reward,
        selection=SelectionMode.AUTO if auto else SelectionMode.SELLER,
        application_deadline=w.clock.now() + timedelta(days=days),
        content_deadline_days=content_days,
    )
    await s.create_offer(w.mp, staff, seller_id, new, publish=publish)


async def _open_marketplace(w: World) -> tuple[list[tuple[int, Actor]], list[Actor]]:
    """Two sellers with two offers each, four creators, and their first claims."""
    sellers = [await w.seller("Acme"), await w.seller("Globex")]
    creators = [
        await w.creator("Ana"),
        await w.creator("Ben", top=True),
        await w.creator("Cleo", address=False),
        await w.creator("Dev", storefront=False),  # can take amateur offers only
    ]
    (acme, acme_staff), (globex, globex_staff) = sellers
    await _post_offer(
        w,
        acme_staff,
        acme,
        slots=2,
        fee=False,
        auto=False,
        video_type=VideoType.INFLUENCER,
        days=20,
    )
    await _post_offer(
        w,
        globex_staff,
        globex,
        slots=3,
        fee=True,
        auto=False,
        video_type=VideoType.AMATEUR_WITH_FILE,
        days=20,
        content_days=5,
    )
    for offer_id in sorted(w.store.offers):
        for creator in creators:
            with contextlib.suppress(DomainError):
                await s.claim_offer(w.mp, creator, offer_id)
    # Two more offers nobody has claimed yet: one the system selects for, one for top creators.
    await _post_offer(
        w, acme_staff, acme, slots=2, fee=False, auto=True, video_type=VideoType.INFLUENCER, days=30
    )
    await _post_offer(
        w,
        globex_staff,
        globex,
        slots=2,
        fee=True,
        auto=False,
        video_type=VideoType.TOP_CREATOR_WITH_FILE,
        days=30,
        content_days=3,
    )
    return sellers, creators


@functools.cache
def _opening() -> tuple[bytes, list[tuple[int, Actor]], list[Actor]]:
    """The opening marketplace, built once (the store pickled) and copied for every run."""
    w = World()
    w.store = QuickStore()
    sellers, creators = asyncio.run(_open_marketplace(w))
    return pickle.dumps(w.store), sellers, creators


class MarketplaceDays(RuleBasedStateMachine):
    """Two sellers, four creators and the scheduler, doing anything in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.w = World()
        self.sellers: list[tuple[int, Actor]] = []
        self.creators: list[Actor] = []
        self.last_seen: dict[int, OrderState] = {}
        self.finished: dict[int, Order] = {}

    def teardown(self) -> None:
        self.loop.close()

    def run(self, move: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(move)

    # --- who is who --------------------------------------------------------------------

    def staff(self, seller_id: int) -> Actor:
        return next(staff for sid, staff in self.sellers if sid == seller_id)

    def other_staff(self, seller_id: int) -> Actor:
        return next(staff for sid, staff in self.sellers if sid != seller_id)

    def another_creator(self, creator_id: int | None) -> Actor:
        return next(c for c in self.creators if c.member_id != creator_id)

    def as_seller(self, seller_id: int, creator_id: int | None, who: str) -> tuple[Actor, bool]:
        """The actor for a seller's move, and whether they may make it."""
        if who == "own_staff":
            return self.staff(seller_id), True
        if who == "other_staff":
            return self.other_staff(seller_id), False
        if who == "its_creator" and creator_id is not None:
            return Actor.member(creator_id), False
        return self.another_creator(creator_id), False

    def as_creator(self, order: Order, who: str) -> tuple[Actor, bool]:
        """The actor for a creator's move on ``order``, and whether they may make it."""
        if who == "owner":
            return Actor.member(order.creator_id), True
        if who == "its_staff":
            return self.staff(order.seller_id), False
        return self.another_creator(order.creator_id), False

    def order(
        self, index: int, aimed: bool = False, states: frozenset[OrderState] = WAITING
    ) -> Order:
        """One of the orders; when ``aimed``, one in ``states`` if there is one."""
        orders = [self.w.store.orders[i] for i in sorted(self.w.store.orders)]
        fitting = [o for o in orders if o.state in states]
        chosen = fitting if aimed and fitting else orders
        return chosen[index % len(chosen)]

    def offer(
        self, index: int, aimed: bool = False, states: frozenset[OfferState] = OPEN_OFFERS
    ) -> Offer:
        """One of the offers; when ``aimed``, one in ``states`` if there is one."""
        offers = [self.w.store.offers[i] for i in sorted(self.w.store.offers)]
        fitting = [o for o in offers if o.state in states]
        chosen = fitting if aimed and fitting else offers
        return chosen[index % len(chosen)]

    def has_orders(self) -> bool:
        return bool(self.w.store.orders)

    def attempt(self, move: Coroutine[Any, Any, Any], *, allowed: bool = True) -> bool:
        """Run one use case. A refusal must leave everything as it was and queue no notice;
        a move by someone who may not make it must be refused."""
        before = _snapshot(self.w.store)
        try:
            self.run(move)
        except DomainError as error:
            refusal = error
        else:
            assert allowed, "someone who may not make this move made it"
            return True
        assert not isinstance(refusal, s.Busy), "a conflict that never went away"
        changed = _changes_since(before, self.w.store)
        assert not changed, f"refused with {refusal!r} yet changed {changed}"
        return False

    def post_offer(self, seller_id: int, **offer: Any) -> None:
        self.run(_post_offer(self.w, self.staff(seller_id), seller_id, **offer))

    # --- setting up --------------------------------------------------------------------

    @initialize(stages=st.lists(st.sampled_from(STAGES), min_size=7, max_size=7))
    def open_the_marketplace(self, stages: list[str]) -> None:
        """The opening marketplace, then a head start: each claim is taken some way along
        the ordinary journey, so that later stages are reached within a short run."""
        store, sellers, creators = _opening()
        self.w.store = pickle.loads(store)
        self.sellers, self.creators = list(sellers), list(creators)
        self.observe_orders()
        for order_id, stage in zip(sorted(self.w.store.orders), stages, strict=False):
            self.head_start(order_id, STAGES.index(stage))

    def head_start(self, order_id: int, stages: int) -> None:
        order = self.w.store.orders[order_id]
        creator, staff = Actor.member(order.creator_id), self.staff(order.seller_id)
        moves = [
            lambda: s.approve_order(self.w.mp, staff, order_id),
            lambda: s.record_shipment(self.w.mp, staff, order_id, "UPS", "1Z999AA10123456784"),
            lambda: s.submit_video(self.w.mp, creator, order_id, self.w.video(), "clip.mp4"),
            lambda: s.request_redo(self.w.mp, staff, order_id, [RedoReason.SHAKY]),
        ]
        for move in moves[:stages]:
            if not self.attempt(move()):
                return
            self.observe_orders()

    # --- offers ------------------------------------------------------------------------

    @precondition(lambda self: len(self.w.store.offers) < MAX_OFFERS)
    @rule(
        seller=pick,
        slots=st.integers(1, 3),
        fee=st.booleans(),
        auto=st.booleans(),
        video_type=st.sampled_from(VideoType),
        days=st.integers(1, 30),
        content_days=st.integers(1, 14),
        publish=st.sampled_from((True, True, True, False)),
    )
    def seller_posts_an_offer(
        self,
        seller: int,
        slots: int,
        fee: bool,
        auto: bool,
        video_type: VideoType,
        days: int,
        content_days: int,
        publish: bool,
    ) -> None:
        seller_id, _ = self.sellers[seller % len(self.sellers)]
        self.post_offer(
            seller_id,
            slots=slots,
            fee=fee,
            auto=auto,
            video_type=video_type,
            days=days,
            content_days=content_days,
            publish=publish,
        )

    @rule(
        offer=pick,
        aimed=aim,
        change=st.sampled_from(("pause", "resume", "close", "cancel", "publish")),
        who=seller_side,
    )
    def seller_changes_an_offer(self, offer: int, aimed: bool, change: str, who: str) -> None:
        chosen = self.offer(offer, aimed)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, None, who)
        use_case = {
            "pause": s.pause_offer,
            "resume": s.resume_offer,
            "close": s.close_offer,
            "cancel": s.cancel_offer,
            "publish": s.publish_offer,
        }[change]
        self.attempt(use_case(self.w.mp, actor, chosen.id), allowed=allowed)

    @rule(seller=pick, creator=pick, blocked=st.sampled_from((True, True, False)), who=seller_side)
    def seller_blocks_a_creator(self, seller: int, creator: int, blocked: bool, who: str) -> None:
        seller_id, _ = self.sellers[seller % len(self.sellers)]
        target_id = self.creators[creator % len(self.creators)].member_id
        assert target_id is not None
        actor, allowed = self.as_seller(seller_id, target_id, who)
        self.attempt(
            s.block_creator(self.w.mp, actor, seller_id, target_id, blocked), allowed=allowed
        )

    @rule()
    def the_application_deadlines_are_checked(self) -> None:
        assert self.attempt(s.end_due_offers(self.w.mp))
        now = self.w.clock.now()
        for offer in self.w.store.offers.values():
            if offer.state in (OfferState.LIVE, OfferState.PAUSED):
                assert offer.application_deadline > now, "an offer outlived its deadline"

    # --- claims and selection ----------------------------------------------------------

    @rule(claimer=pick, offer=pick, aimed=aim)
    def creator_claims_an_offer(self, claimer: int, offer: int, aimed: bool) -> None:
        chosen = self.offer(offer, aimed, frozenset({OfferState.LIVE}))
        assert chosen.id is not None
        # One more than the creators: a seller's staff member, who may not claim anything.
        people = [*self.creators, self.staff(chosen.seller_id)]
        claimed = {o.creator_id for o in self.w.store.orders.values() if o.offer_id == chosen.id}
        newcomers = [p for p in people if p.member_id not in claimed]
        if aimed and newcomers:
            people = newcomers
        actor = people[claimer % len(people)]
        self.attempt(
            s.claim_offer(self.w.mp, actor, chosen.id), allowed=self.may_claim(actor, chosen)
        )

    def may_claim(self, actor: Actor, offer: Offer) -> bool:
        """False when the product says this claim must be refused (ended, paused or
        ineligible offer, a second claim, a blocked creator, someone who is no creator)."""
        member = self.w.store.members[actor.member_id or 0]
        profile = member.creator
        if actor not in self.creators or profile is None:
            return False
        claimed = any(
            o.creator_id == actor.member_id and o.offer_id == offer.id
            for o in self.w.store.orders.values()
        )
        return (
            offer.state is OfferState.LIVE
            and self.w.clock.now() < offer.application_deadline
            and not claimed
            and actor.member_id not in self.w.store.sellers[offer.seller_id].blocked
            and (profile.is_influencer or not offer.video_type.needs_storefront)
            and (profile.top_creator or not offer.video_type.needs_top_creator)
        )

    @precondition(has_orders)
    @rule(order=pick, aimed=aim, who=creator_side)
    def creator_withdraws(self, order: int, aimed: bool, who: str) -> None:
        chosen = self.order(order, aimed, BEFORE_SHIPPING)
        assert chosen.id is not None
        actor, allowed = self.as_creator(chosen, who)
        self.attempt(s.withdraw_order(self.w.mp, actor, chosen.id), allowed=allowed)

    @precondition(has_orders)
    @rule(order=pick, aimed=aim, who=seller_side)
    def seller_approves_one(self, order: int, aimed: bool, who: str) -> None:
        chosen = self.order(order, aimed)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, chosen.creator_id, who)
        self.attempt(s.approve_order(self.w.mp, actor, chosen.id), allowed=allowed)

    @precondition(has_orders)
    @rule(
        orders=st.lists(pick, min_size=1, max_size=4),
        aimed=aim,
        who=st.sampled_from(("own_staff", "own_staff", "other_staff")),
    )
    def seller_approves_a_batch(self, orders: list[int], aimed: bool, who: str) -> None:
        chosen = [self.order(i, aimed) for i in orders]
        seller_id = chosen[0].seller_id
        actor, _ = self.as_seller(seller_id, None, who)
        # One order of another seller in the batch refuses the whole batch.
        allowed = who == "own_staff" and all(o.seller_id == seller_id for o in chosen)
        ids = [o.id for o in chosen if o.id is not None]
        self.attempt(s.approve_orders(self.w.mp, actor, ids), allowed=allowed)

    @rule(offer=pick, aimed=aim, count=st.integers(0, 4), who=seller_side)
    def seller_approves_the_top_recommended(
        self, offer: int, aimed: bool, count: int, who: str
    ) -> None:
        chosen = self.offer(offer, aimed)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, None, who)
        self.attempt(s.approve_top(self.w.mp, actor, chosen.id, count), allowed=allowed)

    @precondition(has_orders)
    @rule(
        order=pick,
        aimed=aim,
        reason=st.sampled_from((*REJECTION_REASONS, "because")),
        who=seller_side,
    )
    def seller_rejects(self, order: int, aimed: bool, reason: str, who: str) -> None:
        chosen = self.order(order, aimed)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, chosen.creator_id, who)
        self.attempt(s.reject_order(self.w.mp, actor, chosen.id, reason), allowed=allowed)

    @rule()
    def auto_selection_runs(self) -> None:
        assert self.attempt(s.auto_select_due(self.w.mp))
        waiting = {o.offer_id for o in self.w.store.orders.values() if o.state in WAITING}
        for offer_id, offer in self.w.store.offers.items():
            if offer.selection is SelectionMode.AUTO and offer.state is OfferState.LIVE:
                assert offer_id not in waiting, "free samples and applicants left unmatched"

    # --- address and shipping ----------------------------------------------------------

    @rule(creator=pick, address=st.sampled_from((ADDRESS, SECOND_ADDRESS)))
    def creator_enters_an_address(self, creator: int, address: ShippingAddress) -> None:
        actor = self.creators[creator % len(self.creators)]
        assert self.attempt(s.set_shipping_address(self.w.mp, actor, address))

    @precondition(has_orders)
    @rule(
        order=pick,
        aimed=aim,
        who=seller_side,
        carrier=st.sampled_from(("UPS", "DHL", "Royal Mail", " ")),
        tracking=st.sampled_from(
            ("1Z999AA10123456784", "JD014600006281230910", "TBA123456789000", "", "no!")
        ),
    )
    def seller_enters_tracking(
        self, order: int, aimed: bool, who: str, carrier: str, tracking: str
    ) -> None:
        chosen = self.order(order, aimed, frozenset({OrderState.PENDING_SHIPMENT}))
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, chosen.creator_id, who)
        self.attempt(
            s.record_shipment(self.w.mp, actor, chosen.id, carrier, tracking), allowed=allowed
        )

    # --- time and the scheduler --------------------------------------------------------

    @rule(days=st.integers(0, 8), hours=st.integers(0, 23))
    def time_passes(self, days: int, hours: int) -> None:
        """Days go by, and the scheduler does its rounds once a day as it does in production
        (the sweeps are also rules of their own, to run them at any other moment)."""
        self.w.later(hours=hours)
        for _ in range(days):
            self.w.later(days=1)
            self.the_application_deadlines_are_checked()
            self.overdue_videos_are_marked()
            self.due_reminders_go_out()

    @rule()
    def overdue_videos_are_marked(self) -> None:
        assert self.attempt(s.mark_overdue_videos(self.w.mp))
        now = self.w.clock.now()
        for order in self.w.store.orders.values():
            if order.state is OrderState.SHIPPED:
                assert order.video_due_at is not None
                assert order.video_due_at > now, "a late video was not marked overdue"

    @rule()
    def due_reminders_go_out(self) -> None:
        assert self.attempt(s.send_due_reminders(self.w.mp))
        now = self.w.clock.now()
        for order in self.w.store.orders.values():
            due = order.next_reminder_at
            if order.state is OrderState.VIDEO_OVERDUE and due is not None:
                assert due > now, "a due reminder was not sent"

    # --- videos and the seller's review ------------------------------------------------

    def link_for(self, order: Order, kind: str) -> str:
        if kind == "used_elsewhere":
            used = [
                h.url
                for oid, history in sorted(self.w.store.submissions.items())
                if oid != order.id
                for h in history
                if h.url
            ]
            if used:
                return used[0]
        if kind == "same_again" and order.video is not None and order.video.url:
            return order.video.url
        if kind == "product_page":
            return PRODUCT_PAGE
        if kind == "none":
            return ""
        return self.w.video()

    @precondition(has_orders)
    @rule(
        order=pick,
        aimed=aim,
        who=creator_side,
        link=st.sampled_from(("fresh", "fresh", "used_elsewhere", "same_again", "product_page")),
        file_ref=st.sampled_from(("clip-1.mp4", "clip-2.mp4", "")),
        no_link=st.sampled_from((False, False, True)),
    )
    def creator_submits_a_video(
        self, order: int, aimed: bool, who: str, link: str, file_ref: str, no_link: bool
    ) -> None:
        chosen = self.order(order, aimed, OPEN_VIDEO_STATES)
        assert chosen.id is not None
        actor, allowed = self.as_creator(chosen, who)
        url = self.link_for(chosen, "none" if no_link else link)
        self.attempt(s.submit_video(self.w.mp, actor, chosen.id, url, file_ref), allowed=allowed)

    @precondition(has_orders)
    @rule(
        order=pick,
        aimed=aim,
        who=seller_side,
        reasons=redo_reasons,
        note=st.sampled_from(("Please film in landscape", "", "x" * 1001)),
    )
    def seller_requests_a_redo(
        self, order: int, aimed: bool, who: str, reasons: frozenset[RedoReason], note: str
    ) -> None:
        chosen = self.order(order, aimed, VIDEO_IN)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, chosen.creator_id, who)
        self.attempt(
            s.request_redo(self.w.mp, actor, chosen.id, sorted(reasons), note), allowed=allowed
        )

    @precondition(has_orders)
    @rule(order=pick, aimed=aim, who=seller_side)
    def seller_accepts_the_video(self, order: int, aimed: bool, who: str) -> None:
        chosen = self.order(order, aimed, VIDEO_IN)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, chosen.creator_id, who)
        self.attempt(s.accept_video(self.w.mp, actor, chosen.id), allowed=allowed)

    @precondition(has_orders)
    @rule(order=pick, aimed=aim, who=seller_side, reference=st.sampled_from(("PAYPAL-77", "")))
    def seller_confirms_payment(self, order: int, aimed: bool, who: str, reference: str) -> None:
        chosen = self.order(order, aimed, VIDEO_IN)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, chosen.creator_id, who)
        self.attempt(s.confirm_payment(self.w.mp, actor, chosen.id, reference), allowed=allowed)

    @precondition(has_orders)
    @rule(
        order=pick,
        aimed=aim,
        who=seller_side,
        reason=st.sampled_from(("Out of stock", "Sample damaged", "", "x" * 501)),
    )
    def seller_cancels_an_order(self, order: int, aimed: bool, who: str, reason: str) -> None:
        chosen = self.order(order, aimed, frozenset(TRANSITIONS) - TERMINAL_STATES)
        assert chosen.id is not None
        actor, allowed = self.as_seller(chosen.seller_id, chosen.creator_id, who)
        self.attempt(s.cancel_order(self.w.mp, actor, chosen.id, reason), allowed=allowed)

    # --- what must hold after every step -----------------------------------------------

    @invariant()
    def orders_move_only_along_the_transition_table(self) -> None:
        self.observe_orders()

    def observe_orders(self) -> None:
        """Compare every order's state with the one seen last time; remember the new one."""
        orders = self.w.store.orders
        assert self.last_seen.keys() <= orders.keys(), "an order disappeared"
        for order_id, order in orders.items():
            assert isinstance(order.state, OrderState)
            before = self.last_seen.get(order_id)
            if before is None:
                assert order.state is OrderState.APPLIED, "a new order skipped the claim"
            elif order.state is not before:
                assert order.state in TRANSITIONS[before], f"{before} → {order.state}"
            self.last_seen[order_id] = order.state

    @invariant()
    def a_finished_order_never_changes_again(self) -> None:
        for order_id, order in self.w.store.orders.items():
            if order_id in self.finished:
                assert order == self.finished[order_id]
            elif order.state.terminal:
                self.finished[order_id] = copy.deepcopy(order)

    @invariant()
    def slots_are_never_overbooked(self) -> None:
        orders = list(self.w.store.orders.values())
        for offer_id, offer in self.w.store.offers.items():
            mine = [o for o in orders if o.offer_id == offer_id]
            assert offer.selected_count == sum(o.state.holds_slot for o in mine)
            assert offer.selected_count <= offer.slots
            assert offer.applied_count == len(mine), "every claim is counted once"
            assert all(o.seller_id == offer.seller_id for o in mine)
            if offer.state in (OfferState.LIVE, OfferState.PAUSED):
                assert offer.open_slots > 0, "a full offer should have ended"

    @invariant()
    def an_ended_offer_leaves_nobody_waiting(self) -> None:
        for order in self.w.store.orders.values():
            offer = self.w.store.offers[order.offer_id]
            if offer.finished:
                assert order.state is not OrderState.APPLIED

    @invariant()
    def a_creators_counters_match_their_orders(self) -> None:
        for creator in self.creators:
            member = self.w.member(creator)
            profile = member.creator
            assert profile is not None
            mine = [o for o in self.w.store.orders.values() if o.creator_id == member.id]
            counted = [o for o in mine if o.completion_counted]
            assert profile.completed_videos == len(counted), "completion counts once per order"
            assert profile.on_time_videos == sum(bool(o.on_time) for o in counted)
            assert profile.on_time_videos <= profile.completed_videos
            assert profile.redo_orders == sum(o.redo_count > 0 for o in mine)
            assert profile.selected_total == sum(o.selected_at is not None for o in mine)

    @invariant()
    def nobody_waits_for_an_address_already_given(self) -> None:
        for order in self.w.store.orders.values():
            if order.state is OrderState.AWAITING_ADDRESS:
                profile = self.w.store.members[order.creator_id].creator
                assert profile is not None
                assert profile.address is None

    @invariant()
    def a_paid_order_was_paid_what_the_offer_promised(self) -> None:
        for order in self.w.store.orders.values():
            if order.state is OrderState.PAID:
                reward = self.w.store.offers[order.offer_id].reward
                assert order.payment is not None
                assert order.accepted_at is not None
                assert order.payment.amount == reward.fee

    @invariant()
    def one_video_completes_one_order(self) -> None:
        keys = [o.video.key for o in self.w.store.orders.values() if o.video is not None]
        assert len(keys) == len(set(keys)), Counter(keys).most_common(1)

    @invariant()
    def every_notice_goes_once_to_the_right_person(self) -> None:
        outbox = self.w.store.outbox
        keys = [e.key for e in outbox]
        assert len(keys) == len(set(keys))
        orders = self.w.store.orders
        for entry in outbox:
            order_id = entry.params.get("order_id")
            if entry.template in CREATOR_NOTICES:
                assert isinstance(order_id, int)
                assert entry.recipient_id == orders[order_id].creator_id
            elif entry.template in STAFF_ORDER_NOTICES:
                assert isinstance(order_id, int)
                staff = self.w.store.sellers[orders[order_id].seller_id].staff
                assert entry.recipient_id in staff

    @invariant()
    def creators_are_told_what_happened_to_their_orders(self) -> None:
        told = Counter(
            (e.params.get("order_id"), e.template)
            for e in self.w.store.outbox
            if e.recipient_id is not None
        )
        policy = self.w.mp.policy
        for order_id, order in self.w.store.orders.items():

            def count(*templates: T, order_id: int = order_id) -> int:
                return sum(told[(order_id, t)] for t in templates)

            assert count(T.NEW_APPLICATION) == 1
            assert count(T.ORDER_SELECTED) == (order.selected_at is not None)
            if order.state is OrderState.REJECTED:
                assert count(T.ORDER_NOT_SELECTED, T.OFFER_CLOSED) == 1
            if order.state is OrderState.CANCELLED:
                assert count(T.ORDER_CANCELLED) == 1
            if order.state is OrderState.WITHDRAWN:
                assert count(T.CREATOR_WITHDREW) == 1
                withdrew = next(
                    e
                    for e in self.w.store.outbox
                    if e.key.startswith(f"order_withdrawn:{order_id}:")
                )
                assert withdrew.params["was_selected"] == (order.selected_at is not None)
            assert count(T.ORDER_SHIPPED) == (order.shipment is not None)
            assert count(T.VIDEO_OVERDUE, T.VIDEO_REMINDER) == order.reminders_sent
            assert order.reminders_sent <= policy.reminders_total
            assert count(T.REDO_REQUESTED) == order.redo_count
            assert count(T.VIDEO_SUBMITTED, T.VIDEO_RESUBMITTED) == order.submissions
            assert count(T.VIDEO_ACCEPTED) == (order.accepted_at is not None)
        ended = Counter(
            e.params["offer_id"] for e in self.w.store.outbox if e.template == T.OFFER_ENDED
        )
        for offer_id, offer in self.w.store.offers.items():
            staff = self.w.store.sellers[offer.seller_id].staff
            assert ended[offer_id] == (len(staff) if offer.state is OfferState.ENDED else 0)


def test_the_marketplace_keeps_its_rules_whatever_people_do() -> None:
    run_state_machine_as_test(
        MarketplaceDays,
        settings=settings(max_examples=50, stateful_step_count=50, deadline=None),
    )


# --- 2. one order on its own -------------------------------------------------------------

Move = tuple[str, int, dict[str, Any]]


def _move(name: str, **arguments: st.SearchStrategy[Any]) -> st.SearchStrategy[Move]:
    """A call of one ``Order`` method, some hours after the previous one."""
    return st.tuples(st.just(name), st.integers(0, 24 * 20), st.fixed_dictionaries(arguments))


order_moves = st.one_of(
    _move("select", has_address=st.booleans(), automatic=st.booleans()),
    _move("reject", reason=st.sampled_from((*REJECTION_REASONS, "because"))),
    _move("withdraw"),
    _move("address_received"),
    _move("ship", content_days=st.integers(1, 30)),
    _move("mark_overdue", more_reminders=st.booleans()),
    _move("remind", final=st.booleans()),
    _move(
        "submit_video",
        key=st.sampled_from(("vdp:" + "a" * 32, "vdp:" + "b" * 32, "file:clip.mp4")),
        file_ref=st.sampled_from(("", "clip.mp4")),
    ),
    _move(
        "request_redo",
        reasons=st.frozensets(st.sampled_from(RedoReason), max_size=3),
        note=st.sampled_from(("Please film in landscape", "", "  ", "x" * 1001)),
    ),
    _move("accept_video", has_fee=st.booleans()),
    _move("confirm_payment", reference=st.sampled_from(("", "PAYPAL-77", "y" * 150))),
    _move("cancel", reason=st.sampled_from(("Out of stock", "", "  ", "x" * 501))),
)
SELLER_STAFF = 7
FEE = Money(Decimal("25.00"), "USD")


def _make(order: Order, name: str, now: datetime, arguments: dict[str, Any]) -> Any:
    """Call the ``Order`` method ``name`` at ``now``; returns what it returns."""
    later = now + timedelta(days=3)
    match name:
        case "select":
            return order.select(now, **arguments)
        case "reject":
            return order.reject(now, arguments["reason"])
        case "withdraw":
            return order.withdraw(now)
        case "address_received":
            return order.address_received()
        case "ship":
            shipment = Shipment("UPS", "1Z999AA10123456784", None, now)
            return order.ship(shipment, now + timedelta(days=arguments["content_days"]))
        case "mark_overdue":
            return order.mark_overdue(now, later if arguments["more_reminders"] else None)
        case "remind":
            return order.remind(now, final=arguments["final"], next_reminder_at=later)
        case "submit_video":
            key = arguments["key"]
            url = "" if key.startswith("file:") else "https://www.amazon.com/vdp/" + key[4:]
            return order.submit_video(now, url, key, arguments["file_ref"])
        case "request_redo":
            return order.request_redo(now, SELLER_STAFF, arguments["reasons"], arguments["note"])
        case "accept_video":
            return order.accept_video(now, has_fee=arguments["has_fee"], by=SELLER_STAFF)
        case "confirm_payment":
            return order.confirm_payment(now, SELLER_STAFF, FEE, arguments["reference"])
        case "cancel":
            return order.cancel(now, arguments["reason"])
    raise AssertionError(f"no such move: {name}")


def _as_it_is(order: Order) -> dict[str, Any]:
    """Every field of the order but its events, copied."""
    return {
        f.name: copy.deepcopy(getattr(order, f.name))
        for f in dataclasses.fields(order)
        if f.name != "events"
    }


def _claimed_order() -> Order:
    return Order(id=1, offer_id=2, seller_id=3, creator_id=4, applied_at=START)


@settings(max_examples=200, deadline=None)
@given(moves=st.lists(order_moves, max_size=40))
def test_an_order_moves_only_along_the_table_and_a_refused_move_changes_nothing(
    moves: list[Move],
) -> None:
    order = _claimed_order()
    now = START
    completions = first_redos = 0
    visited = {order.state}
    for name, hours, arguments in moves:
        now += timedelta(hours=hours)
        before = _as_it_is(order)
        state, events = order.state, len(order.events)
        try:
            result = _make(order, name, now, arguments)
        except DomainError:
            assert _as_it_is(order) == before, f"{name} was refused but changed the order"
            assert len(order.events) == events, f"{name} was refused but told someone"
            continue
        assert not state.terminal, f"a {state} order accepted {name}"
        if order.state is state:
            # Only a further reminder or accepting a fee video leaves the state as it was.
            assert name in ("remind", "accept_video"), f"{name} succeeded but did nothing"
        else:
            assert order.state in TRANSITIONS[state], f"{state} → {order.state} by {name}"
        assert len(order.events) > events, f"{name} told nobody"
        if name == "submit_video" and result:
            completions += 1
        if name == "request_redo" and result:
            first_redos += 1
        visited.add(order.state)
    assert completions == int(order.completion_counted), "completion counts once per order"
    assert first_redos == int(order.redo_count > 0), "only the first redo is counted"
    target(float(len(visited)), label="states visited")


@settings(max_examples=50, deadline=None)
@given(
    redos=st.integers(0, 4),
    late=st.booleans(),
    key=st.sampled_from(("vdp:" + "a" * 32, "file:clip.mp4")),
)
def test_a_video_counts_once_per_order_however_many_redos(redos: int, late: bool, key: str) -> None:
    order = _claimed_order()
    order.select(START, has_address=True, automatic=False)
    due = START + timedelta(days=14)
    order.ship(Shipment("UPS", "1Z999AA10123456784", None, START), due)
    now = due + timedelta(days=1) if late else START + timedelta(days=2)
    counted = [order.submit_video(now, "", key)]
    for number in range(redos):
        now += timedelta(days=1)
        first = order.request_redo(now, SELLER_STAFF, frozenset({RedoReason.BLURRY}), "")
        assert first == (number == 0)
        counted.append(order.submit_video(now + timedelta(hours=1), "", key))
    assert counted == [True] + [False] * redos
    assert order.on_time is not late, "on time is judged by the first video"
    assert (order.submissions, order.redo_count) == (redos + 1, redos)


def _finished(state: OrderState) -> Order:
    """An order brought to the terminal ``state`` the ordinary way."""
    order = _claimed_order()
    if state is OrderState.PAID:
        order.select(START, has_address=True, automatic=False)
        shipment = Shipment("UPS", "1Z999AA10123456784", None, START)
        order.ship(shipment, START + timedelta(days=14))
        link = "https://www.amazon.com/vdp/" + "a" * 32
        order.submit_video(START + timedelta(days=3), link, "vdp:" + "a" * 32)
        order.accept_video(START + timedelta(days=4), has_fee=False, by=SELLER_STAFF)
    elif state is OrderState.REJECTED:
        order.reject(START, "not_a_fit")
    elif state is OrderState.WITHDRAWN:
        order.withdraw(START)
    else:
        order.cancel(START, "Out of stock")
    assert order.state is state
    return order


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES))
@settings(max_examples=60, deadline=None)
@given(moves=st.lists(order_moves, min_size=1, max_size=10))
def test_a_finished_order_refuses_every_move(state: OrderState, moves: list[Move]) -> None:
    order = _finished(state)
    before = _as_it_is(order)
    now = START + timedelta(days=5)
    for name, hours, arguments in moves:
        now += timedelta(hours=hours)
        with pytest.raises(DomainError):
            _make(order, name, now, arguments)
        assert _as_it_is(order) == before


# --- 3. the transition table --------------------------------------------------------------


def _product_description() -> Path | None:
    """PRODUCT.md: ``COLLABBOT_PRODUCT_DOC``, or the design folder next to the checkout."""
    repo = Path(__file__).resolve().parents[2]
    candidates = [
        os.environ.get("COLLABBOT_PRODUCT_DOC", ""),
        repo / "docs" / "PRODUCT.md",
        repo.parent / "shared" / "design" / "PRODUCT.md",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _order_table() -> list[tuple[set[str], str]]:
    """The rows of the product's order table: (states named in the row, "moved on by")."""
    path = _product_description()
    if path is None:
        pytest.skip("PRODUCT.md not found; set COLLABBOT_PRODUCT_DOC to its path")
    text = path.read_text(encoding="utf-8")
    section = text.split("## Orders", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((set(re.findall(r"`([a-z_]+)`", cells[0])), cells[2]))
    assert rows, "no order table in PRODUCT.md"
    return rows


def test_the_order_states_are_the_ones_the_product_describes() -> None:
    described = set().union(*(states for states, _ in _order_table()))
    assert described == {state.value for state in OrderState}
    assert set(TRANSITIONS) == set(OrderState)


def test_only_the_states_nobody_moves_on_are_final() -> None:
    described = {
        state for states, moved_by in _order_table() for state in states if moved_by == "—"
    }
    assert described == {state.value for state in TERMINAL_STATES}
    assert {state for state, targets in TRANSITIONS.items() if not targets} == TERMINAL_STATES


def test_every_move_the_product_names_is_in_the_table() -> None:
    for states, moved_by in _order_table():
        for target_state in re.findall(r"→ `([a-z_]+)`", moved_by):
            for state in states:
                assert OrderState(target_state) in TRANSITIONS[OrderState(state)]


def _reachable(start: OrderState) -> set[OrderState]:
    seen, todo = {start}, [start]
    while todo:
        for following in TRANSITIONS[todo.pop()] - seen:
            seen.add(following)
            todo.append(following)
    return seen


def test_every_open_order_can_still_reach_an_end() -> None:
    for state in OrderState:
        if not state.terminal:
            assert _reachable(state) & TERMINAL_STATES, f"{state} can never finish"


def test_every_state_can_be_reached_from_a_claim() -> None:
    assert _reachable(OrderState.APPLIED) == set(OrderState)
