"""What the channels hand to the conversation engine, and what they get back.

A channel adapter turns each platform update into one :class:`Inbound` and sends every
:class:`Outbound` the engine returns, rendered with the layout planner for its platform.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from core.conversations.layout import Choice
from core.conversations.markup import Markup
from core.domain.common import Platform


class InboundKind(enum.StrEnum):
    COMMAND = "command"  # /offers, or a slash command
    TEXT = "text"  # anything typed
    ACTION = "action"  # a button press or list choice (payload not yet decoded)
    FILE = "file"  # photo, video or document
    CONTACT = "contact"  # a shared phone contact or location


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file the person sent, by the platform's own reference (never downloaded here)."""

    kind: str  # photo | video | document | audio
    file_id: str
    mime_type: str = ""
    size: int = 0
    name: str = ""


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did in a chat."""

    platform: Platform
    user_id: str
    chat_id: str
    event_id: str
    """The platform's id of this update, for de-duplication (Telegram update_id, WhatsApp
    message id, Discord interaction id)."""
    kind: InboundKind
    display_name: str = ""
    language_code: str | None = None
    command: str = ""
    args: str = ""
    text: str = ""
    payload: str = ""
    file: FileRef | None = None
    message_id: str = ""
    """The message the pressed button was on (so the answer can replace it)."""
    private: bool = True
    """False in a group or server channel, where personal content must not be shown."""

    def __repr__(self) -> str:
        # Never print user ids (WhatsApp ids are phone numbers) or what people typed.
        return f"Inbound({self.platform.value}, {self.kind.value}, event={self.event_id!r})"


@dataclass(frozen=True, slots=True)
class Prompt:
    """The screen waits for free text: channels with forms (Discord modals) may show one."""

    field: str
    label: str
    placeholder: str = ""
    multiline: bool = False
    max_length: int = 1000


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to show: text, optional image, and choices (buttons)."""

    text: Markup
    rows: Sequence[Sequence[Choice]] = ()
    image_url: str = ""
    edit: bool = False
    """Replace the message whose button was pressed instead of sending a new one."""
    toast: str = ""
    """A short note shown where the platform has one (Telegram callback answer)."""
    prompt: Prompt | None = None
    ephemeral: bool = False
    """Only the person should see it (Discord, in a server channel)."""
