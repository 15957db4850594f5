"""Telegram's text formatting: HTML, MarkdownV2 and legacy Markdown, parsed into entities.

The parse rules and error texts follow Telegram's answers (``Bad Request: can't parse
entities: ...``); the text is trimmed of surrounding whitespace as Telegram does.
"""

from __future__ import annotations

from typing import Any

from .entities import SPACES, FormattedText, ParseError, utf16_len
from .errors import bad_request
from .html import parse_html
from .markdown import parse_markdown, parse_markdown_v2
from .params import JSON_NULL

_ENTITY_TYPES = frozenset(
    {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number"}
    | {"bold", "italic", "underline", "strikethrough", "spoiler", "blockquote"}
    | {"expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji"}
    | {"date_time"}
)


def format_text(source: str, parse_mode: str | None, entities: Any = None) -> FormattedText:
    """Parse ``source`` the way Telegram does for ``parse_mode``, or take explicit entities."""
    mode = (parse_mode or "").lower()
    try:
        if mode in ("", "none"):
            parsed = FormattedText(source, _explicit_entities(entities))
        elif mode == "html":
            parsed = parse_html(source)
        elif mode == "markdownv2":
            parsed = parse_markdown_v2(source)
        elif mode == "markdown":
            parsed = parse_markdown(source)
        else:
            raise bad_request("unsupported parse_mode")
    except ParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    return _trimmed(parsed)


def _explicit_entities(value: Any) -> list[dict[str, Any]]:
    if value is None or value is JSON_NULL:
        return []
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    checked = []
    for entity in value:
        if not isinstance(entity, dict):
            raise bad_request("can't parse MessageEntity: expected an Object")
        for name in ("offset", "length"):
            if not isinstance(entity.get(name), int) or isinstance(entity.get(name), bool):
                raise bad_request(f'can\'t parse MessageEntity: Field "{name}" must be a Number')
        if entity.get("type") not in _ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        checked.append(dict(entity))
    return checked


def _trimmed(parsed: FormattedText) -> FormattedText:
    text = parsed.text
    kept = text.strip(SPACES)
    if kept == text:
        return parsed
    lead = utf16_len(text[: len(text) - len(text.lstrip(SPACES))])
    size = utf16_len(kept)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(kept, entities)
