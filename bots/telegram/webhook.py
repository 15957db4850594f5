"""Telegram webhook endpoint: refuses requests without the right secret header, answers 200
at once and hands the update to the bridge in the background (Telegram resends an update
that is not answered in time).

Updates from one person are handled one at a time, in the order they came, so a typed
answer never overtakes the button press before it. A repeated update_id is processed once
(the engine de-duplicates through the shared key-value store, so this holds across
processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY = 1024 * 1024
DRAIN_TIMEOUT: Final = 10.0

UpdateHandler = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


def _sender(update: dict[str, Any]) -> str:
    """Whose update this is (the key that keeps one person's updates in order)."""
    for value in update.values():
        if isinstance(value, dict):
            user = value.get("from")
            if isinstance(user, dict) and user.get("id") is not None:
                return f"user:{user['id']}"
            chat = value.get("chat")
            if isinstance(chat, dict) and chat.get("id") is not None:
                return f"chat:{chat['id']}"
    return f"update:{update.get('update_id')}"


class WebhookReceiver:
    """The Starlette handler for Telegram's webhook POSTs (call it with the request)."""

    def __init__(self, handle_update: UpdateHandler, secret: str) -> None:
        self.handle_update = handle_update
        self._secret = secret.encode()
        self._turns: dict[str, _Turn] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret):
            return JSONResponse({"ok": False, "error": "forbidden"}, 403)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return JSONResponse({"ok": False, "error": "too large"}, 413)
        try:
            update = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"ok": False, "error": "not JSON"}, 400)
        if not isinstance(update, dict) or "update_id" not in update:
            return JSONResponse({"ok": False, "error": "not an update"}, 400)
        self._queue(update)
        return JSONResponse({"ok": True})

    def _queue(self, update: dict[str, Any]) -> None:
        key = _sender(update)
        turn = self._turns.setdefault(key, _Turn())
        turn.waiting += 1
        task = asyncio.create_task(self._in_turn(key, turn, update), name="telegram-update")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_turn(self, key: str, turn: _Turn, update: dict[str, Any]) -> None:
        try:
            async with turn.lock:
                await self.handle_update(update)
        except Exception:
            logger.exception("handling a Telegram webhook update failed")
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                self._turns.pop(key, None)

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:  # noqa: ASYNC109
        """Finish the updates in hand (up to ``timeout`` seconds), then drop the rest."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def webhook_handler(handle_update: UpdateHandler, secret: str) -> WebhookReceiver:
    """A handler for Telegram's webhook POSTs; ``drain()`` it when stopping."""
    return WebhookReceiver(handle_update, secret)
