"""What the fake remembers, in the shapes tests assert on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True)
class Template:
    """A message template the test approved: its body with ``{{1}}``… and quick replies."""

    name: str
    language: str
    body: str
    buttons: tuple[str, ...] = ()

    @property
    def placeholders(self) -> int:
        return len(set(_PLACEHOLDER.findall(self.body)))

    def fill(self, values: list[str]) -> str:
        return _PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], self.body)


@dataclass
class SentMessage:
    """A message the bot sent and the fake accepted."""

    wamid: str
    to: str
    type: str
    payload: dict[str, Any]
    at: float
    change: int
    template: Template | None = None
    delivered: bool = True
    """False when the fake accepted it but then reported it failed (see ``fail_later``)."""

    @property
    def content(self) -> dict[str, Any]:
        return dict(self.payload.get(self.type) or {})

    @property
    def interactive_type(self) -> str:
        return str(self.content.get("type", "")) if self.type == "interactive" else ""

    @property
    def text(self) -> str:
        """What the person reads: the text, the interactive body, the caption or the filled
        template body."""
        content = self.content
        if self.type == "text":
            return str(content.get("body", ""))
        if self.type == "interactive":
            return str((content.get("body") or {}).get("text", ""))
        if self.type == "template" and self.template is not None:
            return self.template.fill(self.template_parameters)
        return str(content.get("caption", ""))

    @property
    def template_parameters(self) -> list[str]:
        for component in self.content.get("components") or []:
            if component.get("type") == "body":
                return [str(p.get("text", "")) for p in component.get("parameters") or []]
        return []

    def template_payload(self, index: int) -> str:
        for component in self.content.get("components") or []:
            if component.get("type") == "button" and int(component.get("index", -1)) == index:
                return str(component["parameters"][0]["payload"])
        return ""

    @property
    def buttons(self) -> list[str]:
        """Titles of reply buttons, the label of a URL button, or a template's quick replies."""
        if self.type == "template" and self.template is not None:
            return list(self.template.buttons)
        action = self.content.get("action") or {}
        if self.interactive_type == "button":
            return [str(b["reply"]["title"]) for b in action.get("buttons", [])]
        if self.interactive_type == "cta_url":
            return [str(action["parameters"]["display_text"])]
        return []

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows of a list message, over all its sections."""
        if self.interactive_type != "list":
            return []
        sections = (self.content.get("action") or {}).get("sections", [])
        return [row for section in sections for row in section.get("rows", [])]

    @property
    def row_titles(self) -> list[str]:
        return [str(row["title"]) for row in self.rows]

    @property
    def options(self) -> list[str]:
        """Everything the person can tap on the message: buttons and list rows."""
        return self.buttons + self.row_titles

    @property
    def image(self) -> str:
        """The image link of an image message or an image header ("" when none)."""
        if self.type == "image":
            return str(self.content.get("link", ""))
        header = self.content.get("header") or {}
        return str((header.get("image") or {}).get("link", "")) if header else ""

    def __repr__(self) -> str:
        shown = f" {self.options}" if self.options else ""
        kind = f"{self.type}/{self.interactive_type}" if self.interactive_type else self.type
        return f"<{kind} {self.text!r}{shown}>"


@dataclass
class GraphCall:
    """One request to the Graph API and the fake's answer."""

    path: str
    body: Any
    at: float
    status: int = 0
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def to(self) -> str:
        return str(self.body.get("to", "")) if isinstance(self.body, dict) else ""

    @property
    def type(self) -> str:
        return str(self.body.get("type", "")) if isinstance(self.body, dict) else ""


@dataclass
class WebhookDelivery:
    """A webhook call the fake made to the app, and the app's answer."""

    body: bytes
    status: int
    answer: str = ""
    headers: dict[str, str] = field(default_factory=dict)
