"""Telegram throughput of collabbot through the full stack, next to a bare echo bot.

    .venv/bin/python -m benchmarks.telegram_throughput [--driver aiogram|ptb|both]
        [--database sqlite|postgres|both] [--users N] [--seconds S] [--mode polling|webhook]

Everything runs on loopback. This process hosts the strict fake Bot API server of the test
suite (``tests/e2e/telegram_fake``) and plays N onboarded creators who press buttons and send
commands; the bot runs in a second process (``benchmarks/_bot_process.py``): either the real
collabbot wiring (``bots.runner._serve``: the driver in polling or webhook mode, the
conversation engine, the database, the in-memory key-value store, the notice dispatcher) or
a bare echo bot of the same driver, twice: as the framework is installed ("echo, stock") and
on the networking collabbot gives the driver ("echo, same HTTP": aiogram's session posting
JSON bodies, PTB on aiohttp instead of httpx). The script prints numbers and never asserts on them;
see benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import logging
import math
import os
import platform
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tests.e2e.telegram_fake import FakeTelegram, FakeUser

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
FIRST_USER_ID = 900_000_001
WARMUP_SECONDS = 1.0
READY_TIMEOUT = 60.0
CONTROL_TIMEOUT = 15.0
STOP_TIMEOUT = 20.0
CONTROL_LINE_LIMIT = 64 * 1024 * 1024  # one JSON line per mark
SQL_PHASE_SECONDS = 90.0
PROFILE_SECONDS = 3.0

TARGET_UPDATES_PER_SECOND = 200.0
TARGET_RATIO = 0.4
TARGET_P99_MS = 100.0
TARGET_SQL_PER_PRESS = 6.0


# --- arguments ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.telegram_throughput",
        description="Updates/s, latency and SQL per update of the Telegram bot, full stack "
        "vs a bare echo bot, on loopback. Prints numbers; asserts nothing.",
    )
    parser.add_argument(
        "--driver", choices=("aiogram", "ptb", "both"), default="both", help="(both)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="database of the full stack (both)",
    )
    parser.add_argument(
        "--mode", choices=("polling", "webhook"), default="polling", help="(polling)"
    )
    parser.add_argument("--users", type=int, default=50, help="simulated creators (50)")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="length of each measured window (5)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_UPDATES_PER_SECOND,
        help="offered updates/s of the paced window (200, the target rate)",
    )
    parser.add_argument(
        "--presses", type=int, default=50, help="single presses per kind for SQL counting (50)"
    )
    parser.add_argument(
        "--commands", type=int, default=5, help="single commands per kind for SQL counting (5)"
    )
    parser.add_argument("--offers", type=int, default=40, help="live offers seeded (40)")
    parser.add_argument(
        "--max-updates",
        type=int,
        default=50_000,
        help="count limit of updates sent in one window (50000)",
    )
    parser.add_argument(
        "--answer-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the bot's answer to one update (10)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("COLLABBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a PostgreSQL database to connect to for CREATE/DROP DATABASE "
        "(env COLLABBOT_BENCH_POSTGRES_URL; default %(default)s)",
    )
    parser.add_argument(
        "--top", type=int, default=10, help="SQL statements listed per database (10)"
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="profile the full-stack bot in one more saturation window of up to "
        f"{PROFILE_SECONDS:.0f} s (on)",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0 or args.rate <= 0:
        parser.error("--users, --seconds and --rate must be positive")
    return args


def chosen(value: str, options: tuple[str, ...]) -> list[str]:
    return list(options) if value == "both" else [value]


# --- the marketplace -----------------------------------------------------------------------


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" or "postgres"
    url: str
    seed_seconds: float = 0.0

    @property
    def label(self) -> str:
        return "PostgreSQL" if self.kind == "postgres" else "SQLite"


async def create_postgres_database(admin_url: str) -> tuple[str, str]:
    """A new, empty database on the server of ``admin_url``; returns its URL and name."""
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    name = f"collabbot_bench_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(
        host=admin.host or "127.0.0.1",
        port=admin.port or 5432,
        user=admin.username or "postgres",
        password=admin.password,
        database=admin.database or "postgres",
    )
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = admin.set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False), name


async def drop_postgres_database(admin_url: str, name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    connection = await asyncpg.connect(
        host=admin.host or "127.0.0.1",
        port=admin.port or 5432,
        user=admin.username or "postgres",
        password=admin.password,
        database=admin.database or "postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def seed(url: str, user_ids: Sequence[int], offers: int, claims_per_user: int = 2) -> None:
    """Migrate, then make through the use cases: one seller with ``offers`` live offers, and
    one onboarded creator per user id (storefront, categories, country) with two orders."""
    from bots.bootstrap import open_marketplace
    from bots.settings import load_settings
    from core import services as s
    from core.domain.common import Platform
    from core.domain.offers import VideoType
    from storage.migrate import upgrade

    await upgrade(url)
    settings = load_settings(database_url=url, redis_url=None, log_level="WARNING")
    runtime = await open_marketplace(settings)
    try:
        mp = runtime.marketplace
        system = s.Actor.system()
        seller = await s.add_seller(mp, system, "Benchmark Goods")
        assert seller.id is not None
        categories = ("kitchen", "home", "beauty", "pets", "toys")
        offer_ids: list[int] = []
        for number in range(1, offers + 1):
            new = s.NewOffer(
                title=f"Sample product {number:02d}",
                video_type=VideoType.AMATEUR_WITH_FILE if number % 3 == 0 else VideoType.INFLUENCER,
                slots=1000,
                asin=f"B0BEN{number:05d}",
                category=categories[number % len(categories)],
            )
            offer = await s.create_offer(mp, system, seller.id, new, publish=True)
            assert offer.id is not None
            offer_ids.append(offer.id)
        for index, user_id in enumerate(user_ids):
            member = await s.register_identity(
                mp, Platform.TELEGRAM, str(user_id), str(user_id), f"Creator {index + 1}", "en"
            )
            assert member.id is not None
            actor = s.Actor.member(member.id)
            changes = s.ProfileChanges(
                storefront_url=f"https://www.amazon.com/shop/bench-creator-{index + 1}",
                categories=("kitchen", "home"),
                country="US",
                languages=("en",),
                finish_onboarding=True,
            )
            await s.update_profile(mp, actor, changes)
            for claim in range(claims_per_user):
                offer_id = offer_ids[(index * claims_per_user + claim) % len(offer_ids)]
                await s.claim_offer(mp, actor, offer_id)
    finally:
        await runtime.close()


# --- following updates through the fake Bot API -------------------------------------------


@dataclass(eq=False)
class Pending:
    """One update a simulated user sent, until the bot has answered it."""

    chat_id: int
    step: str
    kind: str  # "command" or "press"
    pushed_at: float
    done: asyncio.Future[float]
    update_id: int | None = None
    query_id: str | None = None
    delivered_at: float | None = None
    answered_at: float | None = None  # answerCallbackQuery reached the fake
    replied_at: float | None = None  # sendMessage / editMessageText reached the fake

    @property
    def complete(self) -> bool:
        if self.replied_at is None:
            return False
        return self.kind != "press" or self.answered_at is not None


class Tracker:
    """Watches the fake server: when it hands an update out, and when the bot answers.

    Wraps two methods of the fake's objects in this process only (the fake's code is
    untouched): the update queue's ``first`` (what getUpdates answers and the webhook
    pusher posts) and the API's ``call`` (every request the bot makes).
    """

    def __init__(self, tg: FakeTelegram) -> None:
        self.by_chat: dict[int, Pending] = {}
        self.by_query: dict[str, Pending] = {}
        self.api_errors: Counter[str] = Counter()
        self._last_update_id = 0
        queue = tg.state.queue
        self._first = queue.first
        queue.first = self._handed_out  # type: ignore[method-assign]
        self._call = tg.api.call
        tg.api.call = self._api_call  # type: ignore[method-assign]

    def register(self, pending: Pending) -> None:
        self.by_chat[pending.chat_id] = pending
        if pending.query_id is not None:
            self.by_query[pending.query_id] = pending

    def forget(self, pending: Pending) -> None:
        if self.by_chat.get(pending.chat_id) is pending:
            del self.by_chat[pending.chat_id]
        if pending.query_id is not None:
            self.by_query.pop(pending.query_id, None)

    def _handed_out(self, limit: int) -> list[dict[str, Any]]:
        updates = self._first(limit)
        now = time.monotonic()
        for update in updates:
            update_id = update["update_id"]
            if update_id <= self._last_update_id:
                continue  # handed out before, not yet confirmed
            self._last_update_id = update_id
            pending = self._match(update)
            if pending is not None and pending.delivered_at is None:
                pending.delivered_at = now
        return updates

    def _match(self, update: dict[str, Any]) -> Pending | None:
        if "callback_query" in update:
            return self.by_query.get(str(update["callback_query"].get("id")))
        message = update.get("message")
        if message is None:
            return None
        pending = self.by_chat.get(message["chat"]["id"])
        if pending is not None and pending.update_id == update["update_id"]:
            return pending
        return None

    async def _api_call(
        self, method: str, params: Any, *, via: str = "http"
    ) -> tuple[int, dict[str, Any]]:
        arrived = time.monotonic()
        status, body = await self._call(method, params, via=via)
        name = method.lower()
        description = str(body.get("description") or "")
        if status != 200:
            self.api_errors[f"{method} {status}: {description[:60]}"] += 1
        if name in ("sendmessage", "editmessagetext"):
            not_modified = name == "editmessagetext" and "not modified" in description
            raw = params.raw("chat_id")
            if (status == 200 or not_modified) and raw and raw.lstrip("-").isdigit():
                pending = self.by_chat.get(int(raw))
                fresh = pending is not None and arrived >= pending.pushed_at
                if fresh and pending.replied_at is None:
                    pending.replied_at = arrived
                    self._check(pending)
        elif name == "answercallbackquery" and status == 200:
            pending = self.by_query.get(params.raw("callback_query_id") or "")
            if pending is not None and pending.answered_at is None:
                pending.answered_at = arrived
                self._check(pending)
        return status, body

    def _check(self, pending: Pending) -> None:
        if pending.complete and not pending.done.done():
            assert pending.replied_at is not None
            pending.done.set_result(max(pending.replied_at, pending.answered_at or 0.0))
            self.forget(pending)


# --- what the simulated users do ------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # "command" or "press"
    command: str = ""
    choose: Callable[[FakeUser], str] | None = None


def press(label: str) -> Callable[[FakeUser], str]:
    return lambda user: label


def first_offer(user: FakeUser) -> str:
    labels = [label for label in user.buttons() if re.match(r"\d+\. ", label)]
    if not labels:
        raise AssertionError("no offer button on the latest message")
    return labels[0]


def first_button(user: FakeUser) -> str:
    labels = user.buttons()
    if not labels:
        raise AssertionError("no button on the latest message")
    return labels[0]


FULL_CYCLE = (
    Step("/offers", "command", command="/offers"),
    Step("Next ›", "press", choose=press("Next ›")),
    Step("Next ›", "press", choose=press("Next ›")),
    Step("‹ Previous", "press", choose=press("‹ Previous")),
    Step("offer detail", "press", choose=first_offer),
    Step("‹ Back to offers", "press", choose=press("‹ Back to offers")),
    Step("/orders", "command", command="/orders"),
    Step("order detail", "press", choose=first_button),
    Step("‹ My orders", "press", choose=press("‹ My orders")),
    Step("/profile", "command", command="/profile"),
)
ECHO_BUTTON = "Press"  # what benchmarks/_bot_process.py puts under every echo
ECHO_CYCLE = tuple(
    step if step.kind == "command" else Step(step.name, "press", choose=press(ECHO_BUTTON))
    for step in FULL_CYCLE
)


@dataclass
class Sample:
    step: str
    kind: str
    from_delivery: float  # from the push when the fake's hand-out was not seen
    from_push: float


@dataclass
class Window:
    start: float
    end: float
    samples: list[Sample] = field(default_factory=list)
    issued: int = 0
    offered: int = 0
    no_idle_user: int = 0
    timeouts: int = 0
    script_errors: int = 0

    def record(self, pending: Pending, answered: float) -> None:
        if not self.start <= answered <= self.end:
            return
        origin = pending.delivered_at if pending.delivered_at is not None else pending.pushed_at
        self.samples.append(
            Sample(pending.step, pending.kind, answered - origin, answered - pending.pushed_at)
        )


class LoadUser:
    """A creator going round their cycle, one update in flight at a time."""

    def __init__(self, user: FakeUser, cycle: Sequence[Step]) -> None:
        self.user = user
        self.cycle = cycle
        self.position = 0

    async def send(self, step: Step, tracker: Tracker) -> Pending:
        """Push the step's update and register it before anything else can run."""
        loop = asyncio.get_running_loop()
        pushed = time.monotonic()
        if step.kind == "command":
            sent = await self.user.send_command(step.command)  # returns without suspending
            pending = Pending(
                self.user.id, step.name, "command", pushed, loop.create_future(), sent.update_id
            )
        else:
            assert step.choose is not None
            label = step.choose(self.user)
            query_id = await self.user.press(label)  # returns without suspending
            pending = Pending(
                self.user.id, step.name, "press", pushed, loop.create_future(), query_id=query_id
            )
        tracker.register(pending)
        return pending

    async def step(self, tracker: Tracker, window: Window, answer_within: float) -> None:
        step = self.cycle[self.position]
        try:
            pending = await self.send(step, tracker)
        except AssertionError:
            # The screen was not what the cycle expects (e.g. an error answer): start over.
            window.script_errors += 1
            self.position = 0
            return
        try:
            answered = await asyncio.wait_for(asyncio.shield(pending.done), answer_within)
        except TimeoutError:
            tracker.forget(pending)
            window.timeouts += 1
            self.position = 0
            return
        window.record(pending, answered)
        self.position = (self.position + 1) % len(self.cycle)


