"""Telegram rendering, shared by both drivers: an Outbound becomes HTML text and an inline
keyboard (Bot API JSON), within Telegram's limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.conversations.actions import ActionCodec
from core.conversations.layout import plan
from core.conversations.markup import to_telegram_html
from core.conversations.messages import Outbound

Keyboard = list[list[dict[str, str]]]


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """One sendMessage call's worth: HTML text, an inline keyboard, a preview image."""

    text: str
    keyboard: Keyboard = field(default_factory=list)
    preview_url: str = ""

    def reply_markup(self) -> dict[str, Any] | None:
        return {"inline_keyboard": self.keyboard} if self.keyboard else None

    def link_preview_options(self) -> dict[str, Any]:
        """The preview image above the text, or no preview at all (Bot API JSON)."""
        if self.preview_url:
            return {"url": self.preview_url, "prefer_large_media": True, "show_above_text": True}
        return {"is_disabled": True}


async def render(outbound: Outbound, codec: ActionCodec) -> list[TelegramMessage]:
    """The messages to send for ``outbound`` (more than one when text or buttons overflow)."""
    planned = plan("telegram", outbound.text, outbound.rows)
    messages = []
    for index, message in enumerate(planned):
        keyboard: Keyboard = []
        for row in message.rows:
            buttons = []
            for choice in row:
                if choice.url:
                    buttons.append({"text": choice.label, "url": choice.url})
                else:
                    assert choice.action is not None
                    payload = await codec.encode(choice.action)
                    buttons.append({"text": choice.label, "callback_data": payload})
            keyboard.append(buttons)
        preview = outbound.image_url if index == 0 else ""
        messages.append(TelegramMessage(to_telegram_html(message.text), keyboard, preview))
    return messages
