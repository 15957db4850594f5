"""The one place where a collabbot process is wired together from its settings.

:func:`open_marketplace` checks that the database is reachable and migrated, connects it,
opens the key-value store and returns a :class:`Runtime` holding the :class:`Marketplace`
every use case takes. Problems a person can fix (a server that is down, a schema that was
never created) are raised as :class:`DatabaseNotReady` with a message that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from bots.settings import Settings, redact_url
from core.ports.clock import Clock, SystemClock
from core.ports.kv import KeyValueStore
from core.services import Marketplace, Policy
from storage.kv import open_key_value_store
from storage.migrate import current_revision, head_revision
from storage.unit_of_work import Database

__all__ = [
    "DatabaseNotReady",
    "Runtime",
    "SchemaStatus",
    "connection_problem",
    "database_problem",
    "open_marketplace",
    "policy_from",
    "schema_status",
    "sqlite_file",
]

UPGRADE_HINT = "collabbot db upgrade"


class DatabaseNotReady(Exception):
    """The database cannot be used as it is; the message says why and what to run."""


def policy_from(settings: Settings) -> Policy:
    """The marketplace rules that come from the settings; the rest keep their defaults."""
    return Policy(
        fairness_days=settings.ranking_fairness_days,
        application_window_days=settings.application_window_days,
        content_deadline_days=settings.content_deadline_days,
        reminder_interval_days=settings.reminder_interval_days,
        reminders_total=settings.reminders_total,
        offer_push_daily_cap=settings.offer_push_daily_cap,
        offer_push_after_hours=settings.offer_push_after_hours,
        digest_window_seconds=settings.digest_window_seconds,
    )


@dataclass
class Runtime:
    """Everything a process needs to run use cases, and :meth:`close` to release it."""

    settings: Settings
    clock: Clock
    database: Database
    kv: KeyValueStore
    marketplace: Marketplace

    async def close(self) -> None:
        try:
            await self.kv.close()
        finally:
            await self.database.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def open_marketplace(
    settings: Settings, *, clock: Clock | None = None, check_schema: bool = True
) -> Runtime:
    """Connect the database and the key-value store and build the marketplace.

    With ``check_schema`` (the default) a database that is unreachable, missing or not at
    the newest migration raises :class:`DatabaseNotReady` before anything else happens.
    """
    clock = clock or SystemClock()
    if check_schema:
        status = await schema_status(settings.database_url)
        if not status.up_to_date:
            raise DatabaseNotReady(status.advice)
    database = Database.connect(
        settings.database_url,
        clock,
        pool_size=settings.db_pool_size,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    kv = open_key_value_store(settings.redis_url)
    marketplace = Marketplace(
        database.unit_of_work,
        clock,
        policy_from(settings),
        read_uow_factory=database.read_unit_of_work,
    )
    return Runtime(settings, clock, database, kv, marketplace)


# --- is the database ready? ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where the database's schema stands compared with this version of collabbot."""

    url: str
    current: str | None
    head: str | None
    exists: bool = True

    @property
    def up_to_date(self) -> bool:
        return self.exists and self.current is not None and self.current == self.head

    @property
    def advice(self) -> str:
        """One sentence for a person: the state of the schema and what to run, if anything."""
        shown = redact_url(self.url)
        if not self.exists:
            return f"There is no database at {shown} yet. Create it with: {UPGRADE_HINT}"
        if self.current is None:
            return (
                f"The database at {shown} has no collabbot tables yet. "
                f"Create them with: {UPGRADE_HINT}"
            )
        if self.current != self.head:
            return (
                f"The database at {shown} is at schema revision {self.current}, but this "
                f"version of collabbot needs {self.head}. Upgrade it with: {UPGRADE_HINT}"
            )
        return f"The database at {shown} is up to date (schema revision {self.current})."


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; ``None`` for in-memory SQLite and other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


async def schema_status(url: str) -> SchemaStatus:
    """Read the schema revision without creating anything (not even an empty SQLite file).

    Raises :class:`DatabaseNotReady` when the database cannot be reached.
    """
    file = sqlite_file(url)
    if file is not None and not file.parent.is_dir():
        raise DatabaseNotReady(_missing_folder(file))
    if file is not None and not file.exists():
        return SchemaStatus(url, None, head_revision(), exists=False)
    try:
        current = await current_revision(url)
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseNotReady(connection_problem(url, error)) from error
    return SchemaStatus(url, current, head_revision())


def connection_problem(url: str, error: BaseException) -> str:
    """What went wrong reaching the database, without the URL's password or SQL parameters."""
    shown = redact_url(url)
    reason = _reason(error)
    file = sqlite_file(url)
    if file is not None:
        if not file.parent.is_dir():
            return _missing_folder(file)
        return f"Cannot open the SQLite database {file} ({reason})."
    return (
        f"Cannot reach the database at {shown} ({reason}). Check that the server is running "
        "and that COLLABBOT_DATABASE_URL (or --database-url) is right."
    )


def _missing_folder(file: Path) -> str:
    return (
        f"Cannot open the SQLite database {file}: the folder {file.parent} does not exist. "
        "Create the folder, or point COLLABBOT_DATABASE_URL (or --database-url) elsewhere."
    )


def database_problem(url: str, error: SQLAlchemyError | OSError) -> str:
    """A database failure during a command, for a person: unreachable, or refused."""
    if isinstance(error, OSError | OperationalError | InterfaceError):
        return connection_problem(url, error)
    return (
        f"The database at {redact_url(url)} refused the request ({_reason(error)}). If "
        f"collabbot was just updated, run: {UPGRADE_HINT}"
    )


def _reason(error: BaseException) -> str:
    # A DBAPIError's own text quotes the statement and its parameters; the driver's does not.
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return " ".join(str(cause).split()) or type(cause).__name__
