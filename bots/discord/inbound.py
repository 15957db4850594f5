"""From Discord's events to the core's :class:`Inbound`: pure functions over the fields
discord.py hands over (ids, the raw interaction data), so they are tested without a client.

The chat id of every Discord inbound is the person's user id: answers to an interaction go
back through the interaction, and notices go by direct message to the user, never to the
server channel someone last wrote in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bots.discord.render import payload_of
from core.conversations.messages import FileRef, Inbound, InboundKind
from core.domain.common import Platform

_TYPED_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:\s+(.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Person:
    """Who did something, and where: ``private`` is False in a server channel."""

    user_id: str
    display_name: str = ""
    locale: str | None = None
    private: bool = True


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file on a direct message, as Discord describes it."""

    url: str
    content_type: str = ""
    size: int = 0
    filename: str = ""


def _base(person: Person, event_id: str, kind: InboundKind, **fields: Any) -> Inbound:
    return Inbound(
        Platform.DISCORD,
        person.user_id,
        person.user_id,
        event_id,
        kind,
        display_name=person.display_name,
        language_code=person.locale,
        private=person.private,
        **fields,
    )


def command_inbound(event_id: str, person: Person, name: str, args: str = "") -> Inbound:
    """A slash command (``/offers``) or one typed in a direct message."""
    name = name.lower()
    text = f"/{name} {args}".strip()
    return _base(person, event_id, InboundKind.COMMAND, command=name, args=args, text=text)


def action_inbound(event_id: str, person: Person, custom_id: str, message_id: str) -> Inbound:
    """A pressed button; its custom_id is the (untrusted) action payload."""
    return _base(
        person, event_id, InboundKind.ACTION, payload=payload_of(custom_id), message_id=message_id
    )


def answer_inbound(event_id: str, person: Person, text: str) -> Inbound:
    """What someone typed into an answer modal: the same as typing it in the chat."""
    return _base(person, event_id, InboundKind.TEXT, text=text)


def modal_text(components: Iterable[Mapping[str, Any]]) -> str:
    """The value of the first text input of a submitted modal (rows and labels unwrapped)."""
    for component in components:
        kind = component.get("type")
        if kind == 1:
            found = modal_text(component.get("components") or [])
        elif kind == 18:
            found = modal_text([component.get("component") or {}])
        elif kind == 4:
            found = str(component.get("value") or "")
        else:
            continue
        if found:
            return found
    return ""


def _file(attachment: Attachment) -> FileRef:
    mime = attachment.content_type.split(";")[0].strip().lower()
    kind = (
        "photo"
        if mime.startswith("image/")
        else "video"
        if mime.startswith("video/")
        else "audio"
        if mime.startswith("audio/")
        else "document"
    )
    return FileRef(kind, attachment.url, mime, attachment.size, attachment.filename)


def direct_message_inbound(
    event_id: str, person: Person, content: str, attachments: Sequence[Attachment] = ()
) -> Inbound | None:
    """A direct message to the bot; ``None`` when it holds nothing collabbot reads."""
    text = content.strip()
    typed = _TYPED_COMMAND.fullmatch(text)
    if typed:
        return command_inbound(event_id, person, typed.group(1), (typed.group(2) or "").strip())
    if attachments:
        return _base(person, event_id, InboundKind.FILE, file=_file(attachments[0]), text=text)
    if text:
        return _base(person, event_id, InboundKind.TEXT, text=text)
    return None
