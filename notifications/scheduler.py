"""The scheduler: the jobs that move the marketplace on when nobody presses a button.

Jobs (each an APScheduler 3 interval job, ``max_instances=1``, ``coalesce=True``):

- ``offer_deadlines`` — offers past their application deadline end; pending applicants are
  declined and told (:func:`core.services.offers.end_due_offers`).
- ``video_overdue`` — shipped orders past their content deadline become ``video_overdue`` and
  the first reminder is queued (:func:`core.services.fulfilment.mark_overdue_videos`).
- ``video_reminders`` — further reminders every ``Policy.reminder_interval_days``, the last of
  ``Policy.reminders_total`` marked final (:func:`core.services.fulfilment.send_due_reminders`).
- ``auto_selection`` — ``auto`` offers select their best applicants
  (:func:`core.services.selection.auto_select_due`).
- ``offer_pushes`` — "a new offer for you" for live offers short of applicants
  (:func:`core.services.offer_pushes.push_new_offers`).

Other parts of the system add theirs (seller digests, scheduled broadcasts) as :class:`Job`
values through ``extra_jobs``.

**Nothing is lost, nothing is done twice.** The durable truth is in the database: due times
are columns on the rows (an offer's application deadline, an order's ``video_due_at`` and
``next_reminder_at``), and a job only sweeps what is due *now* by the marketplace's clock. A
sweep changes each row in its own version-checked unit of work together with the notices it
causes, whose outbox keys are unique. A restart, a missed or late run, or a run repeated by a
second process therefore finds exactly the work still to do. Each run is bounded: a sweep is
repeated while it finds work, at most ``max_batches_per_run`` batches, and the rest waits for
the next run.

**Exactly one scheduler.** Every process with the scheduler enabled runs :class:`Scheduler`,
but only the holder of the :mod:`leader lock <notifications.leader>` starts the jobs; the
others poll the lock every ``leader_check_interval`` seconds as standby. The leader re-checks
its lock at the same pace and stops its jobs at once when the lock is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.services import Marketplace
from core.services.fulfilment import mark_overdue_videos, send_due_reminders
from core.services.offer_pushes import push_new_offers
from core.services.offers import end_due_offers
from core.services.selection import auto_select_due
from notifications.leader import LeaderLock, LeaderLockUnavailable

__all__ = ["Job", "Scheduler", "SchedulerConfig", "SweepJobs", "drain"]

logger = logging.getLogger(__name__)
# APScheduler logs every run of every job twice at INFO; this module logs what each run did.
# Its warnings (a run missed) and errors still show. An explicitly set level is kept.
_APSCHEDULER_LOGGER = logging.getLogger("apscheduler")


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """How often the jobs run and how much one run may do."""

    sweep_interval: float = 60.0
    """Seconds between sweeps for offer deadlines, overdue videos and reminders."""
    auto_selection_interval: float = 300.0
    offer_push_interval: float = 3600.0
    leader_check_interval: float = 5.0
    """Seconds between the leader's lock checks, and between a standby's attempts to lead."""
    batch_size: int = 100
    """Rows one sweep takes at a time."""
    max_batches_per_run: int = 20
    """Sweeps one run repeats at most while they keep finding work."""
    max_pushes_per_run: int = 2000
    push_batch_size: int = 200
    """Creators read at a time when looking for whom to push an offer to."""
    stop_grace: float = 5.0
    """Seconds a job in flight may take to finish when the process stops."""

    def __post_init__(self) -> None:
        for name in (
            "sweep_interval",
            "auto_selection_interval",
            "offer_push_interval",
            "leader_check_interval",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above zero")
        if self.batch_size < 1 or self.max_batches_per_run < 1 or self.push_batch_size < 1:
            raise ValueError("batch sizes must be at least 1")


@dataclass(frozen=True, slots=True)
class Job:
    """A scheduled job: ``run`` does one bounded pass and returns how much it did."""

    name: str
    interval: float
    run: Callable[[], Awaitable[int]]


async def drain(sweep: Callable[[int], Awaitable[int]], batch: int, max_batches: int) -> int:
    """Repeat ``sweep(batch)`` until it does nothing, at most ``max_batches`` times; the total."""
    total = 0
    for _ in range(max_batches):
        done = await sweep(batch)
        total += done
        if done == 0:
            break
    return total


class SweepJobs:
    """The marketplace's own jobs, each a bounded call of an idempotent use case."""

    def __init__(self, mp: Marketplace, config: SchedulerConfig | None = None) -> None:
        self.mp = mp
        self.config = config or SchedulerConfig()

    async def _drain(self, sweep: Callable[..., Awaitable[int]]) -> int:
        async def once(limit: int) -> int:
            return await sweep(self.mp, limit=limit)

        return await drain(once, self.config.batch_size, self.config.max_batches_per_run)

    async def offer_deadlines(self) -> int:
        return await self._drain(end_due_offers)

    async def video_overdue(self) -> int:
        return await self._drain(mark_overdue_videos)

    async def video_reminders(self) -> int:
        return await self._drain(send_due_reminders)

    async def auto_selection(self) -> int:
        return await self._drain(auto_select_due)

    async def offer_pushes(self) -> int:
        return await push_new_offers(
            self.mp,
            batch=self.config.push_batch_size,
            limit=self.config.max_pushes_per_run,
        )

    def jobs(self) -> list[Job]:
        c = self.config
        return [
            Job("offer_deadlines", c.sweep_interval, self.offer_deadlines),
            Job("video_overdue", c.sweep_interval, self.video_overdue),
            Job("video_reminders", c.sweep_interval, self.video_reminders),
            Job("auto_selection", c.auto_selection_interval, self.auto_selection),
            Job("offer_pushes", c.offer_push_interval, self.offer_pushes),
        ]


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds``; ``True`` as soon as ``stop`` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


