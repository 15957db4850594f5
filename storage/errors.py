"""Database errors that mean "someone else got there first": retry the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from core.domain.errors import ConcurrencyConflict

# unique_violation, serialization_failure, deadlock_detected
_POSTGRES_RETRY_STATES = frozenset({"23505", "40001", "40P01"})
_SQLITE_UNIQUE_ERRORS = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


def is_conflict(error: DBAPIError) -> bool:
    """True for a unique-constraint violation or a transaction the database gave up on.

    Other integrity errors (a missing foreign key, a NULL where a value is needed) are bugs,
    not races, and are left as they are.
    """
    original = error.orig
    if getattr(original, "sqlstate", None) in _POSTGRES_RETRY_STATES:
        return True
    return getattr(original, "sqlite_errorname", None) in _SQLITE_UNIQUE_ERRORS


@contextmanager
def conflicts_retry(what: str) -> Iterator[None]:
    """Turn a conflict raised inside the block into :class:`ConcurrencyConflict`.

    ``what`` names the change in the message (ids only: the database's own message may
    quote stored values, such as a phone number, so it stays on the chained cause).
    """
    try:
        yield
    except DBAPIError as error:
        if is_conflict(error):
            raise ConcurrencyConflict(f"{what} conflicts with a concurrent change") from error
        raise
