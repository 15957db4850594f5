"""``collabbot run --role …`` as real processes on a SQLite database made by ``collabbot db
upgrade``: each role starts its own part and nothing else, and SIGTERM makes a process stop
taking work, finish what it is doing within the grace period and exit with status 0.

Telegram is the fake Bot API server in this test process, reached over loopback HTTP; its
``sendMessage`` can be held, to stop a process while a send or an answer is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bots.cli import cli
from bots.runner import ALL, parse_roles
from core import services as s
from core.domain.common import Platform
from core.domain.members import ChannelIdentity, Member, Role
from core.domain.offers import VideoType
from core.notices import Notice, NoticeTemplate
from core.ports.clock import SystemClock
from core.ports.repositories import AbstractUnitOfWork
from core.services import Actor, Marketplace
from storage.repositories.outbox import outbox
from storage.unit_of_work import Database
from tests.e2e.telegram_fake import FakeTelegram

REPO_ROOT = Path(__file__).resolve().parents[2]
GRACE = 6.0  # COLLABBOT_SHUTDOWN_GRACE_SECONDS of the processes here
START_SECONDS = 20.0
SHORT_GRACE = 2.0
HELD_SECONDS = 1.5  # how long a held send keeps a stopping process busy
SECRET_KEY = "e2e-roles-secret-0123456789abcdef"
WEBHOOK_SECRET = "e2e-roles-webhook-secret"
CREATOR_CHAT = 7_100_001


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def collabbot(*args: str) -> list[str]:
    return [sys.executable, "-c", "from bots.cli import main; main()", *args]


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """This environment without COLLABBOT_* variables, plus ``settings`` (names without the
    prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLABBOT_")}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        COLLABBOT_DATABASE_URL=database_url,
        COLLABBOT_LOG_LEVEL="INFO",
        COLLABBOT_SHUTDOWN_GRACE_SECONDS=str(GRACE),
    )
    env.update({f"COLLABBOT_{name.upper()}": value for name, value in settings.items()})
    return env


def telegram_settings(tg: FakeTelegram, **more: str) -> dict[str, str]:
    return {
        "telegram_token": tg.token,
        "telegram_api_url": tg.base_url,
        "telegram_driver": "ptb",  # imports in a fraction of aiogram's time
        "secret_key": SECRET_KEY,
        **more,
    }


@dataclass
class Run:
    """One ``collabbot run`` process, its log in a file."""

    name: str
    process: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, folder: Path, database_url: str, role: str, **settings: str) -> Run:
        name = role.replace(",", "+")
        log = folder / f"{name}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *collabbot("run", "--role", role),
                cwd=folder,  # no .env file there
                env=environment(database_url, **settings),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        return cls(name, process, log)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    async def wait_for_log(self, text: str, within: float = START_SECONDS) -> None:
        await eventually(lambda: text in self.output, f"{self.name} to log {text!r}", self, within)

    async def terminate(self) -> tuple[int, float]:
        """SIGTERM, as a deployment stops a process; its exit status and how long it took."""
        assert self.running, f"{self.name} ended before SIGTERM:\n{self.output[-3000:]}"
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), GRACE + 15)
        return code, time.monotonic() - began

    def assert_clean_exit(self, code: int, seconds: float, *, within: float = GRACE) -> None:
        assert code == 0, f"{self.name} exited with {code}:\n{self.output[-3000:]}"
        assert seconds < within, f"{self.name} took {seconds:.1f} s to stop:\n{self.output}"
        assert "Traceback" not in self.output, self.output
        assert "bots.runner: stopped" in self.output, self.output[-2000:]


@contextlib.asynccontextmanager
async def started(
    folder: Path, database_url: str, role: str, **settings: str
) -> AsyncIterator[Run]:
    """A process that is killed at the end of the block if it still runs."""
    run = await Run.start(folder, database_url, role, **settings)
    try:
        yield run
    finally:
        if run.running:
            run.process.kill()
            await run.process.wait()


async def eventually(done: Callable[[], bool], what: str, run: Run, within: float) -> None:
    deadline = time.monotonic() + within
    while not done():
        if not run.running:
            raise AssertionError(f"{run.name} exited with {run.process.returncode}:\n{run.output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within} s for {what}:\n{run.output[-3000:]}")
        await asyncio.sleep(0.05)


