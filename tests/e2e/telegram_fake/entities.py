"""What formatted text becomes: the visible text, its entities, and shared parse helpers.

Entity offsets and lengths count UTF-16 code units, as in the Bot API; parse errors name byte
offsets into the UTF-8 source, as Telegram's do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SPACES = " \t\n\r\v\f"
_LINK = re.compile(r"(?:https?|tg|ton)://\S+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?:[/?#]\S*)?", re.IGNORECASE)


@dataclass(frozen=True)
class FormattedText:
    """Text as the user sees it, with its entities in Bot API form."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


class ParseError(Exception):
    """Why Telegram cannot parse the entities of a text."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def units(char: str) -> int:
    """The UTF-16 code units of one character."""
    return 2 if ord(char) > 0xFFFF else 1


def byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def skip_spaces(source: str, i: int) -> int:
    while i < len(source) and source[i] in SPACES:
        i += 1
    return i


def checked_link(url: str) -> str:
    """The URL a text link keeps, or "" when Telegram would drop the link."""
    url = url.strip()
    if _LINK.fullmatch(url):
        return url
    if _BARE_DOMAIN.fullmatch(url):
        return f"http://{url}"
    return ""


def in_order(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))
