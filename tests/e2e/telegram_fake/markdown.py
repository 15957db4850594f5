"""Telegram's MarkdownV2 and legacy Markdown parse modes, with their errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .entities import SPACES, FormattedText, ParseError, byte_offset, checked_link, in_order, units

_MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!\n")
# The names Telegram uses for entity types in "Can't find end of ... entity" errors.
_TD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}
_CUSTOM_EMOJI_URL = re.compile(r"tg://emoji\?id=(\d+)")
_TIME_URL = re.compile(r"tg://time\?unix=(\d+)(?:&format=\w*)?")


@dataclass
class _OpenEntity:
    kind: str
    argument: str
    offset: int
    marker_at: int  # index into the source where the marker began
    text_start: int


def _reserved(char: str) -> ParseError:
    return ParseError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


def _unfinished(source: str, entity: _OpenEntity) -> ParseError:
    name = "PreCode" if entity.kind == "pre" and entity.argument else _TD_NAMES[entity.kind]
    at = byte_offset(source, entity.marker_at)
    return ParseError(f"Can't find end of {name} entity at byte offset {at}")


def _ends_entity(source: str, i: int, entity: _OpenEntity) -> bool:
    char, after = source[i], source[i + 1 : i + 3]
    return {
        "bold": char == "*",
        "italic": char == "_" and not after.startswith("_"),
        "code": char == "`",
        "pre": char == "`" and after == "``",
        "text_link": char == "]",
        "custom_emoji": char == "]",
        "underline": char == "_" and after.startswith("_"),
        "strikethrough": char == "~",
        "spoiler": char == "|" and after.startswith("|"),
        "blockquote": False,
    }[entity.kind]


class _MarkdownV2:
    """One parse of a MarkdownV2 text; ``parse`` returns the visible text and its entities."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []
        self.open: list[_OpenEntity] = []
        self.in_blockquote = False
        self.line_start = True

    def parse(self) -> FormattedText:
        source, i = self.source, 0
        while i < len(source):
            i = self._step(i) + 1
        self._finish()
        return FormattedText("".join(self.out), in_order(self.entities))

    def _emit(self, char: str) -> None:
        self.out.append(char)
        self.offset += units(char)

    def _step(self, i: int) -> int:
        """Handle the character at ``i``; return the index of the last character consumed."""
        source, char = self.source, self.source[i]
        if char == "\\" and i + 1 < len(source) and 0 < ord(source[i + 1]) <= 126:
            self._emit(source[i + 1])
            if source[i + 1] != "\r":
                self.line_start = source[i + 1] == "\n"
            return i + 1
        in_code = bool(self.open) and self.open[-1].kind in ("code", "pre")
        if char not in ("`" if in_code else _MARKDOWN_V2_RESERVED):
            self._emit(char)
            if char != "\r":
                self.line_start = False
            return i
        ends_blockquote = self.in_blockquote and char == "\n" and not source.startswith(">", i + 1)
        if self.open and (ends_blockquote or _ends_entity(source, i, self.open[-1])):
            return self._close(i)
        return self._open(i)

    def _open(self, i: int) -> int:
        source, char = self.source, self.source[i]
        marker_at, argument = i, ""
        if char == "_" and source.startswith("_", i + 1):
            kind, i = "underline", i + 1
        elif char in "_*~":
            kind = {"_": "italic", "*": "bold", "~": "strikethrough"}[char]
        elif char == "|" and source.startswith("|", i + 1):
            kind, i = "spoiler", i + 1
        elif char == "[":
            kind = "text_link"
        elif char == "!" and source.startswith("[", i + 1):
            kind, i = "custom_emoji", i + 1
        elif char == "`" and source.startswith("``", i + 1):
            kind = "pre"
            i, argument = _pre_start(source, i + 3)
            i -= 1  # the last character of the opening marker
        elif char == "`":
            kind = "code"
        elif char == "\n":
            self._emit("\n")
            self.line_start = True
            return i
        elif char == ">" and self.line_start:
            if self.in_blockquote:
                return i
            kind, self.in_blockquote = "blockquote", True
        else:
            raise _reserved(char)
        self.open.append(_OpenEntity(kind, argument, self.offset, marker_at, len(self.out)))
        return i

    def _close(self, i: int) -> int:
        source, char = self.source, self.source[i]
        entity = self.open[-1]
        kind = entity.kind
        if char == "\n" and kind != "blockquote":
            # "||" right before the newline makes the quote an expandable one
            just_before = entity.marker_at == i - 2 or (
                entity.marker_at == i - 3 and self.out and self.out[-1] == "\r"
            )
            if kind != "spoiler" or not just_before:
                raise _unfinished(source, entity)
            self.open.pop()
            entity = self.open[-1]
            if entity.kind != "blockquote":
                raise _unfinished(source, entity)
            kind = "expandable_blockquote"
        skip = self.offset == entity.offset
        extra: dict[str, Any] = {}
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind == "pre":
            i += 2
            if entity.argument:
                extra["language"] = entity.argument
        elif kind == "text_link":
            i, url = self._link_target(i, entity)
            url = checked_link(url)
            skip = skip or not url
            extra["url"] = url
        elif kind == "custom_emoji":
            i, kind, extra = self._emoji_target(i)
        elif kind in ("blockquote", "expandable_blockquote"):
            self.in_blockquote = False
            self._emit(char)
            self.line_start = True
            skip = False
        if not skip:
            length = self.offset - entity.offset
            self.entities.append({"type": kind, "offset": entity.offset, "length": length, **extra})
        self.open.pop()
        return i

    def _url_after(self, i: int) -> tuple[int, str]:
        """Read ``(url)`` starting at ``i`` (the parenthesis), honouring backslash escapes."""
        source, url = self.source, []
        i += 1
        start = i
        while i < len(source) and source[i] != ")":
            if source[i] == "\\" and i + 1 < len(source) and 0 < ord(source[i + 1]) <= 126:
                url.append(source[i + 1])
                i += 2
                continue
            url.append(source[i])
            i += 1
        if i >= len(source):
            raise ParseError(f"Can't find end of a URL at byte offset {byte_offset(source, start)}")
        return i, "".join(url)

    def _link_target(self, i: int, entity: _OpenEntity) -> tuple[int, str]:
        if not self.source.startswith("(", i + 1):
            return i, "".join(self.out[entity.text_start :])
        return self._url_after(i + 1)

    def _emoji_target(self, i: int) -> tuple[int, str, dict[str, Any]]:
        if not self.source.startswith("(", i + 1):
            raise ParseError("The entity must contain a tg://emoji or tg://time URL")
        i, url = self._url_after(i + 1)
        if match := _CUSTOM_EMOJI_URL.fullmatch(url):
            return i, "custom_emoji", {"custom_emoji_id": match.group(1)}
        if match := _TIME_URL.fullmatch(url):
            return i, "date_time", {"unix_time": int(match.group(1))}
        raise ParseError("Invalid tg://emoji or tg://time URL specified")

    def _finish(self) -> None:
        if self.in_blockquote:
            kind = "blockquote"
            last = self.open[-1]
            if last.kind == "spoiler" and last.marker_at == len(self.source) - 2:
                self.open.pop()
                kind = "expandable_blockquote"
            if self.open[-1].kind == "blockquote":
                quote = self.open.pop()
                self.in_blockquote = False
                if self.offset > quote.offset:
                    length = self.offset - quote.offset
                    self.entities.append({"type": kind, "offset": quote.offset, "length": length})
        if self.open:
            raise _unfinished(self.source, self.open[-1])


