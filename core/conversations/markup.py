"""Rich text every channel can show: plain, bold, italic, code and links, nothing more.

A screen builds a :class:`Markup` from user-visible strings; each platform adapter renders it
with one of the ``to_*`` functions. Every renderer treats span text as untrusted: a product
title such as ``<b>*_[x](y)`` or ``@everyone`` is shown as typed and can never open a tag,
start a style, mask a link or ping anyone. The only formatting in the output is the
formatting the spans ask for.

A line break is a ``"\\n"`` in span text; :meth:`Markup.lines` puts them between parts.
Links are rendered as links only for ``http`` and ``https`` URLs; any other link is shown as
its plain label.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias
from urllib.parse import urlsplit

Style = Literal["plain", "bold", "italic", "code", "link"]

STYLES: Final[frozenset[str]] = frozenset({"plain", "bold", "italic", "code", "link"})

# Keeps two adjacent styled runs apart (``*a*`` then ``**b**``) so their markers cannot merge,
# and follows every "@" on Discord so user text can never mention anyone.
ZERO_WIDTH_SPACE: Final = "\u200b"

_URL_FORBIDDEN: Final = frozenset('<>"\\`')


def text_length(text: str) -> int:
    """Length as the platforms count it: UTF-16 code units (never fewer than code points)."""
    return len(text.encode("utf-16-le")) // 2


def is_web_url(url: str) -> bool:
    """``True`` for an absolute ``http``/``https`` URL with a host and nothing unsafe in it."""
    if not url or any(c.isspace() or not c.isprintable() or c in _URL_FORBIDDEN for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(host)


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text in one style; ``url`` is set for, and only for, a ``link``."""

    text: str
    style: Style = "plain"
    url: str | None = None

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"Unknown style {self.style!r}; use one of {sorted(STYLES)}.")
        if (self.style == "link") != (self.url is not None):
            raise ValueError("A link span needs a url, and only a link span may have one.")

    def __add__(self, other: Part) -> Markup:
        return Markup.of(self, other)

    def __radd__(self, other: str) -> Markup:
        return Markup.of(other, self)


def plain(text: str) -> Span:
    """Unstyled text."""
    return Span(text)


def bold(text: str) -> Span:
    """Bold text."""
    return Span(text, "bold")


def italic(text: str) -> Span:
    """Italic text."""
    return Span(text, "italic")


def code(text: str) -> Span:
    """Monospaced text, such as an order number or a tracking number."""
    return Span(text, "code")


def link(text: str, url: str) -> Span:
    """``text`` linking to ``url``; shown as plain ``text`` unless ``url`` is http(s)."""
    return Span(text, "link", url)


Part: TypeAlias = "str | Span | Markup"


@dataclass(frozen=True, slots=True)
class Markup:
    """An immutable run of spans. Build it with :meth:`of`, :meth:`lines` and ``+``.

    Spans are kept in a canonical form — no empty spans, neighbours with the same style and
    url merged — so two markups that look the same compare equal.
    """

    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", _canonical(self.spans))

    @classmethod
    def of(cls, *parts: Part) -> Markup:
        """Concatenate strings (plain text), spans and markups."""
        spans: list[Span] = []
        for part in parts:
            if isinstance(part, Markup):
                spans.extend(part.spans)
            elif isinstance(part, Span):
                spans.append(part)
            elif isinstance(part, str):
                spans.append(Span(part))
            else:
                raise TypeError(f"Cannot make markup from {type(part).__name__}.")
        return cls(tuple(spans))

    @classmethod
    def lines(cls, *parts: Part) -> Markup:
        """Each part on its own line."""
        joined: list[Part] = []
        for index, part in enumerate(parts):
            if index:
                joined.append("\n")
            joined.append(part)
        return cls.of(*joined)

    def __add__(self, other: Part) -> Markup:
        return Markup.of(self, other)

    def __radd__(self, other: str | Span) -> Markup:
        return Markup.of(other, self)

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    def __len__(self) -> int:
        """Characters a reader sees (the length of :meth:`plain`)."""
        return sum(len(span.text) for span in self.spans)

    def plain(self) -> str:
        """The text without any styling."""
        return to_plain(self)

    def length(self, platform: str) -> int:
        """Length of the text as ``platform`` counts it against its message limit.

        Telegram counts the text after its entities are parsed, and the web page has no
        markup budget, so both count the plain text; Discord and WhatsApp count what is sent,
        escapes and markers included. Lengths are in UTF-16 code units.
        """
        renderer = _MEASURED_RENDERERS.get(platform)
        if renderer is None:
            raise ValueError(
                f"Unknown platform {platform!r}; use one of {sorted(_MEASURED_RENDERERS)}."
            )
        return text_length(renderer(self))

    def slice(self, start: int, end: int) -> Markup:
        """The part between two offsets of :meth:`plain`, styles kept."""
        spans: list[Span] = []
        offset = 0
        for span in self.spans:
            span_end = offset + len(span.text)
            if span_end > start and offset < end:
                piece = span.text[max(start - offset, 0) : min(end, span_end) - offset]
                spans.append(Span(piece, span.style, span.url))
            offset = span_end
            if offset >= end:
                break
        return Markup(tuple(spans))


