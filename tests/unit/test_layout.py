"""Layout planning: every message fits its platform, and no text and no choice is lost."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.conversations.actions import Action
from core.conversations.layout import (
    DISCORD_BUTTONS_PER_ROW,
    DISCORD_LABEL_MAX,
    DISCORD_ROWS_PER_MESSAGE,
    DISCORD_TEXT_MAX,
    TELEGRAM_BUTTONS_PER_MESSAGE,
    TELEGRAM_BUTTONS_PER_ROW,
    TELEGRAM_LABEL_MAX,
    TELEGRAM_TEXT_MAX,
    WEB_TEXT_MAX,
    WHATSAPP_BODY_MAX,
    WHATSAPP_LIST_BUTTON_MAX,
    WHATSAPP_LIST_DESCRIPTION_MAX,
    WHATSAPP_LIST_ROWS_MAX,
    WHATSAPP_LIST_TITLE_MAX,
    WHATSAPP_REPLY_BUTTONS_MAX,
    WHATSAPP_REPLY_TITLE_MAX,
    WHATSAPP_TEXT_MAX,
    WHATSAPP_URL_LABEL_MAX,
    Choice,
    PlannedMessage,
    plan,
    shorten,
    split_text,
)
from core.conversations.markup import Markup, bold, code, italic, link, text_length, to_discord

PLATFORMS = ["telegram", "discord", "whatsapp", "web"]
MORE = "More options"
PROMPT = "Choose"
PROSE_LINE = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n"
HOSTILE_LINE = "a_b*c~ <b>*_[x](y) @everyone -# > `code` |x| \\ \n"
URL = "https://www.amazon.com/dp/B0EXAMPLE1"


def action_choice(number: int, label: str | None = None) -> Choice:
    return Choice(label or f"Offer {number}", Action("ap", (number,)))


def url_choice(number: int, label: str | None = None) -> Choice:
    return Choice(label or f"Listing {number}", url=f"{URL}?n={number}")


# --- the invariants every plan must keep --------------------------------------------------


def assert_within_limits(platform: str, messages: Sequence[PlannedMessage]) -> None:
    for message in messages:
        assert message.text.plain().strip(), "every message has text to show"
        assert all(row for row in message.rows), "no empty rows"
        labels = [choice.label for choice in message.choices]
        assert all(label.strip() for label in labels)
        if platform == "telegram":
            assert text_length(message.text.plain()) <= TELEGRAM_TEXT_MAX
            assert message.kind == ("buttons" if message.rows else "text")
            assert all(len(row) <= TELEGRAM_BUTTONS_PER_ROW for row in message.rows)
            assert len(message.choices) <= TELEGRAM_BUTTONS_PER_MESSAGE
            assert all(text_length(label) <= TELEGRAM_LABEL_MAX for label in labels)
        elif platform == "discord":
            assert text_length(to_discord(message.text)) <= DISCORD_TEXT_MAX
            assert message.kind == ("buttons" if message.rows else "text")
            assert len(message.rows) <= DISCORD_ROWS_PER_MESSAGE
            assert all(len(row) <= DISCORD_BUTTONS_PER_ROW for row in message.rows)
            assert all(text_length(label) <= DISCORD_LABEL_MAX for label in labels)
        elif platform == "whatsapp":
            assert_whatsapp_message_fits(message)
        else:
            assert text_length(message.text.plain()) <= WEB_TEXT_MAX


def assert_whatsapp_message_fits(message: PlannedMessage) -> None:
    body = message.text.length("whatsapp")
    choices = message.choices
    if message.kind == "text":
        assert body <= WHATSAPP_TEXT_MAX
        assert not message.rows
        return
    assert body <= WHATSAPP_BODY_MAX
    if message.kind == "buttons":
        assert len(message.rows) == 1
        assert 1 <= len(choices) <= WHATSAPP_REPLY_BUTTONS_MAX
        assert all(c.action is not None for c in choices)
        assert all(text_length(c.label) <= WHATSAPP_REPLY_TITLE_MAX for c in choices)
    elif message.kind == "list":
        assert all(len(row) == 1 for row in message.rows)
        assert WHATSAPP_REPLY_BUTTONS_MAX < len(choices) <= WHATSAPP_LIST_ROWS_MAX
        assert all(c.action is not None for c in choices)
        assert all(text_length(c.label) <= WHATSAPP_LIST_TITLE_MAX for c in choices)
        assert all(text_length(c.description) <= WHATSAPP_LIST_DESCRIPTION_MAX for c in choices)
        assert 1 <= text_length(message.list_button) <= WHATSAPP_LIST_BUTTON_MAX
    else:
        assert message.kind == "url"
        assert len(choices) == 1
        assert choices[0].url is not None
        assert text_length(choices[0].label) <= WHATSAPP_URL_LABEL_MAX


def expected_order(platform: str, rows: Sequence[Sequence[Choice]]) -> list[Choice]:
    flat = [choice for row in rows for choice in row]
    if platform == "whatsapp":
        return [c for c in flat if c.action is not None] + [c for c in flat if c.url is not None]
    return flat


LABEL_MAX = {"telegram": TELEGRAM_LABEL_MAX, "discord": DISCORD_LABEL_MAX}


def assert_label_kept(platform: str, kind: str, original: Choice, planned: Choice) -> None:
    if platform == "web":
        assert planned.label == original.label
    elif platform in LABEL_MAX:
        assert planned.label == shorten(original.label, LABEL_MAX[platform])
    elif kind == "buttons":
        assert planned.label == shorten(original.label, WHATSAPP_REPLY_TITLE_MAX)
    elif kind == "url":
        assert planned.label == shorten(original.label, WHATSAPP_URL_LABEL_MAX)
    else:
        label = " ".join(original.label.split())
        assert label.startswith(planned.label)
        rest = label[len(planned.label) :].strip()
        description = " · ".join(p for p in (rest, original.description.strip()) if p)
        assert planned.description == shorten(description, WHATSAPP_LIST_DESCRIPTION_MAX)


def assert_nothing_lost(
    platform: str,
    text: Markup,
    rows: Sequence[Sequence[Choice]],
    messages: Sequence[PlannedMessage],
    *,
    exact: bool = True,
) -> None:
    with_choices = [i for i, m in enumerate(messages) if m.rows]
    count = len(with_choices)
    if count:
        # Text first, then the choices: the first batch with the last piece of text, the
        # rest in numbered follow-ups.
        first = with_choices[0]
        assert with_choices == list(range(first, len(messages)))
        for number, index in enumerate(with_choices[1:], start=2):
            assert messages[index].text == Markup.of(f"{MORE} ({number}/{count})")
        text_messages = messages[: first + 1]
    else:
        text_messages = messages
    if text.plain().strip():
        joined = Markup.of(*(m.text for m in text_messages))
        if exact:
            assert joined == text
        else:
            # Only whitespace no message had room for may be left out.
            assert "".join(joined.plain().split()) == "".join(text.plain().split())
    else:
        assert [m.text for m in text_messages] == ([Markup.of(PROMPT)] if count else [])

    planned = [(m.kind, c) for m in messages for c in m.choices]
    originals = expected_order(platform, rows)
    assert [(c.action, c.url, c.style) for _, c in planned] == [
        (c.action, c.url, c.style) for c in originals
    ]
    for (kind, choice), original in zip(planned, originals, strict=True):
        assert_label_kept(platform, kind, original, choice)


def check(
    platform: str, text: Markup, rows: Sequence[Sequence[Choice]], *, exact: bool = True
) -> list[PlannedMessage]:
    messages = plan(platform, text, rows, prompt=PROMPT, more=MORE)
    assert_within_limits(platform, messages)
    assert_nothing_lost(platform, text, rows, messages, exact=exact)
    return messages


# --- how many choices ---------------------------------------------------------------------

CHOICE_COUNTS: dict[int, dict[str, list[str]]] = {
    0: {"telegram": ["text"], "discord": ["text"], "whatsapp": ["text"]},
    1: {"telegram": ["buttons"], "discord": ["buttons"], "whatsapp": ["buttons"]},
    3: {"telegram": ["buttons"], "discord": ["buttons"], "whatsapp": ["buttons"]},
    4: {"telegram": ["buttons"], "discord": ["buttons"], "whatsapp": ["list"]},
    10: {"telegram": ["buttons"], "discord": ["buttons"], "whatsapp": ["list"]},
    11: {"telegram": ["buttons"], "discord": ["buttons"], "whatsapp": ["list", "buttons"]},
    25: {"telegram": ["buttons"], "discord": ["buttons"], "whatsapp": ["list"] * 3},
    26: {"telegram": ["buttons"], "discord": ["buttons"] * 2, "whatsapp": ["list"] * 3},
    101: {
        "telegram": ["buttons"] * 2,
        "discord": ["buttons"] * 5,
        "whatsapp": ["list"] * 10 + ["buttons"],
    },
}


@pytest.mark.parametrize("platform", ["telegram", "discord", "whatsapp"])
@pytest.mark.parametrize("count", sorted(CHOICE_COUNTS))
@pytest.mark.parametrize("shape", ["one row", "one per row"])
def test_choices_are_spread_over_as_few_messages_as_the_platform_allows(
    platform: str, count: int, shape: str
) -> None:
    choices = [action_choice(n) for n in range(count)]
    rows = [choices] if shape == "one row" else [[c] for c in choices]
    messages = check(platform, Markup.of("Pick an offer"), rows)
    kinds = [m.kind for m in messages]
    if platform == "discord" and shape == "one per row":
        # One button a row, five rows a message.
        assert len(kinds) == max(1, -(-count // DISCORD_ROWS_PER_MESSAGE))
    else:
        assert kinds == CHOICE_COUNTS[count][platform]
    assert messages[0].text == Markup.of("Pick an offer")


@pytest.mark.parametrize("count", sorted(CHOICE_COUNTS))
def test_the_web_shows_every_choice_as_the_screen_arranged_them(count: int) -> None:
    rows = [[action_choice(n) for n in range(count)]] if count else []
    messages = check("web", Markup.of("Pick an offer"), rows)
    assert len(messages) == 1
    assert messages[0].rows == tuple(tuple(r) for r in rows)


def test_telegram_wraps_a_long_row_at_eight_buttons() -> None:
    (message,) = check("telegram", Markup.of("x"), [[action_choice(n) for n in range(20)]])
    assert [len(row) for row in message.rows] == [8, 8, 4]


def test_discord_keeps_the_screens_rows_and_wraps_them_at_five() -> None:
    rows = [[action_choice(1), action_choice(2)], [action_choice(n) for n in range(3, 10)]]
    (message,) = check("discord", Markup.of("x"), rows)
    assert [len(row) for row in message.rows] == [2, 5, 2]


def test_follow_up_messages_are_numbered() -> None:
    rows = [[action_choice(n) for n in range(row * 5, row * 5 + 5)] for row in range(12)]
    messages = check("discord", Markup.of("x"), rows)
    assert [m.text.plain() for m in messages] == [
        "x",
        "More options (2/3)",
        "More options (3/3)",
    ]


def test_whatsapp_sends_action_choices_first_then_one_message_per_url() -> None:
    rows = [[url_choice(1), action_choice(1), action_choice(2)], [url_choice(2)]]
    messages = check("whatsapp", Markup.of("Your order shipped"), rows)
    assert [m.kind for m in messages] == ["buttons", "url", "url"]
    assert messages[0].text == Markup.of("Your order shipped")
    assert [c.url for c in messages[1].choices] == [f"{URL}?n=1"]


def test_whatsapp_url_choices_alone_use_the_screen_text_as_their_body() -> None:
    messages = check("whatsapp", Markup.of("Track it"), [[url_choice(1, "Track parcel")]])
    assert [(m.kind, m.text.plain(), m.choices[0].label) for m in messages] == [
        ("url", "Track it", "Track parcel")
    ]


def test_telegram_and_discord_keep_url_buttons_among_the_others() -> None:
    rows = [[action_choice(1), url_choice(1)]]
    for platform in ("telegram", "discord"):
        (message,) = check(platform, Markup.of("x"), rows)
        assert message.rows == (tuple(rows[0]),)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("text", [Markup(), Markup.of("  \n ")])
def test_choices_without_text_get_the_prompt(platform: str, text: Markup) -> None:
    messages = check(platform, text, [[action_choice(1)]])
    assert messages[0].text == Markup.of(PROMPT)
    assert check(platform, text, []) == []


# --- labels -------------------------------------------------------------------------------

LABEL_LENGTHS = [19, 20, 21, 24, 25, 80, 81, 200]


def label_of(length: int) -> str:
    words = ("Approve creator number " + "seven " * 40)[:length]
    return words[:-1] + "x" if words.endswith(" ") else words


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("length", LABEL_LENGTHS)
@pytest.mark.parametrize("count", [1, 4])
def test_labels_are_shortened_only_as_far_as_the_platform_needs(
    platform: str, length: int, count: int
) -> None:
    label = label_of(length)
    rows = [[action_choice(n, label) for n in range(count)], [url_choice(1, label)]]
    messages = check(platform, Markup.of("Applications"), rows)
    first = messages[0].choices[0]
    limit = {
        "telegram": TELEGRAM_LABEL_MAX,
        "discord": DISCORD_LABEL_MAX,
        "web": 10**6,
        "whatsapp": WHATSAPP_REPLY_TITLE_MAX if count == 1 else WHATSAPP_LIST_TITLE_MAX,
    }[platform]
    if length <= limit:
        assert first.label == label
    elif platform == "whatsapp" and count > 1:
        assert first.description, "the rest of a long list label goes in the description"
        assert first.description.endswith("…") == (length > 24 + 1 + 72)
    else:
        assert first.label.endswith("…")
        assert text_length(first.label) == limit


@pytest.mark.parametrize(
    ("label", "title", "description"),
    [
        ("Approve all 12 applications", "Approve all 12", "applications"),
        ("Approve_all_twelve_applications", "Approve_all_twelve_appli", "cations"),
        ("Approve everything exactly", "Approve everything", "exactly"),
        ("Approve everything exact now", "Approve everything exact", "now"),
        ("Top  creators\nonly", "Top creators only", ""),
    ],
)
def test_a_long_whatsapp_list_label_continues_in_its_description(
    label: str, title: str, description: str
) -> None:
    rows = [[action_choice(1, label)] + [action_choice(n) for n in range(2, 5)]]
    (message,) = check("whatsapp", Markup.of("x"), rows)
    assert (message.choices[0].label, message.choices[0].description) == (title, description)


def test_a_screens_own_description_follows_the_rest_of_the_label() -> None:
    choice = Choice("Glow serum 30 ml, unscented", Action("of", (3,)), description="$20 fee")
    rows = [[choice] + [action_choice(n) for n in range(4)]]
    (message,) = check("whatsapp", Markup.of("Offers"), rows)
    assert message.choices[0].description == "unscented · $20 fee"


def test_shorten_counts_what_platforms_count() -> None:
    assert shorten("Approve   all", 20) == "Approve all"
    assert shorten("Approve all", 8) == "Approve…"
    assert shorten("😀" * 30, 20) == "😀" * 9 + "…"


# --- text length --------------------------------------------------------------------------

TEXT_SIZES = [1000, 1024, 1025, 2000, 2001, 4096, 4097, 10000]


def long_text(kind: str, size: int, *, styled: bool = True) -> Markup:
    if kind == "prose":
        raw = PROSE_LINE * (size // len(PROSE_LINE) + 1)
    elif kind == "hostile":
        raw = HOSTILE_LINE * (size // len(HOSTILE_LINE) + 1)
    else:
        raw = "w" * 5000 + "\n" + PROSE_LINE * (size // len(PROSE_LINE) + 1)
    raw = raw[:size]
    if not styled:
        return Markup.of(raw)
    third = size // 3
    return Markup.of(raw[:third], bold(raw[third : 2 * third]), raw[2 * third :])


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("size", TEXT_SIZES)
@pytest.mark.parametrize("kind", ["prose", "hostile", "5000-char word"])
@pytest.mark.parametrize("count", [0, 3])
def test_long_text_is_split_without_losing_a_character(
    platform: str, size: int, kind: str, count: int
) -> None:
    text = long_text(kind, size)
    assert len(text) == size
    check(platform, text, [[action_choice(n) for n in range(count)]])


@pytest.mark.parametrize(
    ("platform", "size", "count", "messages"),
    [
        ("telegram", 4096, 0, 1),
        ("telegram", 4097, 0, 2),
        ("telegram", 10000, 3, 3),
        ("discord", 2000, 0, 1),
        ("discord", 2001, 0, 2),
        ("discord", 10000, 3, 6),
        ("whatsapp", 1024, 3, 1),
        ("whatsapp", 1025, 3, 2),
        ("whatsapp", 4096, 0, 1),
        ("whatsapp", 4097, 0, 2),
        ("web", 4096, 3, 1),
        ("web", 4097, 3, 2),
    ],
)
def test_text_up_to_the_limit_is_one_message(
    platform: str, size: int, count: int, messages: int
) -> None:
    text = long_text("prose", size, styled=False)
    planned = check(platform, text, [[action_choice(n) for n in range(count)]])
    assert len(planned) == messages


def test_text_is_split_at_line_breaks_first() -> None:
    messages = check("telegram", long_text("prose", 10000), [])
    assert all(m.text.plain().endswith("\n") for m in messages[:-1])


def test_text_without_line_breaks_is_split_between_words() -> None:
    text = Markup.of("word " * 1000)
    messages = check("discord", text, [])
    assert all(m.text.plain().endswith(" ") for m in messages[:-1])


def test_a_single_huge_word_is_cut_at_the_limit() -> None:
    messages = check("telegram", Markup.of("w" * 5000), [])
    assert [len(m.text) for m in messages] == [4096, 904]


def test_escaping_counts_against_discords_limit() -> None:
    messages = check("discord", Markup.of("*" * 1500), [])
    assert [len(m.text) for m in messages] == [1000, 500]


def test_styles_survive_a_split() -> None:
    text = Markup.of(bold("b " * 1500), italic("i " * 1500))
    pieces = split_text(text, 2000, lambda m: m.length("discord"))
    assert Markup.of(*pieces) == text
    assert all(to_discord(piece).count("**") % 2 == 0 for piece in pieces)


def test_an_unknown_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="fax"):
        plan("fax", Markup.of("x"), [])


def test_a_blank_prompt_is_refused() -> None:
    with pytest.raises(ValueError, match="prompt"):
        plan("whatsapp", Markup(), [[action_choice(1)]], prompt=" ")


@pytest.mark.parametrize(
    ("label", "action", "url"),
    [
        ("", Action("ap"), None),
        ("  ", Action("ap"), None),
        ("Both", Action("ap"), URL),
        ("Neither", None, None),
        ("Bad link", None, "javascript:alert(1)"),
    ],
)
def test_a_choice_must_say_what_it_does(label: str, action: Action | None, url: str | None) -> None:
    with pytest.raises(ValueError, match="choice"):
        Choice(label, action, url)


# --- any input ----------------------------------------------------------------------------

styles = st.sampled_from(["plain", "bold", "italic", "code", "link"])
fragments = st.text(alphabet=st.sampled_from("ab *_~`<>@#-[]()\\\n😀é"), max_size=30)


@st.composite
def screens(draw: st.DrawFn) -> tuple[Markup, list[list[Choice]]]:
    parts = []
    for fragment, repeat, style in draw(
        st.lists(st.tuples(fragments, st.integers(1, 300), styles), max_size=6)
    ):
        chunk = fragment * repeat
        parts.append(
            {
                "plain": Markup.of(chunk),
                "bold": Markup.of(bold(chunk)),
                "italic": Markup.of(italic(chunk)),
                "code": Markup.of(code(chunk)),
                "link": Markup.of(link(chunk, URL)),
            }[style]
        )
    labels = st.text(min_size=1, max_size=120).filter(lambda s: s.strip())
    choices = st.builds(
        lambda label, number, is_url, style: Choice(
            label,
            None if is_url else Action("ap", (number,)),
            f"{URL}?n={number}" if is_url else None,
            style,
        ),
        labels,
        st.integers(0, 10**6),
        st.booleans(),
        st.sampled_from(["primary", "secondary", "success", "danger"]),
    )
    rows = draw(st.lists(st.lists(choices, max_size=12), max_size=12))
    return Markup.of(*parts), rows


@settings(max_examples=60, deadline=None)
@given(screen=screens(), platform=st.sampled_from(PLATFORMS))
def test_any_screen_fits_every_platform_and_loses_nothing(
    screen: tuple[Markup, list[list[Choice]]], platform: str
) -> None:
    text, rows = screen
    longest_blank = max((len(m) for m in re.findall(r"\s+", text.plain())), default=0)
    check(platform, text, rows, exact=longest_blank < WHATSAPP_BODY_MAX)
