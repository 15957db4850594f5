"""The refusals of the Cloud API, as the HTTP status and ``{"error": {...}}`` body Meta sends."""

from __future__ import annotations

import secrets
from typing import Any

# Titles as the Cloud API documentation lists them.
TITLES = {
    4: "Application request limit reached",
    100: "Invalid parameter",
    131000: "Something went wrong",
    131008: "Required parameter is missing",
    131009: "Parameter value is not valid",
    131021: "Recipient cannot be sender",
    131026: "Message undeliverable",
    131030: "Recipient phone number not in allowed list",
    131047: "Re-engagement message",
    131051: "Unsupported message type",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    130429: "Rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    132005: "Translated text too long",
    132018: "There was an issue with the parameters in your template.",
    80007: "Rate limit issues",
    190: "Invalid OAuth access token - Cannot parse access token",
}
DETAILS = {
    131047: (
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number."
    ),
    131026: "Message undeliverable.",
}


class GraphError(Exception):
    """A request the fake refuses, with the Graph error ``code`` and the HTTP ``status``."""

    def __init__(self, code: int, details: str = "", *, status: int = 400) -> None:
        self.code = code
        self.title = TITLES.get(code, "Error")
        self.details = details or DETAILS.get(code, self.title)
        self.status = status
        super().__init__(f"({code}) {self.title}: {self.details}")

    def body(self) -> dict[str, Any]:
        oauth = self.code in (190, 100, 4, 80007)
        return {
            "error": {
                "message": f"(#{self.code}) {self.title}",
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details},
                **({} if oauth else {"error_subcode": 2494010}),
                "fbtrace_id": secrets.token_urlsafe(12),
            }
        }

    def status_error(self) -> dict[str, Any]:
        """The same failure as it appears in a ``failed`` status webhook."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
        }


def invalid(details: str) -> GraphError:
    """131009: a value breaks a limit, e.g. a button title over 20 characters."""
    return GraphError(131009, details)


def missing(details: str) -> GraphError:
    return GraphError(131008, details)


def unknown_field(details: str) -> GraphError:
    return GraphError(100, details)


def unauthorized() -> GraphError:
    return GraphError(190, "Invalid OAuth access token.", status=401)
