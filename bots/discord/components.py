"""Persistent components: every button collabbot sends is a :class:`discord.ui.DynamicItem`
registered at startup, so a button keeps working after a restart, and its custom_id (the
signed action payload, or an answer button's modal spec) says everything needed to answer.

Each press is first checked: a button on a message made for someone else (in a server
channel) is refused before the core is asked.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bots.discord.render import ANSWER_PREFIX, DiscordMessage, PromptSpec, decode_spec
from bots.discord.texts import text

if TYPE_CHECKING:
    from bots.discord.bridge import DiscordBridge

logger = logging.getLogger(__name__)

ANSWER_MODAL_PREFIX = "answer|"
_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
    "link": discord.ButtonStyle.link,
}


def bridge_of(interaction: discord.Interaction[Any]) -> DiscordBridge:
    bridge: DiscordBridge = interaction.client.bridge
    return bridge


async def is_for_presser(interaction: discord.Interaction[Any]) -> bool:
    """Whether the person pressing may use the message's buttons: a message made in answer
    to someone's interaction is theirs alone. Refuses the others with a private note."""
    message = interaction.message
    metadata = message.interaction_metadata if message is not None else None
    if metadata is None or metadata.user.id == interaction.user.id:
        return True
    await interaction.response.send_message(
        text("not_yours", interaction.locale.value), ephemeral=True
    )
    return False


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?s)(?!ask\|).{1,100}"
):
    """A button whose custom_id is an action payload — or claims to be: anything that is not
    an answer button lands here, so a stale or forged custom_id gets the core's "expired"
    answer instead of Discord's "this interaction failed"."""

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        return cls(discord.ui.Button(custom_id=match.group(0)))

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await is_for_presser(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await bridge_of(interaction).on_action(interaction, self.custom_id)


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?s)ask\|.{1,96}"):
    """ "✍ …": opens a modal for a screen that waits for typed text (in a server channel
    the bot cannot read what people type, and a form is handier on a phone anyway)."""

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        return cls(discord.ui.Button(custom_id=match.group(0)))

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await is_for_presser(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        spec = decode_spec(self.custom_id)
        if spec is None:
            await bridge_of(interaction).on_action(interaction, self.custom_id)
            return
        await interaction.response.send_modal(AnswerModal(spec))


class AnswerModal(discord.ui.Modal):
    """One text field for a prompt. Its submission is answered from the client's
    ``on_interaction`` (see :func:`answer_field`), not from :meth:`on_submit`, so an answer
    typed while the bot restarted is not lost."""

    def __init__(self, spec: PromptSpec) -> None:
        super().__init__(title=spec.label, custom_id=ANSWER_MODAL_PREFIX + spec.field, timeout=900)
        self.add_item(
            discord.ui.TextInput(
                label=spec.label,
                custom_id=spec.field,
                style=discord.TextStyle.paragraph if spec.multiline else discord.TextStyle.short,
                placeholder=spec.placeholder or None,
                max_length=spec.max_length,
                required=True,
            )
        )

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        return None


def answer_field(custom_id: str) -> str | None:
    """The prompt field of a submitted answer modal, or ``None`` for other modals."""
    if custom_id.startswith(ANSWER_MODAL_PREFIX):
        return custom_id[len(ANSWER_MODAL_PREFIX) :] or None
    return None


def view_for(message: DiscordMessage) -> discord.ui.View | None:
    """The buttons of ``message`` as a view of persistent items, row by row (``None`` when
    it has none). Only dynamic items and links: nothing is kept in memory per message."""
    if not message.rows:
        return None
    view = discord.ui.View(timeout=None)
    for row_number, row in enumerate(message.rows):
        for button in row:
            if button.url:
                view.add_item(discord.ui.Button(label=button.label, url=button.url, row=row_number))
                continue
            item: discord.ui.Button[Any] = discord.ui.Button(
                label=button.label, custom_id=button.custom_id, style=_STYLES[button.style]
            )
            factory = AnswerButton if button.custom_id.startswith(ANSWER_PREFIX) else ActionButton
            view.add_item(factory(item, row=row_number))
    return view


def message_kwargs(message: DiscordMessage, *, edit: bool = False) -> dict[str, Any]:
    """Keyword arguments for discord.py's send and edit calls. An edit always says what the
    buttons and image are now (none clears them)."""
    view = view_for(message)
    embed = discord.Embed().set_image(url=message.image_url) if message.image_url else None
    kwargs: dict[str, Any] = {"content": message.content}
    if edit:
        kwargs.update(view=view, embed=embed)
        return kwargs
    if view is not None:
        kwargs["view"] = view
    if embed is not None:
        kwargs["embed"] = embed
    return kwargs
