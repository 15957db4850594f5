"""Notice workers as real processes (``collabbot run --role worker``) sending to the fake
Telegram server in this process, over loopback HTTP.

A worker killed with SIGKILL in the middle of a batch loses nothing: the notices it had
claimed are taken over by the next worker once their lease runs out, and only the few it
was sending at that moment may arrive twice. Two workers on one PostgreSQL outbox never send
the same notice twice, and each person still gets their notices in the order they were
caused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import services as s
from core.domain.common import Platform
from core.domain.members import ChannelIdentity, Member, Role
from core.domain.offers import VideoType
from core.notices import Notice, NoticeTemplate
from core.ports.clock import SystemClock
from core.ports.repositories import AbstractUnitOfWork, OutboxEntry
from core.services import Actor, Marketplace
from storage.migrate import upgrade
from storage.repositories.outbox import outbox
from storage.unit_of_work import Database
from tests.e2e.telegram_fake import FakeTelegram

REPO_ROOT = Path(__file__).resolve().parents[2]
SYSTEM = Actor.system()
FIRST_USER_ID = 7_000_001
LEASE_SECONDS = 3  # covers a batch of 50 at Telegram's 30 messages a second
# The dispatcher serves 8 recipients at once, so at most 8 sends can lack their record.
IN_FLIGHT_AT_MOST = 8
STARTUP_SECONDS = 20.0
DELIVERY_SECONDS = 40.0
STOP_SECONDS = 15.0
# Notices for the killed worker: fewer on SQLite (one dispatcher there) to keep the file quick.
USERS = {"postgresql": 300, "sqlite": 150}


# --- the notices ---------------------------------------------------------------------------


@dataclass
class Outbox:
    """Notices queued for fake Telegram users: each chat's offer titles in the order caused."""

    database: Database
    expected: dict[int, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(titles) for titles in self.expected.values())

    async def states(self) -> dict[str, int]:
        statement = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        async with self.database.unit_of_work() as uow:
            return {state: n for state, n in await uow.session.execute(statement)}

    async def reclaimed(self) -> int:
        """Notices taken over from a dispatcher whose lease ran out."""
        statement = select(func.count()).where(outbox.c.last_error == OutboxEntry.LEASE_EXPIRED)
        async with self.database.unit_of_work() as uow:
            return int((await uow.session.execute(statement)).scalar_one())


@contextlib.asynccontextmanager
async def invitations(url: str, *, users: int, per_user: int) -> AsyncIterator[Outbox]:
    """``per_user`` offers, and an invitation to each for ``users`` creators on Telegram,
    queued in one transaction round by round: offer 1 to everyone, then offer 2, …"""
    await upgrade(url)
    database = Database.connect(url, SystemClock())
    try:
        mp = Marketplace(database.unit_of_work, database.clock)
        seller = await s.add_seller(mp, SYSTEM, "Acme")
        assert seller.id is not None
        offers: dict[int, str] = {}
        for n in range(1, per_user + 1):
            new = s.NewOffer(
                title=f"Sample box {n}",
                video_type=VideoType.INFLUENCER,
                slots=1,
                asin=f"B0E2E{n:05d}",
                category="kitchen",
            )
            offer = await s.create_offer(mp, SYSTEM, seller.id, new, publish=True)
            assert offer.id is not None
            offers[offer.id] = new.title

        async def enqueue(uow: AbstractUnitOfWork) -> None:
            now = mp.clock.now()
            members: list[int] = []
            for n in range(users):
                chat = str(FIRST_USER_ID + n)
                member = Member(id=None, display_name=f"Creator {n}", created_at=now)
                member.grant(Role.CREATOR)
                member.attach(ChannelIdentity(Platform.TELEGRAM, chat, chat, True, now))
                await uow.members.add(member)
                assert member.id is not None
                members.append(member.id)
            notices = [
                Notice(
                    f"e2e:{offer_id}:{member_id}",
                    NoticeTemplate.OFFER_INVITATION,
                    member_id,
                    {"offer_id": offer_id},
                )
                for offer_id in offers
                for member_id in members
            ]
            assert await uow.outbox.add(notices, now) == len(notices)

        await mp.transaction(enqueue)
        titles = list(offers.values())
        yield Outbox(database, {FIRST_USER_ID + n: titles for n in range(users)})
    finally:
        await database.dispose()