def parse_markdown_v2(source: str) -> FormattedText:
    return _MarkdownV2(source).parse()


# --- legacy Markdown ---------------------------------------------------------------------


def parse_markdown(source: str) -> FormattedText:
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    offset, size, i = 0, len(source), 0
    while i < size:
        char = source[i]
        if char == "\\" and source[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.append(source[i + 1])
            offset += 1
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            offset += units(char)
            i += 1
            continue
        begin, end_char, language = i, "]" if char == "[" else char, ""
        i += 1
        is_pre = char == "`" and source.startswith("``", i)
        if is_pre:
            i, language = _pre_start(source, i + 2)
        start_offset, text_start = offset, len(out)
        while i < size and (
            source[i] != end_char or (is_pre and not source.startswith("``", i + 1))
        ):
            out.append(source[i])
            offset += units(source[i])
            i += 1
        if i == size:
            at = byte_offset(source, begin)
            raise ParseError(f"Can't find end of the entity starting at byte offset {at}")
        if offset != start_offset:
            span = {"offset": start_offset, "length": offset - start_offset}
            if char == "[":
                url = "".join(out[text_start:])
                if source.startswith("(", i + 1):
                    close = source.find(")", i + 2)
                    close = size if close < 0 else close
                    url, i = source[i + 2 : close], close
                if url := checked_link(url):
                    entities.append({"type": "text_link", **span, "url": url})
            elif char == "`":
                kind = "pre" if is_pre else "code"
                entities.append(
                    {"type": kind, **span, **({"language": language} if language else {})}
                )
            else:
                entities.append({"type": "italic" if char == "_" else "bold", **span})
        i += 3 if is_pre else 1
    return FormattedText("".join(out), in_order(entities))


def _pre_start(source: str, i: int) -> tuple[int, str]:
    """After three opening backticks: where the code starts, and the language if named."""
    language, end = "", i
    while end < len(source) and source[end] not in SPACES and source[end] != "`":
        end += 1
    if end != i and end < len(source) and source[end] != "`":
        language, i = source[i:end], end
    if source[i : i + 1] in ("\n", "\r"):  # one line break after the marker is not code
        pair = source[i : i + 2]
        i += 2 if len(pair) == 2 and pair[1] in "\n\r" and pair[0] != pair[1] else 1
    return i, language
