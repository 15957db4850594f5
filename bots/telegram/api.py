"""What the shared Telegram code needs from a driver's Bot, and the errors it raises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bots.telegram.render import TelegramMessage
from core.ports.channel import DeliveryError


class MessageNotModified(DeliveryError):
    """An edit that would change nothing (a double press on a navigation button)."""


class MessageGone(DeliveryError):
    """The message to edit no longer exists (deleted, or too old to edit)."""


class BotApi(Protocol):
    """The Bot API calls collabbot makes, implemented by each driver with its own Bot."""

    async def send_message(self, chat_id: str, message: TelegramMessage) -> str:
        """Send and return the new message id."""

    async def edit_message(
        self, chat_id: str, message_id: str, message: TelegramMessage
    ) -> None: ...

    async def answer_callback(self, callback_id: str, text: str) -> None: ...

    async def set_commands(
        self,
        commands: Sequence[tuple[str, str]],
        *,
        chat_id: str | None = None,
        language: str | None = None,
    ) -> None: ...

    async def username(self) -> str: ...

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...


def classify(status: int, description: str, retry_after: float | None = None) -> DeliveryError:
    """The neutral error for a failed Bot API call, from its status and description."""
    from core.ports.channel import RetryLater, TemporaryFailure, Unreachable

    text = description.lower()
    if status == 429 or retry_after is not None:
        return RetryLater(float(retry_after or 1), description)
    if "message is not modified" in text:
        return MessageNotModified(description)
    if "message to edit not found" in text or "message can't be edited" in text:
        return MessageGone(description)
    if status == 403 or "chat not found" in text or "user is deactivated" in text:
        return Unreachable(description)
    if status >= 500 or status == 0:
        return TemporaryFailure(description)
    return DeliveryError(description)
