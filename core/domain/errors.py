"""Domain errors: what went wrong, in words fit to show the person who tried.

Every error has a stable ``code`` (used to pick a translated message in the chat) and
``params`` (values for that message). ``str(error)`` is the English message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """A rule of the marketplace said no. Nothing was changed."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.params: Mapping[str, Any] = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"


class NotFound(DomainError):
    """The thing asked for does not exist (or the person may not know it exists)."""

    code = "not_found"


class NotAllowed(DomainError):
    """The person acting may not do this."""

    code = "not_allowed"


class InvalidTransition(DomainError):
    """The move is not possible from the current state."""

    code = "invalid_transition"


class InvalidInput(DomainError):
    """Something the person typed or chose is not acceptable."""

    code = "invalid_input"


class AlreadyDone(DomainError):
    """The same move was already made (a double press, a repeated claim)."""

    code = "already_done"


class ConcurrencyConflict(Exception):
    """Someone else changed the same record first; the unit of work should be retried.

    Not a ``DomainError``: people never see it, the service layer retries.
    """
