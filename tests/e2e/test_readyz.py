"""``/readyz`` on the real app: ready while the database (and Redis) answer, 503 naming the
one that does not when it goes away, ready again when it is back — without a restart.

The app reaches PostgreSQL and Redis through a small TCP proxy that the test stops (closing
the port and every open connection, as a server that went down) and starts again. And
``/metrics`` counts the Telegram updates handled through the webhook and the notices sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bots.bootstrap import open_marketplace
from bots.http_app import HttpApp
from bots.settings import load_settings
from storage.migrate import upgrade
from tests.e2e.telegram_bot import running_bot
from tests.e2e.test_http_api import TOKEN, free_port
from tests.e2e.test_telegram_journey import claim_first_offer, onboard


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``, until :meth:`stop`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """As a server going down: the port closes and open connections are cut."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            sink.close()
            self._writers.discard(sink)


@contextlib.asynccontextmanager
async def proxied(url: str, default_port: int) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy to the server of ``url``, and ``url`` pointed at the proxy."""
    parsed = make_url(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or default_port)
    await proxy.start()
    try:
        yield proxy, parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    finally:
        await proxy.stop()


@contextlib.asynccontextmanager
async def served(**settings_values: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The process's HTTP app for these settings, listening on a free port."""
    settings = load_settings(http_listen=f"127.0.0.1:{free_port()}", **settings_values)
    async with await open_marketplace(settings) as runtime:
        http = HttpApp.for_runtime(runtime)
        await http.start()
        try:
            base_url = f"http://127.0.0.1:{http.bound_port}"
            async with httpx.AsyncClient(base_url=base_url, timeout=15) as client:
                yield client
        finally:
            await http.stop()


async def eventually(
    check: Callable[[], Awaitable[bool]],
    what: str,
    timeout: float = 15.0,  # noqa: ASYNC109 - the assertion's deadline
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        await asyncio.sleep(0.1)


async def test_unready_while_postgresql_is_down_and_ready_again(fresh_postgres_url: str) -> None:
    await upgrade(fresh_postgres_url)
    async with (
        proxied(fresh_postgres_url, 5432) as (database, url),
        served(database_url=url, api_tokens=f"portal:{TOKEN}") as client,
    ):
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}

        await database.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json() == {"status": "unready", "checks": {"database": "unreachable"}}
        assert str(database.port) not in down.text  # no address, let alone a password
        assert (await client.get("/healthz")).status_code == 200, "alive all the same"
        assert (await client.get("/metrics")).status_code == 200
        # The API says so too, rather than failing.
        api = await client.get("/api/v1/creators", headers={"Authorization": f"Bearer {TOKEN}"})
        assert api.status_code == 503
        assert api.json()["error"] == "unavailable"
        assert api.headers["retry-after"]

        await database.start()

        async def recovered() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(recovered, "ready again")


async def test_unready_while_redis_is_down(sqlite_url: str, redis_url: str) -> None:
    await upgrade(sqlite_url)
    async with (
        proxied(redis_url, 6379) as (redis, url),
        served(database_url=sqlite_url, redis_url=url) as client,
    ):
        ready = await client.get("/readyz")
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
        await redis.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["checks"] == {"database": "ok", "redis": "unreachable"}
        await redis.start()

        async def recovered() -> bool:
            return (await client.get("/readyz")).status_code == 200

        await eventually(recovered, "ready again")


async def test_a_database_server_that_never_answered(sqlite_url: str) -> None:
    """Pointed at a port nobody listens on from the start (the schema check is skipped, as
    for a process whose database went away before its first request)."""
    settings = load_settings(
        database_url=f"postgresql+asyncpg://collabbot:secret@127.0.0.1:{free_port()}/nowhere",
        http_listen=f"127.0.0.1:{free_port()}",
    )
    runtime = await open_marketplace(settings, check_schema=False)
    http = HttpApp.for_runtime(runtime)
    await http.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.bound_port}") as client:
            down = await client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["checks"] == {"database": "unreachable"}
            assert "secret" not in down.text
    finally:
        await http.stop()
        await runtime.close()


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for family in text_string_to_metric_families(metrics_text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


@pytest.mark.parametrize("driver", ["aiogram"])
async def test_metrics_count_telegram_updates_and_notices(tmp_path: Path, driver: str) -> None:
    port = free_port()
    async with running_bot(
        tmp_path,
        driver,
        telegram_mode="webhook",
        http_listen=f"127.0.0.1:{port}",
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        telegram_webhook_secret="webhook-secret-123",
    ) as bot:
        await bot.tg.wait_for_call("setWebhook", lambda call: call.ok, timeout=10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            before = (await client.get("/metrics")).text
            sam = bot.tg.user(2001, "Sam")
            await bot.offer(await bot.seller("Acme", sam))
            ana = bot.tg.user(1001, "Ana")
            await onboard(ana)
            await claim_first_offer(ana)
            await sam.wait_for_text("Ana applied")  # a notice, sent by the dispatcher
            response = await client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        after = response.text
        commands = {"name": "collabbot_updates_handled_total", "platform": "telegram"}
        assert sample(after, **commands, kind="command") > sample(
            before, **commands, kind="command"
        )
        assert (
            sample(after, **commands, kind="action")
            >= sample(before, **commands, kind="action") + 3
        )
        sent = {"name": "collabbot_notices_sent_total", "channel": "telegram"}
        assert sample(after, **sent) > sample(before, **sent)
        latency = "collabbot_update_handling_seconds_count"
        assert sample(after, latency, platform="telegram") > sample(
            before, latency, platform="telegram"
        )
        for name in (
            "collabbot_notices_queued",
            "collabbot_outbox_lag_seconds",
            "collabbot_update_handling_seconds_bucket",
        ):
            assert f"\n{name}" in after, name
        assert sample(after, "collabbot_outbox_lag_seconds") >= 0
