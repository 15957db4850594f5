"""collabbot mounted into an existing bot of each framework — an aiogram Dispatcher with
``collabbot_router``, a PTB Application with ``collabbot_handlers`` — polling with the
framework's own machinery against the fake Telegram: commands and button presses answered."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from bots.bootstrap import Runtime, open_marketplace
from bots.settings import load_settings
from bots.telegram.bridge import TelegramBridge
from core.conversations.actions import ActionCodec
from core.conversations.engine import ConversationEngine
from storage.migrate import upgrade
from tests.e2e.telegram_fake import FakeTelegram, FakeUser


async def converse(user: FakeUser) -> None:
    await user.send_command("/start")
    await user.wait_for_text("which language")
    await user.press("English")
    await user.wait_for_text("What name should sellers see?")
    await user.send_command("/help")
    await user.wait_for_text("/offers")


async def engine_for(tmp_path: Path, tg: FakeTelegram) -> tuple[ConversationEngine, Runtime]:
    url = f"sqlite+aiosqlite:///{tmp_path}/mounted.sqlite3"
    await upgrade(url)
    settings = load_settings(database_url=url, telegram_token=tg.token)
    runtime = await open_marketplace(settings)
    codec = ActionCodec(b"mounted-bot-secret-0123456789", runtime.kv)
    return ConversationEngine(runtime.marketplace, runtime.kv, codec), runtime


async def test_mounted_in_an_aiogram_dispatcher(tmp_path: Path) -> None:
    from aiogram import Dispatcher

    from bots.telegram.aiogram_driver import AiogramApi, collabbot_router, make_bot

    async with FakeTelegram() as tg:
        engine, runtime = await engine_for(tmp_path, tg)
        bot = make_bot(tg.token, tg.base_url)
        bridge = TelegramBridge(engine, AiogramApi(bot))
        dispatcher = Dispatcher()
        dispatcher.include_router(collabbot_router(bridge.handle_update))
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        try:
            await converse(tg.user(1001, "Ana"))
        finally:
            with contextlib.suppress(RuntimeError):
                await dispatcher.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()
            await runtime.close()


async def test_mounted_in_a_ptb_application(tmp_path: Path) -> None:
    from telegram.ext import Application

    from bots.telegram.ptb_driver import PtbApi, collabbot_handlers, make_bot

    async with FakeTelegram() as tg:
        engine, runtime = await engine_for(tmp_path, tg)
        bot = make_bot(tg.token, tg.base_url)
        application = Application.builder().bot(bot).concurrent_updates(True).build()
        application.add_handlers(
            collabbot_handlers(TelegramBridge(engine, PtbApi(bot)).handle_update)
        )
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        try:
            await converse(tg.user(1002, "Bo"))
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
            await runtime.close()
