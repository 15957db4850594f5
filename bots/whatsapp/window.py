"""WhatsApp's 24-hour customer-service window, per person.

A business may send free-form messages only within 24 hours of the person's last message;
after that only approved templates. The durable truth is the time of the last message, which
the conversation engine records on the member's WhatsApp identity for every message that
arrives (``register_identity`` → ``last_inbound_at``), in the database every process shares:
so a dispatcher in another process knows the window too. :meth:`ServiceWindow.state` reads it
through the ``find_member`` use case.

On top of that this process remembers, in memory, what WhatsApp itself said: a refusal with
131047 (the window is closed after all, e.g. clocks disagree) and messages reported as
undeliverable. Both are forgotten as soon as the person writes again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from core.domain.common import Platform
from core.services import Marketplace, find_member

WINDOW: Final = timedelta(hours=24)
#: Treat the window as closed a little early, so a message sent at its edge is not refused.
MARGIN: Final = timedelta(minutes=10)
#: How long a report of undeliverable messages keeps notices from being sent here.
UNDELIVERABLE_FOR: Final = timedelta(hours=24)
MEMORY: Final = 10_000


@dataclass(frozen=True, slots=True)
class WindowState:
    """Whether free-form messages may be sent now, and the member's language for templates."""

    open: bool
    language: str | None = None


class _Recent(OrderedDict[str, datetime]):
    """The latest ``MEMORY`` notes, oldest dropped first."""

    def note(self, key: str, at: datetime) -> None:
        self[key] = at
        self.move_to_end(key)
        while len(self) > MEMORY:
            self.popitem(last=False)


class ServiceWindow:
    """Knows whether each WhatsApp chat is inside its 24-hour window."""

    def __init__(self, mp: Marketplace) -> None:
        self.mp = mp
        self._closed = _Recent()
        self._undeliverable = _Recent()

    def __repr__(self) -> str:
        return (
            f"ServiceWindow({len(self._closed)} closed, {len(self._undeliverable)} undeliverable)"
        )

    async def state(self, chat_id: str) -> WindowState:
        member = await find_member(self.mp, Platform.WHATSAPP, chat_id)
        if member is None:
            return WindowState(False)
        identity = member.identity_on(Platform.WHATSAPP)
        last = identity.last_inbound_at if identity is not None else None
        now = self.mp.clock.now()
        closed_at = self._closed.get(chat_id)
        is_open = (
            last is not None
            and now - last < WINDOW - MARGIN
            and (closed_at is None or closed_at < last)
        )
        return WindowState(is_open, member.language)

    def person_wrote(self, chat_id: str) -> None:
        """A message from the person: whatever WhatsApp said before no longer holds."""
        self._closed.pop(chat_id, None)
        self._undeliverable.pop(chat_id, None)

    def refused_outside_window(self, chat_id: str) -> None:
        """WhatsApp refused a free-form message with 131047."""
        self._closed.note(chat_id, self.mp.clock.now())

    def reported_undeliverable(self, chat_id: str) -> None:
        """A status webhook reported a message to this chat as undeliverable."""
        self._undeliverable.note(chat_id, self.mp.clock.now())

    def undeliverable(self, chat_id: str) -> bool:
        """Whether messages here were reported undeliverable lately (and the person has not
        written since)."""
        at = self._undeliverable.get(chat_id)
        return at is not None and self.mp.clock.now() - at < UNDELIVERABLE_FOR
