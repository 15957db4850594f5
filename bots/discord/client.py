"""The discord.py client: which gateway events collabbot listens to, and where they go.

Only non-privileged intents are used: ``guilds`` (servers and their channels) and
``dm_messages`` (direct messages, whose text bots receive without the Message Content
intent). Everything in a server channel arrives as an interaction.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

import discord

from bots.discord.commands import CommandTree, SummaryTranslator, slash_commands
from bots.discord.components import ActionButton, AnswerButton, answer_field
from bots.discord.inbound import modal_text

if TYPE_CHECKING:
    from bots.discord.bridge import DiscordBridge

logger = logging.getLogger(__name__)

#: A 429 asking to wait longer than this is not waited out inside discord.py but raised, so
#: the notice dispatcher can reschedule instead of holding a worker.
MAX_RATE_LIMIT_WAIT: Final = 5.0


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.dm_messages = True
    return wanted


class CollabClient(discord.Client):
    """Registers the persistent buttons and slash commands, and routes events to the bridge."""

    bridge: DiscordBridge

    def __init__(self, *, guild_id: int | None = None) -> None:
        # collabbot never joins voice channels: no warnings about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT,
        )
        self.guild_id = guild_id
        self.tree = CommandTree(self, self._command)
        self.connected = asyncio.Event()
        """Set once the gateway session is up (READY), when interactions start arriving;
        discord.py's own "ready" comes ``guild_ready_timeout`` seconds later."""

    async def _command(self, interaction: discord.Interaction[Any], name: str, args: str) -> None:
        await self.bridge.on_command(interaction, name, args)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton, AnswerButton)
        guild = discord.Object(id=self.guild_id) if self.guild_id else None
        self.tree.add_commands(slash_commands(), guild)
        await self.tree.set_translator(SummaryTranslator())
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as error:
            logger.warning("could not register the Discord slash commands: %s", error)
        else:
            where = f"server {self.guild_id}" if guild else "everywhere"
            logger.info("registered %d Discord slash commands (%s)", len(synced), where)

    async def on_connect(self) -> None:
        self.connected.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is not None or message.author.bot:
            return
        await self.bridge.on_direct_message(message)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        # Commands and buttons are dispatched by the command tree and the dynamic items;
        # answer modals are handled here, so a modal submitted across a restart counts.
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Any = interaction.data or {}
        if answer_field(str(data.get("custom_id", ""))) is None:
            return
        await self.bridge.on_answer(interaction, modal_text(data.get("components") or []))
