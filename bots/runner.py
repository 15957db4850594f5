"""``collabbot run``: one process that runs the configured chat platforms and delivers
notices, until SIGTERM or Ctrl-C, then stops cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import signal
from collections.abc import Callable, Mapping

from bots.bootstrap import Runtime, open_marketplace
from bots.http_app import HttpApp
from bots.settings import Settings
from core.conversations.actions import ActionCodec
from core.conversations.engine import ConversationEngine
from core.domain.common import Platform
from core.ports.channel import Channel

logger = logging.getLogger(__name__)


def button_secret(settings: Settings) -> bytes:
    """The key that signs button payloads; the same in every process of one deployment."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    tokens = [settings.telegram_token, settings.whatsapp_token]
    material = "".join(t.get_secret_value() for t in tokens if t is not None)
    if material:
        return hashlib.sha256(b"collabbot buttons\0" + material.encode()).digest()
    logger.warning(
        "COLLABBOT_SECRET_KEY is not set: buttons are signed with a key that changes at every "
        "restart. Set it to keep buttons working across restarts and processes."
    )
    return secrets.token_bytes(32)


async def start_channels(
    settings: Settings, engine: ConversationEngine, http: HttpApp
) -> tuple[dict[Platform, Channel], list[Callable[[], object]]]:
    """Start every configured platform; returns their channels and how to stop them.

    Platforms that receive webhooks add their routes to ``http``, which starts afterwards.
    """
    channels: dict[Platform, Channel] = {}
    stoppers: list[Callable[[], object]] = []
    if settings.telegram_token is not None:
        from bots.telegram.service import TelegramService

        telegram = TelegramService(settings, engine)
        telegram.add_routes(http)
        await telegram.start()
        channels[Platform.TELEGRAM] = telegram.channel
        stoppers.append(telegram.stop)
    if settings.whatsapp_token is not None:
        from bots.whatsapp.service import WhatsAppService

        whatsapp = WhatsAppService(settings, engine)
        whatsapp.add_routes(http)
        await whatsapp.start()
        channels[Platform.WHATSAPP] = whatsapp.channel
        stoppers.append(whatsapp.stop)
    return channels, stoppers


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGTERM / SIGINT arrives)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    runtime = await open_marketplace(settings)
    try:
        await _serve(runtime, stop)
    finally:
        await runtime.close()


async def _serve(runtime: Runtime, stop: asyncio.Event) -> None:
    settings = runtime.settings
    codec = ActionCodec(button_secret(settings), runtime.kv)
    engine = ConversationEngine(runtime.marketplace, runtime.kv, codec)
    http = HttpApp(settings.http_listen)
    channels, stoppers = await start_channels(settings, engine, http)
    if http.needed:
        await http.start()
        stoppers.append(http.stop)
    tasks: list[asyncio.Task[None]] = []
    if channels:
        tasks.append(asyncio.create_task(_dispatch(runtime, channels, stop), name="dispatcher"))
    else:
        logger.warning(
            "No chat platform is configured, so nobody can talk to the bot and notices wait in "
            "the outbox. Set COLLABBOT_TELEGRAM_TOKEN or COLLABBOT_WHATSAPP_TOKEN (see the "
            "README)."
        )
    try:
        await stop.wait()
    finally:
        logger.info("stopping: finishing the work in flight")
        for stopper in stoppers:
            result = stopper()
            if asyncio.iscoroutine(result):
                await result
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)


async def _dispatch(
    runtime: Runtime, channels: Mapping[Platform, Channel], stop: asyncio.Event
) -> None:
    from notifications.dispatcher import Dispatcher

    dispatcher = Dispatcher(runtime.marketplace, channels)
    await dispatcher.run(stop)
