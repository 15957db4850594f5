"""The world behind the fake API: chats, the messages in them, files, button presses."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request, forbidden
from .params import Params
from .records import BotMessage, CallbackAnswer, CallbackQuery, StoredFile
from .updates import Pulse, UpdateQueue

_CHAT_ID = re.compile(r"[+-]?\d+")
_FILE_PREFIX = {"photo": "AgACAgI", "video": "BAACAgI", "document": "BQACAgI"}
_FILE_FOLDER = {"photo": "photos", "video": "videos", "document": "documents"}
_FILE_SUFFIX = {"photo": ".jpg", "video": ".mp4", "document": ""}


@dataclass
class Chat:
    """A chat the bot can write to; a private one carries its person's ``user``."""

    id: int
    type: str  # "private", "group" or "supergroup"
    info: dict[str, Any]  # the Chat object of the Bot API
    user: dict[str, Any] | None = None
    started: bool = True  # the person has pressed Start, so the bot may write first
    blocked: bool = False
    deactivated: bool = False
    last_message_id: int = 0
    bot_messages: dict[int, BotMessage] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted_user_messages: set[int] = field(default_factory=set)

    def has_message(self, message_id: int) -> bool:
        bot_message = self.bot_messages.get(message_id)
        if bot_message is not None:
            return not bot_message.deleted
        return message_id in self.user_messages and message_id not in self.deleted_user_messages


class TelegramState:
    """Everything the fake Telegram knows; the API methods read and change it."""

    def __init__(
        self,
        token: str,
        *,
        bot_username: str,
        bot_first_name: str,
        first_update_id: int,
        callback_timeout: float,
    ) -> None:
        head = token.split(":", 1)[0]
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(head) if head.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.answered_callbacks: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_timeout = callback_timeout
        self.queue = UpdateQueue(first_update_id)
        self.changes = Pulse()  # fires on every send, edit, deletion and answer
        self.deliver_twice = False
        self._twice_next = 0
        self._changes = 0
        self._next_callback = 4_000_000_000_000_000_000 + secrets.randbelow(10**17)

    # --- chats ---------------------------------------------------------------------------

    def add_private_chat(self, user: dict[str, Any], *, started: bool) -> Chat:
        info = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        info.update({key: user[key] for key in ("last_name", "username") if key in user})
        chat = Chat(user["id"], "private", info, user=user, started=started)
        self.chats[chat.id] = chat
        return chat

    def add_group(self, chat_id: int, title: str, *, supergroup: bool) -> Chat:
        kind = "supergroup" if supergroup else "group"
        chat = Chat(chat_id, kind, {"id": chat_id, "type": kind, "title": title})
        self.chats[chat_id] = chat
        return chat

    def find_chat(self, params: Params, name: str = "chat_id") -> Chat:
        """The chat a call names, as Telegram finds it ("chat not found" otherwise)."""
        raw = params.string(name, kind="Integer or String")
        if raw is None:
            raise bad_request(f"{name} is empty")
        chat = None
        if raw.startswith("@"):
            chat = next(
                (
                    c
                    for c in self.chats.values()
                    if c.info.get("username") == raw[1:] and c.user is None
                ),
                None,
            )
        elif _CHAT_ID.fullmatch(raw):
            chat = self.chats.get(int(raw))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def chat_for(self, params: Params, *, sending: bool) -> Chat:
        """The chat a call acts in, refused with 403 when its person cut the bot off."""
        chat = self.find_chat(params)
        if chat.deactivated:
            raise forbidden("user is deactivated")
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if sending and not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
        return chat

    # --- messages ------------------------------------------------------------------------

    def next_message_id(self, chat: Chat) -> int:
        chat.last_message_id += 1
        return chat.last_message_id

    @property
    def change_count(self) -> int:
        return self._changes

    def touch(self, message: BotMessage) -> None:
        """Note that a bot message changed, and wake whoever waits for the bot."""
        self._changes += 1
        message.change = self._changes
        self.changes.fire()

    def add_bot_message(self, chat: Chat, **fields: Any) -> BotMessage:
        message = BotMessage(
            chat_id=chat.id,
            message_id=self.next_message_id(chat),
            date=int(time.time()),
            sent_at=time.monotonic(),
            **fields,
        )
        chat.bot_messages[message.message_id] = message
        self.touch(message)
        return message

    def message_json(self, message: BotMessage, *, with_reply: bool = True) -> dict[str, Any]:
        """The Message object the Bot API returns for a bot message."""
        chat = self.chats[message.chat_id]
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": chat.info,
            "date": message.date,
        }
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        if message.kind == "text":
            body["text"] = message.text
            if message.entities:
                body["entities"] = message.entities
            if message.link_preview_disabled:
                body["link_preview_options"] = {"is_disabled": True}
        else:
            stored = self.files[message.file_id or ""]
            body[message.kind] = [stored.as_json()] if message.kind == "photo" else stored.as_json()
            if message.caption:
                body["caption"] = message.caption
                if message.entities:
                    body["caption_entities"] = message.entities
        if with_reply and message.reply_to_message_id is not None:
            replied = self.any_message_json(chat, message.reply_to_message_id)
            if replied is not None:
                body["reply_to_message"] = replied
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    def any_message_json(self, chat: Chat, message_id: int) -> dict[str, Any] | None:
        if message_id in chat.bot_messages:
            return self.message_json(chat.bot_messages[message_id], with_reply=False)
        return chat.user_messages.get(message_id)

    # --- files ---------------------------------------------------------------------------

    def add_file(self, kind: str, data: bytes, **details: Any) -> StoredFile:
        token = secrets.token_urlsafe(24)
        stored = StoredFile(
            file_id=f"{_FILE_PREFIX[kind]}{token}",
            file_unique_id=f"AQAD{secrets.token_urlsafe(9)}",
            kind=kind,
            data=data,
            file_path=f"{_FILE_FOLDER[kind]}/file_{len(self.files)}{_file_suffix(kind, details)}",
            **details,
        )
        self.files[stored.file_id] = stored
        return stored

    # --- updates from people -------------------------------------------------------------

    def deliver_next_twice(self) -> None:
        self._twice_next += 1

    def push_update(self, kind: str, body: dict[str, Any]) -> int | None:
        copies = 1
        if self.deliver_twice or self._twice_next:
            copies = 2
            self._twice_next = max(self._twice_next - 1, 0)
        return self.queue.add(kind, body, copies=copies)

    def new_callback_id(self) -> str:
        self._next_callback += 1 + secrets.randbelow(1000)
        return str(self._next_callback)


def _file_suffix(kind: str, details: dict[str, Any]) -> str:
    name = details.get("file_name") or ""
    if kind == "document" and "." in name:
        return name[name.rfind(".") :]
    return _FILE_SUFFIX[kind]
