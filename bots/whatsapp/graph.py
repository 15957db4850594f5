"""A small WhatsApp Cloud API client: sending messages from one business phone number.

Only ``POST /{version}/{phone_number_id}/messages`` is needed, so this is a few lines on
aiohttp rather than a framework. The base URL and version are configurable (tests point them
at a fake Graph API). Refusals become the neutral errors of :mod:`core.ports.channel`, so
callers never see a Graph error code:

- ``131047`` (more than 24 hours since the person last wrote) → :class:`OutsideWindow`
- ``130429`` (throughput), ``131056`` (pair rate), ``80007`` / ``4`` / ``613`` (app or
  account rate limits), HTTP 429 → :class:`~core.ports.channel.RetryLater`
- ``131026`` (undeliverable), ``131030`` (not in the allowed list), ``131021`` (sender and
  recipient are the same number) → :class:`~core.ports.channel.Unreachable`
- network errors, timeouts, HTTP 5xx, ``1`` / ``2`` / ``131000`` / ``131016`` →
  :class:`~core.ports.channel.TemporaryFailure`
- anything else → :class:`~core.ports.channel.DeliveryError`

The access token is sent only in the ``Authorization`` header and is never part of a repr,
log line or error. Recipients are phone numbers, and message ids encode them: neither
appears in errors or logs either.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Final

import aiohttp

from bots.whatsapp.render import WhatsAppMessage
from core.ports.channel import DeliveryError, RetryLater, TemporaryFailure, Unreachable

logger = logging.getLogger(__name__)

OUTSIDE_WINDOW: Final = 131047
#: Rate limits, and how long to wait before trying again (the Graph API gives no retry-after).
RATE_LIMITS: Final[dict[int, float]] = {
    130429: 2.0,  # Cloud API throughput reached
    131056: 6.0,  # too many messages to one person in a short time (pair rate limit)
    80007: 60.0,  # the WhatsApp Business Account's rate limit
    4: 60.0,  # the app's call rate limit
    613: 60.0,  # calls to this API exceeded the rate limit
}
UNREACHABLE: Final = frozenset({131026, 131030, 131021})
TEMPORARY: Final = frozenset({1, 2, 131000, 131016})
DEFAULT_TIMEOUT: Final = 15.0

# Phone numbers and anything else long and numeric are blanked out of refusal texts.
_DIGITS: Final = re.compile(r"\+?\d[\d ().-]{5,}\d")


class OutsideWindow(DeliveryError):
    """More than 24 hours since the person last wrote: only a template may be sent now."""


class GraphApi:
    """Sends messages through the Graph API as the business number ``phone_number_id``."""

    def __init__(
        self,
        base_url: str,
        version: str,
        phone_number_id: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.messages_url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"GraphApi({self.messages_url!r})"

    async def close(self) -> None:
        """Close the connection pool; later sends fail with TemporaryFailure."""
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._closed:
            raise aiohttp.ClientConnectionError("the WhatsApp client is closed")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def send(self, to: str, message: WhatsAppMessage) -> str:
        """Send ``message`` to the WhatsApp user ``to``; returns the new message's id."""
        body = message.payload(to)
        try:
            async with self._client().post(
                self.messages_url, json=body, headers=self._headers
            ) as response:
                status = response.status
                text = await response.text()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise TemporaryFailure(f"WhatsApp unreachable: {type(error).__name__}") from None
        answer = _json(text)
        if status == 200:
            messages = answer.get("messages") if isinstance(answer, dict) else None
            if isinstance(messages, list) and messages and isinstance(messages[0], dict):
                return str(messages[0].get("id", ""))
            raise TemporaryFailure("WhatsApp accepted the message but returned no message id")
        raise refusal(status, answer)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def refusal(status: int, answer: Any) -> DeliveryError:
    """The neutral error for a refused Graph API call, from its status and error object."""
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    code = code if isinstance(code, int) else 0
    title = str(error.get("error_user_title") or error.get("message") or "").strip()
    detail = _DIGITS.sub("…", f"WhatsApp error {code or status}: {title}"[:200])
    if code == OUTSIDE_WINDOW:
        return OutsideWindow(detail)
    if code in RATE_LIMITS or status == 429:
        return RetryLater(RATE_LIMITS.get(code, 2.0), detail)
    if code in UNREACHABLE:
        return Unreachable(detail)
    if status >= 500 or code in TEMPORARY:
        return TemporaryFailure(detail)
    if status == 401 or code == 190:
        logger.error("WhatsApp refused the access token: check COLLABBOT_WHATSAPP_TOKEN")
    return DeliveryError(detail)


def error_kind(code: int) -> str:
    """What a Graph error code in a status webhook means for delivery, in a word."""
    if code == OUTSIDE_WINDOW:
        return "outside-window"
    if code in RATE_LIMITS:
        return "rate-limited"
    if code in UNREACHABLE:
        return "unreachable"
    return "failed"
