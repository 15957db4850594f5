"""The event loop every collabbot process runs on: uvloop where it is installed (Linux and
macOS, with the package's default dependencies), the standard asyncio loop elsewhere.

uvloop runs the same asyncio code with a faster loop and faster sockets; the bots spend a
good part of each update in them (HTTP to the chat platforms, the database protocol).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or ``None`` (asyncio's default) when uvloop is missing."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``, on uvloop when it is available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(work)
