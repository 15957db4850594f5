"""Layout planning: from what a screen wants to show to the messages a platform can send.

:func:`plan` is pure. It never drops anything: text over a platform's limit is split on line
boundaries (then word boundaries, then anywhere) into several messages, and choices that do
not fit one message spill into follow-up messages titled "More options (2/3)". Only button
labels are shortened, with "…", because every platform caps them.

On WhatsApp, action choices become reply buttons (1-3 on a page) or a list (4-10), ten to a
message; URL choices each get their own call-to-action message (``kind="url"``), because
WhatsApp allows one URL button per message. Action choices come first, then URL choices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from core.conversations.actions import Action
from core.conversations.markup import Markup, is_web_url, text_length
from core.domain.common import Platform

ChoiceStyle = Literal["primary", "secondary", "success", "danger"]
MessageKind = Literal["text", "buttons", "list", "url"]

CHOICE_STYLES: Final[frozenset[str]] = frozenset({"primary", "secondary", "success", "danger"})
ELLIPSIS: Final = "…"

# --- Platform limits, all counted in UTF-16 code units ------------------------------------
# Telegram Bot API (core.telegram.org/bots/api)
TELEGRAM_TEXT_MAX: Final = 4096  # sendMessage: text, 1-4096 characters after entities parsing
TELEGRAM_BUTTONS_PER_ROW: Final = 8  # InlineKeyboardMarkup: server rejects more than 8 a row
TELEGRAM_BUTTONS_PER_MESSAGE: Final = 100  # InlineKeyboardMarkup: at most 100 buttons in all
TELEGRAM_LABEL_MAX: Final = 64  # InlineKeyboardButton.text: undocumented; kept to 64
# Discord API (discord.com/developers/docs: Create Message; Message Components)
DISCORD_TEXT_MAX: Final = 2000  # Create Message: content, up to 2000 characters
DISCORD_ROWS_PER_MESSAGE: Final = 5  # Action Row: up to 5 action rows per message
DISCORD_BUTTONS_PER_ROW: Final = 5  # Action Row: up to 5 buttons per row
DISCORD_LABEL_MAX: Final = 80  # Button: label, max 80 characters
DISCORD_CUSTOM_ID_MAX: Final = 100  # Button: custom_id, max 100 characters
# WhatsApp Cloud API (developers.facebook.com: Messages; Interactive messages)
WHATSAPP_TEXT_MAX: Final = 4096  # Text messages: text.body, max 4096 characters
WHATSAPP_BODY_MAX: Final = 1024  # Interactive messages: body.text, max 1024 characters
WHATSAPP_REPLY_BUTTONS_MAX: Final = 3  # Reply buttons: action.buttons, at most 3
WHATSAPP_REPLY_TITLE_MAX: Final = 20  # Reply buttons: reply.title, max 20 characters
WHATSAPP_LIST_ROWS_MAX: Final = 10  # List messages: at most 10 rows across all sections
WHATSAPP_LIST_TITLE_MAX: Final = 24  # List messages: row title, max 24 characters
WHATSAPP_LIST_DESCRIPTION_MAX: Final = 72  # List messages: row description, max 72 characters
WHATSAPP_LIST_BUTTON_MAX: Final = 20  # List messages: action.button, max 20 characters
WHATSAPP_SECTION_TITLE_MAX: Final = 24  # List messages: section title (one section: unused)
WHATSAPP_URL_LABEL_MAX: Final = 20  # CTA URL button: parameters.display_text, max 20 characters
# The web playground
WEB_TEXT_MAX: Final = 4096  # our own cap, the same as Telegram's


@dataclass(frozen=True, slots=True)
class Choice:
    """One option on a screen: a button that sends ``action`` or opens ``url`` (exactly one).

    ``description`` is secondary text shown where a platform has a place for it (the line
    under a WhatsApp list row); other platforms do not show it. The planner also puts the
    rest of a label that is too long for a WhatsApp list row title there.
    """

    label: str
    action: Action | None = None
    url: str | None = None
    style: ChoiceStyle = "secondary"
    description: str = ""

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("A choice needs a label a person can read.")
        if (self.action is None) == (self.url is None):
            raise ValueError("A choice has exactly one of an action and a url.")
        if self.url is not None and not is_web_url(self.url):
            raise ValueError(f"A choice url must be an http(s) URL: {self.url!r}.")
        if self.style not in CHOICE_STYLES:
            raise ValueError(f"Unknown choice style {self.style!r}.")


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """One message to send: its text and its choices, arranged as the platform requires.

    ``kind`` is ``"text"`` (no choices) or ``"buttons"`` on every platform; on WhatsApp also
    ``"list"`` (one choice per row, opened by a button labelled ``list_button``) and ``"url"``
    (a single URL choice). WhatsApp reply buttons are one row of up to three.
    """

    text: Markup
    rows: tuple[tuple[Choice, ...], ...] = ()
    kind: MessageKind = "text"
    list_button: str = ""

    @property
    def choices(self) -> tuple[Choice, ...]:
        """Every choice of the message, row by row."""
        return tuple(choice for row in self.rows for choice in row)


def plan(
    platform: str,
    text: Markup,
    rows: Sequence[Sequence[Choice]],
    *,
    prompt: str = "Choose",
    more: str = "More options",
) -> list[PlannedMessage]:
    """The messages that show ``text`` and ``rows`` on ``platform``, in sending order.

    ``prompt`` is the text of a message that has choices but no text of its own, and the
    label of the button that opens a WhatsApp list; ``more`` titles follow-up messages,
    numbered like "More options (2/3)". Text that is empty or only whitespace is not sent.
    """
    name = Platform(platform)
    if not prompt.strip():
        raise ValueError("The prompt is shown to people; it cannot be blank.")
    if name is Platform.WHATSAPP:
        return _plan_whatsapp(text, rows, prompt, more)
    limits = _KEYBOARD_LIMITS[name]
    keyboards = _keyboards(rows, limits)
    chunks = split_text(text, limits.text_max, _measure(name))
    return _assemble(chunks, [("buttons", keyboard, "") for keyboard in keyboards], prompt, more)


def split_text(text: Markup, limit: int, measure: Callable[[Markup], int]) -> list[Markup]:
    """``text`` in pieces that each measure at most ``limit``, cut at the last line break
    that fits, else the last whitespace, else anywhere. Joined, the pieces are ``text``.

    The one exception is whitespace no piece has room for (a blank stretch longer than
    ``limit``, blank text at the end): no platform sends a message of only whitespace, so it
    is left out.
    """
    plain = text.plain()
    chunks: list[Markup] = []
    start, end = 0, len(plain)
    while start < end:
        rest = text.slice(start, end)
        # Rendering never shortens text, so only a short enough rest is worth measuring.
        if text_length(plain[start:]) <= limit and measure(rest) <= limit:
            chunks.append(rest)
            break
        longest = _longest_fit(text, start, limit, measure)
        cut = _cut(plain, start, longest)
        if cut != longest and measure(text.slice(start, cut)) > limit:
            cut = longest
        chunks.append(text.slice(start, cut))
        start = cut
    pieces: list[Markup] = []
    for chunk in chunks:
        if chunk.plain().strip():
            pieces.append(chunk)
        elif pieces and measure(pieces[-1] + chunk) <= limit:
            pieces[-1] = pieces[-1] + chunk
    return pieces


def shorten(label: str, limit: int) -> str:
    """``label`` on one line, cut to ``limit`` with "…" at the end when it is longer."""
    label = " ".join(label.split())
    if text_length(label) <= limit:
        return label
    return _prefix(label, limit - text_length(ELLIPSIS)).rstrip() + ELLIPSIS


# --- Telegram, Discord and the web: keyboards of buttons ----------------------------------


@dataclass(frozen=True, slots=True)
class _KeyboardLimits:
    text_max: int
    label_max: int | None
    per_row: int | None
    rows_per_message: int | None
    per_message: int | None


_KEYBOARD_LIMITS: Final[dict[Platform, _KeyboardLimits]] = {
    Platform.TELEGRAM: _KeyboardLimits(
        TELEGRAM_TEXT_MAX,
        TELEGRAM_LABEL_MAX,
        TELEGRAM_BUTTONS_PER_ROW,
        None,
        TELEGRAM_BUTTONS_PER_MESSAGE,
    ),
    Platform.DISCORD: _KeyboardLimits(
        DISCORD_TEXT_MAX, DISCORD_LABEL_MAX, DISCORD_BUTTONS_PER_ROW, DISCORD_ROWS_PER_MESSAGE, None
    ),
    Platform.WEB: _KeyboardLimits(WEB_TEXT_MAX, None, None, None, None),
}

_Keyboard = tuple[tuple[Choice, ...], ...]


def _keyboards(rows: Sequence[Sequence[Choice]], limits: _KeyboardLimits) -> list[_Keyboard]:
    """The screen's rows, long rows wrapped, shared out over as few messages as needed."""
    wrapped: list[tuple[Choice, ...]] = []
    for row in rows:
        fitted = [_with_label(choice, limits.label_max) for choice in row]
        width = limits.per_row or len(fitted) or 1
        wrapped.extend(tuple(fitted[i : i + width]) for i in range(0, len(fitted), width))
    keyboards: list[_Keyboard] = []
    current: list[tuple[Choice, ...]] = []
    for row in wrapped:
        count = sum(len(r) for r in current)
        full = (
            limits.rows_per_message is not None and len(current) >= limits.rows_per_message
        ) or (limits.per_message is not None and count + len(row) > limits.per_message)
        if current and full:
            keyboards.append(tuple(current))
            current = []
        current.append(row)
    if current:
        keyboards.append(tuple(current))
    return keyboards


