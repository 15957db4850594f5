"""``collabbot run``: one process that runs the configured chat platforms, delivers notices
and runs the scheduler, until SIGTERM or Ctrl-C, then stops cleanly; or, split into roles
(``--role web|poller|worker|scheduler``), a process that does only part of that.

Roles (:func:`parse_roles`):

- ``web``: the HTTP endpoint, and answering the chat updates that arrive on it (WhatsApp,
  Telegram in webhook mode). Any number behind a load balancer.
- ``poller``: the updates fetched over a connection we keep open (Telegram long polling,
  the Discord gateway). Exactly one per bot token.
- ``worker``: the notice dispatcher. Any number; they share the outbox.
- ``scheduler``: the scheduled jobs. Any number; one leads (see ``notifications.leader``).
- ``all`` (the default): everything in one process.

On SIGTERM a process first stops taking new work (no new webhook requests, no more claims
from the outbox, no new scheduled runs), lets the work in flight finish within
``COLLABBOT_SHUTDOWN_GRACE_SECONDS``, then closes its channels (which ends polling and the
gateway) and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import signal
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bots import event_loop
from bots.bootstrap import Runtime, open_marketplace
from bots.http_app import HttpApp
from bots.settings import Settings
from core.conversations.actions import ActionCodec
from core.conversations.engine import ConversationEngine
from core.domain.common import Platform
from core.ports.channel import Channel

logger = logging.getLogger(__name__)

BROADCAST_INTERVAL = 5.0
"""Seconds between looks for broadcasts to expand into notices and broadcasts to report on."""

Role = Literal["all", "web", "poller", "worker", "scheduler"]
ROLES: tuple[Role, ...] = ("web", "poller", "worker", "scheduler")
ALL: frozenset[str] = frozenset({"all"})
CLOSE_SECONDS = 3.0


def parse_roles(values: str | Iterable[str]) -> frozenset[str]:
    """The roles named in ``values``, each a role or a comma-separated list of them, e.g.
    ``["web,worker", "scheduler"]``. Nothing, or ``all`` among them: :data:`ALL`."""
    given = [values] if isinstance(values, str) else list(values)
    names = {name.strip().lower() for value in given for name in value.split(",")} - {""}
    unknown = sorted(names - {"all", *ROLES})
    if unknown:
        raise ValueError(
            f"unknown role {', '.join(map(repr, unknown))}; the roles are all, " + ", ".join(ROLES)
        )
    return ALL if not names or "all" in names else frozenset(names)


def _runs(roles: Collection[str], role: Role) -> bool:
    return "all" in roles or role in roles


def receiving_platforms(settings: Settings, roles: Collection[str]) -> set[Platform]:
    """The configured platforms whose updates a process of ``roles`` takes: those that call
    us (WhatsApp, Telegram in webhook mode) in ``web``, those we keep a connection to
    (Telegram long polling, the Discord gateway) in ``poller``."""
    web, poller = _runs(roles, "web"), _runs(roles, "poller")
    found: set[Platform] = set()
    telegram_here = web if settings.telegram_mode == "webhook" else poller
    if settings.telegram_token is not None and telegram_here:
        found.add(Platform.TELEGRAM)
    if settings.whatsapp_token is not None and web:
        found.add(Platform.WHATSAPP)
    if settings.discord_token is not None and poller:
        found.add(Platform.DISCORD)
    return found


@dataclass
class Deadline:
    """The end of the grace period a stopping process gives the work in flight."""

    seconds: float
    at: float | None = None

    def start(self) -> None:
        if self.at is None:
            self.at = time.monotonic() + self.seconds

    def left(self) -> float:
        if self.at is None:
            return self.seconds
        return max(0.0, self.at - time.monotonic())


def button_secret(settings: Settings) -> bytes:
    """The key that signs button payloads; the same in every process of one deployment."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    tokens = [settings.telegram_token, settings.whatsapp_token, settings.discord_token]
    material = "".join(t.get_secret_value() for t in tokens if t is not None)
    if material:
        return hashlib.sha256(b"collabbot buttons\0" + material.encode()).digest()
    logger.warning(
        "COLLABBOT_SECRET_KEY is not set: buttons are signed with a key that changes at every "
        "restart. Set it to keep buttons working across restarts and processes."
    )
    return secrets.token_bytes(32)


