"""WhatsApp on the shared core: webhook events in, answers out.

:meth:`WhatsAppBridge.accept` takes a verified webhook payload and returns at once (Meta
wants its 200 quickly and sends again when it does not get one); the events are handled in
the background, one at a time per person and in the order they came, so a typed answer never
overtakes the button press before it. Messages go to the conversation engine, which
de-duplicates them by message id; status reports go to the channel.

A press on "Open" under a notice template (see :mod:`bots.whatsapp.templates`) is answered
here with the notice's buttons, since only this channel knows those presses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from bots.metrics import update_handled
from bots.whatsapp.channel import WhatsAppChannel
from bots.whatsapp.inbound import parse_webhook
from bots.whatsapp.templates import OPEN_PREFIX
from core.conversations.engine import DEDUP_TTL, EXPIRED, ConversationEngine
from core.conversations.i18n import translator
from core.conversations.markup import Markup
from core.conversations.messages import Inbound, InboundKind, Outbound
from core.domain.errors import DomainError
from core.ports.channel import DeliveryError
from core.services import register_identity

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT: Final = 10.0
CHOOSE: Final = "Please choose one of the buttons."


@dataclass
class _Turn:
    """Keeps one person's events in order."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class WhatsAppBridge:
    """Feeds WhatsApp webhooks to the conversation engine and sends its answers."""

    def __init__(
        self, engine: ConversationEngine, channel: WhatsAppChannel, phone_number_id: str
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.phone_number_id = phone_number_id
        self._turns: dict[str, _Turn] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def accept(self, body: Any) -> None:
        """Queue everything in one webhook payload for handling."""
        events = parse_webhook(body, self.phone_number_id)
        for inbound in events.messages:
            self._queue(inbound.user_id, lambda inbound=inbound: self.handle_message(inbound))
        for status in events.statuses:
            self._queue(status.recipient, lambda status=status: self.channel.record_status(status))
        if events.ignored:
            logger.debug("ignored %d WhatsApp webhook entries", events.ignored)

    async def handle_message(self, inbound: Inbound) -> None:
        """Answer one message from a person."""
        with update_handled(inbound.platform.value, inbound.kind.value):
            await self._answer(inbound)

    async def _answer(self, inbound: Inbound) -> None:
        self.channel.window.person_wrote(inbound.chat_id)
        if inbound.kind is InboundKind.ACTION and inbound.payload.startswith(OPEN_PREFIX):
            replies = await self._open_notice(inbound)
        else:
            replies = await self.engine.handle(inbound)
        for reply in replies:
            await self._deliver(inbound.chat_id, reply)

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:  # noqa: ASYNC109
        """Finish the events in hand (up to ``timeout`` seconds), then drop the rest."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _queue(self, key: str, work: Callable[[], Awaitable[None]]) -> None:
        turn = self._turns.setdefault(key, _Turn())
        turn.waiting += 1
        task = asyncio.create_task(self._in_turn(key, turn, work), name="whatsapp-event")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_turn(self, key: str, turn: _Turn, work: Callable[[], Awaitable[None]]) -> None:
        try:
            async with turn.lock:
                await work()
        except Exception:
            logger.exception("handling a WhatsApp webhook event failed")
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                self._turns.pop(key, None)

    async def _open_notice(self, inbound: Inbound) -> list[Outbound]:
        """ "Open" under a notice template with several buttons: show those buttons."""
        seen = f"seen:{inbound.platform.value}:{inbound.event_id}"
        if not await self.engine.store.set_if_absent(seen, "1", ttl=DEDUP_TTL):
            return []
        try:
            # Also records the message, which opens the 24-hour window again.
            member = await register_identity(
                self.engine.mp,
                inbound.platform,
                inbound.user_id,
                inbound.chat_id,
                inbound.display_name,
            )
        except DomainError as error:
            return [Outbound(Markup.of(error.message))]
        t = translator(member.language)
        rows = await self.channel.template.buttons(inbound.payload)
        if not rows:
            return [Outbound(Markup.of(t(EXPIRED)))]
        return [Outbound(Markup.of(t(CHOOSE)), rows=rows)]

    async def _deliver(self, chat_id: str, reply: Outbound) -> None:
        try:
            await self.channel.reply(chat_id, reply)
        except DeliveryError as error:
            logger.warning("sending a WhatsApp answer failed: %s", error)
