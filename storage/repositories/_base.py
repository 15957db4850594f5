"""What every SQL repository shares: the connection, conflict handling, versioned updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, Boolean, Executable, Table, any_, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from core.domain.errors import ConcurrencyConflict
from core.ports.clock import Clock
from core.ports.repositories import HasEvents
from storage.errors import conflicts_retry

Values = Mapping[str, Any]


class OneOf(ColumnElement[bool]):
    """``column`` is one of the list passed at execution as the parameter ``name``.

    On PostgreSQL this is ``column = ANY(:name)`` with the list sent as one array, so the
    statement's text — and the prepared statement the server keeps for it — is the same for
    a list of any length. Elsewhere it is an expanding ``IN``, whose text SQLAlchemy writes
    out for each list at every execution.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition of its own: no "= 1" where booleans are ints
    # What makes two of them the same statement for SQLAlchemy's compiled-statement cache.
    _traverse_internals = [  # noqa: RUF012 — the type SQLAlchemy declares
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name

    @property
    def _from_objects(self) -> list[Any]:
        return self.column._from_objects


@compiles(OneOf)
def _one_of(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    listed = element.column.in_(bindparam(element.name, expanding=True))
    return compiler.process(listed, **kw)


@compiles(OneOf, "postgresql")
def _one_of_array(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)


class SqlRepository:
    """A repository working inside one unit of work's connection."""

    def __init__(
        self, connection: AsyncConnection, clock: Clock, *, read_only: bool = False
    ) -> None:
        self._connection = connection
        self._clock = clock
        self._read_only = read_only
        self._dialect = connection.dialect.name

    async def _execute(
        self,
        statement: Executable,
        params: Sequence[Values] | Values | None = None,
        *,
        what: str,
    ) -> Result[Any]:
        """Run ``statement``: with one mapping of ``params`` once, with a list of them once
        per mapping (``executemany``)."""
        if self._read_only and getattr(statement, "is_dml", False):
            raise RuntimeError(f"{what}: a read-only unit of work cannot change data")
        with conflicts_retry(what):
            if params is None:
                return await self._connection.execute(statement)
            if isinstance(params, Mapping):
                return await self._connection.execute(statement, params)
            return await self._connection.execute(statement, list(params))

    async def _insert(self, table: Table, values: Values, *, what: str) -> int:
        """Insert one row and return its new id."""
        result = await self._execute(
            insert(table).values(dict(values)).returning(table.c.id), what=what
        )
        return int(result.scalar_one())

    async def _insert_many(self, table: Table, rows: Sequence[Values], *, what: str) -> None:
        if rows:
            await self._execute(insert(table), rows, what=what)

    async def _update_versioned(
        self, table: Table, row_id: int | None, version: int, values: Values, *, what: str
    ) -> int:
        """Update the row only if it still has ``version``; return the new version.

        Zero rows changed means someone else saved it since it was read.
        """
        if row_id is None:
            raise ValueError(f"{what} was never stored; use add() first")
        statement = (
            update(table)
            .where(table.c.id == row_id, table.c.version == version)
            .values({**values, "version": version + 1})
        )
        result = await self._execute(statement, what=what)
        if getattr(result, "rowcount", 0) != 1:
            raise ConcurrencyConflict(f"{what} was changed by someone else since it was read")
        return version + 1

    def _upsert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """``INSERT … ON CONFLICT`` for the database in use."""
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        if self._dialect == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"no upsert for {self._dialect}")


class TrackingRepository(SqlRepository):
    """A repository of aggregates that record events: it remembers every one added or
    saved, so the unit of work can turn their events into notices at commit."""

    def __init__(
        self, connection: AsyncConnection, clock: Clock, *, read_only: bool = False
    ) -> None:
        super().__init__(connection, clock, read_only=read_only)
        self.seen: list[HasEvents] = []

    def _track(self, aggregate: HasEvents) -> None:
        if not any(seen is aggregate for seen in self.seen):
            self.seen.append(aggregate)
