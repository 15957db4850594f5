"""People and groups on the fake Telegram: what the bot wrote to them, and what they do."""

from __future__ import annotations

import re
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

from .formatting import utf16_len
from .records import BotMessage, CallbackAnswer, CallbackQuery, UserMessage
from .state import Chat, TelegramState

_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
DEFAULT_TIMEOUT = 5.0


def _tiny_png() -> bytes:
    """A valid 1x1 PNG, so a bot that inspects a photo finds a real image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_PNG = _tiny_png()


def _describe(message: BotMessage) -> str:
    state = " (deleted)" if message.deleted else ""
    buttons = f" {message.buttons}" if message.buttons else ""
    return f"#{message.message_id} {message.content!r}{buttons}{state}"


class ChatView:
    """What the bot has written to one chat, and ways to wait for more."""

    def __init__(self, state: TelegramState, chat: Chat) -> None:
        self._state = state
        self._chat = chat
        self._mark = 0  # changes up to here were already there when this side last acted

    @property
    def chat_id(self) -> int:
        return self._chat.id

    @property
    def messages(self) -> list[BotMessage]:
        """Every message the bot sent here, in order, edited or deleted ones included."""
        return sorted(self._chat.bot_messages.values(), key=lambda message: message.message_id)

    @property
    def last(self) -> BotMessage | None:
        """The bot's latest message here that is not deleted."""
        alive = [message for message in self.messages if not message.deleted]
        return alive[-1] if alive else None

    @property
    def last_text(self) -> str | None:
        return None if self.last is None else self.last.content

    def buttons(self, message: BotMessage | None = None) -> list[str]:
        """The labels of the inline buttons on ``message`` (default: the latest with buttons)."""
        target = message or self._latest_with_buttons()
        return [] if target is None else target.buttons

    def _latest_with_buttons(self) -> BotMessage | None:
        with_buttons = [m for m in self.messages if not m.deleted and m.inline_buttons()]
        return with_buttons[-1] if with_buttons else None

    def _history(self) -> str:
        shown = [_describe(message) for message in self.messages[-8:]]
        return "\n  ".join(shown) if shown else "(nothing)"

    async def wait_for(
        self,
        predicate: Callable[[BotMessage], bool],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
        *,
        description: str = "matching message",
        since_last_action: bool = True,
    ) -> BotMessage:
        """The first message the bot sent or edited here that ``predicate`` accepts.

        Only messages changed since this side last did something count, unless
        ``since_last_action`` is False; a deleted message never counts.
        """
        baseline = self._mark if since_last_action else 0
        deadline = time.monotonic() + timeout
        while True:
            since = self._state.changes.version
            changed = sorted(
                (m for m in self.messages if m.change > baseline and not m.deleted),
                key=lambda message: message.change,
            )
            for message in changed:
                if predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"the bot sent chat {self.chat_id} no {description} within {timeout} s; "
                    f"its messages there:\n  {self._history()}"
                )
            await self._state.changes.wait(since, remaining)

    async def wait_for_text(
        self,
        substring: str,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
    ) -> BotMessage:
        """The first new or edited message whose text or caption contains ``substring``."""
        return await self.wait_for(
            lambda message: substring in message.content,
            timeout,
            description=f"message containing {substring!r}",
        )


class FakeGroup(ChatView):
    """A group the bot writes to; nobody in it acts."""

    def __repr__(self) -> str:
        return f"FakeGroup({self.chat_id}, {self._chat.info['title']!r})"


