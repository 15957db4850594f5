"""The scheduler's life in one process: leading, standing by, losing and regaining the lock,
and stopping — with APScheduler really running the jobs on short intervals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from core.domain.offers import OfferState
from notifications.leader import LeaderLockUnavailable, LocalLeaderLock
from notifications.scheduler import Job, Scheduler, SchedulerConfig
from tests.unit.world import World

CHECK = 0.05


class Counting:
    """A job that counts its runs and how many of them overlapped."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.runs = 0
        self.running = 0
        self.most_at_once = 0
        self.cancelled = 0

    async def __call__(self) -> int:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1
        self.runs += 1
        return 1


class ControlledLock:
    """A lock the test hands out and takes away."""

    kind = "test"

    def __init__(self) -> None:
        self.free = True
        self.held = False
        self.unreachable = 0
        self.closed = False

    async def acquire(self) -> bool:
        if self.unreachable:
            self.unreachable -= 1
            raise LeaderLockUnavailable("connection refused")
        if self.free:
            self.free, self.held = False, True
        return self.held

    async def confirm(self) -> bool:
        return self.held

    def take_away(self) -> None:
        self.held = False

    async def close(self) -> None:
        self.closed = True
        self.held, self.free = False, True


async def eventually(condition: Callable[[], bool], within: float = 3.0) -> float:
    """Wait until ``condition()`` holds; how long it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


@contextlib.asynccontextmanager
async def running(scheduler: Scheduler) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def make(job: Callable[[], Awaitable[int]], lock: object, interval: float = 0.05) -> Scheduler:
    return Scheduler(
        [Job("count", interval, job)],
        lock,  # type: ignore[arg-type]
        leader_check_interval=CHECK,
        stop_grace=1.0,
    )


async def test_of_two_schedulers_only_one_runs_the_jobs_and_the_other_takes_over() -> None:
    first_job, second_job = Counting(), Counting()
    first = make(first_job, LocalLeaderLock("pair"))
    second = make(second_job, LocalLeaderLock("pair"))
    async with running(first) as stop_first, running(second):
        await eventually(lambda: first_job.runs >= 3)
        await asyncio.sleep(0.2)
        assert first.leading
        assert not second.leading
        assert second_job.runs == 0

        stop_first.set()
        took = await eventually(lambda: second_job.runs >= 1)
        assert took < 1.0
        assert second.leading
        assert not first.leading
        ran = first_job.runs
        await asyncio.sleep(0.2)
        assert first_job.runs == ran  # the stopped one does nothing more
    assert LocalLeaderLock._holders.get("pair") is None


async def test_a_job_never_overlaps_itself_and_late_runs_are_coalesced() -> None:
    slow = Counting(seconds=0.25)
    scheduler = make(slow, LocalLeaderLock("slow"), interval=0.02)
    async with running(scheduler):
        await eventually(lambda: slow.runs >= 3)
    assert slow.most_at_once == 1


async def test_losing_the_lock_cancels_the_jobs_in_flight_and_standby_resumes_later() -> None:
    job = Counting(seconds=30)  # would run far longer than the test
    lock = ControlledLock()
    scheduler = make(job, lock)
    async with running(scheduler):
        await eventually(lambda: job.running == 1)
        lock.take_away()
        await eventually(lambda: job.cancelled == 1)
        assert not scheduler.leading
        assert job.running == 0

        lock.free = True
        await eventually(lambda: scheduler.terms == 2)
        await eventually(lambda: job.running == 1)
    assert lock.closed
    assert job.cancelled == 2  # the second term's run was cut short by the stop grace


async def test_a_stop_lets_the_job_in_flight_finish_within_the_grace() -> None:
    job = Counting(seconds=0.2)
    lock = ControlledLock()
    async with running(make(job, lock)):
        await eventually(lambda: job.running == 1)
    assert job.runs == 1
    assert job.cancelled == 0
    assert lock.closed


async def test_an_unreachable_lock_is_reported_once_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="notifications.scheduler")
    job = Counting()
    lock = ControlledLock()
    lock.unreachable = 5
    scheduler = make(job, lock)
    async with running(scheduler):
        await eventually(lambda: job.runs >= 1)
    assert caplog.text.count("cannot reach the test lock") == 1
    assert "reachable again" in caplog.text


async def test_what_is_due_is_decided_by_the_marketplace_clock() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id)
    assert offer.id is not None
    w.later(days=15)  # the fixed clock is past the deadline; the wall clock is not
    config = SchedulerConfig(sweep_interval=0.05, leader_check_interval=CHECK)
    scheduler = Scheduler.for_marketplace(w.mp, LocalLeaderLock("clock"), config)
    async with running(scheduler):
        await eventually(lambda: w.store.offers[offer.id].state is OfferState.ENDED)
    assert scheduler.done["offer_deadlines"] == 1
    assert scheduler.runs["offer_deadlines"] >= 1
