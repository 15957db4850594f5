"""Telegram's HTML parse mode: the tags it supports, its entity references, its errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .entities import (
    SPACES,
    FormattedText,
    ParseError,
    byte_offset,
    checked_link,
    in_order,
    skip_spaces,
    units,
)

_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji"}
    | {"span", "pre", "code", "blockquote"}
)
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def _html_entity(source: str, index: int) -> tuple[str, int] | None:
    """Decode ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` and numeric references at ``index``."""
    end = index + 1
    if source.startswith("#", end):
        end += 1
        hexadecimal = source.startswith("x", end)
        end += hexadecimal
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        start = end
        while end < len(source) and source[end] in digits:
            end += 1
        code = int(source[start:end], 16 if hexadecimal else 10) if end > start else 0
        if code == 0 or code >= 0x10FFFF or end - index >= 10:
            return None
        char = chr(code)
    else:
        while end < len(source) and source[end].isascii() and source[end].isalpha():
            end += 1
        char = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(source[index + 1 : end], "")
        if not char:
            return None
    if source.startswith(";", end):
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int
    text_start: int


def parse_html(source: str) -> FormattedText:
    out: list[str] = []
    offset = 0
    entities: list[dict[str, Any]] = []
    open_tags: list[_OpenTag] = []
    size = len(source)
    i = 0
    while i < size:
        char = source[i]
        if char == "&" and (decoded := _html_entity(source, i)) is not None:
            out.append(decoded[0])
            offset += units(decoded[0])
            i = decoded[1]
            continue
        if char != "<":
            out.append(char)
            offset += units(char)
            i += 1
            continue
        begin = byte_offset(source, i)
        if source.startswith("/", i + 1):
            i = _html_close_tag(source, i, begin, open_tags, entities, out, offset)
        else:
            i, tag = _html_open_tag(source, i, begin)
            open_tags.append(_OpenTag(tag[0], tag[1], offset, len(out)))
    if open_tags:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1].name}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return FormattedText("".join(out), in_order(entities))


def _html_open_tag(source: str, i: int, begin: int) -> tuple[int, tuple[str, str]]:
    size = len(source)
    j = i + 1
    while j < size and source[j] not in SPACES and source[j] != ">":
        j += 1
    if j >= size:
        raise ParseError(f"Unclosed start tag at byte offset {begin}")
    tag = source[i + 1 : j].lower()
    if tag not in _HTML_TAGS:
        raise ParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
    argument = ""
    while source[j] != ">":
        j = skip_spaces(source, j)
        if j >= size:
            raise ParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if source[j] == ">":
            break
        name_start = j
        while j < size and source[j] not in SPACES and source[j] not in "=>/\"'":
            j += 1
        name = source[name_start:j]
        if not name:
            raise ParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        j = skip_spaces(source, j)
        if j >= size:
            raise ParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if source[j] != "=":
            if tag == "blockquote" and name == "expandable":
                argument = "1"
            continue
        j = skip_spaces(source, j + 1)
        if j >= size:
            raise ParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if source[j] in "'\"":
            quote = source[j]
            j += 1
            value: list[str] = []
            while j < size and source[j] != quote:
                if source[j] == "&" and (decoded := _html_entity(source, j)) is not None:
                    value.append(decoded[0])
                    j = decoded[1]
                    continue
                value.append(source[j])
                j += 1
            j += j < size
            attribute = "".join(value)
        else:
            token_start = j
            while j < size and ((source[j].isascii() and source[j].isalnum()) or source[j] in ".-"):
                j += 1
            attribute = source[token_start:j].lower()
            if j >= size or (source[j] not in SPACES and source[j] != ">"):
                offset = byte_offset(source, token_start)
                raise ParseError(f"Unexpected end of name token at byte offset {offset}")
        if j >= size:
            raise ParseError(f"Unclosed start tag at byte offset {begin}")
        argument = _html_argument(tag, name, attribute, argument)
    if tag == "span" and argument != "spoiler":
        raise ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    return j + 1, (tag, argument)


def _html_argument(tag: str, name: str, value: str, current: str) -> str:
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    if tag == "blockquote" and name == "expandable":
        return "1"
    return current


def _html_close_tag(
    source: str,
    i: int,
    begin: int,
    open_tags: list[_OpenTag],
    entities: list[dict[str, Any]],
    out: list[str],
    offset: int,
) -> int:
    if not open_tags:
        raise ParseError(f"Unexpected end tag at byte offset {begin}")
    size = len(source)
    j = i + 2
    while j < size and source[j] not in SPACES and source[j] != ">":
        j += 1
    name = source[i + 2 : j].lower()
    j = skip_spaces(source, j)
    if j >= size or source[j] != ">":
        raise ParseError(f"Unclosed end tag at byte offset {begin}")
    tag = open_tags.pop()
    if name and name != tag.name:
        raise ParseError(
            f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", found "</{name}>"'
        )
    if offset > tag.offset:
        entity = _html_entity_for(tag, offset, "".join(out[tag.text_start :]), entities)
        if entity is not None:
            entities.append(entity)
    return j + 1


def _html_entity_for(
    tag: _OpenTag, offset: int, inner_text: str, entities: list[dict[str, Any]]
) -> dict[str, Any] | None:
    span = {"offset": tag.offset, "length": offset - tag.offset}
    last = entities[-1] if entities else None
    same_span = last is not None and (last["offset"], last["length"]) == (
        tag.offset,
        span["length"],
    )
    if tag.name in _HTML_SIMPLE:
        return {"type": _HTML_SIMPLE[tag.name], **span}
    if tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) == 0:
            raise ParseError("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", **span, "custom_emoji_id": tag.argument}
    if tag.name == "a":
        url = checked_link(tag.argument or inner_text)
        return {"type": "text_link", **span, "url": url} if url else None
    if tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.argument else "blockquote"
        return {"type": kind, **span}
    if tag.name == "pre":
        if same_span and last is not None and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
            return None
        return {"type": "pre", **span}
    # <code>, possibly the language of an enclosing <pre>
    if same_span and last is not None and last["type"] == "pre" and tag.argument:
        last["language"] = tag.argument
        return None
    entity = {"type": "code", **span}
    if tag.argument:
        entity["language"] = tag.argument
    return entity
