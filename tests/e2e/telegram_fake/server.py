"""``FakeTelegram``: a strict Bot API server on loopback for end-to-end tests.

Real client libraries talk to it over HTTP exactly as to ``api.telegram.org``; the test
drives people (``tg.user(...)``) and the network's moods (blocks, flood limits, failures)
through plain methods, and reads back every call the bot made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .api import BotApi
from .errors import ApiError, unauthorized
from .limits import FloodControl
from .params import MAX_BODY_BYTES, Params, read_params
from .records import ApiCall, CallbackAnswer, CallbackQuery, StoredFile, WebhookDelivery
from .state import Chat, TelegramState
from .updates import UpdateDelivery, Webhook
from .user import FakeGroup, FakeUser


class FakeTelegram:
    """A fake Telegram Bot API server; use as ``async with FakeTelegram() as tg:``."""

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        host: str = "127.0.0.1",
        bot_username: str = "collab_test_bot",
        bot_first_name: str = "Collab",
        first_update_id: int = 100_000_001,
        callback_timeout: float = 15.0,
        webhook_retries: int = 3,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 2.0,
        public_webhook_rules: bool = False,
    ) -> None:
        """``public_webhook_rules`` demands an HTTPS webhook on port 443, 80, 88 or 8443 as
        api.telegram.org does; off by default, since the tests' webhook is plain loopback."""
        self.token = token
        self.host = host
        self.state = TelegramState(
            token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            first_update_id=first_update_id,
            callback_timeout=callback_timeout,
        )
        self.delivery = UpdateDelivery(
            self.state.queue,
            self._run_webhook_reply,
            retries=webhook_retries,
            retry_delay=webhook_retry_delay,
            timeout=webhook_timeout,
            public_webhook_rules=public_webhook_rules,
        )
        self.api = BotApi(self.state, self.delivery)
        self._people: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0

    # --- running -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        await self.delivery.start()

    async def close(self) -> None:
        await self.delivery.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; the API is under ``/bot{token}/{method}``."""
        return f"http://{self.host}:{self._port}"

    def api_url(self, method: str) -> str:
        return f"{self.base_url}/bot{self.token}/{method}"

    # --- people and chats ----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Ana",
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """A person with a private chat (chat_id == user_id); the same one on a second call.

        ``started=False`` is someone who never pressed Start: the bot cannot write first.
        """
        known = self._people.get(user_id)
        if known is not None:
            return known
        person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        person.update({key: value for key, value in optional.items() if value})
        chat = self.state.add_private_chat(person, started=started)
        self._people[user_id] = FakeUser(self.state, chat)
        return self._people[user_id]

    def group(self, chat_id: int, title: str = "Sellers", *, supergroup: bool = True) -> FakeGroup:
        """A group the bot is a member of (``chat_id`` negative), e.g. for notices to staff."""
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        if chat_id not in self._groups:
            chat = self.state.add_group(chat_id, title, supergroup=supergroup)
            self._groups[chat_id] = FakeGroup(self.state, chat)
        return self._groups[chat_id]

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sends fail with 403 and a my_chat_member update comes."""
        self._set_membership(user_id, blocked=True)

    def unblock(self, user_id: int) -> None:
        self._set_membership(user_id, blocked=False)

    def deactivate(self, user_id: int) -> None:
        """The person deletes their account: calls to the chat fail with 403."""
        self._private_chat(user_id).deactivated = True

    def _set_membership(self, user_id: int, *, blocked: bool) -> None:
        chat = self._private_chat(user_id)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        member = {"user": self.state.bot_user}
        self.state.push_update(
            "my_chat_member",
            {
                "chat": chat.info,
                "from": chat.user,
                "date": int(time.time()),
                "old_chat_member": {**member, "status": old},
                "new_chat_member": {
                    **member,
                    "status": new,
                    **({"until_date": 0} if blocked else {}),
                },
            },
        )

    def _private_chat(self, user_id: int) -> Chat:
        if user_id not in self._people:
            raise KeyError(f"no user {user_id}; create one with tg.user({user_id})")
        return self.state.chats[user_id]

    # --- the network's moods -------------------------------------------------------------

    def limit(
        self,
        *,
        per_chat_per_second: float | None = 1,
        global_per_second: float | None = 30,
        group_per_minute: float | None = 20,
        retry_after: int | None = None,
    ) -> None:
        """Turn Telegram's flood control on (off by default); None lifts one limit.

        Sends over a limit get ``429 Too Many Requests: retry after N`` with N the seconds
        until the window frees up, or ``retry_after`` when given.
        """
        self.api.flood = FloodControl(
            per_chat_per_second, global_per_second, group_per_minute, retry_after
        )

    def unlimit(self) -> None:
        self.api.flood = FloodControl()

    def inject_error(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error."""
        if error_code == 429 and retry_after is None:
            raise ValueError("a 429 needs retry_after, as Telegram always sends one")
        self.api.faults.add(method, error_code, description, times, retry_after)

    @property
    def deliver_twice(self) -> bool:
        """While True, every new update reaches the bot twice with the same update_id."""
        return self.state.deliver_twice

    @deliver_twice.setter
    def deliver_twice(self, value: bool) -> None:
        self.state.deliver_twice = value

    def deliver_next_twice(self) -> None:
        """Deliver only the next new update twice, with the same update_id."""
        self.state.deliver_next_twice()

    def push_update(self, kind: str, body: dict[str, Any]) -> int | None:
        """Queue an update of any kind the helpers do not make; returns its update_id."""
        return self.state.push_update(kind, body)

    # --- what happened -------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        """Every request to the API so far, in order, with the answer it got."""
        return self.api.calls

    @property
    def throttled(self) -> int:
        """How many 429 Too Many Requests answers the fake gave."""
        return self.api.throttled

    def calls_to(self, *methods: str) -> list[ApiCall]:
        wanted = {method.lower() for method in methods}
        return [call for call in self.calls if call.method.lower() in wanted]

    async def wait_for_call(
        self,
        method: str,
        where: Callable[[ApiCall], bool] = lambda call: True,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 — the assertion's deadline, part of the test API
    ) -> ApiCall:
        """The first call of ``method`` (that ``where`` accepts), waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            since = self.state.changes.version
            for call in self.calls_to(method):
                if call.status and where(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                made = ", ".join(call.method for call in self.calls[-10:]) or "none"
                raise AssertionError(f"no {method} call within {timeout} s; latest calls: {made}")
            await self.state.changes.wait(since, remaining)

    @property
    def answered_callbacks(self) -> list[CallbackAnswer]:
        return list(self.state.answered_callbacks)

    @property
    def unanswered_callbacks(self) -> list[CallbackQuery]:
        """Button presses the bot has not answered (yet)."""
        return [query for query in self.state.callbacks.values() if query.answer is None]

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, str]]]:
        """Registered commands by (scope, language code), e.g. ``("default", "")`` or
        ``("chat:42", "en")``."""
        return dict(self.state.commands)

    @property
    def menu_buttons(self) -> dict[int | None, dict[str, Any]]:
        return dict(self.state.menu_buttons)

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        return list(self.state.chat_actions)

    @property
    def files(self) -> dict[str, StoredFile]:
        return dict(self.state.files)

    @property
    def webhook(self) -> Webhook:
        return self.delivery.webhook

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return list(self.delivery.deliveries)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return self.state.queue.pending

    @property
    def filtered_updates(self) -> list[dict[str, Any]]:
        """Updates never created because the bot's allowed_updates leave their kind out."""
        return list(self.state.queue.filtered)

    # --- the HTTP side -------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.calls.append(ApiCall(method, {}, time.monotonic(), status=401))
            return web.json_response(unauthorized().body(), status=401)
        try:
            params = await read_params(request)
        except ApiError as error:
            return web.json_response(error.body(), status=error.code)
        status, body = await self.api.call(method, params)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(unauthorized().body(), status=401)
        path = request.match_info["path"]
        stored = next((f for f in self.state.files.values() if f.file_path == path), None)
        if stored is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _run_webhook_reply(self, method: str, params: Params) -> None:
        await self.api.call(method, params, via="webhook reply")
