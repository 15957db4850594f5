"""Telegram on the shared core, whatever the driver: updates in, answers out.

Both drivers hand raw Bot API update dictionaries to :class:`TelegramBridge`, and implement
:class:`~bots.telegram.api.BotApi` for sending, so everything Telegram-specific but
driver-neutral lives here once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bots.metrics import update_handled
from bots.telegram.api import BotApi, MessageGone, MessageNotModified
from bots.telegram.render import render
from core.conversations.actions import ActionCodec
from core.conversations.engine import ConversationEngine
from core.conversations.i18n import LANGUAGES, translator
from core.conversations.messages import FileRef, Inbound, InboundKind, Outbound
from core.conversations.router import router
from core.domain.common import Platform
from core.domain.members import Role
from core.ports.channel import DeliveryError, RetryLater

logger = logging.getLogger(__name__)

CALLBACK_ANSWER_WITHIN = 0.5
"""Seconds a button press waits for its answer before Telegram is answered without a toast:
well inside the second in which Telegram expects the answer, even on a busy machine."""
MAX_RETRY_WAIT = 5.0


class TelegramChannel:
    """Sends core messages to Telegram chats through a driver's Bot."""

    platform = Platform.TELEGRAM

    def __init__(self, api: BotApi, codec: ActionCodec) -> None:
        self.api = api
        self.codec = codec

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        rendered = await render(message, self.codec)
        for index, part in enumerate(rendered):
            if index == 0 and replace and message.edit:
                try:
                    await self.api.edit_message(chat_id, replace, part)
                    continue
                except MessageNotModified:
                    continue
                except MessageGone:
                    pass
            await self.api.send_message(chat_id, part)


def _name(user: dict[str, Any]) -> str:
    parts = [str(user.get("first_name") or ""), str(user.get("last_name") or "")]
    return " ".join(p for p in parts if p).strip() or str(user.get("username") or "")


def _file(message: dict[str, Any]) -> FileRef | None:
    if message.get("photo"):
        largest = max(message["photo"], key=lambda p: p.get("file_size") or 0)
        return FileRef(
            "photo", str(largest["file_id"]), "image/jpeg", largest.get("file_size") or 0
        )
    for kind in ("video", "document", "animation", "audio", "voice", "video_note"):
        item = message.get(kind)
        if item:
            return FileRef(
                "video" if kind in ("video", "video_note", "animation") else kind,
                str(item["file_id"]),
                str(item.get("mime_type") or ""),
                int(item.get("file_size") or 0),
                str(item.get("file_name") or ""),
            )
    return None


def inbound_from_update(update: dict[str, Any]) -> Inbound | None:
    """The neutral event for a Bot API update, or ``None`` for updates collabbot ignores."""
    event_id = str(update.get("update_id", ""))
    if "callback_query" in update:
        query = update["callback_query"]
        user = query.get("from") or {}
        message = query.get("message") or {}
        chat = message.get("chat") or {"id": user.get("id"), "type": "private"}
        return Inbound(
            Platform.TELEGRAM,
            str(user.get("id")),
            str(chat.get("id")),
            event_id,
            InboundKind.ACTION,
            display_name=_name(user),
            language_code=user.get("language_code"),
            payload=str(query.get("data") or ""),
            message_id=str(message.get("message_id") or ""),
            private=chat.get("type") == "private",
        )
    message = update.get("message")
    if not message or "from" not in message:
        return None
    user = message["from"]
    chat = message.get("chat") or {}
    common: dict[str, Any] = {
        "display_name": _name(user),
        "language_code": user.get("language_code"),
        "private": chat.get("type") == "private",
    }
    ids = (Platform.TELEGRAM, str(user["id"]), str(chat.get("id", user["id"])), event_id)
    text = str(message.get("text") or "")
    entities = message.get("entities") or []
    if text.startswith("/") and any(
        e.get("type") == "bot_command" and e.get("offset") == 0 for e in entities
    ):
        head, _, args = text.partition(" ")
        command = head[1:].split("@")[0].lower()
        return Inbound(
            *ids, InboundKind.COMMAND, command=command, args=args.strip(), text=text, **common
        )
    if text:
        return Inbound(*ids, InboundKind.TEXT, text=text, **common)
    file = _file(message)
    if file is not None:
        return Inbound(
            *ids, InboundKind.FILE, file=file, text=str(message.get("caption") or ""), **common
        )
    if message.get("contact") or message.get("location"):
        return Inbound(*ids, InboundKind.CONTACT, **common)
    return None


