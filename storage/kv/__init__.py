"""Key-value stores: Redis when configured, else in this process's memory."""

from __future__ import annotations

from core.ports.kv import KeyValueStore
from storage.kv.memory import MemoryKeyValueStore
from storage.kv.redis import RedisKeyValueStore

__all__ = ["MemoryKeyValueStore", "RedisKeyValueStore", "open_key_value_store"]


def open_key_value_store(redis_url: str | None) -> KeyValueStore:
    """A Redis store when ``redis_url`` is given (not empty), else an in-memory one.

    The in-memory store is private to this process: with more than one process, set a Redis
    URL so conversation state and button tokens are shared.
    """
    if redis_url:
        return RedisKeyValueStore(redis_url)
    return MemoryKeyValueStore()
