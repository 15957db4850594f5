"""The web playground's channel, without a browser: how core messages become bubbles, how
page events become inbound events, the chat histories and live pushes, and the routes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bots.demo import DEMO_LOGINS
from bots.http_app import HttpApp
from bots.web.bridge import BadEvent, WebBridge, inbound_from_event, parse_event
from bots.web.channel import QUEUE_SIZE, WebChannel
from bots.web.people import PEOPLE, person
from bots.web.render import render
from bots.web.routes import playground_router
from core.conversations.actions import Action, ActionCodec
from core.conversations.engine import ConversationEngine
from core.conversations.layout import WEB_TEXT_MAX, Choice
from core.conversations.markup import Markup, bold, link
from core.conversations.messages import Inbound, InboundKind, Outbound, Prompt
from core.domain.common import Platform
from storage.kv.memory import MemoryKeyValueStore
from tests.unit.chat import engine_for
from tests.unit.world import World

CREATOR = person("demo-creator-1")
assert CREATOR is not None


def codec() -> ActionCodec:
    return ActionCodec(b"test-secret-for-buttons", MemoryKeyValueStore())


def button(label: str, code: str, *ids: int, **extra: Any) -> Choice:
    return Choice(label, action=Action(code, ids), **extra)


# --- who may be played ----------------------------------------------------------------------


def test_only_the_demo_web_people_can_be_played() -> None:
    assert {f"web:{p.user_id}" for p in PEOPLE} == set(DEMO_LOGINS)
    assert {p.group for p in PEOPLE} == {"operator", "seller", "creator"}
    assert person("web:demo-seller-lumina") == person("demo-seller-lumina")
    for stranger in ("demo-creator-99", "telegram:7100000001", "7100000001", "", "web:"):
        assert person(stranger) is None


# --- rendering ------------------------------------------------------------------------------


async def test_a_message_becomes_a_bubble_with_escaped_html_and_signed_buttons() -> None:
    buttons = codec()
    message = Outbound(
        Markup.lines(
            Markup.of(bold('<script>alert("x")</script>')),
            "Tom & Jerry's <b>",
            Markup.of(link("View", "https://www.amazon.com/dp/B0C1234567")),
        ),
        rows=(
            (button("✋ Claim", "c", 7, style="primary"), button("Back", "h", 1)),
            (Choice("Track", url="https://example.com/t?a=1&b=2"),),
        ),
        image_url="https://images.example.com/board.jpg",
        prompt=Prompt("tracking", "Type the tracking number", placeholder="1Z…"),
    )
    [part] = await render(message, buttons)
    assert part.html == (
        "<strong>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</strong><br>"
        "Tom &amp; Jerry&#x27;s &lt;b&gt;<br>"
        '<a href="https://www.amazon.com/dp/B0C1234567" rel="nofollow noopener noreferrer">'
        "View</a>"
    )
    assert part.image == "https://images.example.com/board.jpg"
    assert part.prompt is not None
    assert part.prompt.label == "Type the tracking number"
    (claim, back), (track,) = part.buttons
    assert (claim.label, claim.style, back.style) == ("✋ Claim", "primary", "secondary")
    assert await buttons.decode(claim.payload) == Action("c", (7,))
    assert await buttons.decode(back.payload) == Action("h", (1,))
    assert (track.url, track.payload) == ("https://example.com/t?a=1&b=2", "")
    assert track.as_json() == {
        "label": "Track",
        "style": "secondary",
        "url": "https://example.com/t?a=1&b=2",
    }


async def test_long_text_is_split_and_only_web_images_are_shown() -> None:
    line = "word " * 20 + "\n"
    text = Markup.of(line * (2 * WEB_TEXT_MAX // len(line) + 1))
    message = Outbound(
        text,
        rows=((button("OK", "h", 1),),),
        image_url="javascript:alert(1)",
        prompt=Prompt("note", "Your note"),
    )
    parts = await render(message, codec())
    assert len(parts) == 3
    assert all(part.image == "" for part in parts)
    assert [part.prompt is not None for part in parts] == [False, False, True]
    assert [bool(part.buttons) for part in parts] == [False, False, True]
    assert "".join(p.html for p in parts).replace("<br>", "\n") == text.plain()


# --- page events ----------------------------------------------------------------------------


def test_page_events_become_inbound_events() -> None:
    text = inbound_from_event(CREATOR, {"type": "text", "text": "hello there"}, "e1")
    assert (text.platform, text.user_id, text.chat_id) == (
        Platform.WEB,
        "demo-creator-1",
        "demo-creator-1",
    )
    assert (text.kind, text.text, text.event_id) == (InboundKind.TEXT, "hello there", "e1")
    assert text.display_name == "Maya Chen"

    command = inbound_from_event(CREATOR, {"type": "text", "text": " /Verify@collabbot 12 "}, "e2")
    assert (command.kind, command.command, command.args) == (InboundKind.COMMAND, "verify", "12")

    press = inbound_from_event(
        CREATOR, {"type": "press", "payload": "1:h:1::x", "message": "m4"}, "e3"
    )
    assert (press.kind, press.payload, press.message_id) == (InboundKind.ACTION, "1:h:1::x", "m4")

    file = inbound_from_event(
        CREATOR,
        {"type": "file", "name": "take2.mp4", "mime": "video/mp4", "size": 1234, "caption": "v2"},
        "e4",
    )
    assert file.kind is InboundKind.FILE
    assert file.file is not None
    assert (file.file.kind, file.file.name, file.file.size, file.text) == (
        "video",
        "take2.mp4",
        1234,
        "v2",
    )
    assert file.file.file_id.startswith("web-file-")
    picture = inbound_from_event(CREATOR, {"type": "file", "mime": "image/png"}, "e5")
    assert picture.file is not None
    assert picture.file.kind == "photo"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"type": "hack"},
        {"type": "text"},
        {"type": "text", "text": "   "},
        {"type": "text", "text": 12},
        {"type": "text", "text": "x" * 8001},
        {"type": "press"},
        {"type": "press", "payload": ["1:h:1::x"]},
        {"type": "press", "payload": "p" * 257},
        {"type": "file", "size": -1},
        {"type": "file", "size": True},
        {"type": "file", "size": 1.5},
        {"type": "file", "name": "n" * 256},
    ],
)
def test_anything_else_from_a_page_is_refused(event: dict[str, Any]) -> None:
    with pytest.raises(BadEvent):
        inbound_from_event(CREATOR, event, "e")


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '"text"', "{" * 100_000])
def test_a_page_event_must_be_one_small_json_object(raw: str) -> None:
    with pytest.raises(BadEvent):
        parse_event(raw)


# --- the channel: histories and pages -------------------------------------------------------


async def test_a_notice_reaches_every_open_page_and_waits_for_the_next_one() -> None:
    channel = WebChannel(codec(), now=lambda: "2026-03-02T09:00:00+00:00")
    first, history = channel.subscribe("demo-creator-1")
    second, _ = channel.subscribe("demo-creator-1")
    other, _ = channel.subscribe("demo-creator-2")
    assert history == []

    await channel.send("demo-creator-1", Outbound(Markup.of("🎉 You were selected")))

    for page in (first, second):
        event = await page.next_event()
        assert event is not None
        assert event["type"] == "message"
        assert event["message"]["kind"] == "notice"
        assert event["message"]["html"] == "🎉 You were selected"
        assert event["message"]["at"] == "2026-03-02T09:00:00+00:00"
    assert other.queue.empty()

    # Nobody has the page open: the notice is kept, never refused as unreachable.
    await channel.send("demo-seller-glow", Outbound(Markup.of("New video")))
    assert channel.pages("demo-seller-glow") == 0
    late, history = channel.subscribe("demo-seller-glow")
    assert [bubble.html for bubble in history] == ["New video"]
    assert late.queue.empty()
    assert channel.sent == 2


async def test_an_edit_replaces_the_pressed_bubble_in_place() -> None:
    channel = WebChannel(codec())
    [menu] = await channel.post("c", Outbound(Markup.of("menu"), rows=((button("A", "h", 1),),)))
    channel.post_mine("c", "/help")
    page, _ = channel.subscribe("c")

    [edited] = await channel.post("c", Outbound(Markup.of("page 2"), edit=True), replace=menu.id)
    assert edited.id == menu.id
    assert edited.edited
    assert [(b.id, b.html or b.text) for b in channel.history("c")] == [
        (menu.id, "page 2"),
        (channel.history("c")[1].id, "/help"),
    ]
    event = await page.next_event()
    assert event is not None
    assert event["type"] == "replace"
    assert event["message"]["id"] == menu.id
    assert event["message"]["buttons"] == []

    # Not an edit, or the bubble is gone: a new bubble instead.
    await channel.post("c", Outbound(Markup.of("new")), replace=menu.id)
    await channel.post("c", Outbound(Markup.of("gone"), edit=True), replace="m999")
    assert [b.html or b.text for b in channel.history("c")] == ["page 2", "/help", "new", "gone"]


async def test_histories_and_chats_are_bounded() -> None:
    channel = WebChannel(codec(), history_size=3, chats_max=2)
    for n in range(5):
        channel.post_mine("a", f"m{n}")
    assert [b.text for b in channel.history("a")] == ["m2", "m3", "m4"]

    page, _ = channel.subscribe("a")  # a chat with an open page is kept
    channel.post_mine("b", "b")
    channel.post_mine("c", "c")
    assert channel.history("a")
    assert not channel.history("b")
    assert channel.history("c")
    channel.unsubscribe(page)


async def test_a_page_that_falls_behind_is_closed_and_close_ends_every_page() -> None:
    channel = WebChannel(codec())
    slow, _ = channel.subscribe("a")
    for n in range(QUEUE_SIZE + 1):
        channel.post_mine("a", f"{n}")
    assert slow.closed
    assert await slow.next_event() is None
    assert channel.pages("a") == 0

    page, _ = channel.subscribe("a")
    channel.close()
    assert await page.next_event() is None
    assert channel.pages("a") == 0


# --- the bridge -----------------------------------------------------------------------------


class EditingEngine:
    """Answers every event with an edit, and remembers what it was given."""

    def __init__(self) -> None:
        self.codec = codec()
        self.seen: list[Inbound] = []

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        self.seen.append(inbound)
        return [Outbound(Markup.of("edited"), edit=True, toast="Done")]


async def test_a_press_answer_replaces_its_bubble_and_shows_the_toast() -> None:
    engine = EditingEngine()
    channel = WebChannel(engine.codec)
    bridge = WebBridge(engine, channel)  # type: ignore[arg-type]
    [menu] = await channel.post("demo-creator-1", Outbound(Markup.of("menu")))
    page, _ = channel.subscribe("demo-creator-1")

    await bridge.handle(CREATOR, {"type": "press", "payload": "1:h:1::x", "message": menu.id})

    events = []
    while not page.queue.empty():
        events.append(await page.next_event())
    assert [e["type"] for e in events if e] == ["typing", "toast", "replace", "typing"]
    assert [b.html for b in channel.history("demo-creator-1")] == ["edited"]
    assert engine.seen[0].message_id == menu.id

    # A bubble id from elsewhere is not passed on: the answer comes as a new bubble.
    await bridge.handle(CREATOR, {"type": "press", "payload": "1:h:1::x", "message": "m999"})
    assert engine.seen[1].message_id == ""
    assert len(channel.history("demo-creator-1")) == 2
    with pytest.raises(BadEvent):
        bridge.submit(CREATOR, {"type": "press"})


async def test_the_real_engine_answers_through_the_bridge() -> None:
    w = World()
    engine = engine_for(w)
    channel = WebChannel(engine.codec)
    bridge = WebBridge(engine, channel)
    await bridge.handle(CREATOR, {"type": "text", "text": "/start"})
    mine, answer = channel.history("demo-creator-1")
    assert (mine.sender, mine.text) == ("me", "/start")
    assert (answer.sender, answer.kind) == ("bot", "answer")
    assert answer.buttons, "the first screen offers choices"

    first = answer.buttons[0][0]
    await bridge.handle(CREATOR, {"type": "press", "payload": first.payload, "message": answer.id})
    assert len(channel.history("demo-creator-1")) >= 2
    assert "expired" not in channel.history("demo-creator-1")[-1].html
    member = w.store.members[max(w.store.members)]
    assert member.identities[0].platform is Platform.WEB
    assert member.identities[0].chat_id == "demo-creator-1"


# --- the routes -----------------------------------------------------------------------------


class Served:
    """The playground's routes on a real HTTP app, listening on a free local port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"

    def socket(self, member: str, origin: str | None = None) -> Any:
        return connect(
            f"ws://127.0.0.1:{self.port}/web/socket?member={member}",
            origin=origin,  # type: ignore[arg-type]
            proxy=None,
        )

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.origin, trust_env=False) as http:
            return await http.get(path)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    w = World()
    engine: ConversationEngine = engine_for(w)
    channel = WebChannel(engine.codec)
    http = HttpApp("127.0.0.1:0")
    http.app.include_router(playground_router(engine, channel, WebBridge(engine, channel)))
    await http.start()
    try:
        yield Served(http.bound_port)
    finally:
        channel.close()
        await http.stop()