# --- the worker processes ------------------------------------------------------------------


@dataclass
class Worker:
    """``collabbot run --role worker`` in a process of its own, its log in a file."""

    name: str
    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, name: str, url: str, tg: FakeTelegram, folder: Path) -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLABBOT_")}
        env.update(
            PYTHONPATH=str(REPO_ROOT),
            COLLABBOT_DATABASE_URL=url,
            COLLABBOT_TELEGRAM_TOKEN=tg.token,
            COLLABBOT_TELEGRAM_API_URL=tg.base_url,
            # python-telegram-bot: it imports in a second, aiogram takes several.
            COLLABBOT_TELEGRAM_DRIVER="ptb",
            COLLABBOT_SECRET_KEY="e2e-worker-secret-0123456789abcdef",
            COLLABBOT_DISPATCH_INTERVAL_SECONDS="0.1",
            COLLABBOT_DISPATCH_LEASE_SECONDS=str(LEASE_SECONDS),
            COLLABBOT_LOG_LEVEL="INFO",
        )
        log = folder / f"{name}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from bots.cli import main; main()",
                "run",
                "--role",
                "worker",
                cwd=folder,  # no .env file there
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        return cls(name, process, log)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def check_alive(self) -> None:
        if self.process.returncode is not None:
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}:\n{self.output[-3000:]}"
            )

    async def kill(self) -> None:
        """SIGKILL: no chance to finish or record anything."""
        if self.process.returncode is None:
            self.process.kill()
        await asyncio.wait_for(self.process.wait(), STOP_SECONDS)

    async def stop(self) -> int:
        """SIGTERM, as a deployment stops it; returns the notices it reported sent."""
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        assert code == 0, f"{self.name} exited with {code}:\n{self.output[-3000:]}"
        found = re.search(r"notices handled: .*?\bsent (\d+)", self.output)
        assert found, f"{self.name} did not report what it sent:\n{self.output[-3000:]}"
        return int(found.group(1))


@contextlib.asynccontextmanager
async def workers_cleaned_up() -> AsyncIterator[list[Worker]]:
    """Workers started in the block are killed at its end, whatever happened."""
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            with contextlib.suppress(ProcessLookupError, TimeoutError):
                await worker.kill()


async def wait_until(
    done: Callable[[], bool], what: str, workers: list[Worker], within: float
) -> None:
    deadline = time.monotonic() + within
    while not done():
        for worker in workers:
            worker.check_alive()
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name}:\n{w.output[-2000:]}" for w in workers)
            raise AssertionError(f"not {what} within {within} s\n{logs}")
        await asyncio.sleep(0.05)


# --- what arrived ----------------------------------------------------------------------------


def sends(tg: FakeTelegram) -> int:
    return sum(1 for call in tg.calls_to("sendMessage") if call.ok)


def received(tg: FakeTelegram, queued: Outbox) -> dict[int, list[str]]:
    """Each chat's messages, as the offer title each one is about."""
    # "A new offer for you:" and the title on the line below.
    return {
        user_id: [m.content.splitlines()[-1] for m in tg.user(user_id).messages]
        for user_id in queued.expected
    }


