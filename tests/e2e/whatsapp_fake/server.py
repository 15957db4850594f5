"""``FakeWhatsApp``: a strict Graph API (Cloud API messages) on loopback, and the webhook
side of WhatsApp that calls the app with signed updates.

The real client code talks to it over HTTP exactly as to ``graph.facebook.com``; the test
drives people (``wa.user(...)``) and WhatsApp's moods (closed windows, rate limits,
undeliverable numbers) through plain methods, and reads back every call the bot made.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from tests.e2e.telegram_fake.updates import Pulse

from .errors import GraphError, unauthorized
from .records import GraphCall, SentMessage, Template, WebhookDelivery
from .user import FakeWhatsAppUser
from .validate import validate
from .webhooks import SIGNATURE_HEADER, encode, envelope, new_message_id, sign, status_value

DAY = 24 * 3600.0


class FakeWhatsApp:
    """A fake WhatsApp Cloud API; use as ``async with FakeWhatsApp() as wa:``.

    Point the app at it with ``wa.connect(webhook_url)`` (where the app receives webhooks).
    Templates must be approved with :meth:`approve_template` before the bot may send them.
    """

    def __init__(
        self,
        *,
        token: str = "EAAGfake-access-token",
        app_secret: str = "fake-app-secret-0123456789",
        phone_number_id: str = "109876543210987",
        version: str = "v21.0",
        display_phone_number: str = "15550009999",
        waba_id: str = "102938475610293",
        window_seconds: float = DAY,
        statuses: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        """``statuses``: report ``sent`` and ``delivered`` for every accepted message by
        webhook, as WhatsApp does."""
        self.token = token
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.version = version
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.window_seconds = window_seconds
        self.report_statuses = statuses
        self.host = host
        self.webhook_url: str | None = None
        self.templates: dict[tuple[str, str], Template] = {}
        self.calls: list[GraphCall] = []
        self.sent: list[SentMessage] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.changes = Pulse()
        self.change_count = 0
        self._people: dict[str, FakeWhatsAppUser] = {}
        self._last_inbound: dict[str, float] = {}
        self._faults: deque[GraphError] = deque()
        self._unreachable: dict[str, int] = {}
        self._fail_later: dict[str, int] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0

    # --- running -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{version}/{phone_number_id}/messages", self._handle_messages)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self) -> None:
        if self._background:
            await asyncio.wait(set(self._background), timeout=5)
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
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
        """``http://127.0.0.1:PORT``; messages are posted to ``/{version}/{id}/messages``."""
        return f"http://{self.host}:{self._port}"

    def connect(self, webhook_url: str) -> None:
        """Where WhatsApp delivers webhooks for this number (the app's ``/whatsapp/webhook``)."""
        self.webhook_url = webhook_url

    # --- people, templates, moods ---------------------------------------------------------

    def user(self, wa_id: str, name: str = "Ana") -> FakeWhatsAppUser:
        """A person on WhatsApp (``wa_id`` is their number, digits only); the same one on a
        second call."""
        if wa_id not in self._people:
            self._people[wa_id] = FakeWhatsAppUser(self, wa_id, name)
        return self._people[wa_id]

    def approve_template(
        self, name: str, language: str = "en", body: str = "{{1}}", buttons: tuple[str, ...] = ()
    ) -> Template:
        """Approve a template; ``buttons`` are its quick-reply labels."""
        template = Template(name, language, body, tuple(buttons))
        self.templates[(name, language)] = template
        return template

    def window_open(self, wa_id: str) -> bool:
        """Whether ``wa_id`` wrote within the customer-service window."""
        last = self._last_inbound.get(wa_id)
        return last is not None and time.monotonic() - last < self.window_seconds

    def close_window(self, wa_id: str) -> None:
        """As if 24 hours passed since the person last wrote."""
        self._last_inbound.pop(wa_id, None)

    def fail_next(self, code: int, *, times: int = 1, status: int = 400) -> None:
        """Refuse the next ``times`` sends with this Graph error (e.g. 130429, or 131000 with
        status 500)."""
        self._faults.extend(GraphError(code, status=status) for _ in range(times))

    def rate_limit(self, *, times: int = 1) -> None:
        """The next ``times`` sends hit the throughput limit (130429)."""
        self.fail_next(130429, times=times)

    def unreachable(self, wa_id: str, code: int = 131026) -> None:
        """Every send to ``wa_id`` is refused with ``code`` (131026, 131030 or 131021)."""
        self._unreachable[wa_id] = code

    def fail_later(self, wa_id: str, code: int) -> None:
        """Accept the next message to ``wa_id``, then report it ``failed`` with ``code``."""
        self._fail_later[wa_id] = code

    # --- what happened -------------------------------------------------------------------

    @property
    def throttled(self) -> int:
        return sum(1 for call in self.calls if call.error_code in (130429, 131056, 80007, 4))

    def calls_to(self, wa_id: str) -> list[GraphCall]:
        return [call for call in self.calls if call.to == wa_id]

    def messages_to(self, wa_id: str) -> list[SentMessage]:
        return [message for message in self.sent if message.to == wa_id and message.delivered]

    async def wait_for_call(
        self,
        where: Callable[[GraphCall], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 — the assertion's deadline
        description: str = "matching call",
    ) -> GraphCall:
        deadline = time.monotonic() + timeout
        while True:
            since = self.changes.version
            for call in self.calls:
                if call.status and where(call):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {description} within {timeout} s")
            await self.changes.wait(since, remaining)

    # --- webhooks to the app ---------------------------------------------------------------

    async def post_webhook(self, body: dict[str, Any]) -> WebhookDelivery:
        """Deliver ``body`` to the app, signed with the app secret."""
        raw = encode(body)
        return await self.post_raw(raw, {SIGNATURE_HEADER: sign(self.app_secret, raw)})

    async def post_raw(self, raw: bytes, headers: dict[str, str] | None = None) -> WebhookDelivery:
        """Deliver exactly these bytes with these headers (for forged or unsigned calls)."""
        if self.webhook_url is None or self._session is None:
            raise AssertionError("connect() the fake to the app's webhook URL first")
        sent = {"Content-Type": "application/json", **(headers or {})}
        async with self._session.post(self.webhook_url, data=raw, headers=sent) as response:
            delivery = WebhookDelivery(raw, response.status, await response.text(), sent)
        self.webhook_deliveries.append(delivery)
        return delivery

    def envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return envelope(self.waba_id, self.phone_number_id, self.display_phone_number, value)

    def person_wrote(self, wa_id: str) -> None:
        self._last_inbound[wa_id] = time.monotonic()

    def _report(self, message: SentMessage, *states: str, error: GraphError | None = None) -> None:
        if self.webhook_url is None:
            return

        async def report() -> None:
            for state in states:
                errors = [error.status_error()] if error and state == "failed" else None
                await self.post_webhook(
                    self.envelope(status_value(message.wamid, message.to, state, errors))
                )

        task = asyncio.get_running_loop().create_task(report())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- the Graph API -------------------------------------------------------------------

    async def _handle_messages(self, request: web.Request) -> web.Response:
        call = GraphCall(request.path, None, time.monotonic())
        self.calls.append(call)
        try:
            body = await self._check_request(request)
            call.body = body
            message = self._accept(body)
        except GraphError as error:
            call.status, call.error_code = error.status, error.code
            self._changed()
            return web.json_response(error.body(), status=error.status)
        call.status = 200
        self._changed()
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": message.to, "wa_id": message.to}],
            "messages": [{"id": message.wamid}],
        }
        if message.type == "template":
            answer["messages"][0]["message_status"] = "accepted"
        return web.json_response(answer)

    async def _check_request(self, request: web.Request) -> Any:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise unauthorized()
        if request.method != "POST":
            raise GraphError(100, "Unsupported get request.")
        if request.match_info["version"] != self.version:
            raise GraphError(100, f"Unknown version {request.match_info['version']}.")
        if request.match_info["phone_number_id"] != self.phone_number_id:
            raise GraphError(
                100,
                f"Unsupported post request. Object with ID "
                f"'{request.match_info['phone_number_id']}' does not exist.",
            )
        if not request.content_type.startswith("application/json"):
            raise GraphError(100, "The request body must be JSON.")
        try:
            return json.loads(await request.read())
        except ValueError:
            raise GraphError(100, "The request body is not valid JSON.") from None

    def _accept(self, body: Any) -> SentMessage:
        template = validate(body, self.templates)
        to = str(body["to"]).lstrip("+")
        if self._faults:
            raise self._faults.popleft()
        if to in self._unreachable or to not in self._people:
            raise GraphError(self._unreachable.get(to, 131026))
        if template is None and not self.window_open(to):
            raise GraphError(131047)
        self.change_count += 1
        message = SentMessage(
            new_message_id(), to, body["type"], body, time.monotonic(), self.change_count, template
        )
        self.sent.append(message)
        if to in self._fail_later:
            message.delivered = False
            error = GraphError(self._fail_later.pop(to))
            self._report(message, "failed", error=error)
        elif self.report_statuses:
            self._report(message, "sent", "delivered")
        return message

    def _changed(self) -> None:
        self.changes.fire()
