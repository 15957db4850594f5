"""WhatsApp rendering: an Outbound becomes Cloud API messages within WhatsApp's limits.

The layout planner decides the shape (text, up to three reply buttons, a list of up to ten
rows, or one call-to-action URL button per message); this module writes the Graph API
objects. Button and row ids are the signed action payloads of :class:`ActionCodec`, so a
press comes back as the same payload Telegram would send.

An image (``Outbound.image_url``) goes with the first message: as the header of reply
buttons and URL buttons, as the image's caption when the text fits one, and otherwise as an
image message of its own just before (list messages can only have a text header).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from core.conversations.actions import ActionCodec
from core.conversations.layout import (
    WHATSAPP_REPLY_TITLE_MAX,
    Choice,
    PlannedMessage,
    plan,
    shorten,
)
from core.conversations.markup import text_length, to_whatsapp
from core.conversations.messages import Outbound

CAPTION_MAX: Final = 1024  # Media messages: caption, max 1024 characters


@dataclass(frozen=True, slots=True)
class WhatsAppMessage:
    """One Cloud API message: its ``type`` and the object sent under that type's key."""

    type: str
    content: dict[str, Any]

    def payload(self, to: str) -> dict[str, Any]:
        """The request body that sends this message to the WhatsApp user ``to``."""
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": self.type,
            self.type: self.content,
        }

    def __repr__(self) -> str:
        return f"WhatsAppMessage({self.type!r})"


def text_message(body: str) -> WhatsAppMessage:
    return WhatsAppMessage("text", {"body": body, "preview_url": False})


def image_message(url: str, caption: str = "") -> WhatsAppMessage:
    image = {"link": url} | ({"caption": caption} if caption else {})
    return WhatsAppMessage("image", image)


async def render(outbound: Outbound, codec: ActionCodec) -> list[WhatsAppMessage]:
    """The messages to send for ``outbound``, in order."""
    messages: list[WhatsAppMessage] = []
    image = outbound.image_url
    for planned in plan("whatsapp", outbound.text, outbound.rows):
        body = to_whatsapp(planned.text)
        if planned.kind == "text":
            if image and text_length(body) <= CAPTION_MAX:
                messages.append(image_message(image, body))
            else:
                if image:
                    messages.append(image_message(image))
                messages.append(text_message(body))
        elif planned.kind == "list":
            if image:
                messages.append(image_message(image))
            messages.append(await _list(planned, body, codec))
        else:
            messages.append(await _interactive(planned, body, image, codec))
        image = ""
    return messages


async def _interactive(
    planned: PlannedMessage, body: str, image: str, codec: ActionCodec
) -> WhatsAppMessage:
    content: dict[str, Any] = {"type": "button", "body": {"text": body}}
    if image:
        content["header"] = {"type": "image", "image": {"link": image}}
    if planned.kind == "url":
        choice = planned.choices[0]
        assert choice.url is not None
        content["type"] = "cta_url"
        content["action"] = {
            "name": "cta_url",
            "parameters": {"display_text": choice.label, "url": choice.url},
        }
        return WhatsAppMessage("interactive", content)
    buttons: list[dict[str, Any]] = []
    ids: set[str] = set()
    titles: set[str] = set()
    for choice in planned.choices:
        payload = await _payload(choice, codec)
        if payload in ids:
            continue  # the same action twice: WhatsApp refuses repeated ids
        ids.add(payload)
        title = _unique(choice.label, titles)
        buttons.append({"type": "reply", "reply": {"id": payload, "title": title}})
    content["action"] = {"buttons": buttons}
    return WhatsAppMessage("interactive", content)


async def _list(planned: PlannedMessage, body: str, codec: ActionCodec) -> WhatsAppMessage:
    rows: list[dict[str, Any]] = []
    ids: set[str] = set()
    for choice in planned.choices:
        payload = await _payload(choice, codec)
        if payload in ids:
            continue
        ids.add(payload)
        row = {"id": payload, "title": choice.label}
        if choice.description:
            row["description"] = choice.description
        rows.append(row)
    return WhatsAppMessage(
        "interactive",
        {
            "type": "list",
            "body": {"text": body},
            "action": {"button": planned.list_button, "sections": [{"rows": rows}]},
        },
    )


async def _payload(choice: Choice, codec: ActionCodec) -> str:
    assert choice.action is not None, "the planner puts only action choices on buttons"
    return await codec.encode(choice.action)


def _unique(title: str, taken: set[str]) -> str:
    """``title``, numbered when another button of the message already has it: WhatsApp
    refuses two reply buttons with the same title."""
    candidate, number = title, 1
    while candidate in taken:
        number += 1
        suffix = f" ({number})"
        candidate = shorten(title, WHATSAPP_REPLY_TITLE_MAX - len(suffix)) + suffix
    taken.add(candidate)
    return candidate
