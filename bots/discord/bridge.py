"""Discord on the shared core: interactions and direct messages in, answers out.

Discord forgets an interaction that is not acknowledged within 3 seconds ("This interaction
failed"). The engine gets :data:`ANSWER_WITHIN` seconds: when it is done by then, its first
message is the interaction's response; otherwise the interaction is deferred at once and
the answers follow (the deferred response edited, then follow-up messages). Answers are
private (ephemeral) in server channels, where others would see them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

import discord

from bots.discord.channel import DiscordChannel
from bots.discord.components import message_kwargs
from bots.discord.inbound import (
    Attachment,
    Person,
    action_inbound,
    answer_inbound,
    command_inbound,
    direct_message_inbound,
)
from bots.discord.render import DiscordMessage, render
from bots.discord.texts import text
from core.conversations.engine import ConversationEngine
from core.conversations.markup import Markup
from core.conversations.messages import Inbound, Outbound
from core.ports.channel import DeliveryError

logger = logging.getLogger(__name__)

#: How long the engine may take before the interaction is deferred; the rest of Discord's
#: 3 seconds is the round trip of the response.
ANSWER_WITHIN: Final = 1.5


def person_of(interaction: discord.Interaction[Any]) -> Person:
    user = interaction.user
    return Person(
        str(user.id),
        user.global_name or user.name,
        interaction.locale.value,
        private=interaction.guild_id is None,
    )


class DiscordBridge:
    """Feeds Discord events to the conversation engine and delivers its answers."""

    def __init__(
        self,
        engine: ConversationEngine,
        channel: DiscordChannel,
        *,
        answer_within: float | None = None,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.answer_within = ANSWER_WITHIN if answer_within is None else answer_within
        self._in_flight: set[asyncio.Task[Any]] = set()

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 — a shutdown budget
        """Let the answers being worked on finish (on shutdown), for at most ``timeout`` s."""
        current = asyncio.current_task()
        waiting = [task for task in self._in_flight if task is not current]
        if waiting:
            await asyncio.wait(waiting, timeout=timeout)

    # --- interactions -------------------------------------------------------------------

    async def on_command(self, interaction: discord.Interaction[Any], name: str, args: str) -> None:
        inbound = command_inbound(str(interaction.id), person_of(interaction), name, args)
        await self._answer(interaction, inbound)

    async def on_action(self, interaction: discord.Interaction[Any], custom_id: str) -> None:
        message_id = str(interaction.message.id) if interaction.message is not None else ""
        inbound = action_inbound(str(interaction.id), person_of(interaction), custom_id, message_id)
        await self._answer(interaction, inbound)

    async def on_answer(self, interaction: discord.Interaction[Any], answer: str) -> None:
        """A submitted answer modal: the same as typing the answer in the chat."""
        inbound = answer_inbound(str(interaction.id), person_of(interaction), answer)
        await self._answer(interaction, inbound)

    async def _answer(self, interaction: discord.Interaction[Any], inbound: Inbound) -> None:
        self._track()
        self.channel.forget_refusal(inbound.user_id)
        work = asyncio.ensure_future(self.engine.handle(inbound))
        done, _ = await asyncio.wait({work}, timeout=self.answer_within)
        reply = InteractionReply(interaction, inbound)
        if not done:
            await reply.defer()
        try:
            replies = await work
        except Exception:
            logger.exception("answering a Discord interaction failed")
            replies = [Outbound(Markup.of(text("failed", inbound.language_code)))]
        rendered = [(r, await render(r, self.engine.codec)) for r in replies]
        await reply.deliver(rendered)

    # --- direct messages ----------------------------------------------------------------

    async def on_direct_message(self, message: discord.Message) -> None:
        author = message.author
        person = Person(str(author.id), author.global_name or author.name)
        attachments = [
            Attachment(a.url, a.content_type or "", a.size, a.filename) for a in message.attachments
        ]
        inbound = direct_message_inbound(str(message.id), person, message.content, attachments)
        if inbound is None:
            return
        self._track()
        self.channel.forget_refusal(inbound.user_id)
        for reply in await self.engine.handle(inbound):
            try:
                await self.channel.send(inbound.chat_id, reply)
            except DeliveryError as error:
                logger.warning("answering a direct message failed: %s", type(error).__name__)


class InteractionReply:
    """The answers to one interaction, sent the way its state allows: the response while
    there is none, then edits of the deferred response and follow-up messages."""

    def __init__(self, interaction: discord.Interaction[Any], inbound: Inbound) -> None:
        self.interaction = interaction
        self.inbound = inbound
        self.on_message = (
            interaction.type
            in (
                discord.InteractionType.component,
                discord.InteractionType.modal_submit,
            )
            and interaction.message is not None
        )
        self.thinking = False  # deferred with a "thinking…" response still to fill in
        self.sent = 0

    @property
    def private(self) -> bool:
        return self.inbound.private

    async def defer(self) -> None:
        response = self.interaction.response
        try:
            if self.on_message:
                await response.defer()
            else:
                await response.defer(ephemeral=not self.private, thinking=True)
                self.thinking = True
        except discord.HTTPException as error:
            logger.warning("deferring a Discord interaction failed: %s", error.code)

    async def deliver(self, rendered: list[tuple[Outbound, list[DiscordMessage]]]) -> None:
        try:
            for outbound, parts in rendered:
                ephemeral = outbound.ephemeral or not self.private
                for index, part in enumerate(parts):
                    edit = outbound.edit and index == 0 and self.on_message and self.sent == 0
                    await self._send(part, ephemeral=ephemeral, edit=edit)
                    self.sent += 1
            await self._finish()
        except discord.NotFound as error:
            logger.warning("a Discord interaction was gone before it was answered: %s", error.code)
        except discord.HTTPException as error:
            logger.warning(
                "answering a Discord interaction failed: %s %s", error.status, error.code
            )

    async def _send(self, part: DiscordMessage, *, ephemeral: bool, edit: bool) -> None:
        interaction = self.interaction
        responded = interaction.response.is_done()
        if edit and not responded:
            await interaction.response.edit_message(**message_kwargs(part, edit=True))
        elif edit or self.thinking:
            await interaction.edit_original_response(**message_kwargs(part, edit=True))
            self.thinking = False
        elif not responded:
            await interaction.response.send_message(**message_kwargs(part), ephemeral=ephemeral)
        else:
            await interaction.followup.send(**message_kwargs(part), ephemeral=ephemeral)

    async def _finish(self) -> None:
        """Nothing to say: acknowledge quietly, and take away a "thinking…" left over."""
        if self.sent:
            return
        if not self.interaction.response.is_done():
            if self.on_message:
                await self.interaction.response.defer()
                return
            await self.interaction.response.defer(ephemeral=True, thinking=True)
            self.thinking = True
        if self.thinking:
            await self.interaction.delete_original_response()
            self.thinking = False
