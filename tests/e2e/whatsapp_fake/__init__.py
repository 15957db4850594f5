"""A strict fake of the WhatsApp Cloud API for end-to-end tests of the real client code.

``FakeWhatsApp`` serves ``POST /{version}/{phone_number_id}/messages`` on 127.0.0.1 with the
Cloud API's checks and error codes, and plays WhatsApp's side of the webhook: signed calls to
the app. ``FakeWhatsAppUser`` is a person who writes to the business number and taps its
buttons and list rows.
"""

from __future__ import annotations

from .errors import GraphError
from .records import GraphCall, SentMessage, Template, WebhookDelivery
from .server import FakeWhatsApp
from .user import FakeWhatsAppUser, UserMessage

__all__ = [
    "FakeWhatsApp",
    "FakeWhatsAppUser",
    "GraphCall",
    "GraphError",
    "SentMessage",
    "Template",
    "UserMessage",
    "WebhookDelivery",
]
