"""What the fake remembers, in the shapes tests assert on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MessageVersion:
    """An earlier content of a message the bot edited."""

    text: str | None
    caption: str | None
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    at: float


@dataclass
class BotMessage:
    """A message the bot sent, as it stands now; ``edits`` holds what it said before."""

    chat_id: int
    message_id: int
    kind: str  # "text", "photo", "video" or "document"
    text: str | None
    caption: str | None
    source: str  # the text or caption exactly as the bot sent it, markup included
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    date: int
    sent_at: float
    file_id: str | None = None
    reply_to_message_id: int | None = None
    link_preview_disabled: bool = False
    edits: list[MessageVersion] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False
    change: int = 0  # position in the order of all sends, edits and deletions

    @property
    def content(self) -> str:
        """The text, or the caption of a media message ("" when it has neither)."""
        return self.text if self.text is not None else (self.caption or "")

    def inline_buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def buttons(self) -> list[str]:
        """The labels of the inline buttons under the message, row by row."""
        return [button["text"] for button in self.inline_buttons()]

    def snapshot(self, at: float) -> MessageVersion:
        return MessageVersion(
            self.text, self.caption, self.parse_mode, self.entities, self.reply_markup, at
        )


@dataclass
class ApiCall:
    """One request to the API: what was asked and how the fake answered."""

    method: str
    params: dict[str, str]
    at: float
    via: str = "http"  # or "webhook reply": a method returned in a webhook's response
    status: int = 0
    description: str | None = None
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def json(self, name: str) -> Any:
        """A parameter that carries JSON (``reply_markup``, ``commands``...), decoded."""
        text = self.params.get(name)
        return None if text is None else json.loads(text)


@dataclass(frozen=True)
class CallbackAnswer:
    """The bot's answer to a button press, and how long the person waited for it."""

    query_id: str
    user_id: int
    message_id: int
    data: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    delay: float  # seconds from the press to the answer


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answer: CallbackAnswer | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook."""

    update_id: int
    attempt: int
    status: int | None  # None when no HTTP answer came (refused, timed out)
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class StoredFile:
    """A file Telegram would host: a user's upload, or what the bot sent."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo", "video" or "document"
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0

    def as_json(self) -> dict[str, Any]:
        """The PhotoSize, Video or Document object that describes this file."""
        described: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.kind in ("photo", "video"):
            described.update(width=self.width, height=self.height)
        if self.kind == "video":
            described["duration"] = self.duration
        if self.kind in ("video", "document") and self.mime_type:
            described["mime_type"] = self.mime_type
        if self.kind == "document" and self.file_name:
            described["file_name"] = self.file_name
        return described


@dataclass(frozen=True)
class UserMessage:
    """What a ``FakeUser`` sent: the message as the bot receives it, and its update."""

    message_id: int
    update_id: int | None  # None when the bot's allowed_updates leave such updates out
    payload: dict[str, Any]
    file_id: str | None = None