async def closed_loop(
    users: Sequence[LoadUser], tracker: Tracker, window: Window, args: argparse.Namespace
) -> None:
    """Every user sends their next update as soon as the previous one is answered."""

    async def run(user: LoadUser) -> None:
        while time.monotonic() < window.end and window.issued < args.max_updates:
            window.issued += 1
            await user.step(tracker, window, args.answer_timeout)

    tasks = [asyncio.create_task(run(user)) for user in users]
    try:
        await asyncio.wait(tasks, timeout=window.end - time.monotonic() + args.answer_timeout + 5)
    finally:
        await finish(tasks)


async def finish(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel what is still running and wait for it, so nothing outlives its window."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def paced_loop(
    users: Sequence[LoadUser],
    tracker: Tracker,
    window: Window,
    rate: float,
    args: argparse.Namespace,
) -> None:
    """Updates offered at ``rate`` per second, each by the longest-idle user; an offer with
    every user still waiting for an answer is counted and dropped (open loop)."""
    idle = deque(users)
    running: set[asyncio.Task[None]] = set()

    async def run(user: LoadUser) -> None:
        try:
            await user.step(tracker, window, args.answer_timeout)
        finally:
            idle.append(user)

    interval = 1.0 / rate
    due = window.start
    try:
        while window.issued < args.max_updates:
            now = time.monotonic()
            if now >= window.end:
                break
            if due > now:
                await asyncio.sleep(due - now)
                continue
            due += interval
            window.offered += 1
            if not idle:
                window.no_idle_user += 1
                continue
            window.issued += 1
            task = asyncio.create_task(run(idle.popleft()))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.wait(set(running), timeout=args.answer_timeout + 5)
    finally:
        await finish(running)


