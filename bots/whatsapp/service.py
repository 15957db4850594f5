"""Running WhatsApp: the webhook routes on the process's HTTP endpoint, and the channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bots.http_app import HttpApp
from bots.settings import Settings
from bots.whatsapp.bridge import WhatsAppBridge
from bots.whatsapp.channel import WhatsAppChannel
from bots.whatsapp.graph import GraphApi
from bots.whatsapp.templates import NoticeTemplate
from bots.whatsapp.webhook import update_handler, verification_handler
from bots.whatsapp.window import ServiceWindow
from core.conversations.engine import ConversationEngine

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/whatsapp/webhook"


@dataclass
class WhatsAppService:
    """The WhatsApp side of a collabbot process."""

    settings: Settings
    engine: ConversationEngine
    graph: GraphApi = field(init=False)
    bridge: WhatsAppBridge = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        missing = [
            name
            for name, value in (
                ("COLLABBOT_WHATSAPP_TOKEN", s.whatsapp_token),
                ("COLLABBOT_WHATSAPP_PHONE_NUMBER_ID", s.whatsapp_phone_number_id),
                ("COLLABBOT_WHATSAPP_APP_SECRET", s.whatsapp_app_secret),
                ("COLLABBOT_WHATSAPP_VERIFY_TOKEN", s.whatsapp_verify_token),
            )
            if value is None
        ]
        if missing:
            raise ValueError(f"WhatsApp needs {', '.join(missing)} (see the README)")
        assert s.whatsapp_token is not None
        assert s.whatsapp_phone_number_id is not None
        self.graph = GraphApi(
            s.whatsapp_api_url,
            s.whatsapp_api_version,
            s.whatsapp_phone_number_id,
            s.whatsapp_token.get_secret_value(),
        )
        template = NoticeTemplate(
            s.whatsapp_template,
            s.whatsapp_template_languages.split(","),
            self.engine.codec,
            self.engine.store,
        )
        channel = WhatsAppChannel(
            self.graph, self.engine.codec, ServiceWindow(self.engine.mp), template
        )
        self.bridge = WhatsAppBridge(self.engine, channel, s.whatsapp_phone_number_id)

    @property
    def channel(self) -> WhatsAppChannel:
        return self.bridge.channel

    def add_routes(self, http: HttpApp) -> None:
        """Meta calls ``/whatsapp/webhook``: GET to verify it, POST with updates."""
        s = self.settings
        assert s.whatsapp_verify_token is not None
        assert s.whatsapp_app_secret is not None
        verify_token = s.whatsapp_verify_token.get_secret_value()
        http.add_get(WEBHOOK_PATH, verification_handler(verify_token))
        http.add_post(
            WEBHOOK_PATH,
            update_handler(s.whatsapp_app_secret.get_secret_value(), self.bridge.accept),
        )

    async def start(self) -> None:
        logger.info(
            "WhatsApp is running (Graph API %s); webhook at %s",
            self.settings.whatsapp_api_version,
            WEBHOOK_PATH,
        )

    async def stop(self) -> None:
        await self.bridge.drain()
        await self.graph.close()
