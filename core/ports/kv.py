"""The key-value store port: short-lived state that may expire.

Conversation state, button tokens and inbound de-duplication live here. Nothing that
must not be lost is kept only in a key-value store: the database is the durable truth.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol


class KeyValueStore(Protocol):
    """A string-to-string store with optional expiry, shared by every process that uses it."""

    async def get(self, key: str) -> str | None:
        """The value under ``key``, or ``None`` when absent or expired."""

    async def set(self, key: str, value: str, *, ttl: timedelta | None = None) -> None:
        """Store ``value`` under ``key``, replacing any value; expire after ``ttl`` if given."""

    async def set_if_absent(self, key: str, value: str, *, ttl: timedelta | None = None) -> bool:
        """Store only when ``key`` holds nothing (or has expired); ``True`` when stored."""

    async def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` when something was removed."""

    async def close(self) -> None:
        """Release connections. Safe to call more than once."""
