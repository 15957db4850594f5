"""A key-value store on Redis, shared by every process that points at the same server."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from storage.kv._ttl import ttl_milliseconds


class RedisKeyValueStore:
    """A :class:`core.ports.kv.KeyValueStore` on Redis (redis-py 5 or later, asyncio).

    Every key is stored under ``prefix`` so several deployments or test runs can share one
    server. Expiry uses Redis's own ``PX``; ``set_if_absent`` is a single ``SET … NX``, so it
    is atomic across processes.
    """

    def __init__(self, url: str, *, prefix: str = "collabbot:") -> None:
        self._client: Redis = Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._closed = False

    @classmethod
    def from_client(cls, client: Redis, prefix: str = "collabbot:") -> RedisKeyValueStore:
        """A store on an existing client; :meth:`close` then closes that client."""
        store = cls.__new__(cls)
        store._client = client
        store._prefix = prefix
        store._closed = False
        return store

    async def get(self, key: str) -> str | None:
        """The value under ``key``, or ``None`` when absent or expired."""
        value = await self._client.get(self._prefix + key)
        return _text(value)

    async def set(self, key: str, value: str, *, ttl: timedelta | None = None) -> None:
        """Store ``value`` under ``key``, replacing any value; expire after ``ttl`` if given."""
        await self._client.set(self._prefix + key, value, px=_px(ttl))

    async def set_if_absent(self, key: str, value: str, *, ttl: timedelta | None = None) -> bool:
        """Store only when ``key`` holds nothing (or has expired); ``True`` when stored."""
        stored = await self._client.set(self._prefix + key, value, px=_px(ttl), nx=True)
        return bool(stored)

    async def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` when something was removed."""
        removed = await self._client.delete(self._prefix + key)
        return bool(removed)

    async def close(self) -> None:
        """Close the connection pool. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        await self._client.aclose()


def _px(ttl: timedelta | None) -> int | None:
    return None if ttl is None else ttl_milliseconds(ttl)


def _text(value: str | bytes | None) -> str | None:
    # A client made without decode_responses=True hands back bytes.
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value
