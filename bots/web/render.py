"""Web rendering: an ``Outbound`` becomes chat bubbles the page can draw as they are.

Bubble text is HTML made by :func:`~core.conversations.markup.to_html`, which escapes every
character of every span, so product titles, names and anything else people typed can never
add markup to the page. Button labels and the person's own words are sent as plain text and
the page puts them in with ``textContent``. Action buttons carry their signed payload; the
engine checks it again, and who presses it, on every press.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.conversations.actions import ActionCodec
from core.conversations.layout import plan
from core.conversations.markup import is_web_url, to_html
from core.conversations.messages import Outbound, Prompt

Sender = Literal["bot", "me"]
Kind = Literal["answer", "notice", "mine"]


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str = ""
    url: str = ""
    style: str = "secondary"

    def as_json(self) -> dict[str, str]:
        shown = {"label": self.label, "style": self.style}
        if self.url:
            shown["url"] = self.url
        else:
            shown["payload"] = self.payload
        return shown


@dataclass(frozen=True, slots=True)
class Part:
    """One bubble's content before it gets an id: what :func:`render` makes."""

    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: str = ""
    prompt: Prompt | None = None


@dataclass(slots=True)
class Bubble:
    """One bubble in a person's chat, as kept in the history and sent to the page."""

    id: str
    sender: Sender
    kind: Kind
    at: str
    html: str = ""
    """Bot bubbles: safe HTML (from ``to_html``)."""
    text: str = ""
    """The person's own bubbles: plain text, never HTML."""
    buttons: tuple[tuple[Button, ...], ...] = ()
    image: str = ""
    prompt: Prompt | None = None
    edited: bool = False

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": self.id,
            "from": self.sender,
            "kind": self.kind,
            "at": self.at,
            "edited": self.edited,
        }
        if self.sender == "bot":
            shown["html"] = self.html
            shown["buttons"] = [[button.as_json() for button in row] for row in self.buttons]
            if self.image:
                shown["image"] = self.image
            if self.prompt is not None:
                shown["prompt"] = {
                    "label": self.prompt.label,
                    "placeholder": self.prompt.placeholder,
                    "multiline": self.prompt.multiline,
                    "max_length": self.prompt.max_length,
                }
        else:
            shown["text"] = self.text
        return shown


async def render(outbound: Outbound, codec: ActionCodec) -> list[Part]:
    """The bubbles for ``outbound``: more than one only when the text is over the web's
    length cap. The image goes on the first bubble, the text prompt on the last."""
    planned = plan("web", outbound.text, outbound.rows)
    parts: list[Part] = []
    for index, message in enumerate(planned):
        rows: list[tuple[Button, ...]] = []
        for row in message.rows:
            buttons: list[Button] = []
            for choice in row:
                if choice.url is not None:
                    buttons.append(Button(choice.label, url=choice.url, style=choice.style))
                else:
                    assert choice.action is not None
                    payload = await codec.encode(choice.action)
                    buttons.append(Button(choice.label, payload=payload, style=choice.style))
            rows.append(tuple(buttons))
        image = outbound.image_url if index == 0 and is_web_url(outbound.image_url) else ""
        last = index == len(planned) - 1
        parts.append(
            Part(
                to_html(message.text),
                tuple(rows),
                image,
                outbound.prompt if last else None,
            )
        )
    return parts
