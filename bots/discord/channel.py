"""Notices by direct message: the Channel the dispatcher sends Discord notices through.

Discord counts refused requests against a bot (too many 401/403/429 answers get it
temporarily banned), so a user whose DMs are closed (error 50007) is remembered for a while
and not asked again; the dispatcher marks the chat account unreachable on the Unreachable we
raise and falls back to the person's next channel. Writing to the bot again clears the mark.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

import aiohttp
import discord

from bots.discord.components import message_kwargs
from bots.discord.render import render
from core.conversations.actions import ActionCodec
from core.conversations.messages import Outbound
from core.domain.common import Platform
from core.ports.channel import DeliveryError, RetryLater, TemporaryFailure, Unreachable

logger = logging.getLogger(__name__)

#: Discord JSON error codes that mean "this person cannot be written to".
CANNOT_MESSAGE_USER: Final = 50007
UNKNOWN_USER: Final = 10013
UNKNOWN_CHANNEL: Final = 10003
_UNREACHABLE_CODES: Final = frozenset({CANNOT_MESSAGE_USER, UNKNOWN_USER, UNKNOWN_CHANNEL})
#: How long a refusal is trusted before Discord is asked again.
REMEMBER_REFUSAL_SECONDS: Final = 3600.0


def classify(error: Exception) -> DeliveryError:
    """The neutral delivery error for a failed discord.py call."""
    if isinstance(error, discord.RateLimited):
        return RetryLater(float(error.retry_after), "rate limited")
    if isinstance(error, discord.HTTPException):
        detail = f"{error.status} {error.code}: {error.text}"[:200]
        if error.status == 429:
            return RetryLater(_retry_after(error), detail)
        if error.code in _UNREACHABLE_CODES:
            return Unreachable(detail)
        if error.status >= 500:
            return TemporaryFailure(detail)
        return DeliveryError(detail)
    if isinstance(error, (aiohttp.ClientError, OSError, TimeoutError)):
        return TemporaryFailure(type(error).__name__)
    return DeliveryError(type(error).__name__)


def _retry_after(error: discord.HTTPException) -> float:
    headers: Any = getattr(error.response, "headers", None) or {}
    for value in (headers.get("Retry-After"), headers.get("X-RateLimit-Reset-After")):
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return 1.0


class DiscordChannel:
    """Sends core messages to a Discord user's DMs (``chat_id`` is the user id)."""

    platform = Platform.DISCORD

    def __init__(self, client: discord.Client, codec: ActionCodec) -> None:
        self.client = client
        self.codec = codec
        self._refused: dict[int, float] = {}

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        user_id = _user_id(chat_id)
        refused_until = self._refused.get(user_id, 0.0)
        if refused_until > time.monotonic():
            raise Unreachable("direct messages were refused recently")
        parts = await render(message, self.codec)
        try:
            dm = await self.client.create_dm(discord.Object(id=user_id))
            for index, part in enumerate(parts):
                if index == 0 and replace.isdigit() and message.edit:
                    try:
                        await dm.get_partial_message(int(replace)).edit(
                            **message_kwargs(part, edit=True)
                        )
                        continue
                    except discord.NotFound:
                        pass
                await dm.send(**message_kwargs(part))
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as error:
            failure = classify(error)
            if isinstance(failure, Unreachable):
                self._refused[user_id] = time.monotonic() + REMEMBER_REFUSAL_SECONDS
            raise failure from error

    def forget_refusal(self, user_id: str) -> None:
        """The person wrote to the bot: they may have opened their DMs since."""
        if user_id.isdigit():
            self._refused.pop(int(user_id), None)


def _user_id(chat_id: str) -> int:
    if not chat_id.isdigit():
        raise Unreachable("not a Discord user id")
    return int(chat_id)
