"""The channel port: how the core's messages reach a chat platform.

Channels raise these errors, so the callers (conversation answers, the notice dispatcher)
can decide what to do without knowing the platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from core.domain.common import Platform

if TYPE_CHECKING:
    from core.conversations.messages import Outbound


class DeliveryError(Exception):
    """A message could not be delivered."""


class RetryLater(DeliveryError):
    """The platform asked to wait (HTTP 429): try again after ``seconds``."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds} s")
        self.seconds = seconds


class Unreachable(DeliveryError):
    """The person cannot be reached here any more (blocked the bot, deleted, closed DMs)."""


class TemporaryFailure(DeliveryError):
    """A failure that may pass (network, 5xx): retry with backoff."""


class Channel(Protocol):
    """A chat platform the marketplace can send to."""

    platform: Platform

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        """Send ``message`` to ``chat_id``; with ``replace`` (a message id) edit that message
        in place when the message asks for it and the platform can."""