def _with_label(choice: Choice, label_max: int | None) -> Choice:
    if label_max is None:
        return choice
    label = shorten(choice.label, label_max)
    return choice if label == choice.label else dataclasses.replace(choice, label=label)


# --- WhatsApp: reply buttons, lists and URL buttons ---------------------------------------


def _plan_whatsapp(
    text: Markup, rows: Sequence[Sequence[Choice]], prompt: str, more: str
) -> list[PlannedMessage]:
    flat = [choice for row in rows for choice in row]
    actions = [choice for choice in flat if choice.action is not None]
    urls = [choice for choice in flat if choice.url is not None]
    list_button = shorten(prompt, WHATSAPP_LIST_BUTTON_MAX)
    batches: list[tuple[MessageKind, _Keyboard, str]] = []
    for i in range(0, len(actions), WHATSAPP_LIST_ROWS_MAX):
        page = actions[i : i + WHATSAPP_LIST_ROWS_MAX]
        if len(page) <= WHATSAPP_REPLY_BUTTONS_MAX:
            buttons = tuple(_with_label(c, WHATSAPP_REPLY_TITLE_MAX) for c in page)
            batches.append(("buttons", (buttons,), ""))
        else:
            batches.append(("list", tuple((_list_row(c),) for c in page), list_button))
    batches.extend(("url", ((_with_label(c, WHATSAPP_URL_LABEL_MAX),),), "") for c in urls)

    measure = _measure(Platform.WHATSAPP)
    chunks = split_text(text, WHATSAPP_TEXT_MAX, measure)
    if batches and chunks and measure(chunks[-1]) > WHATSAPP_BODY_MAX:
        # The choices need the last piece as an interactive body, which has a lower limit.
        pieces = split_text(chunks[-1], WHATSAPP_BODY_MAX, measure)
        chunks[-1:] = [*_merged(pieces[:-1], WHATSAPP_TEXT_MAX, measure), pieces[-1]]
    return _assemble(chunks, batches, prompt, more)