async def start_channels(
    settings: Settings,
    engine: ConversationEngine,
    http: HttpApp,
    roles: Collection[str] = ALL,
) -> tuple[dict[Platform, Channel], list[Callable[[], object]]]:
    """Start the configured platforms whose updates ``roles`` take (all of them for
    :data:`ALL`); returns their channels and how to stop them.

    Platforms that receive webhooks add their routes to ``http``, which starts afterwards.
    """
    channels: dict[Platform, Channel] = {}
    stoppers: list[Callable[[], object]] = []
    receive = receiving_platforms(settings, roles)
    if Platform.TELEGRAM in receive:
        from bots.telegram.service import TelegramService

        telegram = TelegramService(settings, engine)
        telegram.add_routes(http)
        await telegram.start()
        channels[Platform.TELEGRAM] = telegram.channel
        stoppers.append(telegram.stop)
    if Platform.WHATSAPP in receive:
        from bots.whatsapp.service import WhatsAppService

        whatsapp = WhatsAppService(settings, engine)
        whatsapp.add_routes(http)
        await whatsapp.start()
        channels[Platform.WHATSAPP] = whatsapp.channel
        stoppers.append(whatsapp.stop)
    if Platform.DISCORD in receive:
        from bots.discord.service import DiscordService

        discord_service = DiscordService(settings, engine)
        await discord_service.start()
        channels[Platform.DISCORD] = discord_service.channel
        stoppers.append(discord_service.stop)
    if settings.web_playground and _runs(roles, "web"):
        from bots.web.service import WebService

        web = WebService(settings, engine, delivers_notices=_runs(roles, "worker"))
        web.add_routes(http)
        await web.start()
        channels[Platform.WEB] = web.channel
        stoppers.append(web.stop)
    return channels, stoppers


async def run(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    role: Role | Iterable[str] = "all",
) -> None:
    """Run ``role`` (one or several roles, see :func:`parse_roles`) until ``stop`` is set or
    SIGTERM / SIGINT arrives; then stop as the module's docstring says."""
    roles = parse_roles(role)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    deadline = Deadline(settings.shutdown_grace_seconds)
    runtime = await open_marketplace(settings)
    try:
        await _serve(runtime, stop, roles, deadline=deadline, on_started=event_loop.settle_heap)
    finally:
        await runtime.close()
    logger.info("stopped")