# --- the bot process -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """``python -m benchmarks._bot_process`` with a control channel on stdin/stdout."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path, log_file: Any) -> None:
        self.process = process
        self.log = log
        self._log_file = log_file

    @classmethod
    async def start(
        cls,
        kind: str,
        driver: str,
        mode: str,
        tg: FakeTelegram,
        workdir: Path,
        database_url: str = "",
    ) -> BotProcess:
        command = [
            sys.executable,
            "-m",
            "benchmarks._bot_process",
            "--kind",
            kind,
            "--driver",
            driver,
            "--mode",
            mode,
            "--api-url",
            tg.base_url,
            "--token",
            tg.token,
            "--database-url",
            database_url,
        ]
        if mode == "webhook":
            command += ["--webhook-port", str(free_port())]
        # Only what the command line says: no COLLABBOT_* from this shell (Redis, intervals),
        # and a working directory without a .env file.
        env = {key: value for key, value in os.environ.items() if not key.startswith("COLLABBOT_")}
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
        )
        log = workdir / f"bot-{kind}-{driver}-{secrets.token_hex(3)}.log"
        log_file = log.open("wb")
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
            cwd=workdir,
            env=env,
            limit=CONTROL_LINE_LIMIT,
        )
        return cls(process, log, log_file)

    def log_tail(self, lines: int = 25) -> str:
        self._log_file.flush()
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(nothing logged)"

    async def wait_ready(self, tg: FakeTelegram, mode: str) -> None:
        """Until the bot polls (or has set its webhook), within READY_TIMEOUT."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(
                    f"the bot process exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if mode == "webhook" and tg.webhook.url:
                return
            if mode == "polling" and any(call.method == "getUpdates" for call in tg.calls):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(
            f"the bot did not start within {READY_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    async def mark(self) -> dict[str, Any]:
        """What the bot's database saw since the previous mark, and its CPU time so far."""
        return await self.command("mark")

    async def command(self, line: str) -> dict[str, Any]:
        """Send one control line; returns the bot process's JSON answer."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), CONTROL_TIMEOUT)
        if not line:
            raise RuntimeError(f"the bot process stopped answering:\n{self.log_tail()}")
        return json.loads(line)

    async def stop(self) -> None:
        process = self.process
        try:
            if process.returncode is None and process.stdin is not None:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    process.stdin.write(b"stop\n")
                    await process.stdin.drain()
                    process.stdin.close()
                try:
                    await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    process.terminate()
                    try:
                        await asyncio.wait_for(process.wait(), 5)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
        finally:
            self._log_file.close()


# --- measuring one bot ------------------------------------------------------------------------


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat (0, 0 elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [float(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass
class WindowResult:
    name: str
    seconds: float
    window: Window
    bot_cpu: float  # fraction of one core
    load_cpu: float  # this process: fake server + simulated users
    machine_cpu: float  # fraction of all cores
    handled: int  # updates the bot process finished handling in the window
    sql: dict[str, Any] | None = None
    connects: int = 0  # database connections the bot opened in the window

    @property
    def completed(self) -> int:
        return len(self.window.samples)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def latency(self, fraction: float, *, push: bool = False) -> float:
        values = [s.from_push if push else s.from_delivery for s in self.window.samples]
        return percentile(values, fraction) * 1000

    def per_update(self, value: float) -> float:
        return value / self.handled if self.handled else math.nan

    @property
    def others_cpu(self) -> float:
        """Every other process (the PostgreSQL server included), in cores."""
        return self.machine_cpu * (os.cpu_count() or 1) - self.bot_cpu - self.load_cpu

    @property
    def failures(self) -> str:
        return f"{self.window.timeouts}/{self.window.script_errors}"


@dataclass
class SqlStep:
    name: str
    kind: str
    marks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BotRun:
    kind: str  # "full", or one of ECHO_KINDS
    driver: str
    database: BenchDatabase | None
    saturation: WindowResult
    paced: WindowResult
    sql_steps: list[SqlStep] = field(default_factory=list)
    api_errors: Counter[str] = field(default_factory=Counter)
    background_statements: int = 0
    sql_stopped: list[str] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.database.label if self.database else "–"


async def measured_window(
    name: str,
    bot: BotProcess,
    users: Sequence[LoadUser],
    tracker: Tracker,
    args: argparse.Namespace,
    *,
    rate: float | None,
    drain: bool = True,
) -> WindowResult:
    """One window of load; with ``drain`` the updates still in flight at its end are
    waited for (each bounded by --answer-timeout), so that the next window starts clean."""
    start_mark = await bot.mark()
    start = time.monotonic()
    window = Window(start, start + args.seconds)
    load_cpu_start, machine_start = time.process_time(), machine_cpu()
    if rate is None:
        runner = asyncio.create_task(closed_loop(users, tracker, window, args))
    else:
        runner = asyncio.create_task(paced_loop(users, tracker, window, rate, args))
    try:
        await asyncio.sleep(max(0.0, window.end - time.monotonic()))
        end_mark = await bot.mark()
        load_cpu_end, machine_end = time.process_time(), machine_cpu()
        if drain:
            await runner
    finally:
        await finish([runner])
    busy = machine_end[0] - machine_start[0]
    total = machine_end[1] - machine_start[1]
    return WindowResult(
        name,
        args.seconds,
        window,
        bot_cpu=(end_mark["cpu_seconds"] - start_mark["cpu_seconds"]) / args.seconds,
        load_cpu=(load_cpu_end - load_cpu_start) / args.seconds,
        machine_cpu=busy / total if total else math.nan,
        handled=end_mark["updates_handled"] - start_mark["updates_handled"],
        sql=end_mark,
        connects=end_mark.get("connects", 0) - start_mark.get("connects", 0),
    )


async def profiled_window(
    bot: BotProcess, users: Sequence[LoadUser], tracker: Tracker, args: argparse.Namespace
) -> dict[str, Any]:
    """Saturation load with the bot under cProfile; what is in flight at the end is left."""
    await bot.command("profile-start")
    started = time.monotonic()
    window = Window(started, started + min(args.seconds, PROFILE_SECONDS))
    runner = asyncio.create_task(closed_loop(users, tracker, window, args))
    try:
        await asyncio.sleep(max(0.0, window.end - time.monotonic()))
        profile = await bot.command("profile-stop")
    finally:
        await finish([runner])
    profile["updates"] = len(window.samples)
    return profile


async def count_sql(
    user: LoadUser,
    tracker: Tracker,
    bot: BotProcess,
    args: argparse.Namespace,
    stopped: list[str],
) -> list[SqlStep]:
    """One user alone, one update at a time; the statements of each update read right after
    its answer. Paging bounces between the first and the last page of the hall."""
    steps: dict[str, SqlStep] = {}
    deadline = time.monotonic() + SQL_PHASE_SECONDS

    async def run(step: Step, record: bool = True) -> None:
        if time.monotonic() > deadline:
            raise TimeoutError("the SQL counting phase ran out of time")
        pending = await user.send(step, tracker)
        try:
            await asyncio.wait_for(asyncio.shield(pending.done), args.answer_timeout)
        finally:
            tracker.forget(pending)
        mark = await bot.mark()
        if record:
            steps.setdefault(step.name, SqlStep(step.name, step.kind)).marks.append(mark)

    offers, orders, profile = FULL_CYCLE[0], FULL_CYCLE[6], FULL_CYCLE[9]
    try:
        await bot.mark()
        for _ in range(args.commands):
            for command in (offers, orders, profile):
                await run(command)
        await run(offers, record=False)
        forward = True
        for _ in range(args.presses):
            labels = user.user.buttons()
            if forward and "Next ›" not in labels:
                forward = False
            elif not forward and "‹ Previous" not in labels:
                forward = True
            label = "Next ›" if forward else "‹ Previous"
            await run(Step("hall page (Next › / ‹ Previous)", "press", choose=press(label)))
        for _ in range(args.presses):
            await run(Step("offer detail", "press", choose=first_offer))
            await run(Step("‹ Back to offers", "press", choose=press("‹ Back to offers")))
        for _ in range(args.commands):
            await run(orders, record=False)
            await run(Step("order detail", "press", choose=first_button))
            await run(Step("‹ My orders", "press", choose=press("‹ My orders")))
    except (TimeoutError, AssertionError) as error:
        progress(f"SQL counting stopped early: {error or type(error).__name__}")
        stopped.append(str(error) or "no answer within --answer-timeout")
    return list(steps.values())


async def measure(
    kind: str,
    driver: str,
    database: BenchDatabase | None,
    args: argparse.Namespace,
    workdir: Path,
) -> BotRun:
    async with contextlib.AsyncExitStack() as stack:
        tg = await stack.enter_async_context(FakeTelegram())
        tracker = Tracker(tg)
        cycle = FULL_CYCLE if kind == "full" else ECHO_CYCLE
        users = [
            LoadUser(tg.user(FIRST_USER_ID + index, f"Creator {index + 1}"), cycle)
            for index in range(args.users)
        ]
        bot = await BotProcess.start(
            kind, driver, args.mode, tg, workdir, database.url if database else ""
        )
        stack.push_async_callback(bot.stop)
        await bot.wait_ready(tg, args.mode)
        # Warm-up: one update per user (connections, caches), within WARMUP_SECONDS.
        warmup = Window(time.monotonic(), time.monotonic() + WARMUP_SECONDS)
        warmup.issued = max(0, args.max_updates - len(users))
        await closed_loop(users, tracker, warmup, args)
        stopped: list[str] = []
        sql_steps: list[SqlStep] = []
        if kind == "full":
            started = time.monotonic()
            sql_steps = await count_sql(users[0], tracker, bot, args, stopped)
            progress(f"  SQL counted in {time.monotonic() - started:.1f} s")
        users[0].position = 0  # its chat moved on during the count: start the cycle again
        saturation = await measured_window("saturation", bot, users, tracker, args, rate=None)
        progress(f"  saturation: {saturation.rate:.1f} updates/s")
        last = kind != "full" or not args.profile
        paced = await measured_window(
            "paced", bot, users, tracker, args, rate=args.rate, drain=not last
        )
        progress(f"  paced: {paced.rate:.1f} of {args.rate:.0f} updates/s answered")
        profile: dict[str, Any] = {}
        if not last:
            profile = await profiled_window(bot, users, tracker, args)
        final = await bot.mark()
        return BotRun(
            kind,
            driver,
            database,
            saturation,
            paced,
            sql_steps,
            tracker.api_errors,
            final.get("background_statements", 0),
            stopped,
            profile,
        )


# --- reporting -------------------------------------------------------------------------------


_CAST = re.compile(r"\$\d+(?:::[A-Z_]+(?: WITH(?:OUT)? TIME ZONE)?(?:\(\d+\))?)?")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")


def statement_key(sql: str) -> str:
    """The statement with whitespace collapsed, bind parameters as ``?`` and IN lists of any
    length as one, so the same query counts once whatever the driver's placeholder style."""
    text = _CAST.sub("?", " ".join(sql.split()))
    return _LIST.sub("(?, …)", text)


