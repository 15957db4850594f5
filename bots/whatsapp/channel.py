"""The WhatsApp channel: answers inside the conversation, notices inside or outside the window.

Two ways out:

- :meth:`WhatsAppChannel.reply` answers a message the person just sent. Their message opened
  the 24-hour window, so the rendered messages go as they are.
- :meth:`WhatsAppChannel.send` (the :class:`~core.ports.channel.Channel` port, used by the
  notice dispatcher) checks the window first (:class:`ServiceWindow`). Inside it the rendered
  messages go; outside it, or when WhatsApp refuses them with 131047 after all, the notice goes
  as the approved template (:class:`NoticeTemplate`). Notices sent free-form are remembered
  for a while by message id, so that a *later* failure report with 131047 (WhatsApp may
  accept a message and only then find the window closed) still gets the template out.

WhatsApp cannot edit a sent message, so ``replace`` is ignored: an answer that would replace
a message on Telegram arrives as a new message here.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bots.whatsapp.graph import OUTSIDE_WINDOW, UNREACHABLE, GraphApi, OutsideWindow, error_kind
from bots.whatsapp.inbound import MessageStatus
from bots.whatsapp.render import WhatsAppMessage, render
from bots.whatsapp.templates import NoticeTemplate
from bots.whatsapp.window import ServiceWindow
from core.conversations.actions import ActionCodec
from core.conversations.messages import Outbound
from core.domain.common import Platform
from core.ports.channel import DeliveryError, RetryLater, Unreachable

logger = logging.getLogger(__name__)

REMEMBERED_NOTICES: Final = 2_000
MAX_REPLY_WAIT: Final = 10.0


@dataclass(slots=True)
class _SentNotice:
    chat_id: str
    notice: Outbound
    language: str | None
    fallback_sent: bool = False

    def __repr__(self) -> str:
        return f"_SentNotice(fallback_sent={self.fallback_sent})"


class WhatsAppChannel:
    """Sends core messages to WhatsApp users through the Graph API."""

    platform = Platform.WHATSAPP

    def __init__(
        self,
        graph: GraphApi,
        codec: ActionCodec,
        window: ServiceWindow,
        template: NoticeTemplate,
    ) -> None:
        self.graph = graph
        self.codec = codec
        self.window = window
        self.template = template
        self.statuses: Counter[str] = Counter()
        """Status webhooks so far, by status (``sent``, ``delivered``, ``read``, ``failed``)
        and, for failures, by what they mean (``failed:unreachable``,
        ``failed:outside-window``, ``failed:rate-limited``, ``failed:failed``)."""
        self.templates_sent = 0
        self._notices: OrderedDict[str, _SentNotice] = OrderedDict()

    def __repr__(self) -> str:
        return f"WhatsAppChannel({self.graph!r})"

    async def reply(self, chat_id: str, message: Outbound) -> None:
        """Answer the person's last message (their window is open). When WhatsApp asks to
        slow down, wait once (up to :data:`MAX_REPLY_WAIT` seconds) and go on where it
        stopped, so no part is sent twice."""
        for part in await render(message, self.codec):
            try:
                await self.graph.send(chat_id, part)
            except RetryLater as error:
                if error.seconds > MAX_REPLY_WAIT:
                    raise
                await asyncio.sleep(error.seconds)
                await self.graph.send(chat_id, part)

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        """Deliver a notice: free-form inside the window, as the template outside it."""
        if self.window.undeliverable(chat_id):
            raise Unreachable("WhatsApp reported the latest messages here as undeliverable")
        state = await self.window.state(chat_id)
        if state.open:
            try:
                sent = await self._send_all(chat_id, await render(message, self.codec))
            except OutsideWindow:
                self.window.refused_outside_window(chat_id)
            else:
                self._remember(sent, _SentNotice(chat_id, message, state.language))
                return
        await self._send_template(chat_id, message, state.language)

    async def record_status(self, status: MessageStatus) -> None:
        """Take note of a status webhook; a failure never raises, it is counted and acted on."""
        self.statuses[status.status] += 1
        if status.status != "failed":
            return
        for code in status.error_codes or (0,):
            self.statuses[f"failed:{error_kind(code)}"] += 1
            logger.info("a WhatsApp message failed: error %s (%s)", code, error_kind(code))
        if UNREACHABLE.intersection(status.error_codes) and status.recipient:
            self.window.reported_undeliverable(status.recipient)
        if OUTSIDE_WINDOW in status.error_codes and status.recipient:
            self.window.refused_outside_window(status.recipient)
            notice = self._notices.get(status.message_id)
            if notice is not None and not notice.fallback_sent:
                notice.fallback_sent = True
                try:
                    await self._send_template(notice.chat_id, notice.notice, notice.language)
                except DeliveryError as error:
                    logger.warning("the template for a refused notice failed: %s", error)

    async def _send_template(self, chat_id: str, notice: Outbound, language: str | None) -> None:
        code = self.template.language_for(language)
        await self.graph.send(chat_id, await self.template.message(notice, code))
        self.templates_sent += 1

    async def _send_all(self, chat_id: str, messages: Sequence[WhatsAppMessage]) -> list[str]:
        return [await self.graph.send(chat_id, message) for message in messages]

    def _remember(self, message_ids: list[str], notice: _SentNotice) -> None:
        for message_id in message_ids:
            if message_id:
                self._notices[message_id] = notice
        while len(self._notices) > REMEMBERED_NOTICES:
            self._notices.popitem(last=False)
