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

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

logger = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
SIGNATURE_PREFIX: Final = "sha256="
MAX_BODY: Final = 1024 * 1024
MAX_CHALLENGE: Final = 256

Handler = Callable[[Request], Awaitable[Response]]


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

    async def verify(request: Request) -> Response:
        query = request.query_params
        given = query.get("hub.verify_token", "").encode()
        challenge = query.get("hub.challenge", "")
        if (
            query.get("hub.mode") != "subscribe"
            or not expected
            or not hmac.compare_digest(given, expected)
        ):
            logger.warning("refused a WhatsApp webhook verification with a wrong verify token")
            return PlainTextResponse("forbidden", 403)
        if not challenge or len(challenge) > MAX_CHALLENGE or not challenge.isprintable():
            return PlainTextResponse("bad challenge", 400)
        return PlainTextResponse(challenge)

    return verify


def update_handler(app_secret: str, accept: Callable[[Any], None]) -> Handler:
    """The ``POST`` handler: verify the signature of the raw body, then hand the payload to
    ``accept``, which only queues it, so Meta gets its 200 at once."""
    secret = app_secret.encode()

    async def receive(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return JSONResponse({"error": "too large"}, 413)
        try:
            body = await request.body()
        except ClientDisconnect:
            return JSONResponse({"error": "incomplete"}, 400)
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "too large"}, 413)
        if not signature_valid(secret, body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning("refused a WhatsApp webhook call without a valid signature")
            return JSONResponse({"error": "forbidden"}, 403)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "not JSON"}, 400)
        try:
            accept(payload)
        except Exception:
            # Signed by Meta, so not worth a retry from them: logged for us to look at.
            logger.exception("a signed WhatsApp webhook payload could not be queued")
        return JSONResponse({"ok": True})

    return receive
