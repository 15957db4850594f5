"""Notices to Telegram straight over the Bot API: one JSON ``sendMessage`` per message.

A notice worker sends thousands of messages a minute and needs nothing back but success or
the reason for a refusal. The drivers' clients build a model of every request and of every
answer (the sent message with its chat and sender), which costs more CPU than the request
itself; this sender posts the same JSON the drivers would with aiohttp, over kept-alive
connections, and reads only ``ok``, ``error_code``, ``description`` and ``retry_after``.
Rendering is the shared one (:func:`bots.telegram.render.render`); a message with link
buttons only (an announcement, the same for every recipient of one language) is rendered
once and reused.

Answers are classified like the drivers' (:func:`bots.telegram.api.classify`): 429 is
:class:`~core.ports.channel.RetryLater` with Telegram's ``retry_after``, a blocked or
deactivated chat :class:`~core.ports.channel.Unreachable`, network errors and 5xx
:class:`~core.ports.channel.TemporaryFailure`.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

import aiohttp

from bots.telegram.api import classify
from bots.telegram.render import TelegramMessage, render
from core.conversations.actions import ActionCodec
from core.conversations.messages import Outbound
from core.domain.common import Platform
from core.ports.channel import TemporaryFailure

__all__ = ["TelegramNoticeSender"]

logger = logging.getLogger(__name__)

RENDERED_KEPT = 64
"""Messages kept rendered: the announcements of the broadcasts under way, per language."""


class TelegramNoticeSender:
    """A sending-only Telegram channel for the notice dispatcher.

    ``connections`` bounds the requests in flight (the dispatcher's concurrency bounds them
    too); ``timeout`` is the most one request may take. Notices are always new messages, so
    ``replace`` is not used.
    """

    platform = Platform.TELEGRAM

    def __init__(
        self,
        token: str,
        api_url: str,
        codec: ActionCodec,
        *,
        connections: int = 100,
        timeout: float = 30.0,
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{token}"
        self._connections = connections
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self.codec = codec
        self._rendered: OrderedDict[int, tuple[Outbound, list[TelegramMessage]]] = OrderedDict()

    async def open(self) -> None:
        """Check the token with ``getMe``: a refused token is a :class:`ValueError` saying
        what to do; Telegram out of reach is only logged (sends are retried later)."""
        try:
            status, _ = await self._request("getMe", None)
        except (TimeoutError, aiohttp.ClientError) as error:
            logger.warning("Telegram is not reachable yet: %s", type(error).__name__)
            return
        if status in (401, 404):
            raise ValueError(
                "Telegram refused COLLABBOT_TELEGRAM_TOKEN; copy the bot token again from "
                "@BotFather (/mybots → API Token)"
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, body: bytes | None) -> tuple[int, bytes]:
        """POST ``body`` (JSON) to the Bot API ``method``: the status and the raw answer.

        The token is part of the address: it never reaches an error message, which names
        the error's class only."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=self._timeout,
                headers={"Content-Type": "application/json"},
            )
        async with self._session.post(f"{self._base}/{method}", data=body) as response:
            return response.status, await response.read()

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        for part in await self._render(message):
            await self._send_message(chat_id, part)

    async def _render(self, message: Outbound) -> list[TelegramMessage]:
        known = self._rendered.get(id(message))
        if known is not None and known[0] is message:
            return known[1]
        parts = await render(message, self.codec)
        if all(choice.action is None for row in message.rows for choice in row):
            # Link buttons only: no button token that must differ between recipients.
            self._rendered[id(message)] = (message, parts)  # the message is kept: ids stay
            if len(self._rendered) > RENDERED_KEPT:
                self._rendered.popitem(last=False)
        return parts

    async def _send_message(self, chat_id: str, message: TelegramMessage) -> None:
        body: dict[str, Any] = {
            "chat_id": chat_id,
            "text": message.text,
            "parse_mode": "HTML",
            "link_preview_options": message.link_preview_options(),
        }
        markup = message.reply_markup()
        if markup is not None:
            body["reply_markup"] = markup
        try:
            status, raw = await self._request("sendMessage", _dumps(body))
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TemporaryFailure(type(error).__name__) from None
        answer = _answer(raw)
        if status == 200 and answer.get("ok") is True:
            return
        parameters = answer.get("parameters") or {}
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        description = str(answer.get("description") or f"HTTP {status}")
        raise classify(int(answer.get("error_code") or status), description, retry_after)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _answer(raw: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(raw)
    except ValueError:
        return {}  # a proxy's HTML error page: the status says enough
    return answer if isinstance(answer, dict) else {}
