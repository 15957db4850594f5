"""The SQL unit of work: one connection, one transaction, every repository."""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.ports.clock import Clock
from core.ports.repositories import AbstractUnitOfWork
from storage.database import READ_ONLY, create_engine
from storage.errors import conflicts_retry
from storage.member_snapshots import MemberSnapshots
from storage.repositories import (
    SqlBroadcastRepository,
    SqlMemberRepository,
    SqlOfferRepository,
    SqlOrderRepository,
    SqlOutboxRepository,
    SqlProductRepository,
    SqlSellerRepository,
)


class SqlUnitOfWork(AbstractUnitOfWork):
    """``async with uow: …; await uow.commit()`` — one connection per ``async with`` block.

    Repositories run SQL Core statements on the connection (rows, not ORM objects), so no
    ORM session sits in between.

    A commit the database refuses because of a concurrent change (a unique constraint, a
    serialization failure) raises :class:`~core.domain.errors.ConcurrencyConflict`.
    """

    members: SqlMemberRepository
    sellers: SqlSellerRepository
    products: SqlProductRepository
    offers: SqlOfferRepository
    orders: SqlOrderRepository
    broadcasts: SqlBroadcastRepository
    outbox: SqlOutboxRepository

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        read_only: bool = False,
        snapshots: MemberSnapshots | None = None,
    ) -> None:
        super().__init__(clock)
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self.read_only = read_only
        """Refuse every INSERT, UPDATE and DELETE (and never commit anything)."""
        self._snapshots = snapshots
        """Members read lately (:mod:`storage.member_snapshots`): a read-only unit of work
        reads them from there; one that changes members drops them there on commit."""

    @property
    def session(self) -> AsyncConnection:
        """The open connection, for the few queries no repository offers (e.g. reports)."""
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use it in 'async with'")
        return self._connection

    async def _begin(self) -> None:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already open; make a new one")
        connection = await self._engine.connect().start()
        self._connection = connection
        options = {"read_only": self.read_only}
        self.members = SqlMemberRepository(
            connection, self.clock, read_only=self.read_only, snapshots=self._snapshots
        )
        self.sellers = SqlSellerRepository(connection, self.clock, **options)
        self.products = SqlProductRepository(connection, self.clock, **options)
        self.offers = SqlOfferRepository(connection, self.clock, **options)
        self.orders = SqlOrderRepository(connection, self.clock, **options)
        self.broadcasts = SqlBroadcastRepository(connection, self.clock, **options)
        self.outbox = SqlOutboxRepository(connection, self.clock, **options)

    async def _commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        with conflicts_retry("the unit of work's changes"):
            await self.session.commit()
        if self._snapshots is not None and self.members.changed:
            self._snapshots.forget(self.members.changed)

    async def rollback(self) -> None:
        if self._connection is not None:
            await self._connection.rollback()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


class Database:
    """An engine: where units of work come from."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        read_options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            # At READ COMMITTED every statement sees what was committed before it began,
            # inside a transaction or not; without one, reads save a BEGIN and a ROLLBACK.
            read_options["isolation_level"] = "AUTOCOMMIT"
        self.read_engine = engine.execution_options(**read_options)
        self.member_snapshots = MemberSnapshots()

    @classmethod
    def connect(cls, url: str, clock: Clock, **engine_options: Any) -> Self:
        """A database for ``url``; ``engine_options`` go to :func:`storage.database.create_engine`.

        Connections are opened lazily, on first use. The schema must exist: run
        :func:`storage.migrate.upgrade` first.
        """
        return cls(create_engine(url, **engine_options), clock)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.clock, snapshots=self.member_snapshots)

    def read_unit_of_work(self) -> SqlUnitOfWork:
        """A unit of work that only reads: on SQLite it does not take the write lock."""
        return SqlUnitOfWork(
            self.read_engine, self.clock, read_only=True, snapshots=self.member_snapshots
        )

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
