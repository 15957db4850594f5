"""The fake REST API under ``/api/v10``: the routes discord.py calls for collabbot, with
Discord's authentication, error bodies, injected faults and 429 answers."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .records import ApiCall
from .responses import Responses
from .state import DiscordState, Fault
from .validation import ApiError, invalid, unauthorized

Handler = Callable[[web.Request, Any], Awaitable[Any]]
API = "/api/v10"


class RestApi:
    def __init__(self, state: DiscordState, gateway_url: Callable[[], str]) -> None:
        self.state = state
        self.responses = Responses(state)
        self._gateway_url = gateway_url

    def routes(self, app: web.Application) -> None:
        add = app.router.add_route
        bot = self._bot_route
        hook = self._webhook_route
        add("GET", API + "/gateway", hook("gateway", self._gateway))
        add("GET", API + "/gateway/bot", bot("gateway_bot", self._gateway_bot))
        add("GET", API + "/users/@me", bot("me", self._me))
        add("GET", API + "/oauth2/applications/@me", bot("application", self._application))
        for path in ("/applications/{app}/commands", "/applications/{app}/guilds/{guild}/commands"):
            add("PUT", API + path, bot("commands", self._put_commands))
            add("GET", API + path, bot("commands", self._get_commands))
        add("POST", API + "/users/@me/channels", bot("open_dm", self._open_dm))
        add("POST", API + "/channels/{channel}/messages", bot("create_message", self._create))
        add(
            "PATCH", API + "/channels/{channel}/messages/{message}", bot("edit_message", self._edit)
        )
        add("POST", API + "/interactions/{id}/{token}/callback", hook("callback", self._callback))
        add("POST", API + "/webhooks/{app}/{token}", hook("followup", self._followup))
        path = API + "/webhooks/{app}/{token}/messages/{message}"
        add("GET", path, hook("get_original", self._get_webhook_message))
        add("PATCH", path, hook("edit_original", self._edit_webhook_message))
        add("DELETE", path, hook("delete_original", self._delete_webhook_message))
        add("*", "/{tail:.*}", self._unknown)

    # --- plumbing -----------------------------------------------------------------------

    def _bot_route(
        self, name: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def route(request: web.Request) -> web.Response:
            if request.headers.get("Authorization") != f"Bot {self.state.token}":
                return self._answer(request, None, error=unauthorized())
            return await self._run(name, handler, request)

        return route

    def _webhook_route(
        self, name: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def route(request: web.Request) -> web.Response:
            return await self._run(name, handler, request)

        return route

    async def _run(self, name: str, handler: Handler, request: web.Request) -> web.Response:
        try:
            body = await _read_body(request)
            fault = self._fault(name)
            if fault is not None:
                return self._fault_response(request, body, fault)
            result = await handler(request, body)
        except ApiError as error:
            return self._answer(request, None, error=error)
        return self._answer(request, result)

    def _answer(
        self, request: web.Request, result: Any, *, error: ApiError | None = None
    ) -> web.Response:
        status = error.status if error else (204 if result is None else 200)
        shown = error.body() if error else result
        self.state.calls.append(
            ApiCall(request.method, request.path, status, shown, time.monotonic())
        )
        if status == 204:
            return web.Response(status=204)
        return json_response(shown, status)

    def _fault(self, route: str) -> Fault | None:
        for fault in self.state.faults:
            if fault.route == route and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _fault_response(self, request: web.Request, body: Any, fault: Fault) -> web.Response:
        if fault.status != 429:
            return self._answer(
                request, None, error=ApiError(fault.status, fault.code, fault.message)
            )
        wait = float(fault.retry_after or 1.0)
        shown = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
        self.state.calls.append(ApiCall(request.method, request.path, 429, shown, time.monotonic()))
        headers = {
            "Retry-After": str(math.ceil(wait)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{wait:.3f}",
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        }
        return json_response(shown, 429, headers)

    async def _unknown(self, request: web.Request) -> web.Response:
        error = ApiError(404, 0, "404: Not Found")
        return self._answer(request, None, error=error)

    # --- handlers -----------------------------------------------------------------------

    async def _gateway(self, request: web.Request, body: Any) -> Any:
        return {"url": self._gateway_url()}

    async def _gateway_bot(self, request: web.Request, body: Any) -> Any:
        return {
            "url": self._gateway_url(),
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _me(self, request: web.Request, body: Any) -> Any:
        return {**self.state.bot.json(), "verified": True, "mfa_enabled": False, "flags": 0}

    async def _application(self, request: web.Request, body: Any) -> Any:
        owner = {"id": "1", "username": "owner", "discriminator": "0", "avatar": None}
        return {
            "id": str(self.state.application_id),
            "name": "collabbot",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner,
            "verify_key": "0" * 64,
            "flags": 0,
            "interactions_endpoint_url": None,
        }

    def _application_matches(self, request: web.Request) -> None:
        if request.match_info["app"] != str(self.state.application_id):
            raise ApiError(404, 10002, "Unknown Application")

    async def _put_commands(self, request: web.Request, body: Any) -> Any:
        self._application_matches(request)
        guild = request.match_info.get("guild")
        return self.state.put_commands(int(guild) if guild else None, body)

    async def _get_commands(self, request: web.Request, body: Any) -> Any:
        self._application_matches(request)
        guild = request.match_info.get("guild")
        return self.state.commands.get(int(guild) if guild else None, [])

    async def _open_dm(self, request: web.Request, body: Any) -> Any:
        if not isinstance(body, dict):
            raise invalid("body: must be an object")
        return self.state.open_dm(body.get("recipient_id"))

    async def _create(self, request: web.Request, body: Any) -> Any:
        return self.state.create_channel_message(_id(request, "channel"), body)

    async def _edit(self, request: web.Request, body: Any) -> Any:
        channel, message = _id(request, "channel"), _id(request, "message")
        return self.state.edit_channel_message(channel, message, body)

    async def _callback(self, request: web.Request, body: Any) -> Any:
        with_response = request.query.get("with_response", "").lower() in ("1", "true")
        return self.responses.callback(
            _id(request, "id"), request.match_info["token"], body, with_response=with_response
        )

    async def _followup(self, request: web.Request, body: Any) -> Any:
        message = self.responses.followup(_id(request, "app"), request.match_info["token"], body)
        return message if request.query.get("wait", "").lower() in ("1", "true") else None

    async def _get_webhook_message(self, request: web.Request, body: Any) -> Any:
        info = request.match_info
        return self.responses.get(_id(request, "app"), info["token"], info["message"])

    async def _edit_webhook_message(self, request: web.Request, body: Any) -> Any:
        info = request.match_info
        return self.responses.edit(_id(request, "app"), info["token"], info["message"], body)

    async def _delete_webhook_message(self, request: web.Request, body: Any) -> Any:
        info = request.match_info
        self.responses.delete(_id(request, "app"), info["token"], info["message"])
        return None


def json_response(data: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with Discord's exact ``Content-Type`` (discord.py compares it as is)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _id(request: web.Request, name: str) -> int:
    value = request.match_info[name]
    if not value.isdigit():
        raise ApiError(404, 0, "404: Not Found")
    return int(value)


async def _read_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = form.get("payload_json")
        return json.loads(str(raw)) if raw is not None else {}
    text = await request.text()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
