"""The web playground on the shared core: page events in, the engine's answers out.

A page sends one JSON object per thing the person did:

- ``{"type": "text", "text": "..."}`` — typed text; text starting with ``/`` is a command
  (``/offers``, ``/verify 12``);
- ``{"type": "press", "payload": "...", "message": "m12"}`` — a button press, with the
  button's payload and the id of the bubble it was on (an answer that edits replaces that
  bubble);
- ``{"type": "file", "name": "...", "mime": "...", "size": 123, "caption": "..."}`` — a
  file was picked. Only its name, type and size are sent: like every channel, collabbot
  keeps a reference to a file, never the file.

Anything else is refused with :class:`BadEvent` before the engine sees it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, Final

from bots.web.channel import WebChannel
from bots.web.people import Person
from core.conversations.engine import ConversationEngine
from core.conversations.messages import FileRef, Inbound, InboundKind, Outbound
from core.domain.common import Platform

logger = logging.getLogger(__name__)

MAX_EVENT_BYTES: Final = 16 * 1024
MAX_TEXT: Final = 8_000  # the engine answers "too long" above its own, lower limit
MAX_PAYLOAD: Final = 256
MAX_BUBBLE_ID: Final = 32
MAX_FILE_NAME: Final = 255
MAX_MIME: Final = 127


class BadEvent(ValueError):
    """The page sent something that is not a playground event; the message says what."""


def _text(event: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = event.get(key, "")
    if not isinstance(value, str):
        raise BadEvent(f"{key} must be text")
    if len(value) > limit:
        raise BadEvent(f"{key} is longer than {limit} characters")
    if required and not value.strip():
        raise BadEvent(f"{key} is empty")
    return value


def _file_kind(mime: str) -> str:
    major = mime.partition("/")[0].lower()
    return {"image": "photo", "video": "video", "audio": "audio"}.get(major, "document")


def parse_event(raw: str | bytes) -> dict[str, Any]:
    """The JSON object a page sent."""
    if len(raw) > MAX_EVENT_BYTES:
        raise BadEvent(f"an event is at most {MAX_EVENT_BYTES} bytes")
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadEvent("an event is a JSON object") from None
    if not isinstance(event, dict):
        raise BadEvent("an event is a JSON object")
    return event


def inbound_from_event(person: Person, event: Mapping[str, Any], event_id: str) -> Inbound:
    """The neutral event for what the page sent."""
    kind = event.get("type")
    common: dict[str, Any] = {"display_name": person.name}
    ids = (Platform.WEB, person.user_id, person.user_id, event_id)
    if kind == "text":
        text = _text(event, "text", MAX_TEXT, required=True)
        stripped = text.strip()
        if stripped.startswith("/"):
            head, _, args = stripped.partition(" ")
            command = head[1:].split("@")[0].lower()
            return Inbound(
                *ids, InboundKind.COMMAND, command=command, args=args.strip(), text=text, **common
            )
        return Inbound(*ids, InboundKind.TEXT, text=text, **common)
    if kind == "press":
        payload = _text(event, "payload", MAX_PAYLOAD, required=True)
        message = _text(event, "message", MAX_BUBBLE_ID)
        return Inbound(
            *ids, InboundKind.ACTION, payload=payload, message_id=message.strip(), **common
        )
    if kind == "file":
        name = _text(event, "name", MAX_FILE_NAME)
        mime = _text(event, "mime", MAX_MIME).strip()
        size = event.get("size", 0)
        if type(size) is not int or size < 0:
            raise BadEvent("size must be a whole number of bytes")
        caption = _text(event, "caption", MAX_TEXT)
        file = FileRef(_file_kind(mime), f"web-file-{secrets.token_hex(8)}", mime, size, name)
        return Inbound(*ids, InboundKind.FILE, file=file, text=caption, **common)
    raise BadEvent("type must be text, press or file")


class WebBridge:
    """Feeds page events to the conversation engine and shows its answers in the chat."""

    def __init__(self, engine: ConversationEngine, channel: WebChannel) -> None:
        self.engine = engine
        self.channel = channel
        self._turns: dict[str, asyncio.Lock] = {}
        self._inflight: set[asyncio.Task[None]] = set()

    def submit(self, person: Person, event: Mapping[str, Any]) -> asyncio.Task[None]:
        """Start answering one page event; raises :class:`BadEvent` at once for a bad one.

        One person's events are answered one at a time, in order, however many pages they
        have open. The answer goes on even if the page closes meanwhile (it lands in the
        history); :meth:`drain` waits for the answers still being prepared.
        """
        inbound = inbound_from_event(person, event, f"web-{uuid.uuid4().hex}")
        if inbound.message_id and not self.channel.knows(inbound.chat_id, inbound.message_id):
            # Not a bubble of this chat (any more): answer as a new message.
            inbound = dataclasses.replace(inbound, message_id="")
        task = asyncio.create_task(self._answer(inbound))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return task

    async def handle(self, person: Person, event: Mapping[str, Any]) -> None:
        """Answer one page event (see :meth:`submit`)."""
        await self.submit(person, event)

    async def drain(self, seconds: float = 10.0) -> None:
        """Wait (at most ``seconds``) for the answers being prepared."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=seconds)

    async def _answer(self, inbound: Inbound) -> None:
        chat_id = inbound.chat_id
        turn = self._turns.setdefault(inbound.user_id, asyncio.Lock())
        async with turn:
            if inbound.kind is InboundKind.TEXT or inbound.kind is InboundKind.COMMAND:
                self.channel.post_mine(chat_id, inbound.text)
            elif inbound.kind is InboundKind.FILE and inbound.file is not None:
                shown = f"📎 {inbound.file.name or inbound.file.kind}"
                self.channel.post_mine(chat_id, f"{shown}\n{inbound.text}".strip())
            self.channel.typing(chat_id, True)
            try:
                replies = await self.engine.handle(inbound)
                await self._show(inbound, replies)
            except Exception:
                logger.exception("answering a playground event failed")
                self.channel.toast(chat_id, "Something went wrong on our side; please try again.")
            finally:
                self.channel.typing(chat_id, False)

    async def _show(self, inbound: Inbound, replies: list[Outbound]) -> None:
        if inbound.kind is InboundKind.ACTION:
            self.channel.toast(inbound.chat_id, next((r.toast for r in replies if r.toast), ""))
        for reply in replies:
            await self.channel.post(inbound.chat_id, reply, replace=inbound.message_id)
