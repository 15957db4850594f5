"""WhatsApp rendering: every message collabbot sends passes the Cloud API's checks (as the
strict fake applies them): at most 3 reply buttons with titles of at most 20, lists of at most
10 rows, one URL button per message, bodies within 1024 / 4096."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.whatsapp.render import WhatsAppMessage, render
from core.conversations.actions import Action, ActionCodec
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound
from storage.kv.memory import MemoryKeyValueStore
from tests.e2e.whatsapp_fake.validate import validate

ANA = "15550001001"
IMAGE = "https://m.media-amazon.com/images/I/board.jpg"


def codec() -> ActionCodec:
    return ActionCodec(b"whatsapp-render-test-secret", MemoryKeyValueStore())


def button(label: str, code: str = "o", *ids: int) -> Choice:
    return Choice(label, action=Action(code, ids or (len(label),)))


def valid(messages: list[WhatsAppMessage]) -> list[WhatsAppMessage]:
    for message in messages:
        validate(message.payload(ANA), {})
    return messages


async def test_plain_text_is_a_text_message() -> None:
    [message] = valid(await render(Outbound(Markup.of("Hello ", bold("Ana"))), codec()))
    assert message.type == "text"
    assert message.content["body"] == "Hello *Ana*"
    assert message.content["preview_url"] is False


async def test_up_to_three_choices_are_reply_buttons_with_signed_ids() -> None:
    c = codec()
    outbound = Outbound(Markup.of("Pick one"), rows=[[button("Yes", "y", 1), button("No", "n", 1)]])
    [message] = valid(await render(outbound, c))
    assert message.content["type"] == "button"
    buttons = message.content["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Yes", "No"]
    assert await c.decode(buttons[0]["reply"]["id"]) == Action("y", (1,))


async def test_four_to_ten_choices_are_a_list_and_more_spill_over() -> None:
    rows = [[button(f"Category number {i} with a long name", "c", i)] for i in range(13)]
    messages = valid(await render(Outbound(Markup.of("Categories"), rows=rows), codec()))
    assert [m.content["type"] for m in messages] == ["list", "button"]
    first = messages[0].content
    assert first["body"]["text"] == "Categories"
    assert len(first["action"]["sections"][0]["rows"]) == 10
    row = first["action"]["sections"][0]["rows"][0]
    assert len(row["title"]) <= 24
    assert "description" in row  # the rest of the long label
    assert messages[1].content["body"]["text"].startswith("More options (2/2)")


async def test_a_url_choice_is_a_call_to_action_button() -> None:
    outbound = Outbound(
        Markup.of("Shipped"),
        rows=[[Choice("Track the parcel on the carrier site", url="https://ups.com/t?n=1Z")]],
    )
    [message] = valid(await render(outbound, codec()))
    assert message.content["type"] == "cta_url"
    parameters = message.content["action"]["parameters"]
    assert parameters["url"] == "https://ups.com/t?n=1Z"
    assert len(parameters["display_text"]) <= 20


async def test_an_image_is_the_header_of_buttons() -> None:
    outbound = Outbound(Markup.of("New offer"), rows=[[button("View")]], image_url=IMAGE)
    [message] = valid(await render(outbound, codec()))
    assert message.content["header"] == {"type": "image", "image": {"link": IMAGE}}


async def test_an_image_with_short_text_is_a_captioned_image() -> None:
    [message] = valid(await render(Outbound(Markup.of("Look"), image_url=IMAGE), codec()))
    assert message.type == "image"
    assert message.content == {"link": IMAGE, "caption": "Look"}


async def test_an_image_before_a_list_is_its_own_message() -> None:
    rows = [[button(f"Row {i}", "r", i)] for i in range(5)]
    messages = valid(await render(Outbound(Markup.of("Pick"), rows=rows, image_url=IMAGE), codec()))
    assert [m.type for m in messages] == ["image", "interactive"]


async def test_text_over_the_interactive_limit_goes_before_the_buttons() -> None:
    text = "\n".join(f"Line {i}: " + "x" * 60 for i in range(40))
    messages = valid(await render(Outbound(Markup.of(text), rows=[[button("Ok")]]), codec()))
    assert messages[-1].type == "interactive"
    assert all(m.type == "text" for m in messages[:-1])


async def test_buttons_with_the_same_short_title_are_told_apart() -> None:
    rows = [
        [
            button("Approve application of Ana Lima", "a", 1),
            button("Approve application of Ana Silva", "a", 2),
        ]
    ]
    [message] = valid(await render(Outbound(Markup.of("Who?"), rows=rows), codec()))
    titles = [b["reply"]["title"] for b in message.content["action"]["buttons"]]
    assert len(set(titles)) == 2
    assert all(len(t) <= 20 for t in titles)


async def test_the_same_action_twice_is_one_button() -> None:
    rows = [[button("Open", "od", 7), button("Open order", "od", 7)]]
    [message] = valid(await render(Outbound(Markup.of("Order"), rows=rows), codec()))
    assert len(message.content["action"]["buttons"]) == 1


labels = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60
).filter(lambda s: bool(s.strip()))
choices = st.one_of(
    st.builds(
        lambda label, i: Choice(label, action=Action("x", (i,))), labels, st.integers(0, 10**6)
    ),
    st.builds(
        lambda label, i: Choice(label, url=f"https://example.com/{i}"), labels, st.integers(0, 99)
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(min_size=0, max_size=5000),
    rows=st.lists(st.lists(choices, min_size=1, max_size=4), max_size=8),
    image=st.booleans(),
)
async def test_whatever_a_screen_shows_fits_whatsapp(
    text: str, rows: list[list[Choice]], image: bool
) -> None:
    c = codec()
    outbound = Outbound(Markup.of(text), rows=rows, image_url=IMAGE if image else "")
    messages = valid(await render(outbound, c))
    ids = [
        item["reply"]["id"] if "reply" in item else item["id"]
        for m in messages
        for item in m.content.get("action", {}).get("buttons", [])
        + [r for s in m.content.get("action", {}).get("sections", []) for r in s["rows"]]
    ]
    urls = [
        m.content["action"]["parameters"]["url"]
        for m in messages
        if m.content.get("type") == "cta_url"
    ]
    # Nothing is dropped: every action and every link of the screen can be reached.
    assert {await c.decode(i) for i in ids} == {
        ch.action for row in rows for ch in row if ch.action
    }
    assert sorted(urls) == sorted(ch.url for row in rows for ch in row if ch.url)