class HeldSends:
    """Holds every ``sendMessage`` at the fake Telegram until :meth:`release`."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.arrived = asyncio.Event()
        self._released = asyncio.Event()
        call = tg.api.call

        async def held(method: str, params: Any, *, via: str = "http") -> tuple[int, Any]:
            if method.lower() == "sendmessage":
                self.arrived.set()
                await self._released.wait()
            return await call(method, params, via=via)

        tg.api.call = held  # type: ignore[method-assign]

    def release(self) -> None:
        self._released.set()


async def http_status(port: int, method: str, path: str, **kwargs: Any) -> int | None:
    """The HTTP status of one request to 127.0.0.1:``port``; ``None`` when nothing listens."""
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"http://127.0.0.1:{port}{path}", **kwargs) as response,
        ):
            return response.status
    except aiohttp.ClientConnectionError:
        return None


async def until(check: Callable[[], Awaitable[bool]], what: str, run: Run) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not await check():
        if not run.running or time.monotonic() > deadline:
            raise AssertionError(f"no {what}:\n{run.output[-3000:]}")
        await asyncio.sleep(0.1)


# --- the database --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("roles")
    url = f"sqlite+aiosqlite:///{folder}/roles.sqlite3"
    done = subprocess.run(
        collabbot("db", "upgrade"),
        cwd=folder,
        env=environment(url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return url


async def queue_notice(url: str) -> int:
    """An offer invitation for a creator on Telegram, due now; returns its outbox id."""
    database = Database.connect(url, SystemClock())
    try:
        mp = Marketplace(database.unit_of_work, database.clock)
        system = Actor.system()
        seller = await s.add_seller(mp, system, f"Roles {time.monotonic_ns()}")
        assert seller.id is not None
        new = s.NewOffer(
            title="Linen apron",
            video_type=VideoType.INFLUENCER,
            slots=1,
            asin="B0ROLES001",
            category="kitchen",
        )
        offer = await s.create_offer(mp, system, seller.id, new, publish=True)
        assert offer.id is not None

        async def enqueue(uow: AbstractUnitOfWork) -> None:
            now = mp.clock.now()
            chat = str(CREATOR_CHAT)
            member = await uow.members.by_identity(Platform.TELEGRAM, chat)
            if member is None:
                member = Member(id=None, display_name="Roles creator", created_at=now)
                member.grant(Role.CREATOR)
                member.attach(ChannelIdentity(Platform.TELEGRAM, chat, chat, True, now))
                await uow.members.add(member)
            assert member.id is not None
            notice = Notice(
                f"roles:{offer.id}",
                NoticeTemplate.OFFER_INVITATION,
                member.id,
                {"offer_id": offer.id},
            )
            assert await uow.outbox.add([notice], now) == 1

        await mp.transaction(enqueue)
        async with database.unit_of_work() as uow:
            found = await uow.session.execute(select(outbox.c.id).order_by(outbox.c.id.desc()))
            return int(found.scalars().first() or 0)
    finally:
        await database.dispose()


async def notice_status(url: str, notice_id: int) -> str:
    database = Database.connect(url, SystemClock())
    try:
        async with database.unit_of_work() as uow:
            found = await uow.session.execute(
                select(outbox.c.status).where(outbox.c.id == notice_id)
            )
            return str(found.scalar_one())
    finally:
        await database.dispose()


# --- choosing roles ------------------------------------------------------------------------


def test_roles_are_named_one_by_one_or_in_lists() -> None:
    assert parse_roles([]) == ALL
    assert parse_roles("all") == ALL
    assert parse_roles(["web,worker", "scheduler"]) == {"web", "worker", "scheduler"}
    assert parse_roles(["poller", "all"]) == ALL
    with pytest.raises(ValueError, match="unknown role 'mailer'"):
        parse_roles("web,mailer")


def test_an_unknown_role_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--database-url", f"sqlite:///{tmp_path}/none.sqlite3", "run", "--role", "webb"]
    )
    assert result.exit_code == 1
    assert "--role: unknown role 'webb'" in result.output
    assert not (tmp_path / "none.sqlite3").exists()


# --- one role each -------------------------------------------------------------------------


async def test_scheduler_role_runs_the_scheduler_alone(tmp_path: Path, database_url: str) -> None:
    async with started(tmp_path, database_url, "scheduler") as run:
        await run.wait_for_log("scheduler: this process leads")
        code, seconds = await run.terminate()
    run.assert_clean_exit(code, seconds)
    log = run.output
    assert "running as scheduler" in log
    for other in ("delivering notices", "listening on", "Telegram is running"):
        assert other not in log


async def test_worker_role_finishes_the_send_in_flight_then_exits(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeTelegram() as tg:
        tg.user(CREATOR_CHAT, "Creator")
        held = HeldSends(tg)
        settings = telegram_settings(tg, dispatch_interval_seconds="0.1")
        async with started(tmp_path, database_url, "worker", **settings) as run:
            await run.wait_for_log("delivering notices through telegram")
            notice_id = await queue_notice(database_url)
            await asyncio.wait_for(held.arrived.wait(), START_SECONDS)

            stopping = asyncio.create_task(run.terminate())
            await asyncio.sleep(HELD_SECONDS)
            assert run.running, "the worker did not wait for its send in flight"
            held.release()
            code, seconds = await stopping

        run.assert_clean_exit(code, seconds)
        assert await notice_status(database_url, notice_id) == "sent"
        sent = [call for call in tg.calls_to("sendMessage") if call.ok]
        assert [call.params.get("chat_id") for call in sent] == [str(CREATOR_CHAT)]
        # A worker takes no updates: no polling, no webhook, no HTTP endpoint.
        assert not tg.calls_to("getUpdates", "setWebhook", "deleteWebhook")
        log = run.output
        assert "running as worker" in log
        assert "notices handled: sent 1" in log
        for other in ("listening on", "scheduler: this process", "Telegram is running"):
            assert other not in log


async def test_a_send_that_hangs_is_given_up_after_the_grace_period(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeTelegram() as tg:
        tg.user(CREATOR_CHAT, "Creator")
        held = HeldSends(tg)  # never released
        settings = telegram_settings(
            tg,
            dispatch_interval_seconds="0.1",
            # Shorter than the Telegram library's own read timeout (5 s).
            shutdown_grace_seconds=str(SHORT_GRACE),
        )
        async with started(tmp_path, database_url, "worker", **settings) as run:
            await run.wait_for_log("delivering notices through telegram")
            notice_id = await queue_notice(database_url)
            await asyncio.wait_for(held.arrived.wait(), START_SECONDS)
            code, seconds = await run.terminate()
        held.release()
    run.assert_clean_exit(code, seconds, within=SHORT_GRACE + 4)
    assert seconds >= SHORT_GRACE - 0.2, f"stopped after {seconds:.1f} s, before the grace period"
    assert "dispatcher still busy after the grace period; cancelled" in run.output
    # Still claimed: another worker takes it over when the lease runs out.
    assert await notice_status(database_url, notice_id) == "sending"


async def test_web_role_answers_webhooks_and_drains_the_request_in_flight(
    tmp_path: Path, database_url: str
) -> None:
    port = free_port()
    async with FakeTelegram(webhook_timeout=GRACE + 10) as tg:
        settings = telegram_settings(
            tg,
            telegram_mode="webhook",
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
            telegram_webhook_secret=WEBHOOK_SECRET,
            http_listen=f"127.0.0.1:{port}",
        )
        async with started(tmp_path, database_url, "web", **settings) as run:

            async def alive() -> bool:
                return await http_status(port, "GET", "/healthz") == 200

            await until(alive, "answer on /healthz", run)
            await tg.wait_for_call("setWebhook", timeout=START_SECONDS)
            held = HeldSends(tg)
            user = tg.user(CREATOR_CHAT + 1, "Web")
            await user.send_command("start")
            await asyncio.wait_for(held.arrived.wait(), START_SECONDS)

            stopping = asyncio.create_task(run.terminate())
            await asyncio.sleep(HELD_SECONDS)
            assert run.running, "the web process did not wait for the request in flight"
            # It takes no new requests meanwhile.
            assert await http_status(port, "GET", "/healthz") is None
            held.release()
            code, seconds = await stopping

        run.assert_clean_exit(code, seconds)
        assert [d.status for d in tg.webhook_deliveries] == [200]
        assert user.messages, "the answer to /start was not sent"
        assert not tg.calls_to("getUpdates")
        log = run.output
        assert "running as web" in log
        assert f"listening on 127.0.0.1:{port}: webhooks and health checks" in log
        for other in ("delivering notices", "scheduler: this process"):
            assert other not in log


async def test_poller_role_polls_and_serves_no_webhooks(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    async with FakeTelegram() as tg:
        # With COLLABBOT_HTTP_LISTEN set, as in a container, it answers health checks only.
        settings = telegram_settings(tg, http_listen=f"127.0.0.1:{port}")
        async with started(tmp_path, database_url, "poller", **settings) as run:
            await eventually(lambda: bool(tg.calls_to("getUpdates")), "polling", run, START_SECONDS)
            await run.wait_for_log("listening on")
            assert await http_status(port, "GET", "/healthz") == 200
            assert await http_status(port, "POST", "/telegram/webhook", json={}) in (404, 405)

            held = HeldSends(tg)
            user = tg.user(CREATOR_CHAT + 2, "Polled")
            await user.send_command("start")
            await asyncio.wait_for(held.arrived.wait(), START_SECONDS)

            stopping = asyncio.create_task(run.terminate())
            await asyncio.sleep(HELD_SECONDS)
            assert run.running, "the poller did not wait for the update in flight"
            held.release()
            code, seconds = await stopping

        run.assert_clean_exit(code, seconds)
        assert [call.ok for call in tg.calls_to("sendMessage")] == [True]
        assert user.messages, "the answer to /start was not sent"
        assert not tg.calls_to("setWebhook")
        log = run.output
        assert "running as poller" in log
        assert f"listening on 127.0.0.1:{port}: health checks" in log
        for other in ("delivering notices", "scheduler: this process"):
            assert other not in log
