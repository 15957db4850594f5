"""The scheduler's jobs over the in-memory marketplace: what is due happens exactly once,
whichever scheduler instance runs it, however often, and after however long a pause."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from core import services as s
from core.domain.offers import OfferState, SelectionMode
from core.domain.orders import OrderState
from core.notices import NoticeTemplate as T
from core.services import Actor, Marketplace
from notifications.leader import LocalLeaderLock
from notifications.scheduler import Job, Scheduler, SchedulerConfig, SweepJobs, drain
from tests.fakes import FakeUnitOfWork
from tests.unit.world import World


def scheduler(mp: Marketplace, **config: int) -> Scheduler:
    """A scheduler over ``mp``, as one process would build it."""
    return Scheduler.for_marketplace(mp, LocalLeaderLock("unused"), SchedulerConfig(**config))


def restarted(w: World) -> Marketplace:
    """What a new process sees: a new marketplace over the same durable store and clock."""
    return Marketplace(lambda: FakeUnitOfWork(w.store, w.clock), w.clock, w.mp.policy)


async def shipped_order(w: World) -> tuple[Actor, int]:
    seller_id, staff = await w.seller()
    creator = await w.creator("Ana")
    offer = await w.offer(seller_id, content_deadline_days=7)
    assert offer.id is not None
    order = await s.claim_offer(w.mp, creator, offer.id)
    assert order.id is not None
    await s.approve_order(w.mp, staff, order.id)
    await s.record_shipment(w.mp, staff, order.id, "UPS", "1Z999AA10123456784")
    return creator, order.id


def keys(w: World, *templates: T) -> Counter[str]:
    return Counter(e.key for e in w.store.outbox if e.template in templates)


# --- video reminders --------------------------------------------------------------------


async def test_reminders_fire_once_each_while_two_schedulers_take_turns_across_restarts() -> None:
    w = World()
    creator, order_id = await shipped_order(w)
    first, second = scheduler(w.mp), scheduler(restarted(w))
    # Thirty days, four runs a day; each run is done by one "process" or the other, and at
    # every sixth run the other one repeats it at once (a restart right after a run).
    for run in range(30 * 4):
        current, other = (first, second) if run % 3 else (second, first)
        await current.run_once()
        if run % 6 == 0:
            await other.run_once()
        w.later(hours=6)

    overdue = w.notices(T.VIDEO_OVERDUE, creator)
    reminders = w.notices(T.VIDEO_REMINDER, creator)
    assert len(overdue) == 1
    assert [r.params["number"] for r in reminders] == [2, 3, 4]  # reminders_total = 4
    assert [r.params["final"] for r in reminders] == [False, False, True]
    assert all(n == 1 for n in keys(w, T.VIDEO_OVERDUE, T.VIDEO_REMINDER).values())
    # Three days apart (Policy.reminder_interval_days), to within one run.
    times = [n.created_at for n in (*overdue, *reminders)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(timedelta(days=3) <= gap <= timedelta(days=3, hours=6) for gap in gaps)
    order = w.store.orders[order_id]
    assert order.state is OrderState.VIDEO_OVERDUE
    assert order.reminders_sent == 4
    assert order.next_reminder_at is None
    assert first.done["video_reminders"] + second.done["video_reminders"] == 3


async def test_a_long_outage_loses_no_reminder_and_does_not_send_a_burst() -> None:
    w = World()
    creator, _ = await shipped_order(w)
    w.later(days=40)  # nobody ran the scheduler for 40 days: well past deadline and reminders

    await scheduler(restarted(w)).run_once()
    assert len(w.notices(T.VIDEO_OVERDUE, creator)) == 1
    assert w.notices(T.VIDEO_REMINDER, creator) == []  # the catch-up run sends one notice

    for _ in range(3):
        w.later(days=3)
        await scheduler(restarted(w)).run_once()
        await scheduler(restarted(w)).run_once()
    assert [r.params["number"] for r in w.notices(T.VIDEO_REMINDER, creator)] == [2, 3, 4]


async def test_reminder_settings_come_from_the_policy() -> None:
    w = World()
    w.mp.policy = replace(w.mp.policy, reminder_interval_days=1, reminders_total=2)
    creator, _ = await shipped_order(w)
    jobs = scheduler(w.mp)
    for _ in range(20):
        w.later(days=1)
        await jobs.run_once()
    reminders = w.notices(T.VIDEO_REMINDER, creator)
    assert len(w.notices(T.VIDEO_OVERDUE, creator)) == 1
    assert [(r.params["number"], r.params["final"]) for r in reminders] == [(2, True)]
    assert reminders[0].created_at - w.notices(T.VIDEO_OVERDUE)[0].created_at == timedelta(days=1)


async def test_a_video_handed_in_stops_the_reminders() -> None:
    w = World()
    creator, order_id = await shipped_order(w)
    jobs = scheduler(w.mp)
    w.later(days=8)
    await jobs.run_once()
    await s.submit_video(w.mp, creator, order_id, w.video())
    for _ in range(10):
        w.later(days=3)
        await jobs.run_once()
    assert len(w.notices(T.VIDEO_OVERDUE, creator)) == 1
    assert w.notices(T.VIDEO_REMINDER, creator) == []


# --- application deadlines --------------------------------------------------------------


async def test_an_offer_ends_at_its_deadline_and_its_applicants_are_told_once() -> None:
    w = World()
    seller_id, staff = await w.seller()
    ana, ben = await w.creator("Ana"), await w.creator("Ben")
    offer = await w.offer(seller_id)
    assert offer.id is not None
    for creator in (ana, ben):
        await s.claim_offer(w.mp, creator, offer.id)

    first, second = scheduler(w.mp), scheduler(restarted(w))
    await first.run_once()
    assert w.store.offers[offer.id].state is OfferState.LIVE  # not due yet

    w.clock.set(offer.application_deadline)
    await first.run_once()
    await second.run_once()
    w.later(days=1)
    await second.run_once()

    assert w.store.offers[offer.id].state is OfferState.ENDED
    assert w.store.offers[offer.id].end_reason == "deadline"
    closed = w.notices(T.OFFER_CLOSED)
    assert sorted(n.recipient_id for n in closed) == sorted([ana.member_id, ben.member_id])
    assert [n.recipient_id for n in w.notices(T.OFFER_ENDED)] == [staff.member_id]
    assert first.done["offer_deadlines"] + second.done["offer_deadlines"] == 1


async def test_one_run_works_through_many_due_offers_in_batches_and_stops_at_its_cap() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offers = [await w.offer(seller_id) for _ in range(25)]
    w.later(days=15)

    capped = scheduler(w.mp, batch_size=10, max_batches_per_run=2)
    await capped.run_once()
    assert capped.done["offer_deadlines"] == 20  # two batches, then the run stops
    await capped.run_once()
    assert capped.done["offer_deadlines"] == 25
    assert all(w.store.offers[o.id].state is OfferState.ENDED for o in offers if o.id)


async def test_drain_repeats_a_sweep_until_it_finds_nothing_or_hits_the_cap() -> None:
    calls: list[int] = []
    left = [10, 10, 3, 0, 7]

    async def sweep(limit: int) -> int:
        calls.append(limit)
        return left[len(calls) - 1]

    assert await drain(sweep, 10, max_batches=20) == 23
    assert calls == [10, 10, 10, 10]

    async def endless(limit: int) -> int:
        return limit

    assert await drain(endless, 5, max_batches=3) == 15


# --- auto-selection ---------------------------------------------------------------------


async def test_auto_offers_select_their_applicants_once() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id, slots=2, selection=SelectionMode.AUTO)
    assert offer.id is not None
    creators = [await w.creator(name) for name in ("Ana", "Ben", "Cy")]
    for creator in creators:
        await s.claim_offer(w.mp, creator, offer.id)

    first, second = scheduler(w.mp), scheduler(restarted(w))
    await first.run_once()
    await second.run_once()

    stored = w.store.offers[offer.id]
    assert stored.selected_count == 2
    assert stored.state is OfferState.ENDED
    assert stored.end_reason == "slots_filled"
    assert len(w.notices(T.ORDER_SELECTED)) == 2
    assert len(w.notices(T.OFFER_CLOSED)) == 1  # the third applicant is told
    assert first.done["auto_selection"] + second.done["auto_selection"] == 2


async def test_seller_offers_are_never_auto_selected() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id, slots=2)
    assert offer.id is not None
    await s.claim_offer(w.mp, await w.creator(), offer.id)
    await scheduler(w.mp).run_once()
    assert w.store.offers[offer.id].selected_count == 0
    assert w.notices(T.ORDER_SELECTED) == []


# --- the jobs themselves ----------------------------------------------------------------


async def test_a_failing_job_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id)
    w.later(days=15)

    async def broken() -> int:
        raise RuntimeError("boom")

    jobs = Scheduler(
        [Job("broken", 60, broken), *SweepJobs(w.mp).jobs()], LocalLeaderLock("unused")
    )
    await jobs.run_once()
    assert jobs.failures == Counter({"broken": 1})
    assert jobs.done["offer_deadlines"] == 1
    assert offer.id is not None
    assert w.store.offers[offer.id].state is OfferState.ENDED
    assert "job broken failed" in caplog.text


def test_the_marketplace_jobs_and_their_intervals() -> None:
    config = SchedulerConfig(sweep_interval=30, auto_selection_interval=90, offer_push_interval=600)
    jobs = {job.name: job.interval for job in SweepJobs(World().mp, config).jobs()}
    assert jobs == {
        "offer_deadlines": 30,
        "video_overdue": 30,
        "video_reminders": 30,
        "auto_selection": 90,
        "offer_pushes": 600,
    }


def test_job_names_must_be_unique() -> None:
    async def nothing() -> int:
        return 0

    with pytest.raises(ValueError, match="unique"):
        Scheduler([Job("a", 1, nothing), Job("a", 2, nothing)], LocalLeaderLock("unused"))
