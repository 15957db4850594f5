"""Discord rendering: what a screen becomes on Discord — within its limits (2000 characters,
5 rows of 5 buttons, labels of 80, custom ids of 100 and unique per message), with an answer
button when the screen waits for typed text."""

from __future__ import annotations

import discord
import pytest

from bots.discord.components import ActionButton, AnswerButton, message_kwargs, view_for
from bots.discord.render import (
    Button,
    DiscordMessage,
    PromptSpec,
    decode_spec,
    encode_spec,
    payload_of,
    render,
    spec_of,
)
from core.conversations.actions import Action, ActionCodec
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound, Prompt
from storage.kv.memory import MemoryKeyValueStore


@pytest.fixture
def codec() -> ActionCodec:
    return ActionCodec(b"render-test-secret-0123456789", MemoryKeyValueStore())


def choices(count: int, code: str = "m", label: str = "Option") -> list[Choice]:
    return [Choice(f"{label} {i}", action=Action(code, (i,))) for i in range(count)]


def within_limits(message: DiscordMessage) -> None:
    assert 0 < len(message.content) <= 2000
    assert len(message.rows) <= 5
    assert all(1 <= len(row) <= 5 for row in message.rows)
    ids = [b.custom_id for b in message.buttons if b.custom_id]
    assert len(ids) == len(set(ids))
    assert all(len(i) <= 100 for i in ids)
    assert all(0 < len(b.label) <= 80 for b in message.buttons)


async def test_a_screen_becomes_markdown_with_buttons(codec: ActionCodec) -> None:
    outbound = Outbound(
        Markup.of(bold("Offers"), " for you"),
        rows=(
            (
                Choice("Claim", action=Action("cl", (5,)), style="success"),
                Choice("Amazon page", url="https://www.amazon.com/dp/B0C1234567"),
            ),
        ),
    )
    [message] = await render(outbound, codec)
    assert message.content == "**Offers** for you"
    claim, page = message.buttons
    assert claim.style == "success"
    assert await codec.decode(claim.custom_id) == Action("cl", (5,))
    assert (page.style, page.url, page.custom_id) == (
        "link",
        "https://www.amazon.com/dp/B0C1234567",
        "",
    )


@pytest.mark.parametrize(("count", "messages"), [(5, 1), (25, 1), (26, 2), (60, 3)])
async def test_many_buttons_spill_into_more_messages(
    codec: ActionCodec, count: int, messages: int
) -> None:
    rendered = await render(Outbound(Markup.of("Pick"), rows=[choices(count)]), codec)
    assert len(rendered) == messages
    for message in rendered:
        within_limits(message)
    assert sum(len(m.buttons) for m in rendered) == count


async def test_long_text_and_labels_are_cut_to_discords_limits(codec: ActionCodec) -> None:
    text = Markup.of("\n".join("word " * 30 for _ in range(50)))
    rendered = await render(Outbound(text, rows=[choices(3, label="x" * 200)]), codec)
    assert len(rendered) >= 4
    for message in rendered:
        within_limits(message)
    assert rendered[-1].buttons[0].label.endswith("…")


async def test_the_same_action_twice_gets_two_custom_ids_with_one_payload(
    codec: ActionCodec,
) -> None:
    menu = Choice("Menu", action=Action("m"))
    [message] = await render(Outbound(Markup.of("Hi"), rows=[[menu], [menu]]), codec)
    first, second = (b.custom_id for b in message.buttons)
    assert first != second
    assert payload_of(first) == payload_of(second) == first
    assert await codec.decode(payload_of(second)) == Action("m")


async def test_a_screen_waiting_for_text_gets_an_answer_button(codec: ActionCodec) -> None:
    prompt = Prompt("tracking", "Tracking number", max_length=40)
    rendered = await render(
        Outbound(Markup.of("Send the tracking number"), rows=[choices(2)], prompt=prompt), codec
    )
    [message] = rendered
    assert [len(row) for row in message.rows] == [2, 1]
    answer = message.rows[-1][0]
    assert answer.label == "✍ Tracking number"
    assert decode_spec(answer.custom_id) == PromptSpec("tracking", "Tracking number", "", False, 40)


async def test_the_answer_button_finds_room_or_a_message_of_its_own(codec: ActionCodec) -> None:
    prompt = Prompt("note", "Note")
    five_rows = [choices(4, code=f"a{r}") for r in range(5)]
    [message] = await render(Outbound(Markup.of("x"), rows=five_rows, prompt=prompt), codec)
    assert [len(row) for row in message.rows] == [4, 4, 4, 4, 5]
    assert message.rows[-1][-1].label == "✍ Note"

    full = [choices(5, code=f"a{r}") for r in range(5)]
    rendered = await render(Outbound(Markup.of("x"), rows=full, prompt=prompt), codec)
    assert len(rendered) == 2
    assert rendered[-1].content == "Note"
    assert [b.label for b in rendered[-1].buttons] == ["✍ Note"]
    for message in rendered:
        within_limits(message)


@pytest.mark.parametrize(
    "prompt",
    [
        Prompt("address", "Shipping address", multiline=True, max_length=800),
        Prompt("storefront", "Storefront URL", "https://www.amazon.com/shop/…"),
        Prompt("name|x", "A label | with bars " + "long " * 20, "p" * 300, max_length=99999),
        Prompt("reason", "原因", "请说明", multiline=True),
    ],
)
def test_an_answer_button_carries_its_modal(prompt: Prompt) -> None:
    spec = spec_of(prompt)
    custom_id = encode_spec(spec)
    assert len(custom_id) <= 100
    decoded = decode_spec(custom_id)
    assert decoded is not None
    assert (decoded.field, decoded.label, decoded.multiline) == (
        spec.field,
        spec.label,
        spec.multiline,
    )
    assert decoded.max_length == spec.max_length <= 4000
    assert len(decoded.label) <= 45
    assert spec.placeholder.startswith(decoded.placeholder)


@pytest.mark.parametrize(
    "custom_id",
    ["ask|", "ask|x1|f|l|", "ask|s0|f|l|", "ask|s5000|f|l|", "ask|s10||l|", "1:m::x:AAAAAAAA"],
)
def test_malformed_answer_buttons_are_not_modals(custom_id: str) -> None:
    assert decode_spec(custom_id) is None


def test_views_hold_only_persistent_buttons_and_links_row_by_row() -> None:
    message = DiscordMessage(
        "x",
        (
            (
                Button("Claim", "1:cl:5::AAAAAAAA", style="success"),
                Button("Page", url="https://www.amazon.com/dp/B0C1234567", style="link"),
            ),
            (Button("✍ Note", "ask|p500|note|Note|", style="primary"),),
        ),
    )
    view = view_for(message)
    assert view is not None
    assert view.timeout is None
    claim, page, note = view.children
    assert isinstance(claim, ActionButton)
    assert isinstance(note, AnswerButton)
    assert isinstance(page, discord.ui.Button)
    assert page.url
    assert [item.row for item in view.children] == [0, 0, 1]
    assert all(item.is_persistent() for item in view.children)


def test_an_edit_always_says_what_the_buttons_are_now() -> None:
    assert message_kwargs(DiscordMessage("plain"), edit=True) == {
        "content": "plain",
        "view": None,
        "embed": None,
    }
    assert message_kwargs(DiscordMessage("plain")) == {"content": "plain"}
    with_image = message_kwargs(DiscordMessage("pic", image_url="https://example.com/a.png"))
    assert with_image["embed"].image.url == "https://example.com/a.png"
