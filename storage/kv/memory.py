"""An in-process key-value store, for a single process or for tests."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Final

from storage.kv._ttl import ttl_milliseconds

# Expired entries removed per write at most, so one write never pays for a large backlog.
_PURGE_BATCH: Final = 64


class MemoryKeyValueStore:
    """A :class:`core.ports.kv.KeyValueStore` kept in this process's memory.

    Every method runs to completion without awaiting, so within one event loop each call is
    atomic: ``set_if_absent`` from many tasks at once stores exactly once.

    Expiry is checked on every read; in addition each write removes up to a small batch of
    entries whose time has passed, so keys that are written and never read again do not pile
    up. ``clock`` returns monotonic seconds (``time.monotonic`` by default) and can be replaced
    in tests to move time without waiting.
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._values: dict[str, tuple[str, float | None]] = {}
        # (expires_at, key) for every write with a ttl; stale entries are skipped on purge.
        self._expiries: list[tuple[float, str]] = []

    async def get(self, key: str) -> str | None:
        """The value under ``key``, or ``None`` when absent or expired."""
        entry = self._live_entry(key, self._clock())
        return None if entry is None else entry[0]

    async def set(self, key: str, value: str, *, ttl: timedelta | None = None) -> None:
        """Store ``value`` under ``key``, replacing any value; expire after ``ttl`` if given."""
        self._store(key, value, ttl)

    async def set_if_absent(self, key: str, value: str, *, ttl: timedelta | None = None) -> bool:
        """Store only when ``key`` holds nothing (or has expired); ``True`` when stored."""
        if self._live_entry(key, self._clock()) is not None:
            return False
        self._store(key, value, ttl)
        return True

    async def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` when something was removed."""
        live = self._live_entry(key, self._clock()) is not None
        self._values.pop(key, None)
        return live

    async def close(self) -> None:
        """Nothing to release; present so the store can be used like any other."""

    def __len__(self) -> int:
        """Entries held, counting expired ones not yet purged (for tests and metrics)."""
        return len(self._values)

    def _store(self, key: str, value: str, ttl: timedelta | None) -> None:
        now = self._clock()
        expires_at = None if ttl is None else now + ttl_milliseconds(ttl) / 1000
        self._values[key] = (value, expires_at)
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, key))
        self._purge(now)

    def _live_entry(self, key: str, now: float) -> tuple[str, float | None] | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        expires_at = entry[1]
        if expires_at is not None and expires_at <= now:
            del self._values[key]
            return None
        return entry

    def _purge(self, now: float) -> None:
        for _ in range(_PURGE_BATCH):
            if not self._expiries or self._expiries[0][0] > now:
                break
            expires_at, key = heapq.heappop(self._expiries)
            entry = self._values.get(key)
            # The key may have been rewritten since; only drop the write this heap entry is for.
            if entry is not None and entry[1] == expires_at:
                del self._values[key]
        # Rewriting a key with a fresh ttl leaves its old heap entry behind; rebuild when the
        # heap holds far more entries than there are keys, so memory stays proportional.
        if len(self._expiries) > 2 * len(self._values) + _PURGE_BATCH:
            self._expiries = [
                (expires_at, key)
                for key, (_, expires_at) in self._values.items()
                if expires_at is not None
            ]
            heapq.heapify(self._expiries)