class Scheduler:
    """Runs the jobs while this process holds the leader lock; waits as standby otherwise."""

    def __init__(
        self,
        jobs: Sequence[Job],
        lock: LeaderLock,
        *,
        leader_check_interval: float = 5.0,
        stop_grace: float = 5.0,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.jobs = list(jobs)
        self.lock = lock
        self.leader_check_interval = leader_check_interval
        self.stop_grace = stop_grace
        self.leading = False
        self.terms = 0
        """How many times this process became the leader."""
        self.runs: Counter[str] = Counter()
        """Completed runs per job."""
        self.done: Counter[str] = Counter()
        """What each job did in total (offers ended, reminders queued, …)."""
        self.failures: Counter[str] = Counter()
        self._in_flight: set[asyncio.Task[object]] = set()

    @classmethod
    def for_marketplace(
        cls,
        mp: Marketplace,
        lock: LeaderLock,
        config: SchedulerConfig | None = None,
        *,
        extra_jobs: Sequence[Job] = (),
    ) -> Scheduler:
        config = config or SchedulerConfig()
        return cls(
            [*SweepJobs(mp, config).jobs(), *extra_jobs],
            lock,
            leader_check_interval=config.leader_check_interval,
            stop_grace=config.stop_grace,
        )

    async def run_once(self) -> dict[str, int]:
        """Run every job once, one after the other, without the lock (tests, maintenance)."""
        for job in self.jobs:
            await self._run_job(job)
        return {job.name: self.done[job.name] for job in self.jobs}

    async def run(self, stop: asyncio.Event) -> None:
        """Lead or stand by until ``stop`` is set; then finish (briefly) and let go."""
        unreachable = False
        standby_said = False
        try:
            while not stop.is_set():
                try:
                    leader = await self.lock.acquire()
                except LeaderLockUnavailable as error:
                    if not unreachable:
                        logger.warning(
                            "scheduler: cannot reach the %s lock (%s); trying again every %.1f s",
                            self.lock.kind,
                            error,
                            self.leader_check_interval,
                        )
                    unreachable, leader = True, False
                else:
                    if unreachable:
                        logger.info("scheduler: the %s lock is reachable again", self.lock.kind)
                    unreachable = False
                if leader:
                    standby_said = False
                    await self._lead(stop)
                elif not standby_said and not unreachable:
                    logger.info("scheduler: another process leads; this one waits as standby")
                    standby_said = True
                await _stopped_within(stop, self.leader_check_interval)
        finally:
            await self.lock.close()

    async def _lead(self, stop: asyncio.Event) -> None:
        self.terms += 1
        logger.info(
            "scheduler: this process leads (%s lock); starting %s",
            self.lock.kind,
            ", ".join(job.name for job in self.jobs),
        )
        if _APSCHEDULER_LOGGER.level == logging.NOTSET:
            _APSCHEDULER_LOGGER.setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(timezone=UTC)
        first_run = datetime.now(UTC)
        for job in self.jobs:
            scheduler.add_job(
                self._run_job,
                IntervalTrigger(seconds=job.interval, timezone=UTC),
                args=(job,),
                id=job.name,
                name=job.name,
                max_instances=1,
                coalesce=True,
                # A run that is late is still worth doing (it sweeps what is due by then);
                # one skipped for being too late loses nothing either.
                misfire_grace_time=max(1, round(job.interval)),
                next_run_time=first_run,
            )
        scheduler.start()
        self.leading = True
        lost = False
        try:
            while not await _stopped_within(stop, self.leader_check_interval):
                if not await self.lock.confirm():
                    lost = True
                    logger.warning(
                        "scheduler: lost the %s lock; stopping the jobs, back to standby",
                        self.lock.kind,
                    )
                    break
        finally:
            self.leading = False
            scheduler.pause()
            # On a stop, jobs in flight may finish; after losing the lock another process
            # leads, so they are cancelled (their transactions roll back) at once.
            await self._finish_in_flight(0.0 if lost else self.stop_grace)
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)

    async def _run_job(self, job: Job) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            done = await job.run()
        except Exception:
            self.failures[job.name] += 1
            logger.exception(
                "scheduler: job %s failed; it runs again in %.0f s", job.name, job.interval
            )
        else:
            self.runs[job.name] += 1
            self.done[job.name] += done
            if done:
                logger.info("scheduler: %s did %d", job.name, done)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _finish_in_flight(self, grace: float) -> None:
        tasks = {t for t in self._in_flight if not t.done()}
        if not tasks:
            return
        if grace > 0:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
