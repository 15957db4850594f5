"""The one HTTP endpoint of a collabbot process: platform webhooks and health checks.

Channels add their routes before :meth:`HttpApp.start`; nothing listens unless a route was
added, so a polling-only process opens no port.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

MAX_BODY = 1024 * 1024


class HttpApp:
    def __init__(self, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        self.host = host
        self.port = int(port)
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/healthz", self._alive)
        self._routes = 0
        self._runner: web.AppRunner | None = None

    async def _alive(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    def add_post(self, path: str, handler: Handler) -> None:
        self.app.router.add_post(path, handler)
        self._routes += 1

    def add_get(self, path: str, handler: Handler) -> None:
        self.app.router.add_get(path, handler)
        self._routes += 1

    @property
    def needed(self) -> bool:
        return self._routes > 0

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful when configured as 0)."""
        assert self._runner is not None
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            if server is not None and server.sockets:
                return int(server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
