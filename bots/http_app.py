"""The one HTTP app of a collabbot process: an ASGI app (FastAPI) served by uvicorn inside the
process's own event loop.

It serves:

- ``/healthz``: the process is alive (no dependency is asked);
- ``/readyz``: the database answers ``SELECT 1`` and Redis (when configured) ``PING``, each
  within two seconds; 503 names the one that failed (see :mod:`bots.api.readiness`);
- ``/metrics``: Prometheus text (see :mod:`bots.metrics`);
- the integration API under ``/api/v1``, its OpenAPI document at ``/api/openapi.json`` and
  docs at ``/api/docs`` (see :mod:`bots.api`), when built with a marketplace;
- whatever the channels add: platform webhooks through :meth:`HttpApp.add_post` /
  :meth:`HttpApp.add_get` (Starlette handlers: ``async def handler(request) -> Response``),
  and more routes on :attr:`HttpApp.app`, a :class:`fastapi.FastAPI`, e.g.
  ``http.app.include_router(router)`` or ``http.app.add_api_websocket_route(path, handler)``
  (give them ``include_in_schema=False``; the OpenAPI document lists ``/api/v1`` only).

:meth:`HttpApp.start` / :meth:`HttpApp.stop` are the app's lifespan: ASGI lifespan events
are not sent, so what must run with the app is started and stopped by its channel.
:attr:`HttpApp.needed` tells whether anything beyond the health checks and metrics is served
(a webhook or other route was added, or API tokens are configured); the process runner
decides from it whether to listen. Bodies above 1 MiB are refused with 413.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING

import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bots import metrics
from bots.api import DOCS_URL, OPENAPI_URL, mount_api
from bots.api.errors import install_error_handlers
from bots.api.readiness import Readiness, database_check, redis_check
from bots.settings import parse_api_tokens
from core.services import Marketplace

if TYPE_CHECKING:
    from bots.bootstrap import Runtime

__all__ = ["MAX_BODY", "CannotListen", "Handler", "HttpApp"]

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
SHUTDOWN_GRACE = 10.0
"""Seconds requests in flight get to finish when the app stops; then they are cancelled."""
METRICS_REFRESH_TIMEOUT = 2.0

Handler = Callable[[Request], Awaitable[Response]]


class HttpApp:
    """The process's HTTP endpoint, listening on ``listen`` (``host:port``; port 0 picks a
    free one, see :attr:`bound_port`)."""

    def __init__(
        self,
        listen: str,
        *,
        readiness: Readiness | None = None,
        marketplace: Marketplace | None = None,
        api_tokens: Mapping[str, str] | None = None,
    ) -> None:
        host, _, port = listen.rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)
        self.readiness = readiness or Readiness()
        self.marketplace = marketplace
        api = marketplace is not None
        self.app = FastAPI(
            title="collabbot",
            openapi_url=OPENAPI_URL if api else None,
            docs_url=DOCS_URL if api else None,
            redoc_url=None,
        )
        install_error_handlers(self.app)
        self.app.add_middleware(_LimitBody, max_body=MAX_BODY)
        self.app.add_route("/healthz", self._alive, ["GET"], include_in_schema=False)
        self.app.add_route("/readyz", self._ready, ["GET"], include_in_schema=False)
        self.app.add_route("/metrics", self._metrics, ["GET"], include_in_schema=False)
        if marketplace is not None:
            mount_api(self.app, marketplace, api_tokens or {})
        self._wanted = bool(api_tokens)
        self._own_routes = len(self.app.router.routes)
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> HttpApp:
        """The app of a running process: readiness of its database (and Redis), and the
        integration API on its marketplace with the tokens from ``COLLABBOT_API_TOKENS``."""
        settings = runtime.settings
        checks = [database_check(runtime.database.engine)]
        if settings.redis_url:
            checks.append(redis_check(settings.redis_url))
        secret = settings.api_tokens
        tokens = parse_api_tokens(secret.get_secret_value()) if secret is not None else {}
        return cls(
            settings.http_listen,
            readiness=Readiness(checks),
            marketplace=runtime.marketplace,
            api_tokens=tokens,
        )

    # --- routes ---------------------------------------------------------------------------

    def add_post(self, path: str, handler: Handler) -> None:
        self.app.add_route(path, _endpoint(handler), ["POST"], include_in_schema=False)

    def add_get(self, path: str, handler: Handler) -> None:
        self.app.add_route(path, _endpoint(handler), ["GET"], include_in_schema=False)

    @property
    def needed(self) -> bool:
        """Whether something beyond health checks and metrics is served here."""
        return self._wanted or len(self.app.router.routes) > self._own_routes

    async def _alive(self, request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def _ready(self, request: Request) -> Response:
        checks = await self.readiness.run()
        ready = all(verdict == "ok" for verdict in checks.values())
        body = {"status": "ready" if ready else "unready", "checks": checks}
        return JSONResponse(body, 200 if ready else 503, headers={"Cache-Control": "no-store"})

    async def _metrics(self, request: Request) -> Response:
        if self.marketplace is not None:
            try:
                await asyncio.wait_for(
                    metrics.refresh_outbox(self.marketplace), METRICS_REFRESH_TIMEOUT
                )
            except Exception as error:  # the other metrics are still worth serving
                logger.debug("outbox metrics not refreshed: %s", type(error).__name__)
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    # --- serving --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen, and serve in the running event loop until :meth:`stop`."""
        sock = _listen(self.host, self.port)
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            log_level=logging.WARNING,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE),
        )
        server = _EmbeddedServer(config)
        self._server, self._socket = server, sock
        self._serving = asyncio.create_task(server.serve(sockets=[sock]), name="http-server")
        while not server.started:
            if self._serving.done():
                self._serving.result()
                raise RuntimeError("the HTTP endpoint stopped while starting")
            await asyncio.sleep(0.005)

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful when configured as 0)."""
        if self._socket is None:
            return self.port
        return int(self._socket.getsockname()[1])

    async def stop(self) -> None:
        """Stop accepting, let the requests in flight finish (up to ten seconds), close."""
        server, serving = self._server, self._serving
        self._server = self._serving = None
        try:
            if server is not None and serving is not None:
                server.should_exit = True
                await serving
        finally:
            if self._socket is not None:
                self._socket.close()
                self._socket = None
            await self.readiness.close()


def _endpoint(handler: Handler) -> Handler:
    # Starlette takes a callable that is not a plain function for a raw ASGI app.
    async def endpoint(request: Request) -> Response:
        return await handler(request)

    return endpoint


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside someone else's event loop: the process's runner owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn before 0.29
        return None


class CannotListen(RuntimeError):
    """The configured address cannot be listened on; the message says why."""


def _listen(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise CannotListen(
            f"cannot listen on {host}:{port} ({error.strerror or error}); check "
            "COLLABBOT_HTTP_LISTEN"
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        raise CannotListen(
            f"cannot listen on {host}:{port} ({error.strerror or error}); is another process "
            "using it? Check COLLABBOT_HTTP_LISTEN"
        ) from None
    return sock


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"The request body is larger than {MAX_BODY // 1024} KiB.")


class _LimitBody:
    """Refuses bodies over ``max_body`` bytes: by their Content-Length before reading, and
    while reading those that do not declare one."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            status = 413 if declared.isdigit() else 400
            message = BodyTooLarge().detail if status == 413 else "Bad Content-Length."
            code = "too_large" if status == 413 else "bad_request"
            response = JSONResponse({"error": code, "message": message}, status)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        await self.app(scope, limited, send)
