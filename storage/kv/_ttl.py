"""How both key-value stores read an expiry."""

from __future__ import annotations

from datetime import timedelta


def ttl_milliseconds(ttl: timedelta) -> int:
    """``ttl`` in whole milliseconds, rounded up so a tiny expiry never becomes "no expiry".

    Raises ``ValueError`` for a zero or negative ``ttl``: a value that is expired before it is
    stored is always a mistake in the caller.
    """
    if ttl <= timedelta(0):
        raise ValueError(f"ttl must be positive, got {ttl!r}")
    microseconds = (ttl.days * 86_400 + ttl.seconds) * 1_000_000 + ttl.microseconds
    return -(-microseconds // 1000)
