"""A strict fake of the Telegram Bot API for end-to-end tests of the real client libraries.

``FakeTelegram`` serves ``/bot{token}/{method}`` on 127.0.0.1 with Telegram's validation and
error texts; ``FakeUser`` plays a person who writes to the bot and presses its buttons.
"""

from __future__ import annotations

from .errors import ApiError
from .records import (
    ApiCall,
    BotMessage,
    CallbackAnswer,
    CallbackQuery,
    MessageVersion,
    StoredFile,
    UserMessage,
    WebhookDelivery,
)
from .server import FakeTelegram
from .updates import Webhook
from .user import FakeGroup, FakeUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "CallbackQuery",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "MessageVersion",
    "StoredFile",
    "UserMessage",
    "Webhook",
    "WebhookDelivery",
]
