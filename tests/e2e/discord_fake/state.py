"""The fake Discord's world: the bot, people, DM and server channels, messages, registered
commands, injected faults, and a pulse that wakes whoever waits for a change."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .records import ApiCall, Channel, Interaction, Message, Modal, Person, iso_now, snowflake
from .validation import (
    EPHEMERAL,
    ApiError,
    cannot_message_user,
    check_commands,
    check_message,
    unknown_channel,
    unknown_message,
    unknown_user,
)


class Pulse:
    """A version number that grows on every change, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.version = 0
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        self.version += 1
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, since: int, seconds: float) -> None:
        """Return after a change later than ``since``, or after ``seconds``."""
        if self.version != since or seconds <= 0:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)


@dataclass
class Fault:
    """The next ``times`` calls of ``route`` fail like this."""

    route: str
    status: int
    code: int
    message: str
    times: int
    retry_after: float | None = None


class DiscordState:
    """Everything the fake knows; the REST and gateway sides both work on it."""

    def __init__(self, token: str, *, interaction_timeout: float, followup_window: float) -> None:
        self.token = token
        self.interaction_timeout = interaction_timeout
        self.followup_window = followup_window
        self.bot = Person(snowflake(), "collabbot", bot=True)
        self.application_id = self.bot.id
        self.people: dict[int, Person] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.interactions: dict[int, Interaction] = {}
        self.followups: dict[int, list[Message]] = {}
        self.modals: dict[int, Modal] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.calls: list[ApiCall] = []
        self.faults: list[Fault] = []
        self.changes = Pulse()
        self.dispatch: Callable[[str, dict[str, Any]], None] = lambda event, data: None

    # --- people and channels ------------------------------------------------------------

    def add_person(self, person: Person) -> Person:
        dm = Channel(snowflake(), 1, recipient=person)
        person.dm_channel_id = dm.id
        self.people[person.id] = person
        self.channels[dm.id] = dm
        return person

    def add_guild_channel(self, guild_id: int, name: str) -> Channel:
        channel = Channel(snowflake(), 0, guild_id=guild_id, name=name)
        self.channels[channel.id] = channel
        return channel

    def channel(self, channel_id: int) -> Channel:
        found = self.channels.get(channel_id)
        if found is None:
            raise unknown_channel()
        return found

    def open_dm(self, recipient_id: Any) -> dict[str, Any]:
        """POST /users/@me/channels: the DM channel with a person (always the same one)."""
        try:
            person = self.people[int(recipient_id)]
        except (KeyError, TypeError, ValueError):
            raise unknown_user() from None
        return self.channels[person.dm_channel_id].json()

    # --- messages -----------------------------------------------------------------------

    def changed(self, message: Message) -> None:
        self.changes.fire()
        message.change = self.changes.version

    def add_message(self, message: Message) -> Message:
        message.versions.append(message.content)
        self.messages[message.id] = message
        self.changed(message)
        return message

    def bot_message(self, channel: Channel, body: dict[str, Any], **fields: Any) -> Message:
        return self.add_message(
            Message(
                snowflake(),
                channel.id,
                self.bot,
                str(body.get("content") or ""),
                components=list(body.get("components") or []),
                embeds=list(body.get("embeds") or []),
                flags=int(body.get("flags") or 0),
                guild_id=channel.guild_id,
                **fields,
            )
        )

    def edit(self, message: Message, body: dict[str, Any], *, clear_flags: int = 0) -> Message:
        if message.deleted:
            raise unknown_message()
        if "content" in body:
            message.content = str(body["content"] or "")
        if "components" in body:
            message.components = list(body["components"] or [])
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        message.flags &= ~clear_flags
        message.edited_timestamp = iso_now()
        message.versions.append(message.content)
        self.changed(message)
        return message

    def delete(self, message: Message) -> None:
        if message.deleted:
            raise unknown_message()
        message.deleted = True
        self.changed(message)

    def create_channel_message(self, channel_id: int, body: Any) -> dict[str, Any]:
        """POST /channels/{id}/messages, as the bot."""
        channel = self.channel(channel_id)
        if channel.type == 1:
            assert channel.recipient is not None
            if not channel.recipient.dms_open:
                raise cannot_message_user()
        check_message(body)
        return self.bot_message(channel, body).json()

    def channel_message(self, channel_id: int, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if message is None or message.channel_id != channel_id or message.deleted:
            raise unknown_message()
        if message.ephemeral:
            # Ephemeral messages exist only for their interaction's webhook.
            raise unknown_message()
        return message

    def edit_channel_message(self, channel_id: int, message_id: int, body: Any) -> dict[str, Any]:
        message = self.channel_message(channel_id, message_id)
        if message.author is not self.bot:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        check_message(body, edit=True)
        return self.edit(message, body).json()

    # --- slash commands -----------------------------------------------------------------

    def put_commands(self, guild_id: int | None, body: Any) -> list[dict[str, Any]]:
        """PUT /applications/{id}[/guilds/{id}]/commands: replace them all."""
        check_commands(body)
        known = {c["name"]: c for c in self.commands.get(guild_id, [])}
        stored = []
        for command in body:
            old = known.get(command["name"])
            entry = {
                **command,
                "id": old["id"] if old else str(snowflake()),
                "application_id": str(self.application_id),
                "type": 1,
                "version": str(snowflake()),
                "options": command.get("options") or [],
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        self.commands[guild_id] = stored
        self.changes.fire()
        return stored

    def command(self, name: str, guild_id: int | None) -> dict[str, Any] | None:
        for scope in [guild_id, None] if guild_id is not None else [None]:
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        return None

    # --- interactions -------------------------------------------------------------------

    def new_interaction(
        self,
        kind: int,
        user: Person,
        channel: Channel,
        data: dict[str, Any],
        message: Message | None = None,
    ) -> Interaction:
        interaction = Interaction(
            snowflake(),
            "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            kind,
            user,
            channel,
            data,
            message,
        )
        self.interactions[interaction.id] = interaction
        self.dispatch("INTERACTION_CREATE", self.interaction_json(interaction))
        return interaction

    def interaction_json(self, interaction: Interaction) -> dict[str, Any]:
        channel = interaction.channel
        data: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "channel_id": str(channel.id),
            "channel": channel.json(),
            "token": interaction.token,
            "version": 1,
            "locale": interaction.user.locale,
            "app_permissions": "562949953421311",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            data["guild_locale"] = "en-US"
            data["context"] = 0
            data["authorizing_integration_owners"] = {"0": str(channel.guild_id)}
            data["member"] = {
                "user": interaction.user.json(),
                "roles": [],
                "joined_at": iso_now(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "permissions": "1071698660929",
            }
        else:
            data["context"] = 1
            data["authorizing_integration_owners"] = {"0": "0"}
            data["user"] = interaction.user.json()
        if interaction.message is not None:
            data["message"] = interaction.message.json()
        return data

    def visible(self, message: Message, person: Person) -> bool:
        """Whether ``person`` sees ``message``: their DM, their ephemeral messages, and the
        non-ephemeral messages of server channels."""
        if message.deleted:
            return False
        channel = self.channels[message.channel_id]
        if channel.type == 1:
            return channel.recipient is person
        return not message.ephemeral or message.visible_to == person.id

    def ephemeral_for(self, interaction: Interaction, flags: int) -> dict[str, Any]:
        if flags & EPHEMERAL:
            return {"visible_to": interaction.user.id}
        return {}
