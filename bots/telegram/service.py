"""Running the Telegram bot: the chosen driver, polling or webhook, the command menu."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from bots.http_app import HttpApp
from bots.settings import Settings
from bots.telegram.api import BotApi
from bots.telegram.bridge import TelegramBridge, TelegramChannel
from bots.telegram.webhook import WebhookReceiver, webhook_handler
from core.conversations.engine import ConversationEngine
from core.ports.channel import DeliveryError

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class TelegramService:
    """The Telegram side of a collabbot process."""

    settings: Settings
    engine: ConversationEngine
    api: BotApi = field(init=False)
    bridge: TelegramBridge = field(init=False)
    _bot: Any = field(init=False, default=None)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _webhook: WebhookReceiver | None = field(init=False, default=None)

    def add_routes(self, http: HttpApp) -> None:
        """In webhook mode, Telegram's updates arrive on the process's HTTP endpoint."""
        secret = self.settings.telegram_webhook_secret
        if self.settings.telegram_mode == "webhook" and secret is not None:
            self._webhook = webhook_handler(self.bridge.handle_update, secret.get_secret_value())
            http.add_post(WEBHOOK_PATH, self._webhook)

    def __post_init__(self) -> None:
        token = self.settings.telegram_token
        if token is None:
            raise ValueError("Telegram needs COLLABBOT_TELEGRAM_TOKEN")
        if self.settings.telegram_driver == "ptb":
            from bots.telegram import ptb_driver as driver
        else:
            from bots.telegram import aiogram_driver as driver  # type: ignore[no-redef]
        self._driver = driver
        self._bot = driver.make_bot(token.get_secret_value(), self.settings.telegram_api_url)
        self.api = driver.Api(self._bot)
        self.bridge = TelegramBridge(self.engine, self.api)

    @property
    def channel(self) -> TelegramChannel:
        return self.bridge.channel

    async def start(self) -> None:
        await self._driver.open_bot(self._bot)
        try:
            await self.bridge.register_commands()
        except DeliveryError as error:
            logger.warning("could not register the Telegram command menu: %s", error)
        if self.settings.telegram_mode == "webhook":
            await self._start_webhook()
        else:
            self._tasks.append(
                asyncio.create_task(
                    self._driver.run_polling(self._bot, self.bridge.handle_update_to_the_end),
                    name="telegram-polling",
                )
            )
        logger.info(
            "Telegram is running (%s, %s)",
            self.settings.telegram_driver,
            self.settings.telegram_mode,
        )

    async def _start_webhook(self) -> None:
        secret = self.settings.telegram_webhook_secret
        url = self.settings.telegram_webhook_url
        if secret is None or not url:
            raise ValueError(
                "Webhook mode needs COLLABBOT_TELEGRAM_WEBHOOK_URL and "
                "COLLABBOT_TELEGRAM_WEBHOOK_SECRET"
            )
        await self.api.set_webhook(url, secret.get_secret_value())

    async def stop(self) -> None:
        if self._webhook is not None:
            await self._webhook.drain()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        # Answers being sent when polling stopped finish before the bot's session closes.
        await self.bridge.drain(self.settings.shutdown_grace_seconds)
        with contextlib.suppress(Exception):
            await self._driver.close_bot(self._bot)
