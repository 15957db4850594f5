"""The WhatsApp webhook endpoint: Meta's verification challenge, and signed updates.

``GET`` answers the subscription check Meta makes when the webhook is set up: with
``hub.mode=subscribe`` and the configured verify token it echoes ``hub.challenge``.

``POST`` carries updates, signed in ``X-Hub-Signature-256`` as ``sha256=`` followed by the
hex HMAC-SHA256 of the raw request body with the app secret. A request whose signature is
missing or wrong is refused with 403 before its body is parsed; tokens and signatures are
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

logger = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
SIGNATURE_PREFIX: Final = "sha256="
MAX_BODY: Final = 1024 * 1024
MAX_CHALLENGE: Final = 256

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signature(app_secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return SIGNATURE_PREFIX + hmac.new(app_secret, body, hashlib.sha256).hexdigest()


def signature_valid(app_secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of exactly these bytes."""
    if not app_secret or not header:
        return False
    expected = signature(app_secret, body).encode()
    return hmac.compare_digest(header.strip().lower().encode(), expected)


def verification_handler(verify_token: str) -> Handler:
    """The ``GET`` handler for Meta's subscription check."""
    expected = verify_token.encode()

    async def verify(request: web.Request) -> web.Response:
        query = request.query
        given = query.get("hub.verify_token", "").encode()
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") != "subscribe"
            or not expected
            or not hmac.compare_digest(given, expected)
        ):
            logger.warning("refused a WhatsApp webhook verification with a wrong verify token")
            return web.Response(status=403, text="forbidden")
        if not challenge or len(challenge) > MAX_CHALLENGE or not challenge.isprintable():
            return web.Response(status=400, text="bad challenge")
        return web.Response(text=challenge, content_type="text/plain")

    return verify


def update_handler(app_secret: str, accept: Callable[[Any], None]) -> Handler:
    """The ``POST`` handler: verify the signature, then hand the payload to ``accept``."""
    secret = app_secret.encode()

    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "too large"}, status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": "too large"}, status=413)
        if not signature_valid(secret, body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning("refused a WhatsApp webhook call without a valid signature")
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            payload = json.loads(body)
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        accept(payload)
        return web.json_response({"ok": True})

    return receive
