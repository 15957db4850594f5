"""Running the web playground: its routes on the process's HTTP app, and its channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bots.http_app import HttpApp
from bots.settings import Settings
from bots.web.bridge import WebBridge
from bots.web.channel import WebChannel
from bots.web.routes import SOCKET_PATH, playground_router
from core.conversations.engine import ConversationEngine

logger = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class WebService:
    """The web playground side of a collabbot process."""

    settings: Settings
    engine: ConversationEngine
    delivers_notices: bool = True
    """Whether this process runs the notice dispatcher (role ``worker``): the chats live
    here, so notices reach the pages only from a dispatcher in this process."""
    channel: WebChannel = field(init=False)
    bridge: WebBridge = field(init=False)

    def __post_init__(self) -> None:
        self.channel = WebChannel(self.engine.codec)
        self.bridge = WebBridge(self.engine, self.channel)

    def add_routes(self, http: HttpApp) -> None:
        """``/`` (the page), ``/web/static/…`` and the websocket ``/web/socket``."""
        http.app.include_router(playground_router(self.engine, self.channel, self.bridge))

    async def start(self) -> None:
        host = self.settings.http_listen.rpartition(":")[0]
        if host not in LOCAL_HOSTS:
            logger.warning(
                "The web playground is served on %s, beyond this machine: anyone who reaches "
                "it can act as the demo people. Keep COLLABBOT_HTTP_LISTEN on 127.0.0.1 "
                "unless that is what you want.",
                self.settings.http_listen,
            )
        if not self.delivers_notices:
            logger.warning(
                "The web playground runs without the notice dispatcher in this process, so "
                "its pages get answers but no notices; run it with role all (the default)."
            )
        logger.info("the web playground is on (page at /, websocket at %s)", SOCKET_PATH)

    async def stop(self) -> None:
        """Close the open pages and let the answers being prepared finish."""
        self.channel.close()
        await self.bridge.drain()
