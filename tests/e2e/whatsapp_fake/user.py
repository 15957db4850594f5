"""A person on the fake WhatsApp: what the bot sent them, and what they do.

Every action is a signed webhook call to the app (it must answer 200). Taps are looked for
on the bot's messages since the person last did something, newest first, then on older
ones: on WhatsApp a screen may come as several messages ("More options (2/3)").
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .records import SentMessage, WebhookDelivery
from .webhooks import SIGNATURE_HEADER, encode, message_value, sign

if TYPE_CHECKING:
    from .server import FakeWhatsApp

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class UserMessage:
    """Something the person sent: the webhook body as posted, and the app's answer."""

    message_id: str
    raw: bytes
    delivery: WebhookDelivery
    media_id: str = ""
    """For a photo, video or document: the media id the bot sees."""


def _match(options: list[str], label: str) -> list[str]:
    for found in (
        [o for o in options if o == label],
        [o for o in options if o.startswith(label)],
        [o for o in options if label in o],
    ):
        if found:
            return found
    return []


class FakeWhatsAppUser:
    """A WhatsApp user chatting with the business number."""

    def __init__(self, fake: FakeWhatsApp, wa_id: str, name: str) -> None:
        self.fake = fake
        self.wa_id = wa_id
        self.name = name
        self._mark = 0
        self.sent: list[UserMessage] = []

    def __repr__(self) -> str:
        return f"FakeWhatsAppUser({self.name!r})"

    # --- what the bot sent ----------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """Every message the bot got through to this person, in order."""
        return self.fake.messages_to(self.wa_id)

    @property
    def last(self) -> SentMessage | None:
        return self.messages[-1] if self.messages else None

    def _history(self) -> str:
        shown = [repr(message) for message in self.messages[-8:]]
        return "\n  ".join(shown) if shown else "(nothing)"

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
        *,
        description: str = "matching message",
        since_last_action: bool = True,
    ) -> SentMessage:
        """The first message since this person last acted (or ever) that ``predicate``
        accepts, waiting for it if need be."""
        baseline = self._mark if since_last_action else 0
        deadline = time.monotonic() + timeout
        while True:
            since = self.fake.changes.version
            for message in self.messages:
                if message.change > baseline and predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"the bot sent {self!r} no {description} within {timeout} s; its latest "
                    f"messages:\n  {self._history()}"
                )
            await self.fake.changes.wait(since, remaining)

    async def wait_for_text(
        self,
        substring: str,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
    ) -> SentMessage:
        return await self.wait_for(
            lambda m: substring in m.text, timeout, description=f"message containing {substring!r}"
        )

    async def wait_for_option(
        self,
        label: str,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
    ) -> SentMessage:
        """A new message with a button or list row whose label contains ``label``."""
        return await self.wait_for(
            lambda m: any(label in option for option in m.options),
            timeout,
            description=f"message with the option {label!r}",
        )

    # --- doing things ---------------------------------------------------------------------

    async def send_text(self, text: str) -> UserMessage:
        return await self._send({"type": "text", "text": {"body": text}})

    async def send_command(self, command: str) -> UserMessage:
        return await self.send_text("/" + command.removeprefix("/"))

    async def send_image(self, caption: str | None = None) -> UserMessage:
        return await self._send_media("image", "image/jpeg", caption)

    async def send_video(self, caption: str | None = None) -> UserMessage:
        return await self._send_media("video", "video/mp4", caption)

    async def send_document(self, filename: str = "brief.pdf") -> UserMessage:
        return await self._send_media("document", "application/pdf", None, filename=filename)

    async def press(self, label: str, message: SentMessage | None = None) -> UserMessage:
        """Tap the reply button (or a template's quick reply) labelled ``label``."""
        target, title = self._find(label, message, lambda m: m.buttons)
        if target.interactive_type == "cta_url":
            raise AssertionError(f"{title!r} is a URL button: tapping it opens a browser")
        context = {"from": self.fake.display_phone_number, "id": target.wamid}
        if target.type == "template":
            payload = target.template_payload(target.buttons.index(title))
            return await self._send(
                {"type": "button", "button": {"payload": payload, "text": title}},
                context=context,
            )
        button = next(
            b["reply"] for b in target.content["action"]["buttons"] if b["reply"]["title"] == title
        )
        return await self._send(
            {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": button},
            },
            context=context,
        )

    async def pick(self, label: str, message: SentMessage | None = None) -> UserMessage:
        """Open a list message and pick the row titled ``label``."""
        target, title = self._find(label, message, lambda m: m.row_titles)
        row = next(r for r in target.rows if r["title"] == title)
        reply = {k: row[k] for k in ("id", "title", "description") if k in row}
        return await self._send(
            {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}},
            context={"from": self.fake.display_phone_number, "id": target.wamid},
        )

    async def choose(self, label: str, message: SentMessage | None = None) -> UserMessage:
        """Tap ``label`` whether it is a reply button or a list row."""
        target, title = self._find(label, message, lambda m: m.options)
        if title in target.buttons:
            return await self.press(title, target)
        return await self.pick(title, target)

    async def send_reply(
        self, reply_id: str, title: str = "Button", *, list_row: bool = False
    ) -> UserMessage:
        """A tap whose id the test chooses: a button or list row from another time, or made
        up (WhatsApp itself only sends ids the bot put on its messages)."""
        kind = "list_reply" if list_row else "button_reply"
        reply = {"id": reply_id, "title": title}
        return await self._send({"type": "interactive", "interactive": {"type": kind, kind: reply}})

    async def send_quick_reply(self, payload: str, text: str = "Open") -> UserMessage:
        """A tap on a template's quick-reply button carrying ``payload``."""
        return await self._send({"type": "button", "button": {"payload": payload, "text": text}})

    async def resend(self, message: UserMessage) -> WebhookDelivery:
        """WhatsApp delivers the same webhook again (same message id, same signature)."""
        return await self.fake.post_raw(
            message.raw, {SIGNATURE_HEADER: sign(self.fake.app_secret, message.raw)}
        )

    # --- internals ----------------------------------------------------------------------

    def _find(
        self,
        label: str,
        message: SentMessage | None,
        options: Callable[[SentMessage], list[str]],
    ) -> tuple[SentMessage, str]:
        if message is not None:
            candidates = [message]
        else:
            recent = [m for m in self.messages if m.change > self._mark]
            older = [m for m in self.messages if m.change <= self._mark]
            candidates = list(reversed(recent)) + list(reversed(older))
        for candidate in candidates:
            found = _match(options(candidate), label)
            if len(found) > 1:
                raise AssertionError(f"{label!r} matches several options {found}; be precise")
            if found:
                return candidate, found[0]
        raise AssertionError(
            f"{self!r} has no message with an option {label!r}; the bot's latest messages:\n  "
            f"{self._history()}"
        )

    async def _send_media(
        self, kind: str, mime_type: str, caption: str | None, **extra: str
    ) -> UserMessage:
        media: dict[str, Any] = {
            "id": str(1_000_000_000 + len(self.sent)),
            "mime_type": mime_type,
            "sha256": "ZmFrZQ==",
            **extra,
        }
        if caption:
            media["caption"] = caption
        sent = await self._send({"type": kind, kind: media})
        return dataclasses.replace(sent, media_id=media["id"])

    async def _send(
        self, message: dict[str, Any], *, context: dict[str, str] | None = None
    ) -> UserMessage:
        self._mark = self.fake.change_count
        self.fake.person_wrote(self.wa_id)
        if context is not None:
            message = {"context": context, **message}
        value = message_value(self.wa_id, self.name, message)
        body = self.fake.envelope(value)
        raw = encode(body)
        delivery = await self.fake.post_raw(
            raw, {SIGNATURE_HEADER: sign(self.fake.app_secret, raw)}
        )
        if delivery.status != 200:
            raise AssertionError(f"the app answered a webhook with {delivery.status}: {delivery}")
        sent = UserMessage(value["messages"][0]["id"], raw, delivery)
        self.sent.append(sent)
        return sent