class FakeUser(ChatView):
    """A person in a private chat with the bot: sends messages and presses buttons."""

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    @property
    def id(self) -> int:
        return self._chat.id

    @property
    def user(self) -> dict[str, Any]:
        """The User object the bot sees in this person's updates."""
        assert self._chat.user is not None
        return self._chat.user

    @property
    def first_name(self) -> str:
        return str(self.user["first_name"])

    @property
    def username(self) -> str | None:
        return self.user.get("username")

    @property
    def language_code(self) -> str | None:
        return self.user.get("language_code")

    def _act(self) -> None:
        self._mark = self._state.change_count
        self._chat.started = True

    def _send(self, fields: dict[str, Any], file_id: str | None = None) -> UserMessage:
        self._act()
        message_id = self._state.next_message_id(self._chat)
        payload = {
            "message_id": message_id,
            "from": self.user,
            "chat": self._chat.info,
            "date": int(time.time()),
            **fields,
        }
        self._chat.user_messages[message_id] = payload
        update_id = self._state.push_update("message", payload)
        return UserMessage(message_id, update_id, payload, file_id)

    async def send_text(self, text: str, *, reply_to: BotMessage | None = None) -> UserMessage:
        """Type ``text`` and send it; commands in it get bot_command entities, as in Telegram."""
        fields: dict[str, Any] = {"text": text}
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
            for match in _COMMAND.finditer(text)
        ]
        if entities:
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message"] = self._state.message_json(reply_to, with_reply=False)
        return self._send(fields)

    async def send_command(self, command: str, args: str = "") -> UserMessage:
        """Send ``/command`` (the slash is optional) followed by ``args``."""
        text = "/" + command.removeprefix("/")
        return await self.send_text(f"{text} {args}" if args else text)

    async def send_photo(
        self, caption: str | None = None, *, data: bytes = TINY_PNG
    ) -> UserMessage:
        """Send a photo; the bot sees two sizes, the largest last."""
        small = self._state.add_file("photo", data[: max(len(data) // 4, 1)], width=90, height=90)
        large = self._state.add_file("photo", data, width=1280, height=1280)
        fields: dict[str, Any] = {"photo": [small.as_json(), large.as_json()]}
        if caption:
            fields["caption"] = caption
        return self._send(fields, large.file_id)

    async def send_video(
        self,
        caption: str | None = None,
        *,
        data: bytes = b"\x00\x00\x00\x18ftypmp42fake video",
        duration: int = 5,
        mime_type: str = "video/mp4",
    ) -> UserMessage:
        stored = self._state.add_file(
            "video", data, width=1080, height=1920, duration=duration, mime_type=mime_type
        )
        fields: dict[str, Any] = {"video": stored.as_json()}
        if caption:
            fields["caption"] = caption
        return self._send(fields, stored.file_id)

    async def send_document(
        self,
        file_name: str = "document.pdf",
        *,
        data: bytes = b"%PDF-1.4 fake document",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> UserMessage:
        stored = self._state.add_file("document", data, file_name=file_name, mime_type=mime_type)
        fields: dict[str, Any] = {"document": stored.as_json()}
        if caption:
            fields["caption"] = caption
        return self._send(fields, stored.file_id)

    async def press(self, label: str, message: BotMessage | None = None) -> str:
        """Press the inline button labelled ``label`` and return the callback query id.

        The button is looked for on ``message``, by default the bot's latest message here
        that has buttons; ``label`` may be the whole label or a unique prefix or part of it.
        """
        target = message or self._latest_with_buttons()
        if target is None:
            raise AssertionError(
                f"{self!r} has no message with inline buttons to press {label!r} on; "
                f"the bot's messages:\n  {self._history()}"
            )
        if target.chat_id != self.chat_id:
            raise AssertionError(f"message #{target.message_id} is in another chat than {self!r}")
        if target.deleted:
            raise AssertionError(f"message #{target.message_id} was deleted; nothing to press")
        button = _find_button(target, label)
        data = button.get("callback_data")
        if not isinstance(data, str):
            kind = next(key for key in button if key != "text")
            raise AssertionError(
                f"the button {button['text']!r} is a {kind} button: pressing it sends the bot "
                "no callback query"
            )
        self._act()
        query = CallbackQuery(
            id=self._state.new_callback_id(),
            user_id=self.id,
            chat_id=self.chat_id,
            message_id=target.message_id,
            data=data,
            created_at=time.monotonic(),
        )
        self._state.callbacks[query.id] = query
        self._state.push_update(
            "callback_query",
            {
                "id": query.id,
                "from": self.user,
                "message": self._state.message_json(target),
                "chat_instance": str(abs(self.chat_id) * 7919 + 104729),
                "data": data,
            },
        )
        return query.id

    def answer_to(self, query_id: str) -> CallbackAnswer | None:
        query = self._state.callbacks.get(query_id)
        return None if query is None else query.answer

    async def wait_for_answer(
        self,
        query_id: str,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
    ) -> CallbackAnswer:
        """The bot's answerCallbackQuery for a press, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            since = self._state.changes.version
            if (answer := self.answer_to(query_id)) is not None:
                return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"the bot did not answer callback query {query_id} within {timeout} s"
                )
            await self._state.changes.wait(since, remaining)


def _find_button(message: BotMessage, label: str) -> dict[str, Any]:
    buttons = message.inline_buttons()
    for matches in (
        [b for b in buttons if b["text"] == label],
        [b for b in buttons if b["text"].startswith(label)],
        [b for b in buttons if label in b["text"]],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            found = [b["text"] for b in matches]
            raise AssertionError(f"{label!r} matches several buttons {found}; be more precise")
    raise AssertionError(
        f"no button {label!r} on message #{message.message_id}; its buttons: {message.buttons}"
    )
