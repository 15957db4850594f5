"""Conversations: channel-neutral text, button payloads and message layout.

Screens describe what to show with :class:`Markup` and :class:`Choice`; :func:`plan` fits it
to a platform's limits; :class:`ActionCodec` turns each choice's :class:`Action` into a
button payload and back.
"""

from core.conversations.actions import (
    PAYLOAD_MAX_BYTES,
    Action,
    ActionCodec,
    is_action_payload,
)
from core.conversations.layout import (
    Choice,
    ChoiceStyle,
    MessageKind,
    PlannedMessage,
    plan,
    shorten,
    split_text,
)
from core.conversations.markup import (
    Markup,
    Part,
    Span,
    Style,
    bold,
    code,
    is_web_url,
    italic,
    link,
    plain,
    text_length,
    to_discord,
    to_html,
    to_plain,
    to_telegram_html,
    to_whatsapp,
)

__all__ = [
    "PAYLOAD_MAX_BYTES",
    "Action",
    "ActionCodec",
    "Choice",
    "ChoiceStyle",
    "Markup",
    "MessageKind",
    "Part",
    "PlannedMessage",
    "Span",
    "Style",
    "bold",
    "code",
    "is_action_payload",
    "is_web_url",
    "italic",
    "link",
    "plain",
    "plan",
    "shorten",
    "split_text",
    "text_length",
    "to_discord",
    "to_html",
    "to_plain",
    "to_telegram_html",
    "to_whatsapp",
]
