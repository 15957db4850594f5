"""The webhook calls WhatsApp makes to the app: people's messages and delivery statuses,
signed with the app secret as Meta signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(app_secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def encode(body: dict[str, Any]) -> bytes:
    """The raw bytes as sent: non-ASCII left as is, so a receiver that re-serialised the
    JSON before checking the signature would get a different digest."""
    return json.dumps(body, ensure_ascii=False).encode()


def new_message_id() -> str:
    return "wamid." + secrets.token_urlsafe(36)


def envelope(
    waba_id: str, phone_number_id: str, display_number: str, value: dict[str, Any]
) -> dict[str, Any]:
    """The outer shape of every WhatsApp webhook call."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_number,
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def message_value(wa_id: str, name: str, message: dict[str, Any]) -> dict[str, Any]:
    """A person's message: ``message`` holds ``type`` and its object (and ``context``)."""
    return {
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [
            {"from": wa_id, "id": new_message_id(), "timestamp": str(int(time.time())), **message}
        ],
    }


def status_value(
    wamid: str, wa_id: str, status: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": wa_id,
    }
    if status in ("sent", "delivered"):
        entry["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "service"}}
        entry["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if errors:
        entry["errors"] = errors
    return {"statuses": [entry]}
