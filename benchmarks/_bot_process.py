"""One bot process for ``benchmarks.telegram_throughput``: the full collabbot stack (the same
wiring as ``collabbot run``) or a bare echo bot on the same driver.

Started by the benchmark with the fake Bot API server's URL; it runs until it reads ``stop``
on stdin (or gets SIGINT / SIGTERM, or stdin closes). For every ``mark`` line on stdin it
writes one JSON line to stdout: what the database saw since the previous mark, counted by a
SQLAlchemy ``before_cursor_execute`` listener, and the process's CPU time so far; between
``profile-start`` and ``profile-stop`` it runs cProfile and then reports where the CPU went.

Statements are attributed with a context variable set around
``TelegramBridge.handle_update``: SQL run while an update is being handled (the handler's
own tasks included) counts as foreground; the rest (the notice dispatcher looking for due
notices) is counted apart as background. The first statements of each mark are also kept in
order, with transaction starts marked, so one update's SQL can be shown as it ran. Nothing
here changes what the bot does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import cProfile
import json
import logging
import os
import pstats
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ECHO_BUTTON = "Press"
ECHO_DATA = "echo"

TRANSACTION_MARK = "-- transaction begins"
SEQUENCE_LIMIT = 400  # statements kept in order per mark, for showing one update's SQL

_IN_UPDATE: contextvars.ContextVar[bool] = contextvars.ContextVar("in_update", default=False)


class SqlProbe:
    """Counts the statements, transactions and pool checkouts an engine runs."""

    def __init__(self) -> None:
        self.updates_handled = 0  # since the start, like background_statements and connects
        self.background_statements = 0
        self.connects = 0
        self._reset()

    def _reset(self) -> None:
        self.statements: Counter[str] = Counter()
        self.sequence: list[str] = []
        self.sql_seconds = 0.0
        self.transactions = 0
        self.checkouts = 0

    def attach(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before)
        event.listen(sync, "after_cursor_execute", self._after)
        event.listen(sync, "begin", self._begin)
        event.listen(sync.pool, "checkout", self._checkout)
        event.listen(sync.pool, "connect", self._connect)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())
        if _IN_UPDATE.get():
            self.statements[statement] += 1
            if len(self.sequence) < SEQUENCE_LIMIT:
                self.sequence.append(statement)
        else:
            self.background_statements += 1

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info.get("bench_started")
        if started:
            elapsed = time.perf_counter() - started.pop()
            if _IN_UPDATE.get():
                self.sql_seconds += elapsed

    def _begin(self, conn: Any) -> None:
        if _IN_UPDATE.get():
            self.transactions += 1
            if len(self.sequence) < SEQUENCE_LIMIT:
                # SQLite's BEGIN IMMEDIATE runs in a "begin" listener that may come first.
                last = self.sequence[-1] if self.sequence else ""
                at = len(self.sequence) - 1 if last.upper().startswith("BEGIN") else None
                self.sequence.insert(len(self.sequence) if at is None else at, TRANSACTION_MARK)

    def _checkout(self, *args: Any) -> None:
        if _IN_UPDATE.get():
            self.checkouts += 1

    def _connect(self, *args: Any) -> None:
        self.connects += 1

    def take(self) -> dict[str, Any]:
        """Everything since the previous call, and the CPU time of this process so far."""
        report = {
            "statements": dict(self.statements),
            "sequence": self.sequence,
            "sql_seconds": self.sql_seconds,
            "transactions": self.transactions,
            "checkouts": self.checkouts,
            "background_statements": self.background_statements,
            "updates_handled": self.updates_handled,
            "connects": self.connects,
            "cpu_seconds": time.process_time(),
        }
        self._reset()
        return report


UpdateHandler = Callable[[dict[str, Any]], Awaitable[None]]


# --- the full stack ----------------------------------------------------------------------


async def run_full(args: argparse.Namespace, stop: asyncio.Event, probe: SqlProbe) -> None:
    """``collabbot run`` as the CLI starts it: bootstrap, then ``bots.runner._serve``."""
    from bots.bootstrap import open_marketplace
    from bots.event_loop import settle_heap
    from bots.runner import _serve
    from bots.settings import Settings, load_settings
    from bots.telegram import bridge

    original = bridge.TelegramBridge.handle_update

    async def handle_update(self: Any, update: dict[str, Any]) -> None:
        token = _IN_UPDATE.set(True)
        try:
            await original(self, update)
        finally:
            _IN_UPDATE.reset(token)
            probe.updates_handled += 1

    # Looked up when the Telegram service starts, so the drivers get the traced version.
    bridge.TelegramBridge.handle_update = handle_update  # type: ignore[method-assign]

    webhook: dict[str, Any] = {}
    if args.mode == "webhook":
        listen = f"127.0.0.1:{args.webhook_port}"
        webhook = {
            "telegram_webhook_url": f"http://{listen}{WEBHOOK_PATH}",
            "telegram_webhook_secret": args.webhook_secret,
        }
        # Where the webhook endpoint listens has been configured under either name.
        for name in ("http_listen", "telegram_webhook_listen"):
            if name in Settings.model_fields:
                webhook[name] = listen
    settings = load_settings(
        database_url=args.database_url,
        redis_url=None,  # the in-memory key-value store
        telegram_token=args.token,
        telegram_api_url=args.api_url,
        telegram_driver=args.driver,
        telegram_mode=args.mode,
        secret_key=args.secret_key,
        log_level="WARNING",
        **webhook,
    )
    runtime = await open_marketplace(settings)
    probe.attach(runtime.database.engine)
    try:
        await _serve(runtime, stop, on_started=settle_heap)
    finally:
        await runtime.close()


# --- the bare echo bots ------------------------------------------------------------------


async def _serve_webhook(handle: UpdateHandler, port: int, secret: str) -> web.AppRunner:
    """A minimal webhook endpoint: the secret header checked, the update handed over."""

    async def endpoint(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER, "") != secret:
            return web.json_response({"ok": False}, status=403)
        await handle(json.loads(await request.read()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, endpoint)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def run_echo_aiogram(args: argparse.Namespace, stop: asyncio.Event, probe: SqlProbe) -> None:
    """An aiogram Dispatcher with one handler per kind: a message is answered with
    sendMessage, a button press with answerCallbackQuery + editMessageText."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    from bots.telegram.aiogram_driver import ALLOWED_UPDATES, make_bot

    if args.kind == "echo-stock":  # aiogram as installed: its own session, forms, models
        api = TelegramAPIServer.from_base(args.api_url.rstrip("/"))
        bot = Bot(args.token, session=AiohttpSession(api=api))
    else:
        bot = make_bot(args.token, args.api_url)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=ECHO_BUTTON, callback_data=ECHO_DATA)]]
    )
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def on_message(message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, message.text or "echo", reply_markup=keyboard)
        probe.updates_handled += 1

    @dispatcher.callback_query()
    async def on_callback(query: CallbackQuery, bot: Bot) -> None:
        await bot.answer_callback_query(query.id)
        assert query.message is not None
        await bot.edit_message_text(
            text=f"pressed {query.id}",
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=keyboard,
        )
        probe.updates_handled += 1

    runner: web.AppRunner | None = None
    polling: asyncio.Task[None] | None = None
    try:
        if args.mode == "webhook":

            async def feed(update: dict[str, Any]) -> None:
                await dispatcher.feed_raw_update(bot, update)

            runner = await _serve_webhook(feed, args.webhook_port, args.webhook_secret)
            await bot.set_webhook(
                f"http://127.0.0.1:{args.webhook_port}{WEBHOOK_PATH}",
                secret_token=args.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            polling = asyncio.create_task(
                dispatcher.start_polling(
                    bot,
                    allowed_updates=ALLOWED_UPDATES,
                    handle_signals=False,
                    close_bot_session=False,
                )
            )
        await stop.wait()
    finally:
        if polling is not None:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await polling
        if runner is not None:
            await runner.cleanup()
        await bot.session.close()


async def run_echo_ptb(args: argparse.Namespace, stop: asyncio.Event, probe: SqlProbe) -> None:
    """A PTB Application (concurrent updates, as collabbot builds it) with one handler."""
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import Application, ContextTypes, TypeHandler

    from bots.telegram.ptb_driver import ALLOWED_UPDATES, make_bot

    if args.kind == "echo-stock":  # PTB as installed: its httpx networking
        base = args.api_url.rstrip("/")
        bot = Bot(args.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
    else:
        bot = make_bot(args.token, args.api_url)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(ECHO_BUTTON, callback_data=ECHO_DATA)]])

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None:
            await context.bot.send_message(
                update.message.chat_id, update.message.text or "echo", reply_markup=keyboard
            )
        elif update.callback_query is not None:
            query = update.callback_query
            await query.answer()
            assert query.message is not None
            await context.bot.edit_message_text(
                f"pressed {query.id}",
                chat_id=query.message.chat.id,
                message_id=query.message.message_id,
                reply_markup=keyboard,
            )
        else:
            return
        probe.updates_handled += 1

    application = Application.builder().bot(bot).concurrent_updates(True).build()
    application.add_handler(TypeHandler(Update, on_update))
    await application.initialize()
    await application.start()
    runner: web.AppRunner | None = None
    try:
        if args.mode == "webhook":

            async def feed(update: dict[str, Any]) -> None:
                await application.process_update(Update.de_json(update, bot))

            runner = await _serve_webhook(feed, args.webhook_port, args.webhook_secret)
            await bot.set_webhook(
                f"http://127.0.0.1:{args.webhook_port}{WEBHOOK_PATH}",
                secret_token=args.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await stop.wait()
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if runner is not None:
            await runner.cleanup()
        await application.stop()
        await application.shutdown()


# --- control -----------------------------------------------------------------------------


PACKAGES = (
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "aiogram",
    "telegram",
    "httpx",
    "httpcore",
    "aiohttp",
    "pydantic",
    "pydantic_core",
    "core",
    "storage",
    "bots",
    "notifications",
    "asyncio",
    "json",
)


def _package(filename: str) -> str:
    """The package a profiled function belongs to, from its file's path."""
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    parts = filename.replace("\\", "/").split("/")
    for part in reversed(parts[:-1]):
        if part in PACKAGES:
            return part
    return "other"


def profile_report(profiler: cProfile.Profile, top: int = 15) -> dict[str, Any]:
    """CPU time of the event loop's thread by package (own time of each function), and the
    functions with the most own time."""
    stats = pstats.Stats(profiler)
    by_package: Counter[str] = Counter()
    functions = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[_package(filename)] += own
        where = f"{'/'.join(filename.split('/')[-2:])}:{line}" if line else filename
        functions.append((own, cumulative, calls, f"{name} ({where})"))
    functions.sort(reverse=True)
    return {
        "total": sum(by_package.values()),
        "packages": by_package.most_common(),
        "functions": functions[:top],
    }


async def control(stop: asyncio.Event, probe: SqlProbe) -> None:
    """``mark`` → one JSON line on stdout; ``profile-start`` / ``profile-stop`` → a CPU
    profile of the bot between the two; ``stop`` or end of input → stop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    profiler: cProfile.Profile | None = None
    while not stop.is_set():
        line = (await reader.readline()).decode().strip()
        answer: dict[str, Any] | None = None
        if line == "mark":
            answer = probe.take()
        elif line == "profile-start":
            # CPU time of this thread, not wall time: waiting in epoll is not work.
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            answer = {"profiling": True}
        elif line == "profile-stop" and profiler is not None:
            profiler.disable()
            dump = os.environ.get("BENCH_PROFILE_DUMP")
            if dump:
                profiler.dump_stats(dump)
            answer = profile_report(profiler)
            profiler = None
        elif line in ("stop", ""):
            stop.set()
        if answer is not None:
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # echo: on collabbot's own networking (make_bot); echo-stock: the framework's defaults.
    parser.add_argument("--kind", choices=("full", "echo", "echo-stock"), required=True)
    parser.add_argument("--driver", choices=("aiogram", "ptb"), required=True)
    parser.add_argument("--mode", choices=("polling", "webhook"), default="polling")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--secret-key", default="benchmark-button-key-0123456789")
    parser.add_argument("--webhook-port", type=int, default=0)
    parser.add_argument("--webhook-secret", default="benchmark-webhook-secret")
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    probe = SqlProbe()
    if args.kind == "full":
        bot = run_full(args, stop, probe)
    elif args.driver == "aiogram":
        bot = run_echo_aiogram(args, stop, probe)
    else:
        bot = run_echo_ptb(args, stop, probe)
    controller = asyncio.create_task(control(stop, probe))
    try:
        await bot
    finally:
        stop.set()
        controller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await controller


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from bots.event_loop import run

    run(main(parse_args()))
