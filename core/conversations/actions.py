"""Button payloads: what a button does, packed into one signed string every platform accepts.

Payload formats (ASCII letters, digits and ``.-_~:`` only; at most 64 bytes)::

    1:<code>:<ids>:<arg>:<mac>      compact: ids in base 36 joined by ".", arg as is
    1~<token>:<mac>                 stored: the action is kept under <token> in the
                                    key-value store until the token's ttl runs out

``1`` is the format version. ``<mac>`` is the first 48 bits of HMAC-SHA256 over everything
before the last ``:``, in base64url (8 characters), so a forged or altered payload is refused
before any store or database is asked. A valid payload still only says what was pressed: the
handler checks who pressed it and whether the move is still allowed.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from core.ports.kv import KeyValueStore

#: Telegram Bot API, InlineKeyboardButton.callback_data: 1-64 bytes. Discord custom_id
#: (100 characters) and WhatsApp button and row ids (256 and 200) are larger.
PAYLOAD_MAX_BYTES: Final = 64
#: More ids or a longer arg than this is a mistake in the caller, not a bigger payload.
MAX_IDS: Final = 100
MAX_ARG_LENGTH: Final = 256
#: A secret shorter than this would make the MAC guessable.
MIN_SECRET_BYTES: Final = 16

FORMAT_VERSION: Final = "1"
_MAC_BYTES: Final = 6  # 8 base64url characters, no padding
_TOKEN_BYTES: Final = 16  # 22 base64url characters
_STORE_KEY_PREFIX: Final = "button-action:"
_BASE36_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"
# An id at or above this has more base-36 digits than a payload has room for.
_COMPACT_ID_CEILING: Final = 36**PAYLOAD_MAX_BYTES

_CODE: Final = re.compile(r"[a-z0-9]{1,3}")
_COMPACT_ARG: Final = re.compile(r"[A-Za-z0-9._-]*")
_BASE36_ID: Final = re.compile(r"0|[1-9a-z][0-9a-z]*")
_COMPACT_PAYLOAD: Final = re.compile(
    r"1:[a-z0-9]{1,3}:(?:[0-9a-z]+(?:\.[0-9a-z]+)*)?:[A-Za-z0-9._-]*:[A-Za-z0-9_-]{8}"
)
_STORED_PAYLOAD: Final = re.compile(r"1~[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{8}")


@dataclass(frozen=True, slots=True)
class Action:
    """What a button does: a short code (``"ap"`` = approve), the ids it acts on, an argument.

    ``code`` is 1-3 lowercase letters or digits; ``ids`` are non-negative integers (at most
    :data:`MAX_IDS`); ``arg`` is short free text such as a reason code or a filter (at most
    :data:`MAX_ARG_LENGTH` characters). Never put personal data in an action.
    """

    code: str
    ids: tuple[int, ...] = ()
    arg: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            raise ValueError(f"An action code is 1-3 lowercase letters or digits: {self.code!r}.")
        if not isinstance(self.ids, tuple) or len(self.ids) > MAX_IDS:
            raise ValueError(f"Action ids are a tuple of at most {MAX_IDS} integers.")
        if any(type(i) is not int or i < 0 for i in self.ids):
            raise ValueError(f"Action ids are non-negative integers: {self.ids!r}.")
        if not isinstance(self.arg, str) or len(self.arg) > MAX_ARG_LENGTH:
            raise ValueError(f"An action arg is text of at most {MAX_ARG_LENGTH} characters.")


def is_action_payload(text: str) -> bool:
    """Whether ``text`` has the shape of a payload; says nothing about its signature."""
    return (
        isinstance(text, str)
        and len(text) <= PAYLOAD_MAX_BYTES
        and bool(_COMPACT_PAYLOAD.fullmatch(text) or _STORED_PAYLOAD.fullmatch(text))
    )


class ActionCodec:
    """Turns actions into button payloads and back, signed with ``secret``.

    An action whose compact form is over :data:`PAYLOAD_MAX_BYTES` (many ids, a long arg, an
    arg with characters a payload cannot carry) is kept in ``store`` under a token for
    ``token_ttl`` (counted from the last time a button for it was made); after that its
    buttons decode to ``None``, like any stale button. The token is a keyed hash of the
    action: the same action always has the same token, so the store holds one entry per
    distinct action however often its screen is shown.
    """

    def __init__(
        self,
        secret: bytes,
        store: KeyValueStore,
        *,
        token_ttl: timedelta = timedelta(days=30),
    ) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"The action secret must be at least {MIN_SECRET_BYTES} bytes.")
        if token_ttl <= timedelta(0):
            raise ValueError("The token ttl must be positive.")
        self._secret = secret
        self._store = store
        self._token_ttl = token_ttl

    async def encode(self, action: Action) -> str:
        """The payload for ``action``: compact when it fits, otherwise a stored token."""
        compact = self._compact(action)
        if compact is not None:
            return compact
        stored = json.dumps(
            {"c": action.code, "i": list(action.ids), "a": action.arg}, separators=(",", ":")
        )
        # The same action always gets the same token (a keyed hash of it, so tokens cannot be
        # guessed): showing a screen again refreshes its tokens instead of adding new ones.
        digest = hmac.digest(self._secret, b"token:" + stored.encode(), "sha256")
        token = base64.urlsafe_b64encode(digest[:_TOKEN_BYTES]).decode("ascii").rstrip("=")
        await self._store.set(_STORE_KEY_PREFIX + token, stored, ttl=self._token_ttl)
        return self._signed(f"{FORMAT_VERSION}~{token}")

    async def decode(self, payload: str) -> Action | None:
        """The action behind ``payload``, or ``None`` for anything that is not a valid,
        current payload of this codec: malformed, another version, a bad signature, an
        unknown or expired token.

        Never raises because of the payload. Only a compact-looking payload with a valid
        signature is parsed, and only a stored one with a valid signature reaches the store;
        errors of the store itself (an outage) are not hidden.
        """
        if not is_action_payload(payload):
            return None
        body, _, mac = payload.rpartition(":")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        if body.startswith(FORMAT_VERSION + "~"):
            return await self._load(body[len(FORMAT_VERSION) + 1 :])
        return _parse_compact(body)

    def _compact(self, action: Action) -> str | None:
        if not _COMPACT_ARG.fullmatch(action.arg):
            return None
        if any(i >= _COMPACT_ID_CEILING for i in action.ids):
            return None
        ids = ".".join(_to_base36(i) for i in action.ids)
        body = f"{FORMAT_VERSION}:{action.code}:{ids}:{action.arg}"
        payload = self._signed(body)
        return payload if len(payload) <= PAYLOAD_MAX_BYTES else None

    def _signed(self, body: str) -> str:
        return f"{body}:{self._mac(body)}"

    def _mac(self, body: str) -> str:
        digest = hmac.digest(self._secret, body.encode("ascii"), "sha256")
        return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode("ascii")

    async def _load(self, token: str) -> Action | None:
        stored = await self._store.get(_STORE_KEY_PREFIX + token)
        if stored is None:
            return None
        try:
            data = json.loads(stored)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        code, ids, arg = data.get("c"), data.get("i"), data.get("a")
        if not isinstance(code, str) or not isinstance(ids, list) or not isinstance(arg, str):
            return None
        if not all(type(i) is int for i in ids):
            return None
        return _action_or_none(code, tuple(ids), arg)


def _to_base36(number: int) -> str:
    if number == 0:
        return "0"
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_BASE36_DIGITS[digit])
    return "".join(reversed(digits))


def _parse_compact(body: str) -> Action | None:
    fields = body.split(":")
    if len(fields) != 4 or fields[0] != FORMAT_VERSION:
        return None
    _, code, ids_field, arg = fields
    id_texts = ids_field.split(".") if ids_field else []
    # Only canonical base 36 (no leading zeros), so each action has exactly one payload.
    if not all(_BASE36_ID.fullmatch(text) for text in id_texts):
        return None
    return _action_or_none(code, tuple(int(text, 36) for text in id_texts), arg)


def _action_or_none(code: str, ids: tuple[int, ...], arg: str) -> Action | None:
    try:
        return Action(code, ids, arg)
    except ValueError:
        return None