def _canonical(spans: tuple[Span, ...]) -> tuple[Span, ...]:
    merged: list[Span] = []
    texts: list[str] = []  # the texts of the run of spans in the style of merged[-1]
    for span in spans:
        if not isinstance(span, Span):
            raise TypeError(f"Markup holds spans, not {type(span).__name__}.")
        if not span.text:
            continue
        if texts and merged[-1].style == span.style and merged[-1].url == span.url:
            texts.append(span.text)
            continue
        _close_run(merged, texts)
        merged.append(span)
        texts = [span.text]
    _close_run(merged, texts)
    return tuple(merged)


def _close_run(merged: list[Span], texts: list[str]) -> None:
    """Join a run of neighbours in one style into the last span."""
    if len(texts) > 1:
        last = merged[-1]
        merged[-1] = Span("".join(texts), last.style, last.url)


def _linkable(span: Span) -> str | None:
    return span.url if span.style == "link" and span.url and is_web_url(span.url) else None


# --- plain and HTML ------------------------------------------------------------------------


def to_plain(markup: Markup) -> str:
    """The text without any styling; links show their label only."""
    return "".join(span.text for span in markup.spans)


def _render_tagged(
    markup: Markup, tags: dict[str, str], escape: Callable[[str], str], anchor: str
) -> str:
    """HTML-like output: each styled span in its tag, links opened with ``anchor``."""
    out: list[str] = []
    for span in markup.spans:
        text = escape(span.text)
        url = _linkable(span)
        tag = tags.get(span.style)
        if url is not None:
            out.append(f"{anchor.format(href=html.escape(url, quote=True))}{text}</a>")
        elif tag is not None:
            out.append(f"<{tag}>{text}</{tag}>")
        else:
            out.append(text)
    return "".join(out)


def to_html(markup: Markup) -> str:
    """HTML for a web page: every character of user text escaped, line breaks as ``<br>``."""
    return _render_tagged(
        markup,
        {"bold": "strong", "italic": "em", "code": "code"},
        lambda text: html.escape(text, quote=True).replace("\n", "<br>"),
        '<a href="{href}" rel="nofollow noopener noreferrer">',
    )


def to_telegram_html(markup: Markup) -> str:
    """Text for Telegram's HTML parse mode.

    Telegram needs only ``&``, ``<`` and ``>`` escaped in text (and ``"`` inside an
    attribute); the tags used are ``<b>``, ``<i>``, ``<code>`` and ``<a href="...">``.
    """
    return _render_tagged(
        markup,
        {"bold": "b", "italic": "i", "code": "code"},
        lambda text: html.escape(text, quote=False),
        '<a href="{href}">',
    )


# --- Discord and WhatsApp: markdown-like, rendered line by line ----------------------------


@dataclass(frozen=True, slots=True)
class _Piece:
    """Rendered text of one span on one line, and what it needs from its neighbours."""

    text: str
    opens_with_marker: bool = False
    closes_with_marker: bool = False
    ends_with_bare_url: bool = False


def _around(segment: str) -> tuple[str, str, str]:
    """``segment`` as leading whitespace, the words, trailing whitespace."""
    core = segment.strip()
    if not core:
        return segment, "", ""
    lead = segment[: len(segment) - len(segment.lstrip())]
    return lead, core, segment[len(lead) + len(core) :]


def _wrapped(segment: str, marker: str, escape: Callable[[str], str]) -> _Piece:
    # Markers must touch the words they style ("*a*", not "* a *"), so surrounding
    # whitespace goes outside them; a whitespace-only run needs no markers at all.
    lead, core, trail = _around(segment)
    if not core:
        return _Piece(segment)
    return _Piece(f"{lead}{marker}{escape(core)}{marker}{trail}", not lead, not trail)


