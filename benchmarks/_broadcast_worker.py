"""One notice worker for ``benchmarks.broadcast_rate``: the same wiring as
``collabbot run --role worker`` (``bots.runner._dispatch`` over ``sending_channels``), with
the Telegram cap chosen on the command line (30/s, or 1000/s for paid broadcasts) and the
rate-limit counters under a namespace of this run (in Redis when ``--redis-url`` is given,
so several workers share them).

Runs until SIGTERM / SIGINT; then writes one JSON line to stdout: what the dispatcher did,
the peak RSS and the CPU seconds of this process. With ``--profile FILE`` the event loop
runs under cProfile and the statistics are written to FILE (for ``python -m pstats``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import resource
import signal
import sys
from datetime import timedelta


async def main(args: argparse.Namespace) -> None:
    from bots.bootstrap import open_marketplace
    from bots.runner import button_secret, sending_channels
    from bots.settings import load_settings
    from core.conversations.actions import ActionCodec
    from core.conversations.engine import ConversationEngine
    from core.domain.common import Platform
    from notifications.dispatcher import Dispatcher
    from notifications.rate_limits import DEFAULT_RATES, TELEGRAM_PAID_BROADCAST, SendingRates

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    settings = load_settings(
        database_url=args.database_url,
        redis_url=args.redis_url or None,
        telegram_token=args.token,
        telegram_api_url=args.api_url,
        secret_key="benchmark-broadcast-secret-0123456789",
        log_level="WARNING",
        dispatch_interval_seconds=args.interval,
        dispatch_lease_seconds=args.lease,
    )
    runtime = await open_marketplace(settings)
    rates_table = dict(DEFAULT_RATES)
    if args.cap == 1000:
        rates_table[Platform.TELEGRAM] = TELEGRAM_PAID_BROADCAST
    rates = SendingRates.shared(settings.redis_url, rates_table)
    rates.namespace = args.namespace
    counts: dict[str, int] = {}
    try:
        async with contextlib.AsyncExitStack() as opened:
            codec = ActionCodec(button_secret(settings), runtime.kv)
            engine = ConversationEngine(runtime.marketplace, runtime.kv, codec)
            channels = await sending_channels(settings, engine, opened)
            dispatcher = Dispatcher(
                runtime.marketplace,
                channels,
                lease=timedelta(seconds=settings.dispatch_lease_seconds),
                interval=settings.dispatch_interval_seconds,
                rates=rates,
                **({"batch": args.batch} if args.batch else {}),
                **({"concurrency": args.concurrency} if args.concurrency else {}),
            )
            sys.stdout.write(json.dumps({"ready": True}) + "\n")
            sys.stdout.flush()
            try:
                await dispatcher.run(stop)
            finally:
                counts = dict(dispatcher.counts)
    finally:
        await rates.close()
        with contextlib.suppress(Exception):
            await runtime.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = {
        "counts": counts,
        "peak_rss_kb": usage.ru_maxrss,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--cap", type=int, choices=(30, 1000), required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--profile", default="", help="write cProfile statistics to this file")
    return parser.parse_args()


if __name__ == "__main__":
    from bots import event_loop  # the loop `collabbot run` runs on (uvloop when installed)

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    arguments = parse_args()
    if arguments.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            event_loop.run(main(arguments))
        finally:
            profiler.disable()
            profiler.dump_stats(arguments.profile)
    else:
        event_loop.run(main(arguments))
