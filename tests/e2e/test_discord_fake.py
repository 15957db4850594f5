"""The fake Discord is as strict as the real one where collabbot could go wrong: the
3-second acknowledgement, one response per interaction, component and modal limits,
command rules, closed DMs, 429s, and the gateway handshake."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.discord_fake import FakeDiscord, FakeDiscordUser

COMMANDS = [{"name": "start", "description": "Start"}]


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(interaction_timeout=0.3) as fake:
        fake.state.put_commands(None, COMMANDS)
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    discord: FakeDiscord,
    method: str,
    path: str,
    body: Any = None,
    *,
    bot: bool = True,
) -> tuple[int, Any, Any]:
    headers = {"Authorization": f"Bot {discord.token}"} if bot else {}
    async with http.request(method, discord.base_url + path, json=body, headers=headers) as r:
        text = await r.text()
        return r.status, (json.loads(text) if text else None), r.headers


def button(label: str, custom_id: str) -> dict[str, Any]:
    return {"type": 2, "style": 2, "label": label, "custom_id": custom_id}


def row(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(buttons)}


async def respond(
    http: aiohttp.ClientSession, discord: FakeDiscord, user: FakeDiscordUser, body: Any
) -> tuple[int, Any]:
    interaction = await user.slash("start")
    path = f"/interactions/{interaction.id}/{interaction.token}/callback"
    status, data, _ = await call(http, discord, "POST", path, body, bot=False)
    return status, data


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"content": "x" * 2001}, 50035),
        ({"content": ""}, 50006),
        ({"content": "rows", "components": [row(button("a", f"r{i}")) for i in range(6)]}, 50035),
        (
            {"content": "wide", "components": [row(*(button("a", f"b{i}") for i in range(6)))]},
            50035,
        ),
        ({"content": "label", "components": [row(button("x" * 81, "a"))]}, 50035),
        ({"content": "id", "components": [row(button("a", "x" * 101))]}, 50035),
        (
            {"content": "twice", "components": [row(button("a", "same"), button("b", "same"))]},
            50035,
        ),
        (
            {
                "content": "link",
                "components": [row({"type": 2, "style": 5, "label": "a", "url": "ftp://x"})],
            },
            50035,
        ),
    ],
)
async def test_messages_outside_discords_limits_are_refused(
    discord: FakeDiscord, http: aiohttp.ClientSession, data: dict[str, Any], code: int
) -> None:
    status, body = await respond(http, discord, discord.user(), {"type": 4, "data": data})
    assert (status, body["code"]) == (400, code)


async def test_an_interaction_is_acknowledged_once_and_in_time(
    discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    ana = discord.user()
    first = await ana.slash("start")
    path = f"/interactions/{first.id}/{first.token}/callback"
    assert (await call(http, discord, "POST", path, {"type": 5}, bot=False))[0] == 204
    status, body, _ = await call(http, discord, "POST", path, {"type": 5}, bot=False)
    assert (status, body["code"]) == (400, 40060)

    late = await ana.slash("start")
    await asyncio.sleep(0.35)
    path = f"/interactions/{late.id}/{late.token}/callback"
    status, body, _ = await call(
        http, discord, "POST", path, {"type": 4, "data": {"content": "hi"}}, bot=False
    )
    assert (status, body["code"]) == (404, 10062)
    assert [code for _, code, _ in discord.refused_callbacks] == [40060, 10062]


async def test_follow_ups_need_an_acknowledged_interaction(
    discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    ana = discord.user()
    interaction = await ana.slash("start")
    hook = f"/webhooks/{discord.application_id}/{interaction.token}"
    status, body, _ = await call(http, discord, "POST", hook + "?wait=true", {"content": "hi"})
    assert (status, body["code"]) == (404, 10015)
    path = f"/interactions/{interaction.id}/{interaction.token}/callback"
    await call(http, discord, "POST", path, {"type": 5, "data": {"flags": 64}}, bot=False)
    status, body, _ = await call(http, discord, "POST", hook + "?wait=true", {"content": "first"})
    assert status == 200
    assert body["id"] == str(interaction.original_message.id)  # took the "thinking" message's place
    assert ana.last is not None
    assert ana.last.text == "first"
    assert ana.last.ephemeral


async def test_component_responses_only_answer_components(
    discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    status, body = await respond(
        http, discord, discord.user(), {"type": 7, "data": {"content": "x"}}
    )
    assert (status, body["code"]) == (400, 50035)


@pytest.mark.parametrize(
    "modal",
    [
        {
            "custom_id": "m",
            "title": "x" * 46,
            "components": [row({"type": 4, "custom_id": "a", "style": 1, "label": "A"})],
        },
        {"custom_id": "m", "title": "T", "components": []},
        {
            "custom_id": "m",
            "title": "T",
            "components": [row({"type": 4, "custom_id": "a", "style": 3, "label": "A"})],
        },
        {
            "custom_id": "m",
            "title": "T",
            "components": [row({"type": 4, "custom_id": "a", "style": 1, "label": "x" * 46})],
        },
        {
            "custom_id": "m",
            "title": "T",
            "components": [
                row({"type": 4, "custom_id": "a", "style": 1, "label": "A", "max_length": 4001})
            ],
        },
    ],
)
async def test_modals_outside_discords_limits_are_refused(
    discord: FakeDiscord, http: aiohttp.ClientSession, modal: dict[str, Any]
) -> None:
    status, body = await respond(http, discord, discord.user(), {"type": 9, "data": modal})
    assert (status, body["code"]) == (400, 50035)


@pytest.mark.parametrize(
    "commands",
    [
        [{"name": "Start", "description": "x"}],
        [{"name": "start", "description": ""}],
        [{"name": "start", "description": "x" * 101}],
        [{"name": "a", "description": "x"}, {"name": "a", "description": "y"}],
        [
            {
                "name": "a",
                "description": "x",
                "options": [
                    {"type": 3, "name": "b", "description": "b"},
                    {"type": 3, "name": "c", "description": "c", "required": True},
                ],
            }
        ],
        [{"name": "a", "description": "x", "description_localizations": {"xx": "y"}}],
    ],
)
async def test_invalid_slash_commands_are_refused(
    discord: FakeDiscord, http: aiohttp.ClientSession, commands: list[dict[str, Any]]
) -> None:
    path = f"/applications/{discord.application_id}/commands"
    status, body, _ = await call(http, discord, "PUT", path, commands)
    assert (status, body["code"]) == (400, 50035)


async def test_rest_needs_the_bot_token(discord: FakeDiscord, http: aiohttp.ClientSession) -> None:
    status, body, _ = await call(http, discord, "GET", "/users/@me", bot=False)
    assert (status, body["message"]) == (401, "401: Unauthorized")


async def test_closed_dms_and_rate_limits(
    discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    ana = discord.user()
    status, channel, _ = await call(
        http, discord, "POST", "/users/@me/channels", {"recipient_id": str(ana.id)}
    )
    assert status == 200
    assert channel["type"] == 1
    discord.close_dms(ana)
    status, body, _ = await call(
        http, discord, "POST", f"/channels/{channel['id']}/messages", {"content": "hi"}
    )
    assert (status, body["code"]) == (403, 50007)
    discord.open_dms(ana)
    discord.inject("create_message", 429, retry_after=2.5)
    status, body, headers = await call(
        http, discord, "POST", f"/channels/{channel['id']}/messages", {"content": "hi"}
    )
    assert (status, body["retry_after"]) == (429, 2.5)
    assert headers["Retry-After"] == "3"
    assert headers["Via"]
    status, body, _ = await call(
        http, discord, "POST", f"/channels/{channel['id']}/messages", {"content": "hi"}
    )
    assert status == 200
    assert ana.last is not None
    assert ana.last.text == "hi"
    status, body, _ = await call(
        http, discord, "POST", f"/channels/{channel['id']}/messages", {"content": "hi", "flags": 64}
    )
    assert (status, body["code"]) == (400, 50035)  # only interaction answers are ephemeral


async def gateway_frames(ws: aiohttp.ClientWebSocketResponse, inflate: Any) -> Any:
    frame = await ws.receive(timeout=5)
    if frame.type is aiohttp.WSMsgType.BINARY:
        return json.loads(inflate.decompress(frame.data))
    if frame.type is aiohttp.WSMsgType.TEXT:
        return json.loads(frame.data)
    return frame


async def test_the_gateway_handshake(discord: FakeDiscord, http: aiohttp.ClientSession) -> None:
    _, info, _ = await call(http, discord, "GET", "/gateway/bot")
    url = info["url"] + "?v=10&encoding=json&compress=zlib-stream"
    inflate = zlib.decompressobj()
    async with http.ws_connect(url) as ws:
        hello = await gateway_frames(ws, inflate)
        assert hello["op"] == 10
        assert hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await gateway_frames(ws, inflate))["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": discord.token, "intents": 1 << 15}})
        closed = await gateway_frames(ws, inflate)
        assert closed.type is aiohttp.WSMsgType.CLOSE
        assert closed.data == 4014
    async with http.ws_connect(info["url"] + "?v=10&encoding=json") as ws:
        assert (await gateway_frames(ws, None))["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0}})
        closed = await gateway_frames(ws, None)
        assert closed.type is aiohttp.WSMsgType.CLOSE
        assert closed.data == 4004
    async with http.ws_connect(info["url"] + "?v=10&encoding=json") as ws:
        await gateway_frames(ws, None)
        await ws.send_json({"op": 2, "d": {"token": discord.token, "intents": 1 << 12}})
        ready = await gateway_frames(ws, None)
        assert (ready["t"], ready["s"]) == ("READY", 1)
        ana = discord.user()
        await ana.send_dm("hello")
        event = await gateway_frames(ws, None)
        assert (event["t"], event["d"]["content"], event["s"]) == ("MESSAGE_CREATE", "hello", 2)
