"""Notices outside WhatsApp's 24-hour window: one approved template for every notice.

Outside the customer-service window WhatsApp delivers only pre-approved templates. collabbot
needs one (name ``COLLABBOT_WHATSAPP_TEMPLATE``, default ``collabbot_notice``), approved in
each language of ``COLLABBOT_WHATSAPP_TEMPLATE_LANGUAGES``, with

- a body whose one parameter ``{{1}}`` is the notice's text (on one line: templates refuse
  line breaks in parameters; URL buttons are written out as "label: url"), and
- one quick-reply button ("Open").

Pressing "Open" opens the window again and answers with the notice's buttons: a notice with
one button gets that button's action as the quick-reply payload, so "Open" does what the
button does; a notice with several gets a token (``wo~…``) under which its buttons are kept
for :data:`OPEN_TTL`, and "Open" shows them; a notice without buttons opens the main menu.
Only labels and actions are kept, never the notice's text.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from bots.whatsapp.render import WhatsAppMessage
from core.conversations.actions import Action, ActionCodec
from core.conversations.layout import Choice, shorten
from core.conversations.markup import to_whatsapp
from core.conversations.messages import Outbound
from core.conversations.screens.common import MENU
from core.ports.kv import KeyValueStore

OPEN_PREFIX: Final = "wo~"
OPEN_TTL: Final = timedelta(days=14)
#: The parameter's share of the 1024 characters a template body may have once filled in.
PARAM_MAX: Final = 900
SEPARATOR: Final = " · "
_STORE_PREFIX: Final = "whatsapp-open:"


class NoticeTemplate:
    """Turns a notice into the template message that may be sent outside the window."""

    def __init__(
        self,
        name: str,
        languages: Sequence[str],
        codec: ActionCodec,
        store: KeyValueStore,
    ) -> None:
        if not name or not languages:
            raise ValueError("A notice template needs a name and at least one language")
        self.name = name
        self.languages = tuple(languages)
        self.codec = codec
        self.store = store

    def language_for(self, member_language: str | None) -> str:
        """The approved language closest to the member's (``zh`` matches ``zh_CN``)."""
        wanted = (member_language or "").lower().replace("-", "_")
        for code in self.languages:
            if code.lower() == wanted:
                return code
        base = wanted.split("_")[0]
        for code in self.languages:
            if base and code.lower().split("_")[0] == base:
                return code
        return self.languages[0]

    async def message(self, notice: Outbound, language: str) -> WhatsAppMessage:
        """The template message carrying ``notice``."""
        components: list[dict[str, Any]] = [
            {"type": "body", "parameters": [{"type": "text", "text": notice_text(notice)}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": await self._open_payload(notice)}],
            },
        ]
        return WhatsAppMessage(
            "template",
            {"name": self.name, "language": {"code": language}, "components": components},
        )

    async def _open_payload(self, notice: Outbound) -> str:
        rows = [[c for c in row if c.action is not None] for row in notice.rows]
        rows = [row for row in rows if row]
        actions = [choice.action for row in rows for choice in row]
        if not actions:
            return await self.codec.encode(Action(MENU))
        if len(actions) == 1:
            assert actions[0] is not None
            return await self.codec.encode(actions[0])
        token = secrets.token_urlsafe(16)
        kept = [[_kept(choice) for choice in row] for row in rows]
        await self.store.set(_STORE_PREFIX + token, json.dumps(kept), ttl=OPEN_TTL)
        return OPEN_PREFIX + token

    async def buttons(self, payload: str) -> list[list[Choice]] | None:
        """The buttons kept for an "Open" press, or ``None`` when they expired."""
        if not payload.startswith(OPEN_PREFIX):
            return None
        stored = await self.store.get(_STORE_PREFIX + payload.removeprefix(OPEN_PREFIX))
        if stored is None:
            return None
        try:
            return [[_restored(item) for item in row] for row in json.loads(stored)]
        except (ValueError, TypeError, KeyError):
            return None


def notice_text(notice: Outbound) -> str:
    """The notice on one line, URL buttons written out, short enough for the template."""
    lines = [" ".join(line.split()) for line in to_whatsapp(notice.text).split("\n")]
    parts = [line for line in lines if line]
    parts += [f"{c.label}: {c.url}" for row in notice.rows for c in row if c.url]
    return shorten(SEPARATOR.join(parts), PARAM_MAX) or "…"


def _kept(choice: Choice) -> dict[str, Any]:
    assert choice.action is not None
    action = choice.action
    return {"label": choice.label, "code": action.code, "ids": list(action.ids), "arg": action.arg}


def _restored(item: dict[str, Any]) -> Choice:
    action = Action(str(item["code"]), tuple(int(i) for i in item["ids"]), str(item["arg"]))
    return Choice(str(item["label"]), action=action)
