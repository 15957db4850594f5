"""Talk to the conversation engine as a person would: commands, text, files, button presses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from core.conversations.actions import ActionCodec
from core.conversations.engine import ConversationEngine
from core.conversations.layout import Choice
from core.conversations.messages import FileRef, Inbound, InboundKind, Outbound
from core.domain.common import Platform
from storage.kv.memory import MemoryKeyValueStore
from tests.unit.world import World

_events = itertools.count(1)


def engine_for(w: World) -> ConversationEngine:
    kv = MemoryKeyValueStore()
    return ConversationEngine(w.mp, kv, ActionCodec(b"test-secret-for-buttons", kv))


@dataclass
class ChatUser:
    engine: ConversationEngine
    user_id: str
    name: str = "Ana"
    platform: Platform = Platform.TELEGRAM
    language_code: str = "en"
    private: bool = True
    history: list[Outbound] = field(default_factory=list)

    async def _send(self, **fields: object) -> list[Outbound]:
        inbound = Inbound(
            platform=self.platform,
            user_id=self.user_id,
            chat_id=self.user_id,
            event_id=str(next(_events)),
            display_name=self.name,
            language_code=self.language_code,
            private=self.private,
            message_id="1",
            **fields,  # type: ignore[arg-type]
        )
        replies = await self.engine.handle(inbound)
        self.history.extend(replies)
        return replies

    async def command(self, name: str, args: str = "") -> list[Outbound]:
        return await self._send(
            kind=InboundKind.COMMAND, command=name, args=args, text=f"/{name} {args}".strip()
        )

    async def say(self, text: str) -> list[Outbound]:
        return await self._send(kind=InboundKind.TEXT, text=text)

    async def send_file(self, kind: str = "video", file_id: str = "file-1") -> list[Outbound]:
        return await self._send(kind=InboundKind.FILE, file=FileRef(kind, file_id))

    def choices(self, message: Outbound | None = None) -> list[Choice]:
        message = message or self.last_with_buttons()
        return [c for row in message.rows for c in row]

    def labels(self, message: Outbound | None = None) -> list[str]:
        return [c.label for c in self.choices(message)]

    def last_with_buttons(self) -> Outbound:
        for message in reversed(self.history):
            if message.rows:
                return message
        raise AssertionError("no message with buttons yet")

    @property
    def last_text(self) -> str:
        assert self.history, "no answer yet"
        return self.history[-1].text.plain()

    async def press(self, label: str, message: Outbound | None = None) -> list[Outbound]:
        """Press the button whose label is ``label`` (or the only one containing it)."""
        choices = self.choices(message)
        exact = [c for c in choices if c.label == label]
        found = exact or [c for c in choices if label in c.label]
        labels = [c.label for c in choices]
        assert len(found) == 1, f"no single button {label!r} among {labels}"
        action = found[0].action
        assert action is not None
        payload = await self.engine.codec.encode(action)
        return await self._send(kind=InboundKind.ACTION, payload=payload)

    async def press_payload(self, payload: str) -> list[Outbound]:
        return await self._send(kind=InboundKind.ACTION, payload=payload)
