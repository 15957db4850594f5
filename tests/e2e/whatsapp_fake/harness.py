"""Run the real collabbot process wiring (``bots.runner._serve``: channels, webhook endpoint,
dispatcher) against the fake WhatsApp, and optionally the fake Telegram as well."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bots.bootstrap import Runtime, open_marketplace
from bots.runner import _serve
from bots.settings import load_settings
from core import services as s
from core.domain.offers import VideoType
from core.services import Actor
from storage.migrate import upgrade
from tests.e2e.telegram_fake import FakeTelegram

from .server import FakeWhatsApp

VERIFY_TOKEN = "e2e-verify-token"
TEMPLATE = "collabbot_notice"
TEMPLATE_BODY = "collabbot: {{1}}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningBot:
    wa: FakeWhatsApp
    runtime: Runtime
    base_url: str
    tg: FakeTelegram | None = None

    @property
    def mp(self) -> s.Marketplace:
        return self.runtime.marketplace

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/whatsapp/webhook"

    async def seller(self, name: str, *accounts: str) -> int:
        """A seller whose staff are these chat accounts, e.g. ``whatsapp:15550002``."""
        seller = await s.add_seller(self.mp, Actor.system(), name, list(accounts))
        assert seller.id is not None
        return seller.id

    async def offer(self, seller_id: int, **fields: Any) -> int:
        values: dict[str, Any] = {
            "title": "Bamboo cutting board",
            "video_type": VideoType.INFLUENCER,
            "slots": 3,
            "asin": "B0C1234567",
            "category": "kitchen",
        }
        new = s.NewOffer(**(values | fields))
        offer = await s.create_offer(self.mp, Actor.system(), seller_id, new, publish=True)
        assert offer.id is not None
        return offer.id


async def _wait_until_listening(
    url: str,
    serving: asyncio.Task[None],
    timeout: float = 30.0,  # noqa: ASYNC109 — the assertion's deadline
) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            if serving.done():
                serving.result()
                raise AssertionError("the app stopped before it listened")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not listen on {url} within {timeout} s")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, *, telegram: bool = False, **overrides: Any
) -> AsyncIterator[RunningBot]:
    """collabbot with WhatsApp (and Telegram when asked) on fakes, the notice template
    approved in English."""
    if telegram:
        # Importing aiogram takes seconds: not inside the deadline for listening.
        importlib.import_module("bots.telegram.aiogram_driver")
    async with contextlib.AsyncExitStack() as stack:
        wa = await stack.enter_async_context(FakeWhatsApp())
        wa.approve_template(TEMPLATE, "en", TEMPLATE_BODY, ("Open",))
        tg = await stack.enter_async_context(FakeTelegram()) if telegram else None
        url = f"sqlite+aiosqlite:///{tmp_path}/e2e.sqlite3"
        await upgrade(url)
        port = free_port()
        channel_settings: dict[str, Any] = {
            "whatsapp_token": wa.token,
            "whatsapp_phone_number_id": wa.phone_number_id,
            "whatsapp_app_secret": wa.app_secret,
            "whatsapp_verify_token": VERIFY_TOKEN,
            "whatsapp_api_url": wa.base_url,
            "whatsapp_api_version": wa.version,
            "whatsapp_template": TEMPLATE,
        }
        if tg is not None:
            channel_settings |= {"telegram_token": tg.token, "telegram_api_url": tg.base_url}
        settings = load_settings(
            database_url=url,
            secret_key="e2e-secret-key-0123456789",
            dispatch_interval_seconds=0.05,
            digest_window_seconds=0,
            http_listen=f"127.0.0.1:{port}",
            **(channel_settings | overrides),
        )
        runtime = await open_marketplace(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(_serve(runtime, stop))
        base_url = f"http://127.0.0.1:{port}"
        try:
            await _wait_until_listening(f"{base_url}/healthz", task)
            bot = RunningBot(wa, runtime, base_url, tg)
            wa.connect(bot.webhook_url)
            yield bot
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)
            await runtime.close()
