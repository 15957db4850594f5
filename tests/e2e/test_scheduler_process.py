"""Two real `collabbot run --role scheduler` processes on one PostgreSQL database: one leads,
the other stands by; the leader is killed with SIGKILL and the standby takes over within
seconds and carries on — nothing done twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from core import services as s
from core.domain.common import Platform
from core.domain.offers import OfferState, VideoType
from core.ports.clock import SystemClock
from core.services import Actor, Marketplace
from notifications.leader import advisory_keys
from storage.migrate import upgrade
from storage.unit_of_work import Database
from tests.unit.world import ADDRESS

REPO_ROOT = Path(__file__).resolve().parents[2]
TAKEOVER_LIMIT_S = 30.0
START_LIMIT_S = 30.0
SYSTEM = Actor.system()


class Process:
    """One `collabbot run --role scheduler` subprocess and its log file."""

    def __init__(self, url: str, folder: Path, name: str) -> None:
        self.log_path = folder / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLABBOT_")}
        env.update(
            COLLABBOT_DATABASE_URL=url,
            COLLABBOT_LOG_LEVEL="INFO",
            COLLABBOT_SCHEDULER_INTERVAL_SECONDS="0.5",
            COLLABBOT_SCHEDULER_LEADER_CHECK_SECONDS="0.5",
            COLLABBOT_AUTO_SELECTION_INTERVAL_SECONDS="0.5",
            COLLABBOT_OFFER_PUSH_INTERVAL_SECONDS="0.5",
            COLLABBOT_OFFER_PUSH_AFTER_HOURS="0",
            PYTHONPATH=str(REPO_ROOT),
        )
        self.popen = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from bots.cli import main; main()",
                "run",
                "--role",
                "scheduler",
            ],
            cwd=folder,  # no stray .env file
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
        self._log.close()


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def scheduler_processes(url: str) -> tuple[int | None, set[int]]:
    """The OS pid of the process holding the scheduler lock, and of every scheduler
    connected, read from PostgreSQL (the lock connection names its process)."""
    connection = await asyncpg.connect(dsn(url))
    try:
        rows = await connection.fetch(
            """
            SELECT a.application_name,
                   EXISTS (SELECT 1 FROM pg_locks l
                           WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
                             AND l.classid = $1::int::oid AND l.objid = $2::int::oid
                             AND l.objsubid = 2) AS leads
            FROM pg_stat_activity a
            WHERE a.datname = current_database()
              AND a.application_name LIKE 'collabbot scheduler %'
            """,
            *advisory_keys("scheduler"),
        )
    finally:
        await connection.close()
    pids = {int(row["application_name"].rsplit(" ", 1)[1]): row["leads"] for row in rows}
    leaders = [pid for pid, leads in pids.items() if leads]
    assert len(leaders) <= 1, f"more than one scheduler holds the lock: {leaders}"
    return (leaders[0] if leaders else None), set(pids)


async def eventually(
    condition: Callable[[], Awaitable[bool]], within: float, why: Callable[[], str]
) -> float:
    start = time.monotonic()
    while not await condition():
        if time.monotonic() - start > within:
            raise AssertionError(f"not within {within} s: {why()}")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def count(url: str, query: str, *args: Any) -> int:
    connection = await asyncpg.connect(dsn(url))
    try:
        return int(await connection.fetchval(query, *args))
    finally:
        await connection.close()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            process.stop()


async def seed(mp: Marketplace) -> tuple[int, int, int]:
    """A seller with one staff member, an onboarded creator; returns their ids."""
    seller = await s.add_seller(mp, SYSTEM, "Acme", ["telegram:7001"])
    creator = await s.register_identity(mp, Platform.TELEGRAM, "7002", "7002", "Ana", "en")
    assert seller.id is not None
    assert creator.id is not None
    await s.update_profile(
        mp,
        Actor.member(creator.id),
        s.ProfileChanges(
            storefront_url="https://www.amazon.com/shop/ana",
            categories=("kitchen",),
            country="US",
            languages=["en"],
            address=ADDRESS,
            finish_onboarding=True,
        ),
    )
    return seller.id, next(iter(seller.staff)), creator.id


async def new_offer(mp: Marketplace, seller_id: int, deadline_in: timedelta) -> int:
    offer = await s.create_offer(
        mp,
        SYSTEM,
        seller_id,
        s.NewOffer(
            title="Bamboo cutting board",
            video_type=VideoType.INFLUENCER,
            slots=3,
            asin="B0C1234567",
            category="kitchen",
            application_deadline=mp.clock.now() + deadline_in,
        ),
        publish=True,
    )
    assert offer.id is not None
    return offer.id


async def test_the_standby_process_takes_over_when_the_leader_is_killed(
    fresh_postgres_url: str, tmp_path: Path, processes: list[Process]
) -> None:
    url = fresh_postgres_url
    await upgrade(url)
    database = Database.connect(url, SystemClock())
    mp = Marketplace(database.unit_of_work, database.clock)
    try:
        seller_id, staff_id, creator_id = await seed(mp)
        pushed_offer = await new_offer(mp, seller_id, timedelta(days=7))

        first = Process(url, tmp_path, "first")
        processes.append(first)

        def logs() -> str:
            return "\n".join(f"--- {p.log_path.name}\n{p.log()}" for p in processes)

        async def first_leads() -> bool:
            return (await scheduler_processes(url))[0] == first.pid

        await eventually(first_leads, START_LIMIT_S, logs)

        second = Process(url, tmp_path, "second")
        processes.append(second)

        async def second_waits() -> bool:
            leader, connected = await scheduler_processes(url)
            return second.pid in connected and leader == first.pid

        await eventually(second_waits, START_LIMIT_S, logs)
        await asyncio.sleep(2)  # several checks: the standby stays standby
        assert (await scheduler_processes(url))[0] == first.pid, logs()

        # The leader works: the creator was pushed the new offer, once.
        push = "SELECT count(*) FROM outbox WHERE key = $1"
        key = f"offer_push:{pushed_offer}:{creator_id}"

        async def pushed() -> bool:
            return await count(url, push, key) == 1

        await eventually(pushed, 10, logs)

        # kill -9 the leader; the standby must lead within the limit.
        os.kill(first.pid, signal.SIGKILL)
        first.popen.wait(10)
        killed_at = time.monotonic()

        async def second_leads() -> bool:
            return (await scheduler_processes(url))[0] == second.pid

        await eventually(second_leads, TAKEOVER_LIMIT_S, logs)
        took = time.monotonic() - killed_at
        assert took < TAKEOVER_LIMIT_S
        print(f"standby took over {took:.2f} s after the leader was killed")

        # … and does the work: an offer whose deadline passes now ends, its applicant and
        # the seller are told once.
        ending = await new_offer(mp, seller_id, timedelta(seconds=3))
        order = await s.claim_offer(mp, Actor.member(creator_id), ending)

        async def ended() -> bool:
            state = await count(
                url, "SELECT count(*) FROM offers WHERE id = $1 AND state = $2", ending, "ended"
            )
            return state == 1

        await eventually(ended, 20, logs)
        await asyncio.sleep(2)  # more sweeps: nothing more may happen
        outbox = "SELECT count(*) FROM outbox WHERE key = $1"
        assert await count(url, outbox, f"order_rejected:{order.id}") == 1
        assert await count(url, outbox, f"offer_ended:{ending}:m{staff_id}") == 1
        assert await count(url, push, key) == 1  # the new leader did not push it again
        card = await s.offer_card(mp, SYSTEM, ending)
        assert card.offer.state is OfferState.ENDED
        assert card.offer.end_reason == "deadline"
        assert "this process leads" in second.log()

        # A clean stop lets go of the lock.
        second.popen.send_signal(signal.SIGTERM)
        assert second.popen.wait(20) == 0, logs()

        async def nobody_leads() -> bool:
            return (await scheduler_processes(url))[0] is None

        await eventually(nobody_leads, 5, logs)
    finally:
        await database.dispose()
