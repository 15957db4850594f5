"""The event loop every collabbot process runs on: uvloop where it is installed (Linux and
macOS, with the package's default dependencies), the standard asyncio loop elsewhere.

uvloop runs the same asyncio code with a faster loop and faster sockets; the bots spend a
good part of each update in them (HTTP to the chat platforms, the database protocol).
"""

from __future__ import annotations

import asyncio
import gc
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


def settle_heap() -> None:
    """Take what the process holds once it has started (imported modules, compiled
    statements, translation catalogues, models of the Bot API) out of the cyclic garbage
    collector's rounds, for the rest of the process's life.

    A full collection walks every tracked object. In a started bot that is mostly this
    startup heap, so under load each full collection stopped the process for a fifth of a
    second, every few seconds; afterwards it walks only what was made since. Garbage made
    before this call (there is little once startup is over) is collected first.
    """
    gc.collect()
    gc.freeze()
