"""Reading WhatsApp webhook payloads: messages become neutral :class:`Inbound` events, and
delivery statuses become :class:`MessageStatus` records.

- text → ``COMMAND`` when it starts with "/" (``/offers``), or when the whole message is one
  of :data:`WORD_COMMANDS` ("offers", "Help", "menu", "hi" …): WhatsApp has no command menu,
  so people type the word; anything else → ``TEXT``
- a reply button or list row (``interactive``), or a template's quick-reply button
  (``button``) → ``ACTION`` with the button's id or payload
- image, video, document, audio, sticker → ``FILE`` (the media id only; nothing is
  downloaded), the caption as text
- location, contacts → ``CONTACT``
- reactions, system notices and unsupported messages are ignored

The event id is WhatsApp's message id, so a redelivered webhook is answered once (the engine
de-duplicates). A WhatsApp user id is a phone number: it is the chat id as well, and nothing
here logs it. Payloads are untrusted: a malformed part is skipped, never raised on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from core.conversations.messages import FileRef, Inbound, InboundKind
from core.domain.common import Platform

#: Whole-message words that act as commands ("hi" and "menu" show the start menu).
WORD_COMMANDS: Final[dict[str, str]] = {
    "start": "start",
    "menu": "start",
    "hi": "start",
    "hello": "start",
    "help": "help",
    "offers": "offers",
    "orders": "orders",
    "profile": "profile",
    "cancel": "cancel",
}
_FILE_KINDS: Final = {
    "image": "photo",
    "video": "video",
    "document": "document",
    "audio": "audio",
    "sticker": "photo",
}


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """What WhatsApp reports about a message the bot sent: sent, delivered, read or failed."""

    status: str
    message_id: str
    recipient: str
    error_codes: tuple[int, ...] = ()

    def __repr__(self) -> str:
        # The message id encodes the recipient's phone number: leave both out.
        return f"MessageStatus({self.status!r}, errors={self.error_codes})"


@dataclass(slots=True)
class WebhookEvents:
    """Everything one webhook call reported for our phone number."""

    messages: list[Inbound] = field(default_factory=list)
    statuses: list[MessageStatus] = field(default_factory=list)
    ignored: int = 0


def parse_webhook(body: Any, phone_number_id: str) -> WebhookEvents:
    """The messages and statuses in a webhook payload addressed to ``phone_number_id``."""
    events = WebhookEvents()
    for value in _values(body):
        metadata = _dict(value.get("metadata"))
        if str(metadata.get("phone_number_id", "")) != phone_number_id:
            events.ignored += 1
            continue
        names = {
            str(contact.get("wa_id")): str(_dict(contact.get("profile")).get("name") or "")
            for contact in _dicts(value.get("contacts"))
        }
        for message in _dicts(value.get("messages")):
            inbound = inbound_from_message(message, names)
            if inbound is None:
                events.ignored += 1
            else:
                events.messages.append(inbound)
        for status in _dicts(value.get("statuses")):
            parsed = _status(status)
            if parsed is not None:
                events.statuses.append(parsed)
    return events


def inbound_from_message(message: dict[str, Any], names: dict[str, str]) -> Inbound | None:
    """The neutral event for one webhook message, or ``None`` for what collabbot ignores."""
    sender = str(message.get("from") or "").strip()
    event_id = str(message.get("id") or "").strip()
    kind = message.get("type")
    if not sender or not event_id or not isinstance(kind, str):
        return None
    context = _dict(message.get("context"))
    common: dict[str, Any] = {
        "display_name": names.get(sender, ""),
        "message_id": str(context.get("id") or ""),
    }
    ids = (Platform.WHATSAPP, sender, sender, event_id)
    if kind == "text":
        return _text(ids, str(_dict(message.get("text")).get("body") or ""), common)
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        reply = _dict(interactive.get(str(interactive.get("type") or "")))
        payload = str(reply.get("id") or "")
        if interactive.get("type") not in ("button_reply", "list_reply") or not payload:
            return None
        return Inbound(*ids, InboundKind.ACTION, payload=payload, **common)
    if kind == "button":
        button = _dict(message.get("button"))
        payload = str(button.get("payload") or "")
        if not payload:
            return _text(ids, str(button.get("text") or ""), common)
        return Inbound(*ids, InboundKind.ACTION, payload=payload, **common)
    if kind in _FILE_KINDS:
        media = _dict(message.get(kind))
        media_id = str(media.get("id") or "")
        if not media_id:
            return None
        file = FileRef(
            _FILE_KINDS[kind],
            media_id,
            str(media.get("mime_type") or ""),
            name=str(media.get("filename") or ""),
        )
        caption = str(media.get("caption") or "")
        return Inbound(*ids, InboundKind.FILE, file=file, text=caption, **common)
    if kind in ("location", "contacts"):
        return Inbound(*ids, InboundKind.CONTACT, **common)
    return None


def _text(ids: tuple[Platform, str, str, str], text: str, common: dict[str, Any]) -> Inbound | None:
    if not text.strip():
        return None
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        head, _, args = stripped.partition(" ")
        command = head[1:].split("@")[0].lower()
        return Inbound(
            *ids, InboundKind.COMMAND, command=command, args=args.strip(), text=text, **common
        )
    word = stripped.lower().rstrip("!.?")
    if word in WORD_COMMANDS:
        return Inbound(*ids, InboundKind.COMMAND, command=WORD_COMMANDS[word], text=text, **common)
    return Inbound(*ids, InboundKind.TEXT, text=text, **common)


def _status(status: dict[str, Any]) -> MessageStatus | None:
    name = status.get("status")
    if not isinstance(name, str):
        return None
    errors = _dicts(status.get("errors"))
    codes = tuple(error["code"] for error in errors if isinstance(error.get("code"), int))
    return MessageStatus(
        name, str(status.get("id") or ""), str(status.get("recipient_id") or ""), codes
    )


def _values(body: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        return
    for entry in _dicts(body.get("entry")):
        for change in _dicts(entry.get("changes")):
            if change.get("field") == "messages":
                yield _dict(change.get("value"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
