"""The playground's HTTP routes: the page, its two static files, and the websocket.

- ``GET /`` — the chat page, listing the demo people to act as (``/?as=demo-creator-1``
  opens one directly).
- ``GET /web/static/playground.css`` and ``/web/static/playground.js``.
- ``WS /web/socket?member=<web user id>`` — one page's conversation. The server first sends
  ``{"type": "hello", "member": …, "commands": […], "history": [bubbles]}``, then the events
  of :mod:`bots.web.channel`; the page sends the events of :mod:`bots.web.bridge`. A member
  that is not one of the demo people, or a page from another origin, is refused (HTTP 403).

The page allows no inline script and loads nothing from elsewhere (Content-Security-Policy),
on top of every text being escaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from fastapi.responses import HTMLResponse, Response
from starlette.websockets import WebSocketDisconnect, WebSocketState

from bots.web.bridge import BadEvent, WebBridge, parse_event
from bots.web.channel import Subscription, WebChannel
from bots.web.people import PEOPLE, Person, person
from core.conversations.engine import ConversationEngine
from core.conversations.i18n import translator
from core.conversations.router import router as screens
from core.domain.common import Platform
from core.domain.members import Role
from core.services import find_member

logger = logging.getLogger(__name__)

SOCKET_PATH: Final = "/web/socket"
STATIC: Final = Path(__file__).resolve().parent / "static"
HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' http: https: data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
GROUPS: Final = (("operator", "Operator"), ("seller", "Sellers"), ("creator", "Creators"))
ROLE_NAMES: Final = {Role.OPERATOR: "Operator", Role.SELLER: "Seller", Role.CREATOR: "Creator"}
POLICY_VIOLATION: Final = 1008
GOING_AWAY: Final = 1001


def _person_button(who: Person) -> str:
    e = html.escape
    return (
        f'      <button type="button" class="person" data-member="{e(who.user_id)}" '
        f'data-group="{e(who.group)}" aria-pressed="false">'
        f'<span class="avatar {e(who.group)}" aria-hidden="true">{e(who.initials)}</span>'
        f'<span class="who"><span class="name">{e(who.name)}</span>'
        f'<span class="about">{e(who.about)}</span></span></button>'
    )


def page_html() -> str:
    """The playground page, with the demo people in the sidebar."""
    sections = []
    for group, title in GROUPS:
        buttons = [_person_button(who) for who in PEOPLE if who.group == group]
        sections.append(f"      <h2>{html.escape(title)}</h2>\n" + "\n".join(buttons))
    template = (STATIC / "playground.html").read_text(encoding="utf-8")
    return template.replace("{people}", "\n".join(sections))


def same_origin(websocket: WebSocket) -> bool:
    """A browser names the page that opens a websocket in ``Origin``: only our own page (or
    a client that is not a browser, which sends none) may talk for the demo people."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    try:
        return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()
    except ValueError:
        return False


async def hello(engine: ConversationEngine, who: Person) -> dict[str, Any]:
    """What the page needs to know about the person it acts as: their name and role, and
    the commands they may use (in their language)."""
    member = await find_member(engine.mp, Platform.WEB, who.user_id)
    roles = member.roles if member is not None else frozenset({Role.CREATOR})
    language = member.language if member is not None else "en"
    t = translator(language)
    role = next((name for r, name in ROLE_NAMES.items() if r in roles), "Creator")
    return {
        "type": "hello",
        "member": {"id": who.user_id, "name": who.name, "role": role},
        "commands": [
            {"name": command.name, "summary": t(command.summary)}
            for command in screens.commands_for(roles)
        ],
    }


def playground_router(
    engine: ConversationEngine, channel: WebChannel, bridge: WebBridge
) -> APIRouter:
    """The routes of the playground, for ``app.include_router``."""
    router = APIRouter()
    assets = {
        "playground.css": ("text/css; charset=utf-8", (STATIC / "playground.css").read_bytes()),
        "playground.js": (
            "text/javascript; charset=utf-8",
            (STATIC / "playground.js").read_bytes(),
        ),
    }
    page = page_html()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def playground_page() -> HTMLResponse:
        return HTMLResponse(page, headers=HEADERS)

    @router.get("/web/static/{name}", include_in_schema=False)
    async def playground_asset(name: str) -> Response:
        found = assets.get(name)
        if found is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        media_type, body = found
        return Response(body, media_type=media_type, headers=HEADERS)

    @router.websocket(SOCKET_PATH)
    async def playground_socket(websocket: WebSocket, member: str = "") -> None:
        who = person(member)
        if who is None or not same_origin(websocket):
            # Before accepting, this is an HTTP 403 to the browser.
            await websocket.close(code=POLICY_VIOLATION)
            return
        await websocket.accept()
        page, history = channel.subscribe(who.user_id)
        try:
            greeting = await hello(engine, who)
            greeting["history"] = [bubble.as_json() for bubble in history]
            await websocket.send_json(greeting)
            await _converse(websocket, who, page, bridge)
        except WebSocketDisconnect:
            pass
        finally:
            channel.unsubscribe(page)
            if websocket.application_state is WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await websocket.close(code=GOING_AWAY)

    return router


async def _converse(
    websocket: WebSocket, who: Person, page: Subscription, bridge: WebBridge
) -> None:
    """Read the page's events and write the chat's, until either side is done."""

    async def read() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            try:
                answering = bridge.submit(who, parse_event(raw))
            except BadEvent as error:
                page.push({"type": "error", "text": f"Not understood: {error}."})
                continue
            # One event at a time per page; a page that goes away does not stop an answer
            # half-way: it still lands in the history.
            await asyncio.shield(answering)

    async def write() -> None:
        while (event := await page.next_event()) is not None:
            await websocket.send_json(event)

    tasks = [asyncio.create_task(read()), asyncio.create_task(write())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                raise error
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task
