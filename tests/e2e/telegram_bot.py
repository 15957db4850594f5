"""Run the real collabbot process wiring (channels + dispatcher) against the fake Telegram."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.bootstrap import Runtime, open_marketplace
from bots.runner import _serve
from bots.settings import load_settings
from core import services as s
from core.domain.offers import VideoType
from core.services import Actor
from storage.migrate import upgrade
from tests.e2e.telegram_fake import FakeTelegram, FakeUser


@dataclass
class RunningBot:
    tg: FakeTelegram
    runtime: Runtime

    @property
    def mp(self) -> s.Marketplace:
        return self.runtime.marketplace

    async def seller(self, name: str, user: FakeUser) -> int:
        seller = await s.add_seller(self.mp, Actor.system(), name, [f"telegram:{user.id}"])
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


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, driver: str, **overrides: Any) -> AsyncIterator[RunningBot]:
    async with FakeTelegram() as tg:
        url = f"sqlite+aiosqlite:///{tmp_path}/e2e.sqlite3"
        await upgrade(url)
        settings = load_settings(
            database_url=url,
            telegram_token=tg.token,
            telegram_api_url=tg.base_url,
            telegram_driver=driver,
            secret_key="e2e-secret-key-0123456789",
            dispatch_interval_seconds=0.05,
            digest_window_seconds=0,
            **overrides,
        )
        runtime = await open_marketplace(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(_serve(runtime, stop))
        try:
            yield RunningBot(tg, runtime)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)
            await runtime.close()