def _top_level(text: str, word: str, start: int = 0) -> int:
    depth = 0
    upper = text.upper()
    for index in range(start, len(text)):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and upper.startswith(word, index):
            return index
    return -1


def statement_label(key: str, width: int = 120) -> str:
    """A readable one-line form: column lists elided."""
    upper = key.upper()
    text = key
    if upper.startswith("SELECT "):
        at = _top_level(key, " FROM ")
        if at > 0:
            text = "SELECT … " + key[at + 1 :]
    elif upper.startswith("INSERT INTO "):
        text = re.sub(r"^(INSERT INTO \S+) \(.*", r"\1 (…) VALUES (…)", key)
    elif upper.startswith("UPDATE "):
        at = _top_level(key, " WHERE ")
        head = key.split(" SET ", 1)[0]
        text = f"{head} SET …" + (key[at:] if at > 0 else "")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> None:
    cells = [list(headers)] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(row):
            numeric = i > 0 and bool(re.fullmatch(r"[-+≥≤~.\d%/ ×]+|nan|–", cell))
            parts.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    out.write(line(cells[0]) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells[1:]:
        out.write(line(row) + "\n")
    out.write("\n")


def fmt(value: float, digits: int = 1) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def pct(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value * 100:.0f}%"


def versions() -> str:
    found = []
    for name, shown in (
        ("aiogram", "aiogram"),
        ("python-telegram-bot", "PTB"),
        ("SQLAlchemy", "SQLAlchemy"),
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{shown} {importlib.metadata.version(name)}")
    return ", ".join(found)


def step_stats(marks: Sequence[dict[str, Any]]) -> dict[str, float]:
    counts = [sum(mark["statements"].values()) for mark in marks]
    return {
        "n": len(marks),
        "avg": sum(counts) / len(counts) if counts else math.nan,
        "max": max(counts) if counts else math.nan,
        "transactions": sum(m["transactions"] for m in marks) / len(marks) if marks else math.nan,
        "checkouts": sum(m["checkouts"] for m in marks) / len(marks) if marks else math.nan,
        "sql_ms": sum(m["sql_seconds"] for m in marks) * 1000 / len(marks) if marks else math.nan,
    }


def press_marks(run: BotRun) -> list[dict[str, Any]]:
    return [mark for step in run.sql_steps if step.kind == "press" for mark in step.marks]


def command_marks(run: BotRun) -> list[dict[str, Any]]:
    return [mark for step in run.sql_steps if step.kind == "command" for mark in step.marks]


TRANSACTION_MARK = "-- transaction begins"  # as benchmarks/_bot_process.py marks them


def transactions(mark: dict[str, Any]) -> list[list[str]]:
    """The statements of one mark, split where a transaction began."""
    split: list[list[str]] = []
    for sql in mark.get("sequence", []):
        if sql == TRANSACTION_MARK or not split:
            split.append([])
        if sql != TRANSACTION_MARK:
            split[-1].append(sql)
    return split


def verdict(met: bool | None) -> str:
    return "–" if met is None else ("met" if met else "MISSED")


ECHO_KINDS = {"echo-stock": "echo, stock", "echo": "echo, same HTTP"}


def bot_name(run: BotRun) -> str:
    return "full stack" if run.kind == "full" else ECHO_KINDS[run.kind]


def report_header(
    args: argparse.Namespace, total_seconds: float, busy_before: float, out: TextIO
) -> None:
    w = out.write
    w("\n" + "=" * 100 + "\n")
    w("collabbot Telegram throughput (loopback, fake Bot API server)\n")
    w(
        f"{time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · Python "
        f"{platform.python_version()} · {versions()} · mode {args.mode}\n"
    )
    cycle = ", ".join(step.name for step in FULL_CYCLE)
    w(
        f"{args.users} onboarded creators (2 orders each), {args.offers} live offers; every "
        f"user repeats: {cycle}\n"
    )
    w(
        "Latency: from the moment the fake hands the update out (getUpdates answer or "
        "webhook POST) to the moment the bot's last answering request reaches the fake "
        "(command: sendMessage/editMessageText; press: answerCallbackQuery and "
        "sendMessage/editMessageText). 'push' columns count from when the update was queued.\n"
    )
    if args.mode == "webhook":
        w(
            "Webhook mode: the fake posts one update at a time and waits for the answer, so "
            "these figures measure one update in flight, not concurrency.\n"
        )
    quiet = busy_before <= 0.15
    w(
        f"Whole run: {total_seconds:.0f} s. Before it started, other processes kept the "
        f"machine {pct(busy_before)} busy"
        + ("." if quiet else " — the figures share the CPU with them; rerun on a quiet machine.")
        + "\n\n"
    )


def report_saturation(runs: Sequence[BotRun], args: argparse.Namespace, out: TextIO) -> None:
    out.write(
        f"1. Saturation: {args.users} users, one update in flight each, the next sent as soon "
        f"as the last is answered ({args.seconds:.0f} s window)\n"
    )
    rows = []
    for run in runs:
        r = run.saturation
        rows.append(
            [
                run.driver,
                run.label,
                bot_name(run),
                fmt(r.rate),
                fmt(r.latency(0.5)),
                fmt(r.latency(0.99)),
                fmt(r.latency(0.5, push=True)),
                fmt(r.latency(0.99, push=True)),
                r.failures,
                pct(r.bot_cpu),
                fmt(r.per_update(r.bot_cpu * r.seconds) * 1000, 2),
                pct(r.load_cpu),
                pct(r.others_cpu),
                pct(r.machine_cpu),
            ]
        )
    headers = ["driver", "database", "bot", "updates/s", "p50 ms", "p99 ms", "push p50"]
    headers += ["push p99", "timeouts/errors", "bot CPU", "bot CPU ms/update"]
    table([*headers, "fake+users CPU", "others CPU", "machine"], rows, out)
    out.write(
        "CPU: bot = the bot process, fake+users = this process, others = everything else "
        "(the PostgreSQL server included), each in % of one core; machine = % of all cores. "
        "bot CPU ms/update: the bot's CPU time per update it handled (1000 / it = what one "
        "core can give). "
        "timeouts/errors: no answer within --answer-timeout / a screen other than the cycle "
        "expects (that user starts the cycle again).\n\n"
    )


def report_paced(runs: Sequence[BotRun], args: argparse.Namespace, out: TextIO) -> None:
    out.write(
        f"2. Paced: {args.rate:.0f} updates/s offered, each by the longest-idle user "
        f"({args.seconds:.0f} s window)\n"
    )
    rows = []
    for run in runs:
        r = run.paced
        rows.append(
            [
                run.driver,
                run.label,
                bot_name(run),
                fmt(r.window.offered / r.seconds),
                fmt(r.rate),
                fmt(r.latency(0.5)),
                fmt(r.latency(0.99)),
                fmt(r.latency(0.99, push=True)),
                r.window.no_idle_user,
                r.failures,
                pct(r.bot_cpu),
            ]
        )
    headers = ["driver", "database", "bot", "offered/s", "answered/s", "p50 ms", "p99 ms"]
    table([*headers, "push p99", "no idle user", "timeouts/errors", "bot CPU"], rows, out)
    out.write(
        "no idle user: offers dropped because every user was still waiting for an answer "
        "(the bot did not keep up with the offered rate).\n\n"
    )


def report_sql(full: Sequence[BotRun], out: TextIO) -> None:
    out.write(
        "3. SQL per update: one user alone, one update at a time, counted by a "
        "before_cursor_execute listener on the bot's engine\n"
    )
    rows = []
    for run in full:
        lines = [(step.name, step.marks) for step in run.sql_steps]
        lines += [("= every button press", press_marks(run))]
        lines += [("= every command", command_marks(run))]
        for name, marks in lines:
            stats = step_stats(marks)
            rows.append(
                [
                    run.driver,
                    run.label,
                    name,
                    stats["n"],
                    fmt(stats["avg"]),
                    fmt(stats["max"], 0),
                    fmt(stats["transactions"]),
                    fmt(stats["checkouts"]),
                    fmt(stats["sql_ms"], 2),
                ]
            )
    headers = ["driver", "database", "update", "n", "statements avg", "max", "transactions"]
    table([*headers, "pool checkouts", "SQL ms"], rows, out)
    out.write(
        "Statements are what reaches the DB-API cursor: SQLite's BEGIN (IMMEDIATE) is one; "
        "COMMIT and asyncpg's BEGIN of a writing transaction are round trips the listener "
        "does not see (reads on PostgreSQL run without BEGIN). "
        "SQL ms: wall time inside cursor.execute.\n\n"
    )
    out.write("4. Full stack under load (saturation window): where an update's time goes\n")
    rows = []
    for run in full:
        r = run.saturation
        sql = r.sql or {}
        statements = sum(sql.get("statements", {}).values())
        rows.append(
            [
                run.driver,
                run.label,
                r.handled,
                fmt(r.per_update(statements)),
                fmt(r.per_update(sql.get("transactions", 0))),
                fmt(r.per_update(sql.get("sql_seconds", 0.0)) * 1000, 2),
                fmt(r.per_update(r.bot_cpu * r.seconds) * 1000, 2),
                pct(r.bot_cpu),
                r.connects,
            ]
        )
    headers = ["driver", "database", "updates handled", "statements/update"]
    headers += ["transactions/update", "SQL ms/update", "bot CPU ms/update", "bot CPU"]
    headers += ["connections opened"]
    table(headers, rows, out)
    out.write(
        "SQL ms/update: wall time inside cursor.execute per update — under load mostly waiting "
        "(for the event loop, busy with other updates, to resume the query; for SQLite's write "
        "lock), compare with section 3. bot CPU ms/update: the bot process's CPU time per "
        "update; 1000 / it is the most updates/s one core can give. connections opened: new "
        "database connections during the window (a pool too small for the load opens and "
        "closes one for many updates).\n\n"
    )


def report_targets(
    full: Sequence[BotRun],
    echo: dict[tuple[str, str], BotRun],
    args: argparse.Namespace,
    out: TextIO,
) -> None:
    out.write("5. Targets\n")
    rows = []
    for run in full:
        saturated = run.saturation.rate
        ratios = []
        for kind in ECHO_KINDS:
            peer = echo.get((run.driver, kind))
            ratio = saturated / peer.saturation.rate if peer and peer.saturation.rate else math.nan
            fraction = verdict(None if math.isnan(ratio) else ratio >= TARGET_RATIO)
            ratios.append(f"{fmt(ratio, 2)} ({fraction})")
        if run.database is not None and run.database.kind == "postgres":
            throughput = verdict(saturated >= TARGET_UPDATES_PER_SECOND)
        else:
            throughput = "target is for PostgreSQL"
        paced = run.paced
        p99 = paced.latency(0.99)
        sustained = paced.rate >= 0.95 * paced.window.offered / paced.seconds
        latency = verdict(None if math.isnan(p99) else sustained and p99 <= TARGET_P99_MS)
        if not sustained:
            latency += f", only {fmt(paced.rate, 0)}/s answered"
        presses = step_stats(press_marks(run))
        sql = verdict(None if not presses["n"] else presses["max"] <= TARGET_SQL_PER_PRESS)
        rows.append(
            [
                run.driver,
                run.label,
                f"{fmt(saturated)} ({throughput})",
                *ratios,
                f"{fmt(p99)} ({latency})",
                f"{fmt(presses['avg'])} avg, {fmt(presses['max'], 0)} max ({sql})",
            ]
        )
    headers = [
        "driver",
        "database",
        f"updates/s (≥ {TARGET_UPDATES_PER_SECOND:.0f} on PostgreSQL)",
        *(f"full/{name} (≥ {TARGET_RATIO})" for name in ECHO_KINDS.values()),
        f"p99 ms at {args.rate:.0f}/s (≤ {TARGET_P99_MS:.0f})",
        f"SQL statements per press (≤ {TARGET_SQL_PER_PRESS:.0f})",
    ]
    table(headers, rows, out)


def report_statements(full: Sequence[BotRun], args: argparse.Namespace, out: TextIO) -> None:
    shown: set[str] = set()
    for run in full:
        presses = press_marks(run)
        if run.database is None or run.database.kind in shown or not presses:
            continue
        shown.add(run.database.kind)
        totals: Counter[str] = Counter()
        for mark in presses:
            for sql, count in mark["statements"].items():
                totals[statement_key(sql)] += count
        out.write(
            f"6. What a button press runs on {run.label} ({run.driver} run, {len(presses)} "
            "presses; the drivers do not change it)\n"
        )
        out.write(f"Top {args.top} statements by count per press:\n")
        rows = [
            [fmt(count / len(presses), 2), statement_label(key)]
            for key, count in totals.most_common(args.top)
        ]
        table(["per press", "statement"], rows, out)
        out.write("Transactions per kind of press (statements in each, in order):\n")
        rows = []
        for step in run.sql_steps:
            if step.kind == "press" and step.marks:
                sizes = [len(statements) for statements in transactions(step.marks[-1])]
                rows.append([step.name, len(sizes), " + ".join(map(str, sizes))])
        table(["press", "transactions", "statements"], rows, out)
        example = next((s for s in run.sql_steps if s.kind == "press" and s.marks), None)
        if example is not None:
            out.write(f"One '{example.name}' press, statement by statement:\n")
            for number, statements in enumerate(transactions(example.marks[-1]), start=1):
                out.write(f"  transaction {number}\n")
                for sql in statements:
                    out.write(f"    {statement_label(statement_key(sql), 110)}\n")
            out.write("\n")


def report_profiles(full: Sequence[BotRun], out: TextIO) -> None:
    profiled = [run for run in full if run.profile.get("total")]
    if not profiled:
        return
    out.write(
        "7. Where the full-stack bot's CPU goes: cProfile (CPU-time clock) during one more "
        "saturation window; profiling slows the bot down, so read shares, not times\n"
    )
    for run in profiled:
        total = run.profile["total"]
        packages = " · ".join(
            f"{name} {seconds / total:.0%}" for name, seconds in run.profile["packages"][:9]
        )
        out.write(f"{run.driver} / {run.label}, own CPU time by package: {packages}\n")
        rows = [
            [
                f"{own / total:.1%}",
                # cProfile counts re-entered frames (the event loop) more than once
                f"{cumulative / total:.0%}" if cumulative <= total else "–",
                calls,
                name[:100],
            ]
            for own, cumulative, calls, name in run.profile["functions"][:10]
        ]
        table(["own", "with callees", "calls", "function (most own time)"], rows, out)
    out.write(
        "Shares of the CPU time of the bot's event-loop thread (aiosqlite's worker thread "
        "not included); 'with callees' also counts what the function called.\n\n"
    )


def report_problems(runs: Sequence[BotRun], out: TextIO) -> None:
    problems = [
        [run.driver, run.label, bot_name(run), count, text]
        for run in runs
        for text, count in run.api_errors.most_common(5)
    ]
    if problems:
        out.write("Bot API errors the fake answered (all windows, warm-up included)\n")
        table(["driver", "database", "bot", "count", "error"], problems, out)
    for run in runs:
        for reason in run.sql_stopped:
            out.write(f"SQL counting of {run.driver}/{run.label} stopped early: {reason}\n")
    background = [run for run in runs if run.kind == "full" and run.background_statements]
    if background:
        counted = ", ".join(
            f"{run.driver}/{run.label} {run.background_statements}" for run in background
        )
        out.write(
            "Statements run while no update was being handled (the notice dispatcher looking "
            f"for due notices), not counted above: {counted}.\n"
        )


def report(
    runs: list[BotRun],
    args: argparse.Namespace,
    total_seconds: float,
    busy_before: float,
    out: TextIO,
) -> None:
    echo = {(run.driver, run.kind): run for run in runs if run.kind in ECHO_KINDS}
    full = [run for run in runs if run.kind == "full"]
    ordered = [*echo.values(), *full]
    report_header(args, total_seconds, busy_before, out)
    report_saturation(ordered, args, out)
    report_paced(ordered, args, out)
    if full:
        report_sql(full, out)
        report_targets(full, echo, args, out)
        report_statements(full, args, out)
        report_profiles(full, out)
    report_problems(runs, out)
    out.flush()


async def prepare_database(
    kind: str,
    args: argparse.Namespace,
    workdir: Path,
    user_ids: Sequence[int],
    cleanup: contextlib.AsyncExitStack,
) -> BenchDatabase:
    started = time.monotonic()
    if kind == "postgres":
        url, name = await create_postgres_database(args.postgres_url)
        cleanup.push_async_callback(drop_postgres_database, args.postgres_url, name)
        progress(f"created PostgreSQL database {name}")
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    database = BenchDatabase(kind, url)
    await seed(url, user_ids, args.offers)
    database.seed_seconds = time.monotonic() - started
    progress(f"seeded {database.label} in {database.seed_seconds:.1f} s")
    return database


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def machine_busy(seconds: float) -> float:
    """How busy the machine is (fraction of all cores) over the next ``seconds``."""
    before = machine_cpu()
    await asyncio.sleep(seconds)
    after = machine_cpu()
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else math.nan


async def run(args: argparse.Namespace) -> tuple[list[BotRun], float]:
    drivers = chosen(args.driver, ("aiogram", "ptb"))
    kinds = chosen(args.database, ("sqlite", "postgres"))
    user_ids = [FIRST_USER_ID + index for index in range(args.users)]
    runs: list[BotRun] = []
    busy_before = await machine_busy(1.0)
    async with contextlib.AsyncExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="collabbot_bench_"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        databases = [
            await prepare_database(kind, args, workdir, user_ids, cleanup) for kind in kinds
        ]
        for driver in drivers:
            for kind, name in ECHO_KINDS.items():
                progress(f"{driver}: {name}")
                runs.append(await measure(kind, driver, None, args, workdir))
            for database in databases:
                progress(f"{driver}: full stack on {database.label}")
                runs.append(await measure("full", driver, database, args, workdir))
        progress("cleaning up")
    return runs, busy_before


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # A bot that disconnects mid-request while stopping is not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    started = time.monotonic()
    try:
        runs, busy_before = asyncio.run(run(args))
    except KeyboardInterrupt:
        print("\ninterrupted; bot processes stopped, databases dropped", file=sys.stderr)
        return 130
    report(runs, args, time.monotonic() - started, busy_before, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
