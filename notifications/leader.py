"""Leader election for the scheduler: exactly one process runs the scheduled jobs.

Every process that runs a scheduler holds a :class:`LeaderLock` and asks it, over and over,
whether it may lead (:meth:`~LeaderLock.acquire`) and, while leading, whether it still does
(:meth:`~LeaderLock.confirm`). The others wait as standby and take over when the leader dies.

Which lock (:func:`leader_lock_for`):

- **PostgreSQL** (the database is PostgreSQL): a session-level advisory lock,
  ``pg_try_advisory_lock``, held on a dedicated connection that is not part of any pool.
  The lock lives exactly as long as that connection: a leader that crashes, is killed or
  loses its connection lets go at once, without a timeout to tune and without trusting
  anybody's clock, and a standby's next try succeeds. The leader re-checks ``pg_locks`` on
  its own connection every check interval, so it notices a lost connection within that
  time. Server-side TCP keepalives are set on the connection so that a leader whose network
  vanished (no FIN, no RST) is detected by the server in about
  ``KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT`` seconds. This is the choice
  whenever the database is PostgreSQL: the lock sits where the durable truth sits, so a
  scheduler that cannot reach the database cannot lead — and could not do anything anyway.
- **Redis** (SQLite with ``COLLABBOT_REDIS_URL``): a key set with ``SET NX PX`` holding a
  random token; the leader renews its expiry every check interval with an atomic
  compare-and-renew (a Lua script: only the token's owner renews or deletes). A dead
  leader's key expires after the ttl (three check intervals), then a standby takes it.
- **In process** (SQLite without Redis: one process by definition): a lock in memory.

Leadership is about not doing the work twice, not about correctness: every job sweeps what
is due from the database and each change is version-checked and its notices keyed, so even
two schedulers overlapping for a moment (a paused leader whose Redis key expired, a leader
between losing its connection and its next check) change nothing twice and send nothing
twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import zlib
from datetime import timedelta
from typing import Any, ClassVar, Protocol

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

__all__ = [
    "LeaderLock",
    "LeaderLockUnavailable",
    "LocalLeaderLock",
    "PostgresLeaderLock",
    "RedisLeaderLock",
    "leader_lock_for",
]

logger = logging.getLogger(__name__)

DEFAULT_NAME = "scheduler"
KEEPALIVE_IDLE = 10
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3
# First key of the two-key advisory lock: "Coll" in ASCII, so collabbot's locks are easy to
# tell apart in pg_locks from other applications sharing the database.
ADVISORY_NAMESPACE = 0x436F6C6C


class LeaderLockUnavailable(Exception):
    """The lock's server (PostgreSQL or Redis) cannot be reached right now."""


class LeaderLock(Protocol):
    """One process's claim to leadership."""

    kind: str
    """``postgresql``, ``redis`` or ``local``: for log lines."""

    async def acquire(self) -> bool:
        """Try once to become (or stay) the leader; ``True`` when this process leads.

        Raises :class:`LeaderLockUnavailable` when the lock's server cannot be reached.
        """

    async def confirm(self) -> bool:
        """Whether this process still leads (renewing the claim where it expires). ``False``
        once leadership is lost, also when the server cannot be reached to confirm it."""

    async def close(self) -> None:
        """Give up leadership (if held) and release connections. Safe to call twice."""


# --- PostgreSQL ---------------------------------------------------------------------------


def advisory_keys(name: str) -> tuple[int, int]:
    """The two 32-bit keys of the advisory lock for ``name`` (both non-negative, so they read
    the same in ``pg_locks``' ``classid`` / ``objid``)."""
    return ADVISORY_NAMESPACE, zlib.crc32(name.encode()) & 0x7FFFFFFF