def _list_row(choice: Choice) -> Choice:
    """A list row: a title that fits, the rest of a long label leading the description."""
    label = " ".join(choice.label.split())
    title, rest = label, ""
    if text_length(label) > WHATSAPP_LIST_TITLE_MAX:
        head = _prefix(label, WHATSAPP_LIST_TITLE_MAX)
        space = head.rfind(" ")
        # End the title between words when a word boundary falls inside it.
        cut = space if space > 0 and label[len(head)] != " " else len(head)
        title, rest = label[:cut].rstrip(), label[cut:].strip()
    description = " · ".join(part for part in (rest, choice.description.strip()) if part)
    description = shorten(description, WHATSAPP_LIST_DESCRIPTION_MAX)
    if (title, description) == (choice.label, choice.description):
        return choice
    return dataclasses.replace(choice, label=title, description=description)


def _merged(pieces: list[Markup], limit: int, measure: Callable[[Markup], int]) -> list[Markup]:
    merged: list[Markup] = []
    for piece in pieces:
        if merged and measure(merged[-1] + piece) <= limit:
            merged[-1] = merged[-1] + piece
        else:
            merged.append(piece)
    return merged


# --- shared ------------------------------------------------------------------------------


def _assemble(
    chunks: list[Markup],
    batches: list[tuple[MessageKind, _Keyboard, str]],
    prompt: str,
    more: str,
) -> list[PlannedMessage]:
    """Text pieces in order; the first batch of choices goes with the last piece."""
    if not batches:
        return [PlannedMessage(chunk) for chunk in chunks]
    messages = [PlannedMessage(chunk) for chunk in chunks[:-1]]
    first_text = chunks[-1] if chunks else Markup.of(prompt)
    for number, (kind, keyboard, list_button) in enumerate(batches, start=1):
        title = first_text if number == 1 else Markup.of(f"{more} ({number}/{len(batches)})")
        messages.append(PlannedMessage(title, keyboard, kind, list_button))
    return messages


def _measure(platform: Platform) -> Callable[[Markup], int]:
    return lambda markup: markup.length(platform.value)


def _prefix(text: str, units: int) -> str:
    """The longest start of ``text`` of at most ``units`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += text_length(char)
        if used > units:
            return text[:index]
    return text


def _longest_fit(text: Markup, start: int, limit: int, measure: Callable[[Markup], int]) -> int:
    """The furthest end after ``start`` whose piece fits (at least one character).

    Rendering never makes text shorter, so the piece cannot hold more than ``limit``
    characters; a binary search finds the end within that.
    """
    low, high = start + 1, min(len(text), start + limit)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(text.slice(start, middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(plain: str, start: int, end: int) -> int:
    """Where to end a piece that may reach ``end``: a line break, else whitespace, else end.

    A piece is never cut to hold only whitespace when it could hold more.
    """
    visible = start
    while visible < end and plain[visible].isspace():
        visible += 1
    if visible == end:
        return end
    for is_boundary in (lambda c: c == "\n", str.isspace):
        if end < len(plain) and is_boundary(plain[end]):
            return end
        for index in range(end - 1, visible, -1):
            if is_boundary(plain[index]):
                return index + 1
    return end
