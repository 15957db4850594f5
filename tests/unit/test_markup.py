"""Rich text for every channel: user text always shows as typed, styles only where asked."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.conversations.markup import (
    ZERO_WIDTH_SPACE,
    Markup,
    Span,
    bold,
    code,
    is_web_url,
    italic,
    link,
    plain,
    text_length,
    to_discord,
    to_html,
    to_plain,
    to_telegram_html,
    to_whatsapp,
)

ZW = ZERO_WIDTH_SPACE
HOSTILE = "<b>*_[x](y)"
HOSTILE_2 = "a_b*c~"
SHIPPED = Markup.of("Order ", bold("CB-2S"), " shipped")
TRACK = "https://track.example.com/p?id=1&x=2"


# --- the model ----------------------------------------------------------------------------


def test_markup_is_built_from_strings_spans_and_markups() -> None:
    assert SHIPPED.spans == (Span("Order "), Span("CB-2S", "bold"), Span(" shipped"))
    assert SHIPPED.plain() == "Order CB-2S shipped"
    assert len(SHIPPED) == len("Order CB-2S shipped")
    assert list(SHIPPED) == list(SHIPPED.spans)


def test_neighbouring_spans_of_one_style_merge_and_empty_spans_vanish() -> None:
    assert Markup.of("a", "", "b", bold(""), bold("c"), bold("d")) == Markup.of("ab", bold("cd"))
    assert Markup.of(link("a", TRACK), link("b", TRACK)) == Markup.of(link("ab", TRACK))
    assert Markup.of(link("a", TRACK), link("b", "https://other.example")).spans[1].text == "b"


def test_plus_concatenates_in_either_order() -> None:
    assert "Hi " + bold("Ana") + "!" == Markup.of("Hi ", bold("Ana"), "!")
    assert Markup.of(SHIPPED, ".") == SHIPPED + "."
    assert Markup.of("> ", SHIPPED) == "> " + SHIPPED
    assert bold("a") + SHIPPED == Markup.of(bold("a"), SHIPPED)


def test_lines_puts_each_part_on_its_own_line() -> None:
    markup = Markup.lines(bold("Offer"), "Price: $20", Markup.of("Fee ", code("$5")))
    assert markup.plain() == "Offer\nPrice: $20\nFee $5"
    assert Markup.lines() == Markup()
    assert not Markup.lines()


def test_slice_keeps_styles_and_the_slices_add_up_to_the_whole() -> None:
    markup = Markup.of("ab", bold("cde"), link("fg", TRACK))
    assert markup.slice(1, 4) == Markup.of("b", bold("cd"))
    assert markup.slice(4, 7) == Markup.of(bold("e"), link("fg", TRACK))
    assert markup.slice(0, 2) + markup.slice(2, 7) == markup


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("telegram", len("Order CB-2S shipped")),
        ("web", len("Order CB-2S shipped")),
        ("discord", len("Order **CB\\-2S** shipped")),
        ("whatsapp", len("Order *CB-2S* shipped")),
    ],
)
def test_length_counts_what_each_platform_counts(platform: str, expected: int) -> None:
    assert SHIPPED.length(platform) == expected


def test_length_counts_utf16_code_units() -> None:
    assert text_length("😀") == 2
    assert Markup.of("a😀").length("telegram") == 3
    with pytest.raises(ValueError, match="Unknown platform"):
        SHIPPED.length("fax")


def test_a_link_span_needs_a_url_and_only_a_link_may_have_one() -> None:
    with pytest.raises(ValueError, match="url"):
        Span("x", "link")
    with pytest.raises(ValueError, match="url"):
        Span("x", "bold", TRACK)
    with pytest.raises(ValueError, match="style"):
        Span("x", "underline")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Markup.of(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com", True),
        ("http://example.com/a?b=c&d=e#f", True),
        ("HTTPS://EXAMPLE.COM", True),
        ("javascript:alert(1)", False),
        ("tg://user?id=1", False),
        ("ftp://example.com", False),
        ("https://", False),
        ("//example.com", False),
        ("https://exa mple.com", False),
        ('https://example.com/"onmouseover', False),
        ("https://example.com/<script>", False),
        ("https://example.com/\n", False),
        ("https://[::1", False),
        ("", False),
    ],
)
def test_only_http_and_https_urls_are_links(url: str, ok: bool) -> None:
    assert is_web_url(url) is ok


# --- renderers, table-driven --------------------------------------------------------------

# (markup, then what each of RENDERERS makes of it: telegram, discord, whatsapp, plain, web)
CASES: list[tuple[Markup, str, str, str, str, str]] = [
    (
        SHIPPED,
        "Order <b>CB-2S</b> shipped",
        "Order **CB\\-2S** shipped",
        "Order *CB-2S* shipped",
        "Order CB-2S shipped",
        "Order <strong>CB-2S</strong> shipped",
    ),
    (
        Markup.of(HOSTILE),
        "&lt;b&gt;*_[x](y)",
        "\\<b\\>\\*\\_\\[x\\]\\(y\\)",
        "<b>\u2217\u02cd[x](y)",
        HOSTILE,
        "&lt;b&gt;*_[x](y)",
    ),
    (
        Markup.of(HOSTILE_2),
        "a_b*c~",
        "a\\_b\\*c\\~",
        "a\u02cdb\u2217c\u223c",
        HOSTILE_2,
        "a_b*c~",
    ),
    (
        Markup.of(bold(HOSTILE)),
        "<b>&lt;b&gt;*_[x](y)</b>",
        "**\\<b\\>\\*\\_\\[x\\]\\(y\\)**",
        "*<b>\u2217\u02cd[x](y)*",
        HOSTILE,
        "<strong>&lt;b&gt;*_[x](y)</strong>",
    ),
    (
        Markup.of("Hi @everyone & <@123> #general |spoiler| > quote -# small"),
        "Hi @everyone &amp; &lt;@123&gt; #general |spoiler| &gt; quote -# small",
        f"Hi @{ZW}everyone & \\<@{ZW}123\\> \\#general \\|spoiler\\| \\> quote \\-\\# small",
        "Hi @everyone & <@123> #general |spoiler| > quote -# small",
        "Hi @everyone & <@123> #general |spoiler| > quote -# small",
        "Hi @everyone &amp; &lt;@123&gt; #general |spoiler| &gt; quote -# small",
    ),
    (
        Markup.of(italic("note"), bold("!")),
        "<i>note</i><b>!</b>",
        f"*note*{ZW}**!**",
        f"_note_{ZW}*!*",
        "note!",
        "<em>note</em><strong>!</strong>",
    ),
    (
        Markup.of("Fee ", bold(" $5 "), "now"),
        "Fee <b> $5 </b>now",
        "Fee  **$5** now",
        "Fee  *$5* now",
        "Fee  $5 now",
        "Fee <strong> $5 </strong>now",
    ),
    (
        Markup.of(bold("two\nlines"), bold("   ")),
        "<b>two\nlines   </b>",
        "**two**\n**lines**   ",
        "*two*\n*lines*   ",
        "two\nlines   ",
        "<strong>two<br>lines   </strong>",
    ),
    (
        Markup.of("Tracking ", code("1Z_99*9`x"), " / ", code("@here")),
        "Tracking <code>1Z_99*9`x</code> / <code>@here</code>",
        f"Tracking 1Z\\_99\\*9\\`x / `@{ZW}here`",
        "Tracking ```1Z\u02cd99\u22179\u02cbx``` / ```@here```",
        "Tracking 1Z_99*9`x / @here",
        "Tracking <code>1Z_99*9`x</code> / <code>@here</code>",
    ),
    (
        Markup.of(link("Track it", TRACK), " now"),
        f'<a href="{TRACK.replace("&", "&amp;")}">Track it</a> now',
        f"[Track it]({TRACK}) now",
        f"Track it: {TRACK} now",
        "Track it now",
        f'<a href="{TRACK.replace("&", "&amp;")}" rel="nofollow noopener noreferrer">'
        "Track it</a> now",
    ),
    (
        Markup.of(link("[x](y)", "https://a.example/(b)"), "next"),
        '<a href="https://a.example/(b)">[x](y)</a>next',
        "[\\[x\\]\\(y\\)](https://a.example/%28b%29)next",
        "[x](y): https://a.example/(b) next",
        "[x](y)next",
        '<a href="https://a.example/(b)" rel="nofollow noopener noreferrer">[x](y)</a>next',
    ),
    (
        Markup.of(link("https://a.example", "https://a.example"), "!"),
        '<a href="https://a.example">https://a.example</a>!',
        "[https://a.example](https://a.example)!",
        "https://a.example !",
        "https://a.example!",
        '<a href="https://a.example" rel="nofollow noopener noreferrer">https://a.example</a>!',
    ),
    (
        Markup.of(link("<click>", "javascript:alert(1)")),
        "&lt;click&gt;",
        "\\<click\\>",
        "<click>",
        "<click>",
        "&lt;click&gt;",
    ),
    (
        Markup.of("\"quoted\" & 'single'"),
        "\"quoted\" &amp; 'single'",
        "\"quoted\" & 'single'",
        "\"quoted\" & 'single'",
        "\"quoted\" & 'single'",
        "&quot;quoted&quot; &amp; &#x27;single&#x27;",
    ),
    (
        Markup.lines("> not a quote", "plain"),
        "&gt; not a quote\nplain",
        "\\> not a quote\nplain",
        f"{ZW}> not a quote\nplain",
        "> not a quote\nplain",
        "&gt; not a quote<br>plain",
    ),
    (Markup(), "", "", "", "", ""),
]


RENDERERS = [to_telegram_html, to_discord, to_whatsapp, to_plain, to_html]


@pytest.mark.parametrize(
    ("renderer", "markup", "expected"),
    [
        pytest.param(renderer, case[0], case[column], id=f"{renderer.__name__}-{row}")
        for column, renderer in enumerate(RENDERERS, start=1)
        for row, case in enumerate(CASES)
    ],
)
def test_each_renderer_shows_user_text_as_typed(
    renderer: Callable[[Markup], str], markup: Markup, expected: str
) -> None:
    assert renderer(markup) == expected


# --- properties ---------------------------------------------------------------------------

URLS = st.sampled_from([TRACK, "https://a.example/(x)_*", "javascript:alert(1)", "nope"])


@st.composite
def markups(draw: st.DrawFn) -> tuple[Markup, list[str]]:
    """A markup built from arbitrary strings, and the strings it was built from."""
    texts = draw(st.lists(st.text(), max_size=8))
    parts: list[str | Span] = []
    for text in texts:
        kind = draw(st.sampled_from(["str", "plain", "bold", "italic", "code", "link"]))
        if kind == "str":
            parts.append(text)
        elif kind == "link":
            parts.append(link(text, draw(URLS)))
        else:
            parts.append({"plain": plain, "bold": bold, "italic": italic, "code": code}[kind](text))
    return Markup.of(*parts), texts


class _TagRecorder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.data.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError(f"comment in output: {data!r}")

    def handle_decl(self, decl: str) -> None:
        raise AssertionError(f"declaration in output: {decl!r}")

    def handle_pi(self, data: str) -> None:
        raise AssertionError(f"processing instruction in output: {data!r}")

    def unknown_decl(self, data: str) -> None:
        raise AssertionError(f"declaration in output: {data!r}")


def _parsed(markup_html: str) -> _TagRecorder:
    parser = _TagRecorder()
    parser.feed(markup_html)
    parser.close()
    return parser


@given(markups())
def test_plain_text_is_exactly_the_strings_it_was_built_from(
    built: tuple[Markup, list[str]],
) -> None:
    markup, texts = built
    assert to_plain(markup) == "".join(texts)
    assert len(markup) == len("".join(texts))


_TELEGRAM_GENERATED_TAG = re.compile(r'</?(?:b|i|code)>|<a href="[^"<>]*">|</a>')


@given(markups())
def test_telegram_html_has_only_its_own_tags_and_shows_every_character(
    built: tuple[Markup, list[str]],
) -> None:
    markup, texts = built
    rendered = to_telegram_html(markup)
    parsed = _parsed(rendered)
    assert {tag for tag, _ in parsed.tags} <= {"b", "i", "code", "a"}
    for tag, attrs in parsed.tags:
        if tag == "a":
            assert len(attrs) == 1
            assert attrs[0][0] == "href"
            assert is_web_url(attrs[0][1] or "")
    assert "".join(parsed.data) == "".join(texts)
    outside_tags = _TELEGRAM_GENERATED_TAG.sub("", rendered)
    assert "<" not in outside_tags
    assert ">" not in outside_tags


@given(markups())
def test_web_html_has_only_its_own_tags_and_shows_every_character(
    built: tuple[Markup, list[str]],
) -> None:
    markup, texts = built
    parsed = _parsed(to_html(markup))
    assert {tag for tag, _ in parsed.tags} <= {"strong", "em", "code", "a", "br"}
    assert "".join(parsed.data) == "".join(texts).replace("\n", "")


_DISCORD_SPECIAL = set("\\*_~`|>#-[]()<")


def _unescape_discord(rendered: str) -> str:
    """Undo the escaping, asserting that every special character was escaped."""
    out: list[str] = []
    chars = iter(rendered)
    for char in chars:
        if char == "\\":
            escaped = next(chars)
            assert escaped in _DISCORD_SPECIAL
            out.append(escaped)
        else:
            assert char not in _DISCORD_SPECIAL, rendered
            out.append(char)
    return "".join(out).replace("@" + ZW, "@")


@given(st.text().filter(lambda s: ZW not in s))
def test_discord_escapes_every_markdown_character_and_every_mention(text: str) -> None:
    rendered = to_discord(Markup.of(text))
    assert _unescape_discord(rendered) == text
    assert re.search(r"@(?!\u200b)", rendered) is None


_LOOKALIKES = "\u2217\u02cd\u223c\u02cb"


@given(st.text().filter(lambda s: ZW not in s and not set(_LOOKALIKES) & set(s)))
def test_whatsapp_user_text_can_never_start_a_style_or_a_quote(text: str) -> None:
    rendered = to_whatsapp(Markup.of(text))
    assert not set("*_~`") & set(rendered)
    assert not any(line.startswith(">") for line in rendered.split("\n"))
    undone = rendered.replace(ZW, "").translate(str.maketrans(_LOOKALIKES, "*_~`"))
    assert undone == text


@given(markups())
def test_every_renderer_accepts_any_markup(built: tuple[Markup, list[str]]) -> None:
    markup, _ = built
    for platform in ("telegram", "discord", "whatsapp", "web"):
        assert markup.length(platform) >= text_length(markup.plain())