_HOLDING = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
      AND classid = $1::int::oid AND objid = $2::int::oid AND objsubid = 2
)
"""


class PostgresLeaderLock:
    """A session-level advisory lock on a connection of its own (see the module notes)."""

    kind = "postgresql"

    # Any error from the driver means the connection can no longer be trusted: besides the
    # usual network and server errors, asyncpg raises InternalClientError when the server
    # ended the session between two queries. So every ``except Exception`` below means
    # "drop the connection"; cancellation is a BaseException and passes through.

    def __init__(self, dsn: str, *, name: str = DEFAULT_NAME, timeout: float = 5.0) -> None:
        self._dsn = dsn
        self._keys = advisory_keys(name)
        self._timeout = timeout
        self._connection: asyncpg.Connection | None = None
        self._held = False

    @classmethod
    def from_url(cls, database_url: str, **options: Any) -> PostgresLeaderLock:
        """A lock for a SQLAlchemy URL such as ``postgresql+asyncpg://user@host/db``."""
        url = make_url(database_url).set(drivername="postgresql")
        return cls(url.render_as_string(hide_password=False), **options)

    @property
    def backend_pid(self) -> int | None:
        """The server process of the lock's connection (for operators and tests)."""
        connection = self._connection
        if connection is None or connection.is_closed():
            return None
        return int(connection.get_server_pid())

    async def acquire(self) -> bool:
        if self._held:
            return await self.confirm()
        try:
            connection = await self._connect()
            got = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", *self._keys, timeout=self._timeout
            )
        except Exception as error:
            self._drop()
            raise LeaderLockUnavailable(f"{type(error).__name__}: {error}") from error
        self._held = bool(got)
        return self._held

    async def confirm(self) -> bool:
        connection = self._connection
        if not self._held or connection is None or connection.is_closed():
            self._drop()
            return False
        try:
            held = bool(await connection.fetchval(_HOLDING, *self._keys, timeout=self._timeout))
        except Exception:
            held = False
        if not held:
            # Whatever happened, this connection no longer proves anything: start afresh.
            self._drop()
        return held

    async def close(self) -> None:
        connection, held = self._connection, self._held
        self._connection, self._held = None, False
        if connection is None or connection.is_closed():
            return
        try:
            if held:
                await connection.fetchval(
                    "SELECT pg_advisory_unlock($1, $2)", *self._keys, timeout=self._timeout
                )
            await connection.close(timeout=self._timeout)
        except Exception:
            # Closing the connection, however abruptly, releases the lock on the server.
            connection.terminate()

    async def _connect(self) -> asyncpg.Connection:
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        self._connection = await asyncpg.connect(
            self._dsn,
            timeout=self._timeout,
            command_timeout=self._timeout,
            server_settings={
                "application_name": f"collabbot scheduler {os.getpid()}",
                "tcp_keepalives_idle": str(KEEPALIVE_IDLE),
                "tcp_keepalives_interval": str(KEEPALIVE_INTERVAL),
                "tcp_keepalives_count": str(KEEPALIVE_COUNT),
            },
        )
        return self._connection

    def _drop(self) -> None:
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None and not connection.is_closed():
            connection.terminate()


# --- Redis --------------------------------------------------------------------------------

# Take the key when it is free, or keep it when it is ours; 1 when held afterwards.
_TAKE = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not current then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
# Renew only while the key still holds our token.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Delete only our own key.
_GIVE_UP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLeaderLock:
    """A Redis key holding this process's random token, with an expiry the leader renews."""

    kind = "redis"

    def __init__(
        self,
        client: Redis,
        *,
        ttl: timedelta,
        key: str = f"collabbot:leader:{DEFAULT_NAME}",
        owns_client: bool = True,
    ) -> None:
        if ttl < timedelta(milliseconds=100):
            raise ValueError("the leader key's ttl must be at least 100 ms")
        self._client = client
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._key = key
        self._token = secrets.token_hex(16)
        self._owns_client = owns_client
        self._held = False

    @classmethod
    def from_url(cls, redis_url: str, *, ttl: timedelta, **options: Any) -> RedisLeaderLock:
        client = Redis.from_url(redis_url, decode_responses=True, socket_timeout=5.0)
        return cls(client, ttl=ttl, **options)

    async def acquire(self) -> bool:
        try:
            got = await self._client.eval(_TAKE, 1, self._key, self._token, self._ttl_ms)  # type: ignore[misc]
        except Exception as error:
            self._held = False
            raise LeaderLockUnavailable(f"{type(error).__name__}: {error}") from error
        self._held = bool(got)
        return self._held

    async def confirm(self) -> bool:
        if not self._held:
            return False
        try:
            renewed = await self._client.eval(_RENEW, 1, self._key, self._token, self._ttl_ms)  # type: ignore[misc]
        except Exception:  # whatever went wrong, leadership cannot be confirmed
            renewed = 0
        self._held = bool(renewed)
        return self._held

    async def close(self) -> None:
        held, self._held = self._held, False
        with contextlib.suppress(RedisError, OSError):
            if held:
                await self._client.eval(_GIVE_UP, 1, self._key, self._token)  # type: ignore[misc]
        if self._owns_client:
            with contextlib.suppress(RedisError, OSError):
                await self._client.aclose()
            self._owns_client = False


# --- one process --------------------------------------------------------------------------


class LocalLeaderLock:
    """Leadership among the schedulers of this process only (SQLite without Redis)."""

    kind = "local"
    _holders: ClassVar[dict[str, LocalLeaderLock]] = {}

    def __init__(self, name: str = DEFAULT_NAME) -> None:
        self._name = name

    async def acquire(self) -> bool:
        holder = self._holders.setdefault(self._name, self)
        return holder is self

    async def confirm(self) -> bool:
        return self._holders.get(self._name) is self

    async def close(self) -> None:
        if self._holders.get(self._name) is self:
            del self._holders[self._name]


def leader_lock_for(
    database_url: str, redis_url: str | None, *, check_interval: float
) -> LeaderLock:
    """The lock for a deployment: PostgreSQL's advisory lock when the database is PostgreSQL,
    else a Redis key when Redis is configured, else an in-process lock."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresLeaderLock.from_url(database_url)
    if redis_url:
        ttl = timedelta(seconds=max(1.0, 3 * check_interval))
        return RedisLeaderLock.from_url(redis_url, ttl=ttl)
    return LocalLeaderLock()