async def _serve(
    runtime: Runtime,
    stop: asyncio.Event,
    roles: Collection[str] = ALL,
    *,
    deadline: Deadline | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    settings = runtime.settings
    deadline = deadline or Deadline(settings.shutdown_grace_seconds)
    logger.info("running as %s", "all roles" if roles == ALL else ", ".join(sorted(roles)))
    codec = ActionCodec(button_secret(settings), runtime.kv)
    # Events answered at once: one database connection each, the pool's size at most.
    engine = ConversationEngine(
        runtime.marketplace, runtime.kv, codec, max_concurrent=settings.db_pool_size
    )
    http = HttpApp.for_runtime(runtime)
    async with contextlib.AsyncExitStack() as opened:  # sending-only channels, closed last
        channels, stoppers = await start_channels(settings, engine, http, roles)
        opened.push_async_callback(_close_channels, stoppers, deadline)
        senders: dict[Platform, Channel] = {}
        if _runs(roles, "worker"):
            senders = dict(channels)
            senders |= await sending_channels(settings, engine, opened, skip=channels)
            if not senders and roles != ALL:
                raise ValueError("a worker needs a chat platform to send notices through")
        # --role web always listens, and so does a process taking webhooks; the other roles
        # when COLLABBOT_HTTP_LISTEN is set (health checks and metrics in a container).
        listening = (
            "web" in roles
            or (http.needed and _runs(roles, "web"))
            or "http_listen" in settings.model_fields_set
        )
        if listening:
            await http.start()
            what = "webhooks and health checks" if http.needed else "health checks"
            logger.info("listening on %s: %s", settings.http_listen, what)
        tasks: list[asyncio.Task[None]] = []
        try:
            if senders:
                logger.info("delivering notices through %s", ", ".join(p.value for p in senders))
                tasks.append(
                    asyncio.create_task(_dispatch(runtime, senders, stop), name="dispatcher")
                )
            elif _runs(roles, "worker"):
                logger.warning(
                    "No chat platform is configured, so nobody can talk to the bot and notices "
                    "wait in the outbox. Set COLLABBOT_TELEGRAM_TOKEN or COLLABBOT_WHATSAPP_TOKEN "
                    "(see the README)."
                )
            if _runs(roles, "scheduler") and settings.scheduler_enabled:
                tasks.append(asyncio.create_task(run_scheduler(runtime, stop), name="scheduler"))
            if on_started is not None:
                on_started()
            await _until_stopped(stop, tasks)
        finally:
            stop.set()  # also when starting failed: what did start winds down
            await _stop_taking_work(http if listening else None, tasks, deadline)


async def _until_stopped(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Wait for ``stop``; a background task that ends before it ends the process too."""
    stopped = asyncio.create_task(stop.wait(), name="stop")
    try:
        await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    ended = next((task for task in tasks if task.done()), None)
    if ended is not None and not stop.is_set():
        stop.set()
        tasks.remove(ended)
        ended.result()  # raises what ended it
        raise RuntimeError(f"the {ended.get_name()} stopped by itself")


async def _stop_taking_work(
    http: HttpApp | None, tasks: list[asyncio.Task[None]], deadline: Deadline
) -> None:
    """With ``stop`` set, the dispatcher claims no more notices and the scheduler starts no
    more runs; the HTTP endpoint stops accepting and waits for the requests in flight. All
    of them get until ``deadline``; what is still running then is cancelled (notices it had
    claimed are sent by another worker when their lease runs out). The channels are closed
    afterwards, so what is in flight can still send."""
    deadline.start()
    logger.info("stopping: no new work; finishing the work in flight (%.0f s)", deadline.left())
    waiting = list(tasks)
    if http is not None:
        waiting.append(asyncio.create_task(http.stop(), name="HTTP endpoint"))
    if not waiting:
        return
    _, late = await asyncio.wait(waiting, timeout=deadline.left())
    if late:
        logger.warning(
            "stopping: %s still busy after the grace period; cancelled",
            ", ".join(sorted(task.get_name() for task in late)),
        )
        for task in late:
            task.cancel()
    for outcome in await asyncio.gather(*waiting, return_exceptions=True):
        if isinstance(outcome, Exception):
            logger.error("stopping: %s", outcome, exc_info=outcome)


async def _close_channels(stoppers: list[Callable[[], object]], deadline: Deadline) -> None:
    """Stop the channels (which ends polling and the gateway); each gets what is left of the
    grace period, and at least :data:`CLOSE_SECONDS` to close its connections."""
    for stopper in stoppers:
        result = stopper()
        if asyncio.iscoroutine(result):
            try:
                await asyncio.wait_for(result, max(deadline.left(), CLOSE_SECONDS))
            except TimeoutError:
                logger.warning("stopping: a channel did not close in time")


async def run_scheduler(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run the scheduled jobs while this process leads, or stand by, until ``stop`` is set."""
    from notifications.broadcasts import expand_due_broadcasts, finish_broadcasts
    from notifications.leader import leader_lock_for
    from notifications.scheduler import Job, Scheduler, SchedulerConfig

    settings = runtime.settings
    config = SchedulerConfig(
        sweep_interval=settings.scheduler_interval_seconds,
        auto_selection_interval=settings.auto_selection_interval_seconds,
        offer_push_interval=settings.offer_push_interval_seconds,
        leader_check_interval=settings.scheduler_leader_check_seconds,
        stop_grace=settings.shutdown_grace_seconds,
    )
    lock = leader_lock_for(
        settings.database_url, settings.redis_url, check_interval=config.leader_check_interval
    )
    mp = runtime.marketplace
    broadcast_jobs = [
        Job("broadcast_expansion", BROADCAST_INTERVAL, lambda: expand_due_broadcasts(mp)),
        Job("broadcast_reports", BROADCAST_INTERVAL, lambda: finish_broadcasts(mp)),
    ]
    await Scheduler.for_marketplace(mp, lock, config, extra_jobs=broadcast_jobs).run(stop)


async def _dispatch(
    runtime: Runtime, channels: Mapping[Platform, Channel], stop: asyncio.Event
) -> None:
    from notifications.dispatcher import Dispatcher
    from notifications.rate_limits import SendingRates

    settings = runtime.settings
    rates = SendingRates.shared(settings.redis_url)
    dispatcher = Dispatcher(
        runtime.marketplace,
        channels,
        lease=timedelta(seconds=settings.dispatch_lease_seconds),
        interval=settings.dispatch_interval_seconds,
        rates=rates,
    )
    try:
        await dispatcher.run(stop)
    finally:
        await rates.close()
    done = ", ".join(f"{kind} {n}" for kind, n in sorted(dispatcher.counts.items()))
    logger.info("the notice dispatcher stopped; notices handled: %s", done or "none")


# --- sending only: a worker's channels --------------------------------------------------


async def sending_channels(
    settings: Settings,
    engine: ConversationEngine,
    opened: contextlib.AsyncExitStack,
    *,
    skip: Collection[Platform] = (),
) -> dict[Platform, Channel]:
    """The configured platforms' channels (but those in ``skip``) for sending only;
    ``opened`` closes them.

    Nothing here receives: no Telegram polling, no webhook routes, no Discord gateway, so a
    worker never takes an update meant for the process that answers people. Several workers
    share the outbox (each claims its own rows), so more of them send more, up to the
    platforms' caps.
    """
    channels: dict[Platform, Channel] = {}
    if settings.telegram_token is not None and Platform.TELEGRAM not in skip:
        from bots.telegram.notice_sender import TelegramNoticeSender

        token = settings.telegram_token.get_secret_value()
        sender = TelegramNoticeSender(token, settings.telegram_api_url, engine.codec)
        opened.push_async_callback(sender.close)
        await sender.open()
        channels[Platform.TELEGRAM] = sender
    if settings.whatsapp_token is not None and Platform.WHATSAPP not in skip:
        from bots.whatsapp.service import WhatsAppService

        whatsapp = WhatsAppService(settings, engine)  # without its webhook routes
        opened.push_async_callback(whatsapp.stop)
        channels[Platform.WHATSAPP] = whatsapp.channel
    if settings.discord_token is not None and Platform.DISCORD not in skip:
        channels[Platform.DISCORD] = await _discord_sender(settings, engine, opened)
    return channels


async def _discord_sender(
    settings: Settings, engine: ConversationEngine, opened: contextlib.AsyncExitStack
) -> Channel:
    """Discord direct messages over the REST API alone: logged in, never connected to the
    gateway (interactions go to the process that is)."""
    import discord
    from discord.http import Route

    from bots.discord.channel import DiscordChannel
    from bots.discord.client import MAX_RATE_LIMIT_WAIT

    assert settings.discord_token is not None
    if settings.discord_api_url:
        Route.BASE = settings.discord_api_url.rstrip("/")
    client = discord.Client(
        intents=discord.Intents.none(),
        allowed_mentions=discord.AllowedMentions.none(),
        max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT,
    )
    opened.push_async_callback(client.close)
    try:
        await client.login(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        raise ValueError(
            "Discord refused COLLABBOT_DISCORD_TOKEN; copy the bot token again from the "
            "Developer Portal (Bot → Reset Token)"
        ) from None
    return DiscordChannel(client, engine.codec)
