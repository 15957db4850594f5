"""Readiness: can this process do its work right now? (``/readyz``)

Each :class:`Check` is a cheap probe with a short timeout: the database answers
``SELECT 1``, Redis (when configured) answers ``PING``. A failing check is reported by name
and the kind of failure only (``timeout``, ``unreachable``): never an address, a password or
the driver's message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["CHECK_TIMEOUT", "Check", "Readiness", "database_check", "redis_check"]

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0
"""Seconds a probe may take before its dependency counts as not ready."""


@dataclass(frozen=True, slots=True)
class Check:
    """One dependency: its name in the ``/readyz`` answer, a probe that raises when it is not
    usable, and what to release when the app stops."""

    name: str
    probe: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]] | None = None


def database_check(engine: AsyncEngine) -> Check:
    """``SELECT 1`` on a pooled connection.

    On SQLite the statement goes to the driver directly: a SQLAlchemy transaction there
    starts with ``BEGIN IMMEDIATE`` and would queue behind writers for the write lock.
    """

    async def probe() -> None:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                raw = await connection.get_raw_connection()
                cursor = await raw.driver_connection.execute("SELECT 1")  # type: ignore[union-attr]
                await cursor.close()
            else:
                await connection.execute(text("SELECT 1"))

    return Check("database", probe)


def redis_check(url: str) -> Check:
    """``PING`` on a small client of its own (the key-value store keeps its client private),
    made at the first check."""
    clients: list[Redis] = []

    async def probe() -> None:
        if not clients:
            clients.append(
                Redis.from_url(
                    url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT
                )
            )
        await clients[0].ping()

    async def close() -> None:
        while clients:
            await clients.pop().aclose()

    return Check("redis", probe, close)


@dataclass
class Readiness:
    """Runs every check at once and remembers the last verdict, to log changes only."""

    checks: Sequence[Check] = ()
    timeout: float = CHECK_TIMEOUT
    _failing: frozenset[str] = field(default=frozenset(), init=False)

    async def run(self) -> dict[str, str]:
        """``{name: "ok" | "timeout" | "unreachable"}`` for every check."""
        results = await asyncio.gather(*(self._one(check) for check in self.checks))
        verdicts = dict(zip((c.name for c in self.checks), results, strict=True))
        failing = frozenset(name for name, verdict in verdicts.items() if verdict != "ok")
        if failing != self._failing:
            if failing:
                shown = ", ".join(f"{name} {verdicts[name]}" for name in sorted(failing))
                logger.warning("not ready: %s", shown)
            else:
                logger.info("ready again: %s reachable", ", ".join(verdicts) or "nothing to check")
            self._failing = failing
        return verdicts

    async def _one(self, check: Check) -> str:
        try:
            await asyncio.wait_for(check.probe(), self.timeout)
        except TimeoutError:
            return "timeout"
        except Exception as error:
            logger.debug("readiness check %s failed: %s", check.name, type(error).__name__)
            return "unreachable"
        return "ok"

    async def close(self) -> None:
        for check in self.checks:
            if check.close is not None:
                try:
                    await check.close()
                except Exception as error:  # closing a broken client must not stop the app
                    logger.debug("closing the %s check: %s", check.name, type(error).__name__)
