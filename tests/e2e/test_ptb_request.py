"""PTB's networking on aiohttp (``bots.telegram.ptb_request``) against a local HTTP server:
what it sends, and what a slow, absent or failing server turns into."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bots.telegram.ptb_request import AiohttpRequest

TOKEN = "123456:secret-token-never-shown"


class Server:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        self.delay = 0.0
        self.answer: tuple[int, dict[str, Any]] = (200, {"ok": True, "result": True})
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, request.content_type, await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        status, body = self.answer
        return web.json_response(body, status=status)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    app = web.Application()
    app.router.add_post("/{tail:.*}", state.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(4)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


def data(**values: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(name, v) for name, v in values.items()])


async def test_a_call_goes_as_json_and_its_answer_comes_back(
    server: Server, request_: AiohttpRequest
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Next ›", "callback_data": "1:n"}]]}
    result = await request_.post(
        f"{server.url}/bot{TOKEN}/sendMessage",
        data(chat_id=7, text="héllo", reply_markup=keyboard),
    )
    assert result is True
    path, content_type, body = server.seen[0]
    assert path == f"/bot{TOKEN}/sendMessage"
    assert content_type == "application/json"
    assert json.loads(body) == {"chat_id": 7, "text": "héllo", "reply_markup": keyboard}


async def test_a_real_bot_sends_through_it(server: Server) -> None:
    server.answer = (
        200,
        {
            "ok": True,
            "result": {
                "message_id": 5,
                "date": 0,
                "chat": {"id": 7, "type": "private"},
                "text": "hi",
            },
        },
    )
    bot = Bot(TOKEN, base_url=f"{server.url}/bot", request=AiohttpRequest(2))
    async with bot.request:  # type: ignore[attr-defined]
        sent = await bot.send_message(7, "hi")
    assert sent.message_id == 5
    assert json.loads(server.seen[0][2]) == {"chat_id": 7, "text": "hi"}


async def test_a_file_goes_as_multipart_form_data(server: Server, request_: AiohttpRequest) -> None:
    photo = InputFile(b"\x89PNG fake", filename="offer.png")
    await request_.post(f"{server.url}/bot{TOKEN}/sendPhoto", data(chat_id=7, photo=photo))
    _, content_type, body = server.seen[0]
    assert content_type == "multipart/form-data"
    assert b'filename="offer.png"' in body
    assert b"\x89PNG fake" in body


async def test_telegrams_errors_become_ptbs_exceptions(
    server: Server, request_: AiohttpRequest
) -> None:
    server.answer = (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    with pytest.raises(RetryAfter):
        await request_.post(f"{server.url}/bot{TOKEN}/sendMessage", data(chat_id=7, text="x"))
    server.answer = (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"},
    )
    with pytest.raises(BadRequest, match="not modified"):
        await request_.post(f"{server.url}/bot{TOKEN}/sendMessage", data(chat_id=7, text="x"))


async def test_a_slow_answer_times_out(server: Server, request_: AiohttpRequest) -> None:
    server.delay = 1.0
    with pytest.raises(TimedOut):
        await request_.post(
            f"{server.url}/bot{TOKEN}/sendMessage",
            data(chat_id=7, text="x"),
            read_timeout=0.1,
            write_timeout=0.1,
        )


async def test_an_absent_server_is_a_network_error_that_does_not_show_the_token(
    request_: AiohttpRequest,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError) as raised:
        await request_.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(raised.value, TimedOut)
    assert TOKEN not in str(raised.value)
    assert "secret" not in repr(raised.value)


async def test_it_must_be_initialized_first() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="initialize"):
        await request.do_request("http://127.0.0.1:9/x", "POST")
