"""The web channel: every person's chat kept server-side, pushed live to their open pages.

Where other channels hand a message to a platform, this one keeps it: each web chat has a
history of its last :data:`HISTORY_SIZE` bubbles in this process's memory. A bubble is
added to the history and pushed at once to every page open for that person (several tabs,
several windows); a page that connects later gets the history first. So a notice the
dispatcher delivers while nobody has the page open is not lost — it is there when the page
opens — and :meth:`WebChannel.send` never raises ``Unreachable``.

The histories live as long as the process (a restart empties them) and belong to the one
process that serves the pages: the playground is meant for a single ``collabbot run``, not
for a deployment split into roles.

Pages receive JSON events:

- ``{"type": "message", "message": bubble}`` — a new bubble;
- ``{"type": "replace", "message": bubble}`` — a bubble edited in place (same ``id``), when
  an answer replaces the message whose button was pressed;
- ``{"type": "toast", "text": ...}`` — a short note about a button press;
- ``{"type": "typing", "on": true|false}`` — an answer is being prepared, or is done.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from bots.web.render import Bubble, Kind, Part, render
from core.conversations.actions import ActionCodec
from core.conversations.messages import Outbound
from core.domain.common import Platform

logger = logging.getLogger(__name__)

HISTORY_SIZE: Final = 200
"""Bubbles kept per chat; older ones are forgotten."""
CHATS_MAX: Final = 1_000
"""Chats kept at most; the least recently used one without an open page goes first."""
QUEUE_SIZE: Final = 500
"""Events waiting for one page; a page that falls this far behind is disconnected (it
reconnects and gets the history)."""

Event = dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(eq=False)
class Subscription:
    """One open page: the events waiting for it. ``None`` in the queue means "close"."""

    chat_id: str
    queue: asyncio.Queue[Event | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    closed: bool = False

    def __repr__(self) -> str:
        return f"Subscription(closed={self.closed})"

    def push(self, event: Event | None) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            logger.info("a playground page fell behind and is disconnected")
            self.closed = True

    async def next_event(self) -> Event | None:
        """The next event for the page; ``None`` once it should close."""
        if self.closed:
            return None
        event = await self.queue.get()
        return None if self.closed else event


@dataclass(eq=False)
class _Chat:
    history: deque[Bubble] = field(default_factory=lambda: deque(maxlen=HISTORY_SIZE))
    pages: list[Subscription] = field(default_factory=list)

    def find(self, bubble_id: str) -> int | None:
        for index, bubble in enumerate(self.history):
            if bubble.id == bubble_id:
                return index
        return None

    def publish(self, event: Event) -> None:
        for page in list(self.pages):
            page.push(event)
            if page.closed:
                self.pages.remove(page)


class WebChannel:
    """Sends core messages to web playground chats (``chat_id`` is the web user id)."""

    platform = Platform.WEB

    def __init__(
        self,
        codec: ActionCodec,
        *,
        history_size: int = HISTORY_SIZE,
        chats_max: int = CHATS_MAX,
        now: Callable[[], str] = _now,
    ) -> None:
        if history_size < 1 or chats_max < 1:
            raise ValueError("history_size and chats_max must be at least 1")
        self.codec = codec
        self.history_size = history_size
        self.chats_max = chats_max
        self._now = now
        self._chats: OrderedDict[str, _Chat] = OrderedDict()
        self._ids = itertools.count(1)
        self.sent = 0
        """Notices delivered through :meth:`send` so far."""

    def __repr__(self) -> str:
        return f"WebChannel(chats={len(self._chats)})"

    # --- the Channel port: notices ------------------------------------------------------

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        """Deliver a notice: into the person's history, and live to their open pages."""
        await self.post(chat_id, message, kind="notice", replace=replace)
        self.sent += 1

    # --- what the bridge and the pages use ----------------------------------------------

    async def post(
        self, chat_id: str, message: Outbound, *, kind: Kind = "answer", replace: str = ""
    ) -> list[Bubble]:
        """Show ``message`` in the chat; with ``replace`` (a bubble id) and ``message.edit``
        the first bubble takes the place of that one, if it is still in the history."""
        parts = await render(message, self.codec)
        chat = self._chat(chat_id)
        bubbles: list[Bubble] = []
        for index, part in enumerate(parts):
            at = chat.find(replace) if index == 0 and replace and message.edit else None
            if at is not None:
                bubble = self._bubble(part, kind, chat.history[at].id, edited=True)
                chat.history[at] = bubble
                chat.publish({"type": "replace", "message": bubble.as_json()})
            else:
                bubble = self._bubble(part, kind, self._next_id())
                chat.history.append(bubble)
                chat.publish({"type": "message", "message": bubble.as_json()})
            bubbles.append(bubble)
        return bubbles

    def post_mine(self, chat_id: str, text: str) -> Bubble:
        """Show what the person typed (plain text) in their chat, on all their pages."""
        chat = self._chat(chat_id)
        bubble = Bubble(self._next_id(), "me", "mine", self._now(), text=text)
        chat.history.append(bubble)
        chat.publish({"type": "message", "message": bubble.as_json()})
        return bubble

    def toast(self, chat_id: str, text: str) -> None:
        if text:
            self._chat(chat_id).publish({"type": "toast", "text": text})

    def typing(self, chat_id: str, on: bool) -> None:
        self._chat(chat_id).publish({"type": "typing", "on": on})

    def history(self, chat_id: str) -> list[Bubble]:
        chat = self._chats.get(chat_id)
        return list(chat.history) if chat else []

    def knows(self, chat_id: str, bubble_id: str) -> bool:
        """Whether ``bubble_id`` is a bubble of this chat's history."""
        chat = self._chats.get(chat_id)
        return chat is not None and chat.find(bubble_id) is not None

    def subscribe(self, chat_id: str) -> tuple[Subscription, list[Bubble]]:
        """A new open page: its event queue, and the history to draw first. Nothing can
        come between the two, so the page misses no bubble and gets none twice."""
        chat = self._chat(chat_id)
        page = Subscription(chat_id)
        chat.pages.append(page)
        return page, list(chat.history)

    def unsubscribe(self, page: Subscription) -> None:
        page.closed = True
        chat = self._chats.get(page.chat_id)
        if chat is not None and page in chat.pages:
            chat.pages.remove(page)

    def pages(self, chat_id: str) -> int:
        """How many pages are open for this chat."""
        chat = self._chats.get(chat_id)
        return len(chat.pages) if chat else 0

    def close(self) -> None:
        """Tell every open page to close (the process is stopping)."""
        for chat in self._chats.values():
            for page in chat.pages:
                page.push(None)
                page.closed = True
            chat.pages.clear()

    # --- inside ----------------------------------------------------------------------------

    def _next_id(self) -> str:
        return f"m{next(self._ids)}"

    def _bubble(self, part: Part, kind: Kind, bubble_id: str, *, edited: bool = False) -> Bubble:
        return Bubble(
            bubble_id,
            "bot",
            kind,
            self._now(),
            html=part.html,
            buttons=part.buttons,
            image=part.image,
            prompt=part.prompt,
            edited=edited,
        )

    def _chat(self, chat_id: str) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(deque(maxlen=self.history_size))
            self._chats[chat_id] = chat
            self._forget_old_chats(keep=chat_id)
        else:
            self._chats.move_to_end(chat_id)
        return chat

    def _forget_old_chats(self, *, keep: str) -> None:
        while len(self._chats) > self.chats_max:
            idle = next(
                (key for key, chat in self._chats.items() if not chat.pages and key != keep),
                None,
            )
            if idle is None:
                return
            del self._chats[idle]
