"""collabbot's real process wiring (``bots.runner._serve``: channels, dispatcher) running
against this fake Discord — and, for journeys across channels, the fake Telegram too."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.bootstrap import Runtime, open_marketplace
from bots.runner import _serve
from bots.settings import Settings, load_settings
from core import services as s
from core.domain.offers import VideoType
from core.services import Actor
from storage.migrate import upgrade
from tests.e2e.telegram_fake import FakeTelegram

from .records import Message
from .server import FakeDiscord
from .user import FakeDiscordUser

ADDRESS = "Ana Creator\n1 Main St\n-\nAustin\nTX\n78701\nUS\n+15550100"
VIDEO_1 = "https://www.amazon.com/vdp/0123456789abcdef0123456789abcdef"
VIDEO_2 = "https://www.amazon.com/vdp/fedcba9876543210fedcba9876543210"


async def answer(user: FakeDiscordUser, text: str) -> None:
    """Open the answer modal of the latest screen that waits for typed text, and submit."""
    asking = [m for m in user.messages if any(b.startswith("✍") for b in m.buttons)]
    assert asking, f"{user!r} has no screen asking for text"
    await user.press("✍", asking[-1])
    await user.wait_for_modal()
    await user.submit_modal(text)


async def wait_for_button(user: FakeDiscordUser, label: str) -> Message:
    return await user.wait_for(
        lambda m: any(label in b for b in m.buttons), description=f"the button {label!r}"
    )


async def onboard(user: FakeDiscordUser, *, address: bool = False) -> None:
    await user.slash("start")
    await user.wait_for_text("which language")
    await user.press("English")
    await user.wait_for_text("What name should sellers see?")
    await answer(user, f"{user.name} Films")
    await user.wait_for_text("storefront")
    await answer(user, f"https://www.amazon.com/shop/{user.name.lower()}-films")
    await user.wait_for_text("categories")
    await user.press("Kitchen")
    await wait_for_button(user, "Done (1 chosen)")
    await user.press("Done (1 chosen)")
    await user.wait_for_text("country")
    await user.press("US")
    await user.wait_for_text("Last step")
    if address:
        await user.press("Add it now")
        await user.wait_for_text("one item per line")
        await answer(user, ADDRESS)
    else:
        await user.press("Later")
    await user.wait_for_text("all set")


async def claim_first_offer(user: FakeDiscordUser) -> str:
    await user.slash("offers")
    await user.wait_for_text("Offers for you")
    await user.press("1. Bamboo cutting board")
    await wait_for_button(user, "Claim this offer")
    await user.press("Claim this offer")
    answered = await user.wait_for_text("Your order number is")
    return answered.text.split("Your order number is ")[1].split(".")[0]


@dataclass
class RunningBot:
    discord: FakeDiscord
    runtime: Runtime
    settings: Settings
    telegram: FakeTelegram | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @property
    def mp(self) -> s.Marketplace:
        return self.runtime.marketplace

    async def seller(self, name: str, user: FakeDiscordUser) -> int:
        seller = await s.add_seller(self.mp, Actor.system(), name, [f"discord:{user.id}"])
        assert seller.id is not None
        return seller.id

    async def operator(self, user: FakeDiscordUser) -> None:
        await s.add_operator(self.mp, Actor.system(), f"discord:{user.id}")

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

    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(_serve(self.runtime, self._stop))
        ready = asyncio.create_task(self.discord.gateway.ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=15, return_when=asyncio.FIRST_COMPLETED
        )
        ready.cancel()
        if self._task in done:
            self._task.result()
            raise AssertionError("collabbot stopped while starting")
        if ready not in done:
            raise AssertionError("the bot did not connect to the fake gateway within 15 s")

    async def stop(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            await asyncio.wait_for(task, timeout=20)

    async def restart(self) -> None:
        """Stop the process wiring and start it again on the same database."""
        await self.stop()
        await self.start()


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, *, telegram: bool = False, **overrides: Any
) -> AsyncIterator[RunningBot]:
    async with contextlib.AsyncExitStack() as stack:
        discord = await stack.enter_async_context(FakeDiscord())
        tg = await stack.enter_async_context(FakeTelegram()) if telegram else None
        url = f"sqlite+aiosqlite:///{tmp_path}/e2e-discord.sqlite3"
        await upgrade(url)
        values: dict[str, Any] = {
            "database_url": url,
            "discord_token": discord.token,
            "discord_api_url": discord.base_url,
            "secret_key": "e2e-secret-key-0123456789",
            "dispatch_interval_seconds": 0.05,
            "digest_window_seconds": 0,
        }
        if tg is not None:
            values |= {"telegram_token": tg.token, "telegram_api_url": tg.base_url}
        if "scheduler_enabled" in Settings.model_fields:
            # Nothing here is due later; the scheduler would only slow down each stop.
            values["scheduler_enabled"] = False
        settings = load_settings(**(values | overrides))
        runtime = await open_marketplace(settings)
        bot = RunningBot(discord, runtime, settings, tg)
        try:
            await bot.start()
            yield bot
        finally:
            await bot.stop()
            await runtime.close()
