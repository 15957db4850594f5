"""What the fake Discord keeps: people, channels, messages, interactions and API calls."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from .markdown import plain

DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL = 1 << 6
LOADING = 1 << 7
_counter = itertools.count(1)


def snowflake() -> int:
    """A fresh id shaped like Discord's: milliseconds since 2015 above a counter."""
    now = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (now << 22) | (next(_counter) & 0x3FFFFF)


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


@dataclass
class Person:
    """A Discord account (a person, or the bot itself)."""

    id: int
    username: str
    global_name: str | None = None
    locale: str = "en-US"
    bot: bool = False
    dms_open: bool = True
    dm_channel_id: int = 0

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Channel:
    id: int
    type: int  # 1: DM, 0: server text channel
    guild_id: int | None = None
    name: str = ""
    recipient: Person | None = None

    def json(self) -> dict[str, Any]:
        if self.type == 1:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.recipient.json()],
            }
        return {
            "id": str(self.id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class Message:
    """A message in a channel; ``visible_to`` is set on an ephemeral one."""

    id: int
    channel_id: int
    author: Person
    content: str
    components: list[dict[str, Any]] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    guild_id: int | None = None
    visible_to: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    change: int = 0
    versions: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    def button_components(self) -> list[dict[str, Any]]:
        return [
            child
            for row in self.components
            if row.get("type") == 1
            for child in row.get("components", [])
            if child.get("type") == 2
        ]

    @property
    def text(self) -> str:
        """The content as a person reads it (markdown rendered to plain text)."""
        return plain(self.content)

    @property
    def buttons(self) -> list[str]:
        """The labels of the message's buttons, row by row."""
        return [str(button.get("label", "")) for button in self.button_components()]

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.json(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "pinned": False,
            "type": 0,
            "flags": self.flags,
            "components": self.components,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        return data

    def __repr__(self) -> str:
        marks = " (ephemeral)" if self.ephemeral else ""
        marks += " (deleted)" if self.deleted else ""
        marks += " (loading)" if self.loading else ""
        buttons = f" {self.buttons}" if self.buttons else ""
        return f"#{self.id} {self.text!r}{buttons}{marks}"


@dataclass
class Interaction:
    """One interaction the fake sent the bot, and how (and when) the bot acknowledged it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 5 modal submit
    user: Person
    channel: Channel
    data: dict[str, Any]
    message: Message | None = None
    created_at: float = field(default_factory=time.monotonic)
    response_type: int | None = None
    responded_at: float | None = None
    response: dict[str, Any] | None = None
    original_message: Message | None = None
    refused: list[tuple[int, str]] = field(default_factory=list)
    """Callbacks the fake refused: (Discord error code, why)."""

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def delay(self) -> float | None:
        """Seconds from the interaction to its acknowledgement."""
        return None if self.responded_at is None else self.responded_at - self.created_at

    def metadata(self) -> dict[str, Any]:
        """``interaction_metadata`` of the messages the interaction's responses create."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "user": self.user.json(),
            "authorizing_integration_owners": {"0": str(self.channel.guild_id or 0)},
        }
        if self.message is not None:
            data["interacted_message_id"] = str(self.message.id)
        return data


@dataclass
class Modal:
    """A modal the bot opened for someone, waiting to be submitted."""

    custom_id: str
    title: str
    components: list[dict[str, Any]]
    source: Interaction

    def text_inputs(self) -> list[dict[str, Any]]:
        found = []
        for component in self.components:
            if component.get("type") == 1:
                found.extend(c for c in component.get("components", []) if c.get("type") == 4)
            elif component.get("type") == 18:
                inner = component.get("component") or {}
                if inner.get("type") == 4:
                    found.append(inner)
        return found


@dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    status: int
    body: Any
    at: float