async def test_the_page_lists_the_demo_people_and_allows_no_inline_script(served: Served) -> None:
    page = await served.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    for who in PEOPLE:
        assert f'data-member="{who.user_id}"' in page.text
    assert "<script>" not in page.text
    script = await served.get("/web/static/playground.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert (await served.get("/web/static/playground.css")).status_code == 200
    assert (await served.get("/web/static/..%2Fsettings.py")).status_code == 404
    assert (await served.get("/web/static/secrets.txt")).status_code == 404


async def test_the_socket_greets_replays_and_answers(served: Served) -> None:
    async with served.socket("demo-creator-1", served.origin) as socket:
        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello"
        assert hello["member"] == {"id": "demo-creator-1", "name": "Maya Chen", "role": "Creator"}
        assert "offers" in [command["name"] for command in hello["commands"]]
        assert hello["history"] == []
        await socket.send("not json")
        assert json.loads(await socket.recv())["type"] == "error"
        await socket.send(json.dumps({"type": "text", "text": "/start"}))
        events = [json.loads(await socket.recv()) for _ in range(4)]
        assert [e["type"] for e in events] == ["message", "typing", "message", "typing"]
        assert events[0]["message"]["text"] == "/start"
        assert events[2]["message"]["from"] == "bot"
    async with served.socket("demo-creator-1") as again:
        replay = json.loads(await again.recv())["history"]
        assert [bubble["id"] for bubble in replay] == [e["message"]["id"] for e in events[::2]]


@pytest.mark.parametrize(
    ("member", "origin"),
    [
        ("demo-creator-99", "same"),
        ("7100000001", None),
        ("", None),
        ("demo-creator-1", "http://evil.example"),
        ("demo-creator-1", "http://127.0.0.1:1"),
    ],
)
async def test_the_socket_refuses_strangers_and_other_sites(
    served: Served, member: str, origin: str | None
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with served.socket(member, served.origin if origin == "same" else origin):
            pass
    assert refused.value.response.status_code == 403


async def test_answers_go_on_when_the_page_goes_away() -> None:
    engine = EditingEngine()
    release = asyncio.Event()

    async def slow(inbound: Inbound) -> list[Outbound]:
        await release.wait()
        return [Outbound(Markup.of("late answer"))]

    engine.handle = slow  # type: ignore[method-assign]
    channel = WebChannel(engine.codec)
    bridge = WebBridge(engine, channel)  # type: ignore[arg-type]
    task = bridge.submit(CREATOR, {"type": "text", "text": "hi"})
    await asyncio.sleep(0)
    release.set()
    await bridge.drain(5)
    assert task.done()
    assert [b.html or b.text for b in channel.history("demo-creator-1")] == ["hi", "late answer"]
