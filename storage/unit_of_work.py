"""The SQL unit of work: one session, one transaction, every repository."""

from __future__ import annotations

from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.ports.clock import Clock
from core.ports.repositories import AbstractUnitOfWork
from storage.database import READ_ONLY, create_engine, session_factory
from storage.errors import conflicts_retry
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
    """``async with uow: …; await uow.commit()`` — one session per ``async with`` block.

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
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__(clock)
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self.read_only = read_only
        """Refuse every INSERT, UPDATE and DELETE (and never commit anything)."""

    @property
    def session(self) -> AsyncSession:
        """The open session, for the few queries no repository offers (e.g. reports)."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in 'async with'")
        return self._session

    async def _begin(self) -> None:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open; make a new one")
        session = self._sessions()
        self._session = session
        options = {"read_only": self.read_only}
        self.members = SqlMemberRepository(session, self.clock, **options)
        self.sellers = SqlSellerRepository(session, self.clock, **options)
        self.products = SqlProductRepository(session, self.clock, **options)
        self.offers = SqlOfferRepository(session, self.clock, **options)
        self.orders = SqlOrderRepository(session, self.clock, **options)
        self.broadcasts = SqlBroadcastRepository(session, self.clock, **options)
        self.outbox = SqlOutboxRepository(session, self.clock, **options)

    async def _commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        with conflicts_retry("the unit of work's changes"):
            await self.session.commit()

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def _close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class Database:
    """An engine and its session factory: where units of work come from."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.sessions = session_factory(engine)
        read_options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            # At READ COMMITTED every statement sees what was committed before it began,
            # inside a transaction or not; without one, reads save a BEGIN and a ROLLBACK.
            read_options["isolation_level"] = "AUTOCOMMIT"
        self.read_sessions = session_factory(engine.execution_options(**read_options))

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
        return SqlUnitOfWork(self.sessions, self.clock)

    def read_unit_of_work(self) -> SqlUnitOfWork:
        """A unit of work that only reads: on SQLite it does not take the write lock."""
        return SqlUnitOfWork(self.read_sessions, self.clock, read_only=True)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
