"""Running the Discord bot: log in, register commands and buttons, keep the gateway open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Final

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.discord.bridge import DiscordBridge
from bots.discord.channel import DiscordChannel
from bots.discord.client import CollabClient
from bots.settings import Settings
from core.conversations.engine import ConversationEngine

logger = logging.getLogger(__name__)

READY_WITHIN: Final = 30.0
#: On shutdown, answers already being worked on get this long to go out.
DRAIN_WITHIN: Final = 5.0


@dataclass
class DiscordService:
    """The Discord side of a collabbot process."""

    settings: Settings
    engine: ConversationEngine
    client: CollabClient = field(init=False)
    channel: DiscordChannel = field(init=False)
    bridge: DiscordBridge = field(init=False)
    _connection: asyncio.Task[None] | None = field(init=False, default=None)
    _endpoints: tuple[str, yarl.URL] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.settings.discord_token is None:
            raise ValueError("Discord needs COLLABBOT_DISCORD_TOKEN")
        self.client = CollabClient(guild_id=self.settings.discord_guild_id)
        self.channel = DiscordChannel(self.client, self.engine.codec)
        self.bridge = DiscordBridge(self.engine, self.channel)
        self.client.bridge = self.bridge

    async def start(self) -> None:
        """Log in, register the slash commands, and connect; returns once the gateway
        session is up (or after :data:`READY_WITHIN` seconds, while it keeps trying)."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        assert self.settings.discord_token is not None
        self._use_api_url()
        try:
            await self.client.login(self.settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            raise ValueError(
                "Discord refused COLLABBOT_DISCORD_TOKEN; copy the bot token again from the "
                "Developer Portal (Bot → Reset Token)"
            ) from None
        if self.settings.discord_api_url:
            _, url, _ = await self.client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
        ready = asyncio.create_task(self.client.connected.wait())
        done, _ = await asyncio.wait(
            {ready, self._connection}, timeout=READY_WITHIN, return_when=asyncio.FIRST_COMPLETED
        )
        if self._connection in done:
            ready.cancel()
            self._connection.result()  # raises why the gateway refused us
            raise RuntimeError("the Discord gateway connection ended during start-up")
        if ready not in done:
            ready.cancel()
            logger.warning("Discord is not connected after %.0f s; still trying", READY_WITHIN)
            return
        assert self.client.user is not None
        logger.info("Discord is running as %s", self.client.user.name)

    def _use_api_url(self) -> None:
        """Point discord.py at another API (tests): REST under the given base URL, the
        gateway at the URL ``GET /gateway/bot`` names."""
        url = self.settings.discord_api_url
        if not url:
            return
        self._endpoints = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = url.rstrip("/")

    async def stop(self) -> None:
        await self.bridge.drain(DRAIN_WITHIN)
        with contextlib.suppress(Exception):
            await self.client.close()
        if self._connection is not None:
            self._connection.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._connection
            self._connection = None
        if self._endpoints is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._endpoints
            self._endpoints = None
