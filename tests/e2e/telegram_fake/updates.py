"""Getting updates to the bot: the queue, ``getUpdates`` long polling, and webhook pushes.

As in Telegram, an update stays queued until the bot confirms it (a later ``offset``) or the
webhook accepts it with a 2xx answer; ``allowed_updates`` decides which updates are created at
all; a second long poll ends the first with 409, and so does ``setWebhook``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from .errors import bad_request, conflict, too_many_requests
from .params import JSON_NULL, Params, read_webhook_reply
from .records import WebhookDelivery

UPDATE_TYPES = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "business_connection"}
    | {"business_message", "edited_business_message", "deleted_business_messages"}
    | {"message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result"}
    | {"callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media"}
    | {"poll", "poll_answer", "my_chat_member", "chat_member", "chat_join_request"}
    | {"chat_boost", "removed_chat_boost"}
)
DEFAULT_ALLOWED_UPDATES = UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
LONG_POLL_MAX_TIMEOUT = 50
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]*")
PUBLIC_WEBHOOK_PORTS = (80, 88, 443, 8443)

ReplyExecutor = Callable[[str, Params], Awaitable[None]]


class Pulse:
    """Wakes everyone waiting for a change; ``version`` lets a waiter not miss one."""

    def __init__(self) -> None:
        self.version = 0
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        self.version += 1
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, since: int, seconds: float) -> None:
        """Return after a change later than ``since``, or after ``seconds``."""
        if self.version != since or seconds <= 0:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)


class UpdateQueue:
    """The updates waiting for the bot, oldest first; ids only ever grow."""

    def __init__(self, first_update_id: int) -> None:
        self._next_id = first_update_id
        self._pending: list[dict[str, Any]] = []
        self.allowed = DEFAULT_ALLOWED_UPDATES
        self.filtered: list[dict[str, Any]] = []  # left out by allowed_updates
        self.pulse = Pulse()

    def add(self, kind: str, body: dict[str, Any], *, copies: int = 1) -> int | None:
        """Queue a new update of ``kind``; None when the bot asked not to get such updates."""
        if kind not in self.allowed:
            self.filtered.append({kind: body})
            return None
        update_id = self._next_id
        self._next_id += 1
        update = {"update_id": update_id, kind: body}
        self._pending.extend(dict(update) for _ in range(copies))
        self.pulse.fire()
        return update_id

    @property
    def pending(self) -> list[dict[str, Any]]:
        return list(self._pending)

    def confirm(self, offset: int) -> None:
        """Forget what ``getUpdates(offset=...)`` confirms (the last -offset stay if negative)."""
        if offset < 0:
            self._pending = self._pending[offset:]
        elif 0 < offset <= self._next_id:
            self._pending = [update for update in self._pending if update["update_id"] >= offset]

    def first(self, limit: int) -> list[dict[str, Any]]:
        return self._pending[:limit]

    def drop(self, update: dict[str, Any]) -> None:
        """Forget a delivered update, unless the queue was cleared meanwhile."""
        if self._pending and self._pending[0] is update:
            self._pending.pop(0)

    def clear(self) -> None:
        self._pending.clear()

    def set_allowed(self, value: Any) -> None:
        if value is None or value is JSON_NULL:  # Telegram keeps the old choice
            return
        if not isinstance(value, list) or not all(isinstance(kind, str) for kind in value):
            raise bad_request("can't parse allowed updates JSON object")
        # Telegram ignores unknown names, and an empty list means the default set.
        chosen = frozenset(value) & UPDATE_TYPES
        self.allowed = chosen or DEFAULT_ALLOWED_UPDATES


@dataclass
class Webhook:
    """The webhook as ``getWebhookInfo`` describes it; ``url`` is "" when none is set."""

    url: str = ""
    secret_token: str = ""
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


class UpdateDelivery:
    """Hands queued updates to the bot by long polling or by posting them to its webhook."""

    def __init__(
        self,
        queue: UpdateQueue,
        execute_reply: ReplyExecutor,
        *,
        retries: int,
        retry_delay: float,
        timeout: float,
        public_webhook_rules: bool,
    ) -> None:
        self.queue = queue
        self.webhook = Webhook()
        self.deliveries: list[WebhookDelivery] = []
        self._execute_reply = execute_reply
        self._retries = retries
        self._retry_delay = retry_delay
        self._timeout = timeout
        self._public_rules = public_webhook_rules
        self._session: aiohttp.ClientSession | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._poll_generation = 0
        self._next_set_webhook = 0.0
        self._closing = False

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        self._closing = True
        self.queue.pulse.fire()
        await self._stop_pushing()
        if self._session is not None:
            await self._session.close()

    # --- getUpdates ----------------------------------------------------------------------

    async def get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook.url:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = params.integer("offset") or 0
        limit = params.integer("limit")
        limit = 100 if limit is None else min(max(limit, 1), 100)
        timeout = min(max(params.integer("timeout") or 0, 0), LONG_POLL_MAX_TIMEOUT)
        self.queue.set_allowed(params.json("allowed_updates", "allowed updates"))
        self.queue.confirm(offset)
        updates = self.queue.first(limit)
        if updates or timeout == 0 or self._closing:
            return updates
        # A newer long poll ends this one, as Telegram does for two running bot instances.
        self._poll_generation += 1
        generation = self._poll_generation
        self.queue.pulse.fire()
        deadline = time.monotonic() + timeout
        while True:
            since = self.queue.pulse.version
            if generation != self._poll_generation:
                raise conflict(
                    "terminated by other getUpdates request; "
                    "make sure that only one bot instance is running"
                )
            if self.webhook.url:
                raise conflict("terminated by setWebhook request")
            updates = self.queue.first(limit)
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self._closing:
                return updates
            await self.queue.pulse.wait(since, remaining)

    # --- setWebhook, deleteWebhook, getWebhookInfo ----------------------------------------

    async def set_webhook(self, params: Params) -> tuple[bool, str]:
        url = params.string("url") or ""
        if not url:
            return await self.delete_webhook(params)
        now = time.monotonic()
        if now < self._next_set_webhook:
            raise too_many_requests(1)  # Telegram allows one setWebhook a second
        self._next_set_webhook = now + 1
        self._check_url(url)
        secret = params.string("secret_token") or ""
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = min(max(params.integer("max_connections") or 40, 1), 100)
        drop_pending = params.boolean("drop_pending_updates")
        self.queue.set_allowed(params.json("allowed_updates", "allowed updates"))
        same = (url, secret, max_connections) == (
            self.webhook.url,
            self.webhook.secret_token,
            self.webhook.max_connections,
        )
        if same and not drop_pending:
            return True, "Webhook is already set"
        await self._stop_pushing()
        if drop_pending:
            self.queue.clear()
        self.webhook = Webhook(url=url, secret_token=secret, max_connections=max_connections)
        self.queue.pulse.fire()  # ends a running long poll with 409
        self._pusher = asyncio.create_task(self._push(self.webhook), name="fake-telegram-webhook")
        return True, "Webhook was set"

    async def delete_webhook(self, params: Params) -> tuple[bool, str]:
        if params.boolean("drop_pending_updates"):
            self.queue.clear()
        if not self.webhook.url:
            return True, "Webhook is already deleted"
        await self._stop_pushing()
        self.webhook = Webhook()
        return True, "Webhook was deleted"

    def webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.queue.pending),
        }
        if self.webhook.url:
            info.update(max_connections=self.webhook.max_connections, ip_address="127.0.0.1")
        if self.webhook.last_error_date is not None:
            info["last_error_date"] = self.webhook.last_error_date
            info["last_error_message"] = self.webhook.last_error_message
        if self.queue.allowed != DEFAULT_ALLOWED_UPDATES:
            info["allowed_updates"] = sorted(self.queue.allowed)
        return info

    def _check_url(self, url: str) -> None:
        try:
            parsed = URL(url)
        except ValueError:
            raise bad_request("invalid webhook URL specified") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise bad_request("invalid webhook URL specified")
        if self._public_rules and parsed.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if self._public_rules and parsed.port not in PUBLIC_WEBHOOK_PORTS:
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )

    # --- pushing to the webhook ----------------------------------------------------------

    async def _stop_pushing(self) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None

    async def _push(self, webhook: Webhook) -> None:
        while not self._closing:
            since = self.queue.pulse.version
            waiting = self.queue.first(1)
            if not waiting:
                await self.queue.pulse.wait(since, 60)
                continue
            await self._deliver(webhook, waiting[0])
            self.queue.drop(waiting[0])

    async def _deliver(self, webhook: Webhook, update: dict[str, Any]) -> bool:
        """POST one update, retrying a few times; False when the webhook never took it."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        for attempt in range(1, self._retries + 2):
            status: int | None = None
            reply = None
            try:
                async with self._session.post(
                    webhook.url,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                ) as response:
                    status = response.status
                    if 200 <= status < 300:
                        error = None
                        with contextlib.suppress(aiohttp.ClientError, ValueError):
                            reply = await read_webhook_reply(response)
                    else:
                        error = f"Wrong response from the webhook: {status} {response.reason}"
            except TimeoutError:
                error = "Timeout expired"
            except aiohttp.ClientError as failure:
                error = f"Connection failed: {failure}"
            self.deliveries.append(
                WebhookDelivery(update["update_id"], attempt, status, error, time.monotonic())
            )
            if error is None:
                if reply is not None:
                    await self._execute_reply(*reply)
                return True
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            if attempt <= self._retries:
                await asyncio.sleep(self._retry_delay)
        return False