class TelegramBridge:
    """Feeds Telegram updates to the conversation engine and sends its answers."""

    def __init__(self, engine: ConversationEngine, api: BotApi) -> None:
        self.engine = engine
        self.api = api
        self.channel = TelegramChannel(api, engine.codec)
        self._commands_set: set[str] = set()
        self._in_flight: set[asyncio.Task[None]] = set()

    async def handle_update_to_the_end(self, update: dict[str, Any]) -> None:
        """Handle an update so that cancelling the caller (a driver stopping its polling)
        does not cut the answer short; :meth:`drain` waits for such work at shutdown."""
        task = asyncio.ensure_future(self.handle_update(update))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        await asyncio.shield(task)

    async def drain(self, grace: float) -> None:
        """Wait (at most ``grace`` seconds) for updates still being answered."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=grace)

    async def handle_update(self, update: dict[str, Any]) -> None:
        inbound = inbound_from_update(update)
        if inbound is None:
            return
        with update_handled(Platform.TELEGRAM.value, inbound.kind.value):
            await self._handle(update, inbound)

    async def _handle(self, update: dict[str, Any], inbound: Inbound) -> None:
        if inbound.kind is InboundKind.ACTION:
            replies = await self._answer_callback(update["callback_query"]["id"], inbound)
        else:
            replies = await self.engine.handle(inbound)
        for reply in replies:
            await self._deliver(inbound, reply)
        if inbound.kind is InboundKind.COMMAND and inbound.command in ("start", "help"):
            await self._chat_commands(inbound)

    async def _answer_callback(self, callback_id: str, inbound: Inbound) -> list[Outbound]:
        """Answer the button press within a second: with the toast when the answer is ready
        by then, or empty, so the button stops spinning, and the answer follows."""
        task = asyncio.ensure_future(self.engine.handle(inbound))
        done, _ = await asyncio.wait({task}, timeout=CALLBACK_ANSWER_WITHIN)
        toast = ""
        if done:
            toast = next((r.toast for r in task.result() if r.toast), "")
        try:
            await self.api.answer_callback(callback_id, toast[:200])
        except DeliveryError as error:
            logger.warning("answering a button press failed: %s", type(error).__name__)
        return await task

    async def _deliver(self, inbound: Inbound, reply: Outbound) -> None:
        for attempt in range(2):
            try:
                await self.channel.send(inbound.chat_id, reply, replace=inbound.message_id)
                return
            except RetryLater as error:
                if attempt or error.seconds > MAX_RETRY_WAIT:
                    logger.warning("Telegram asked to wait %.0f s; answer dropped", error.seconds)
                    return
                await asyncio.sleep(error.seconds)
            except DeliveryError as error:
                logger.warning("sending an answer failed: %s", type(error).__name__)
                return

    async def register_commands(self) -> None:
        """The command menu everyone sees, per language."""
        for language in LANGUAGES:
            t = translator(language)
            commands = [
                (c.name, t(c.summary)) for c in router.commands_for(frozenset({Role.CREATOR}))
            ]
            await self.api.set_commands(commands, language=language)

    async def _chat_commands(self, inbound: Inbound) -> None:
        """Sellers and operators get their own command menu in their chat."""
        if inbound.chat_id in self._commands_set or not inbound.private:
            return
        member = await self.engine.member_of(inbound)
        if member is None or not (member.roles - {Role.CREATOR}):
            return
        t = translator(member.language)
        commands = [(c.name, t(c.summary)) for c in router.commands_for(member.roles)]
        try:
            await self.api.set_commands(commands, chat_id=inbound.chat_id)
            self._commands_set.add(inbound.chat_id)
        except DeliveryError as error:
            logger.warning("setting chat commands failed: %s", type(error).__name__)
