"""Watching what a block of code sends to the database, for the contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from storage.unit_of_work import Database


@dataclass
class Traffic:
    statements: list[str] = field(default_factory=list)
    """SQL statements run, transaction control (BEGIN, COMMIT, ROLLBACK) left out."""
    checkouts: int = 0
    """Connections taken from the pool."""


@contextmanager
def watching(database: Database) -> Iterator[Traffic]:
    """The statements run and the connections checked out of the pool in the block."""
    seen = Traffic()
    engine = database.engine.sync_engine

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.statements.append(sql)

    def checkout(*_args: Any) -> None:
        seen.checkouts += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


@contextmanager
def counting_statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements run in the block (transaction control left out)."""
    with watching(database) as traffic:
        yield traffic.statements