def _render_by_line(markup: Markup, render: Callable[[Span, str], _Piece]) -> list[str]:
    # Styles do not reach across lines on these platforms, so each line of a span is styled
    # on its own.
    lines: list[list[_Piece]] = [[]]
    for span in markup.spans:
        for index, segment in enumerate(span.text.split("\n")):
            if index:
                lines.append([])
            if segment:
                lines[-1].append(render(span, segment))
    rendered: list[str] = []
    for pieces in lines:
        out: list[str] = []
        for previous, piece in zip([None, *pieces], pieces, strict=False):
            if previous is not None:
                if previous.closes_with_marker and piece.opens_with_marker:
                    out.append(ZERO_WIDTH_SPACE)
                elif previous.ends_with_bare_url and not piece.text[0].isspace():
                    # Text right after a bare URL would be read as part of it.
                    out.append(" ")
            out.append(piece.text)
        rendered.append("".join(out))
    return rendered


_DISCORD_SPECIAL: Final = re.compile(r"([\\*_~`|>#\-\[\]()<])")


def _escape_discord(text: str) -> str:
    return _DISCORD_SPECIAL.sub(r"\\\1", text).replace("@", "@" + ZERO_WIDTH_SPACE)


def _discord_piece(span: Span, segment: str) -> _Piece:
    url = _linkable(span)
    if url is not None:
        target = url.replace("(", "%28").replace(")", "%29")
        return _Piece(f"[{_escape_discord(segment)}]({target})")
    if span.style == "bold":
        return _wrapped(segment, "**", _escape_discord)
    if span.style == "italic":
        return _wrapped(segment, "*", _escape_discord)
    if span.style == "code" and "`" not in segment:
        # Nothing is escaped inside code on Discord; a backtick would end it early, so code
        # containing one is shown as escaped plain text instead.
        return _wrapped(segment, "`", lambda text: text.replace("@", "@" + ZERO_WIDTH_SPACE))
    return _Piece(_escape_discord(segment))


def to_discord(markup: Markup) -> str:
    """Discord markdown: ``**bold**``, ``*italic*``, ```code```, ``[label](url)``.

    Every markdown character in user text is backslash-escaped and every ``@`` is followed by
    a zero-width space, so ``@everyone`` or ``<@123>`` typed by a user mentions nobody.
    Adapters should still send with mentions disallowed.
    """
    return "\n".join(_render_by_line(markup, _discord_piece))


# WhatsApp has no escape character, so the characters that start its styles are replaced by
# look-alikes that it does not treat as markers.
_WHATSAPP_LOOKALIKES: Final = str.maketrans(
    {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
)


def _neutral_whatsapp(text: str) -> str:
    return text.translate(_WHATSAPP_LOOKALIKES)


def _whatsapp_piece(span: Span, segment: str) -> _Piece:
    url = _linkable(span)
    if url is not None:
        lead, label, trail = _around(segment)
        if not label:
            return _Piece(segment)
        shown = url if label == url else f"{_neutral_whatsapp(label)}: {url}"
        return _Piece(lead + shown + trail, ends_with_bare_url=not trail)
    if span.style == "bold":
        return _wrapped(segment, "*", _neutral_whatsapp)
    if span.style == "italic":
        return _wrapped(segment, "_", _neutral_whatsapp)
    if span.style == "code":
        return _wrapped(segment, "```", _neutral_whatsapp)
    return _Piece(_neutral_whatsapp(segment))


def to_whatsapp(markup: Markup) -> str:
    """WhatsApp formatting: ``*bold*``, ``_italic_``, ````` ```code``` `````, links as "label: url".

    User-typed ``*``, ``_``, ``~`` and backticks become look-alike characters, and a line
    that starts with ``>`` gets a zero-width space in front, so no user text turns into a
    style or a quote.
    """
    lines = _render_by_line(markup, _whatsapp_piece)
    return "\n".join(ZERO_WIDTH_SPACE + line if line.startswith(">") else line for line in lines)


_MEASURED_RENDERERS: Final[dict[str, Callable[[Markup], str]]] = {
    "telegram": to_plain,
    "discord": to_discord,
    "whatsapp": to_whatsapp,
    "web": to_plain,
}