def all_arrived(tg: FakeTelegram, queued: Outbox) -> Callable[[], bool]:
    def check() -> bool:
        return all(
            len(tg.user(user_id).messages) >= len(titles)
            for user_id, titles in queued.expected.items()
        )

    return check


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def make_users(tg: FakeTelegram, queued: Outbox) -> None:
    for n, user_id in enumerate(queued.expected):
        tg.user(user_id, f"Creator {n}")


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(params=list(USERS))
def database_url(request: pytest.FixtureRequest) -> str:
    """A database of this test's own: PostgreSQL, then SQLite."""
    fixture = "fresh_postgres_url" if request.param == "postgresql" else "sqlite_url"
    return str(request.getfixturevalue(fixture))


async def test_a_worker_killed_mid_batch_loses_no_notice_and_repeats_only_those_in_flight(
    database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    url = database_url
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    users = USERS[database]

    async with (
        invitations(url, users=users, per_user=1) as queued,
        workers_cleaned_up() as workers,
    ):
        make_users(tg, queued)
        began = time.monotonic()
        first = await Worker.start("worker-1", url, tg, tmp_path)
        workers.append(first)

        # Kill it in the middle of a batch: some sent, and at least ten still claimed.
        async def mid_batch() -> bool:
            return sends(tg) >= 30 and (await queued.states()).get("sending", 0) >= 10

        deadline = time.monotonic() + STARTUP_SECONDS + DELIVERY_SECONDS
        while not await mid_batch():
            first.check_alive()
            assert time.monotonic() < deadline, f"no batch under way:\n{first.output[-2000:]}"
            await asyncio.sleep(0.02)
        await first.kill()
        sent_before_kill = sends(tg)
        left_claimed = (await queued.states()).get("sending", 0)

        second = await Worker.start("worker-2", url, tg, tmp_path)
        workers.append(second)
        await wait_until(
            all_arrived(tg, queued), "every notice delivered", [second], DELIVERY_SECONDS
        )
        # Give a late duplicate the chance to show before counting.
        await asyncio.sleep(0.3)
        seconds = time.monotonic() - began
        states = await queued.states()
        reclaimed = await queued.reclaimed()

    got = received(tg, queued)
    missing = [user for user, titles in got.items() if not titles]
    duplicates = sum(len(titles) - 1 for titles in got.values() if titles)
    print(  # the numbers behind the assertions, shown with pytest -s or -rP
        f"\n[{database}] {queued.total} notices; killed after {sent_before_kill} sends with "
        f"{left_claimed} claimed; {reclaimed} reclaimed; {sends(tg)} sends in all; "
        f"{duplicates} duplicates; {seconds:.1f} s"
    )
    assert left_claimed >= 1  # the kill did leave a batch behind
    assert missing == []
    assert all(set(titles) == {"Sample box 1"} for titles in got.values())
    assert duplicates <= IN_FLIGHT_AT_MOST
    assert sends(tg) == queued.total + duplicates
    assert states == {"sent": queued.total}
    assert reclaimed == left_claimed


async def test_two_workers_on_postgresql_never_send_a_notice_twice_and_keep_each_persons_order(
    fresh_postgres_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    async with (
        invitations(fresh_postgres_url, users=100, per_user=5) as queued,
        workers_cleaned_up() as workers,
    ):
        make_users(tg, queued)
        began = time.monotonic()
        for name in ("worker-a", "worker-b"):
            workers.append(await Worker.start(name, fresh_postgres_url, tg, tmp_path))
        await wait_until(
            all_arrived(tg, queued), "every notice delivered", workers, DELIVERY_SECONDS
        )
        seconds = time.monotonic() - began
        await asyncio.sleep(0.3)  # a second send of anything would show by now
        sent_by = [await worker.stop() for worker in workers]
        states = await queued.states()

    got = received(tg, queued)
    print(
        f"\n{queued.total} notices by two workers: {sent_by[0]} + {sent_by[1]} sent, "
        f"{sends(tg)} sends in all, {seconds:.1f} s"
    )
    assert got == queued.expected  # each once, in the order caused
    assert sends(tg) == queued.total
    assert sum(sent_by) == queued.total
    assert all(n > 0 for n in sent_by)  # both took part
    assert states == {"sent": queued.total}
