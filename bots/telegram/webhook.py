"""Telegram webhook endpoint: refuses requests without the right secret header, passes
updates to the bridge. A repeated update_id is processed once (the engine de-duplicates
through the shared key-value store, so this holds across processes)."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY = 1024 * 1024

UpdateHandler = Callable[[dict[str, Any]], Awaitable[None]]


def webhook_handler(
    handle_update: UpdateHandler, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for Telegram's webhook POSTs."""
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"ok": False, "error": "too large"}, status=413)
        try:
            update = json.loads(await request.read())
        except ValueError:
            return web.json_response({"ok": False, "error": "not JSON"}, status=400)
        if not isinstance(update, dict) or "update_id" not in update:
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        await handle_update(update)
        return web.json_response({"ok": True})

    return handle
