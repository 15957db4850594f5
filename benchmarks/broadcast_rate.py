"""Broadcast sending rate against Telegram's cap, through the strict fake Bot API with flood
control on.

    .venv/bin/python -m benchmarks.broadcast_rate [--recipients N] [--cap 30|1000]
        [--workers 1|2] [--database sqlite|postgres]

This process hosts the fake Bot API server (``tests/e2e/telegram_fake``) with its global
limit set to the cap (and 1 message/s per chat), so a send over the cap is answered with a
429. It seeds N onboarded creators with a Telegram chat straight through the repositories
(1,000 per transaction), creates an announcement to all creators, and expands it into the
outbox with ``expand_due_broadcasts`` (what the scheduler's job does). The notices are sent
by 1 or 2 worker processes (``benchmarks/_broadcast_worker.py``: the wiring of
``collabbot run --role worker`` with the chosen cap, its rate-limit counters in Redis when
PostgreSQL is used, so two workers share one cap). Prints one table; asserts nothing.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.e2e.telegram_fake import FakeTelegram

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
FIRST_USER_ID = 600_000_001
TEXT = "Benchmark announcement: new offers every day!"
SEED_BATCH = 1000
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
TRIM = 0.05  # share of sends left out at each end (ramp-up, tail) for the sustained rate
TARGET_FRACTION = 0.95
TARGET_RSS_MB = 200.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.broadcast_rate", description=__doc__)
    p.add_argument("--recipients", type=int, default=20_000)
    p.add_argument("--cap", type=int, choices=(30, 1000), default=1000)
    p.add_argument("--workers", type=int, choices=(1, 2), default=1)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("COLLABBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    p.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="shared limits (PostgreSQL, or 2 workers)"
    )
    p.add_argument("--batch", type=int, default=0, help="dispatcher batch (0: product default)")
    p.add_argument(
        "--concurrency", type=int, default=0, help="dispatcher concurrency (0: product default)"
    )
    p.add_argument(
        "--lease", type=float, default=60.0, help="dispatch lease seconds (60, the default)"
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="run the workers under cProfile (statistics next to their logs)",
    )
    p.add_argument(
        "--stall", type=float, default=30.0, help="give up after this long without a send"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="overall bound (0: max(3 × N / cap, N / 50) + 120 s)",
    )
    return p.parse_args(argv)


# --- the database ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_database(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="collabbot_bcast_") as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        return
    import asyncpg

    server = make_url(args.postgres_url).set(drivername="postgresql")
    dsn = server.render_as_string(hide_password=False)
    name = f"collabbot_bcast_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield server.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def seed(mp: Any, recipients: int) -> None:
    """N onboarded creators, each with a Telegram chat, 1,000 per transaction."""
    from core.domain.common import Platform
    from core.domain.members import ChannelIdentity, Member, Role

    for start in range(0, recipients, SEED_BATCH):

        async def work(uow: Any, start: int = start) -> None:
            now = mp.clock.now()
            for n in range(start, min(start + SEED_BATCH, recipients)):
                chat = str(FIRST_USER_ID + n)
                member = Member(id=None, display_name=f"Creator {n}", created_at=now)
                member.grant(Role.CREATOR)
                assert member.creator is not None
                member.creator.onboarded = True
                member.attach(ChannelIdentity(Platform.TELEGRAM, chat, chat, True, now))
                await uow.members.add(member)

        await mp.transaction(work)


async def outbox_states(mp: Any) -> dict[str, int]:
    from storage.repositories.outbox import outbox

    async def work(uow: Any) -> dict[str, int]:
        statement = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        return {str(s): int(n) for s, n in await uow.session.execute(statement)}

    return await mp.transaction(work)


# --- the workers -----------------------------------------------------------------------------


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def servers_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL and Redis servers' processes."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        if name in ("postgres", "redis-server"):
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


@dataclass(frozen=True)
class CpuSample:
    sent: int
    workers: float
    here: float
    servers: float
    busy: float
    total: float


def cpu_while_sending(samples: list[CpuSample], recipients: int) -> list[tuple[str, str]]:
    """CPU per accepted send between 5 % and 95 % of the sends, by process."""
    inside = [x for x in samples if TRIM * recipients <= x.sent <= (1 - TRIM) * recipients]
    if len(inside) < 2 or inside[-1].sent == inside[0].sent:
        return [("CPU while sending", "too few samples")]
    first, last = inside[0], inside[-1]
    sends = last.sent - first.sent
    cores = os.cpu_count() or 1
    wall = (last.total - first.total) / cores
    per = lambda seconds: f"{1000 * seconds / sends:.2f} ms"  # noqa: E731
    share = lambda seconds: f"{100 * seconds / wall:.0f} %" if wall else "-"  # noqa: E731
    workers, here = last.workers - first.workers, last.here - first.here
    servers = last.servers - first.servers
    others = (last.busy - first.busy) - workers - here - servers
    return [
        ("CPU per send while sending", f"workers {per(workers)}, fake server {per(here)}, "
                                       f"PostgreSQL + Redis {per(servers)}"),
        ("CPU load while sending", f"workers {share(workers)}, fake server {share(here)}, "
                                   f"PostgreSQL + Redis {share(servers)}, anything else "
                                   f"{share(others)} of one core; machine "
                                   f"{100 * (last.busy - first.busy) / (wall * cores):.0f} % "
                                   f"of {cores} cores"),
    ]  # fmt: skip


def vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    log: Path
    peak_kb: int = 0
    report: dict[str, Any] = field(default_factory=dict)

    def sample(self) -> None:
        self.peak_kb = max(self.peak_kb, vm_hwm_kb(self.process.pid))

    async def stop(self) -> None:
        self.sample()
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        assert self.process.stdout is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_TIMEOUT):
                async for line in self.process.stdout:
                    with contextlib.suppress(ValueError):
                        data = json.loads(line)
                        if "counts" in data:
                            self.report = data
                await self.process.wait()
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.peak_kb = max(self.peak_kb, int(self.report.get("peak_rss_kb", 0)))


async def start_worker(
    args: argparse.Namespace,
    url: str,
    redis: str,
    tg: FakeTelegram,
    namespace: str,
    folder: Path,
    index: int,
) -> Worker:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLABBOT_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    command = [
        sys.executable, "-m", "benchmarks._broadcast_worker",
        "--database-url", url, "--redis-url", redis, "--api-url", tg.base_url,
        "--token", tg.token, "--cap", str(args.cap),
        "--namespace", namespace, "--lease", str(args.lease),
        "--batch", str(args.batch), "--concurrency", str(args.concurrency),
    ]  # fmt: skip
    if args.profile:
        command += ["--profile", str(folder / f"worker-{index}.prof")]
    log = folder / f"worker-{index}.log"
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO_ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=err,
        )  # fmt: skip
    worker = Worker(process, log)
    assert process.stdout is not None
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            line = await process.stdout.readline()
    except TimeoutError:
        line = b""
    if b"ready" not in line:
        await worker.stop()
        raise RuntimeError(f"worker {index} did not start:\n{log.read_text()[-3000:]}")
    return worker


# --- the numbers -----------------------------------------------------------------------------


def sustained(times: list[float]) -> tuple[float, float, float]:
    """(messages/s over the middle 90 % of the sends, most sends in any 1 s window, span)."""
    if len(times) < 3:
        return 0.0, float(len(times)), 0.0
    lo, hi = int(len(times) * TRIM), int(len(times) * (1 - TRIM)) - 1
    span = times[hi] - times[lo]
    rate = (hi - lo) / span if span > 0 else 0.0
    peak, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return rate, float(peak), span


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


async def run(args: argparse.Namespace) -> None:
    from core import services as s  # noqa: F401  (imports the use cases' wiring)
    from core.domain.broadcasts import AudienceKind
    from core.ports.clock import SystemClock
    from core.services import Actor, Marketplace
    from core.services.broadcasts import (
        BroadcastDraft,
        audience_of,
        broadcast_progress,
        create_broadcast,
    )
    from notifications.broadcasts import expand_due_broadcasts, finish_broadcasts
    from storage.migrate import upgrade
    from storage.unit_of_work import Database

    system = Actor.system()
    redis = args.redis_url if (args.database == "postgres" or args.workers > 1) else ""
    namespace = f"collabbot-bench-{secrets.token_hex(4)}"
    bound = args.timeout or max(3 * args.recipients / args.cap, args.recipients / 50) + 120
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    async with FakeTelegram() as tg, scratch_database(args) as url:
        tg.limit(per_chat_per_second=1, global_per_second=args.cap, group_per_minute=20)
        for n in range(args.recipients):
            tg.user(FIRST_USER_ID + n, f"C{n}")
        log(f"migrating and seeding {args.recipients} creators ({args.database}) …")
        await upgrade(url)
        database = Database.connect(url, SystemClock())
        workers: list[Worker] = []
        folder = Path(tempfile.mkdtemp(prefix="collabbot_bcast_logs_"))
        try:
            mp = Marketplace(database.unit_of_work, database.clock)
            began = time.monotonic()
            await seed(mp, args.recipients)
            seeded_in = time.monotonic() - began
            draft = BroadcastDraft(text=TEXT, audience=audience_of(AudienceKind.ALL_CREATORS))
            broadcast = await create_broadcast(mp, system, draft, send_at=mp.clock.now())
            assert broadcast.id is not None
            log(f"seeded in {seeded_in:.1f} s; starting {args.workers} worker(s) …")
            for index in range(args.workers):
                workers.append(await start_worker(args, url, redis, tg, namespace, folder, index))

            started = time.monotonic()
            cpu_before = cpu_seconds()
            samples: list[CpuSample] = []
            expanding = asyncio.create_task(expand_due_broadcasts(mp))
            last_count, last_change, outcome = -1, started, "all delivered"
            while True:
                await asyncio.sleep(0.5)
                for w in workers:
                    w.sample()
                    if w.process.returncode is not None:
                        outcome = f"a worker exited with {w.process.returncode}"
                sent = sum(1 for c in tg.calls_to("sendMessage") if c.ok)
                now = time.monotonic()
                workers_cpu = sum(process_cpu(w.process.pid) for w in workers)
                samples.append(
                    CpuSample(sent, workers_cpu, cpu_seconds(), servers_cpu(), *machine_cpu())
                )
                if sent != last_count:
                    last_count, last_change = sent, now
                    log(f"  {now - started:6.1f} s: {sent} sent, {tg.throttled} 429s")
                if outcome != "all delivered":
                    break
                if sent >= args.recipients and expanding.done():
                    await asyncio.sleep(1.0)  # let a late duplicate show
                    break
                if now - last_change > args.stall:
                    outcome = f"stalled: no send for {args.stall:.0f} s"
                    break
                if now - started > bound:
                    outcome = f"timed out after {bound:.0f} s"
                    break
            cpu_here = cpu_seconds() - cpu_before
            queued = await expanding if expanding.done() else None
            if not expanding.done():
                expanding.cancel()
            await finish_broadcasts(mp)
            progress = await broadcast_progress(mp, system, broadcast.id)
            states = await outbox_states(mp)
        finally:
            for w in workers:
                await w.stop()
            await database.dispose()

        calls = [c for c in tg.calls_to("sendMessage")]
        ok_times = sorted(c.at for c in calls if c.ok)
        per_chat: Counter[int] = Counter()
        for n in range(args.recipients):
            user = tg.user(FIRST_USER_ID + n)
            per_chat[n] = sum(1 for m in user.messages if TEXT in m.content)
        throttled = tg.throttled

    rate, peak_window, span = sustained(ok_times)
    elapsed = (ok_times[-1] - started) if ok_times else 0.0
    duplicates = sum(k - 1 for k in per_chat.values() if k > 1)
    lost = sum(1 for k in per_chat.values() if k == 0)
    counts: Counter[str] = Counter()
    for w in workers:
        counts.update(w.report.get("counts", {}))
    peaks = [w.peak_kb / 1024 for w in workers]
    worker_cpu = sum(float(w.report.get("cpu_seconds", 0.0)) for w in workers)
    per_send = lambda seconds: f"{1000 * seconds / max(1, len(calls)):.2f} ms"  # noqa: E731
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fraction = rate / args.cap
    limits = "Redis (shared)" if redis else "in process memory"
    rows = [
        ("recipients", f"{args.recipients}"),
        ("cap", f"{args.cap}/s" + (" (paid broadcasts)" if args.cap == 1000 else "")),
        ("workers", f"{args.workers} ({args.database}, limits in {limits})"),
        ("outcome", outcome),
        ("queued by expansion", "not finished" if queued is None else f"{queued}"),
        ("elapsed", f"{elapsed:.1f} s (expansion start → last send)"),
        ("sustained rate", f"{rate:.1f} msg/s over the middle 90 % of sends ({span:.1f} s)"),
        ("fraction of cap", f"{fraction:.1%} (target ≥ {TARGET_FRACTION:.0%})"),
        ("busiest 1 s window", f"{peak_window:.0f} sends (cap {args.cap})"),
        ("429s received", f"{throttled}"),
        ("sends accepted", f"{len(ok_times)} of {len(calls)} sendMessage calls"),
        ("duplicates", f"{duplicates}"),
        ("lost", f"{lost}" + ("" if outcome == "all delivered" else " (not delivered when the run ended)")),
        ("dead letters", f"{states.get('dead', 0)}"),
        ("outbox at the end", ", ".join(f"{k} {v}" for k, v in sorted(states.items()))),
        ("broadcast report", f"{progress.broadcast.state.value}: sent {progress.sent}, "
                             f"failed {progress.failed}, unreachable {progress.unreachable}, "
                             f"pending {progress.pending}"),
        ("dispatcher counts", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"),
        ("peak RSS per worker", ", ".join(f"{p:.0f} MB" for p in peaks)
                                + f" (target ≤ {TARGET_RSS_MB:.0f} MB)"),
        ("CPU per sendMessage call", f"workers {per_send(worker_cpu)} "
                                     f"(whole run, startup included), this process "
                                     f"{per_send(cpu_here)} (fake server, expansion, polling)"),
        *cpu_while_sending(samples, args.recipients),
        ("peak RSS, this process", f"{parent_mb:.0f} MB (fake server + seeding; not a target)"),
    ]  # fmt: skip
    print(f"\nBroadcast rate — {args.recipients} recipients, cap {args.cap}/s, "
          f"{args.workers} worker(s), {args.database}")  # fmt: skip
    if args.recipients < 20_000:
        print(f"  NOTE: shorter run than the 20,000 of the target ({args.recipients} recipients, "
              f"≈ {args.recipients / args.cap:.0f} s at the cap).")  # fmt: skip
    print(table(rows))
    print(f"  worker logs: {folder}")


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
