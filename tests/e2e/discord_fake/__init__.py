"""A strict fake of Discord (REST + gateway websocket) for end-to-end tests of discord.py.

``FakeDiscord`` serves ``/api/v10/...`` and the gateway on 127.0.0.1 with Discord's limits
and error codes (the 3-second acknowledgement, component and modal rules, 50007 for closed
DMs, 429 with retry_after); ``FakeDiscordUser`` plays a person using the bot.
"""

from __future__ import annotations

from .records import ApiCall, Channel, Interaction, Message, Modal, Person
from .server import ROUTES, FakeDiscord
from .user import FakeDiscordUser
from .validation import ApiError

__all__ = [
    "ROUTES",
    "ApiCall",
    "ApiError",
    "Channel",
    "FakeDiscord",
    "FakeDiscordUser",
    "Interaction",
    "Message",
    "Modal",
    "Person",
]
