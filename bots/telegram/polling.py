"""Telegram long polling, shared by both drivers: getUpdates answered as the Bot API's
JSON, each update handed to the bridge as a dict in a task of its own.

The frameworks' own polling (aiogram's Dispatcher, PTB's Updater) first turns every update
— of a button press, with the whole message the button sat on — into objects, which the
bridge would only turn back into JSON. Both drivers still mount into an existing bot of
their framework (:func:`bots.telegram.aiogram_driver.collabbot_router`,
:func:`bots.telegram.ptb_driver.collabbot_handlers`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiogram.utils.backoff import Backoff, BackoffConfig

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
POLL_TIMEOUT = 30
"""Seconds one getUpdates call waits for an update (Telegram's long polling)."""
POLL_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)
"""Waits between failed getUpdates calls (aiogram's for its Dispatcher)."""

Fetch = Callable[[int | None], Awaitable[list[dict[str, Any]]]]
"""getUpdates from an offset (``None``: the first call): the updates as Bot API JSON."""
UpdateHandler = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


async def poll(fetch: Fetch, handle_update: UpdateHandler) -> None:
    """Long-poll until cancelled.

    A failed call (network, server error, 429, another poller) is logged and retried after
    a growing pause. An update is confirmed to Telegram by the next call, so updates being
    handled when polling stops come again on the next start (and are recognised as repeats).
    """
    offset: int | None = None
    backoff = Backoff(POLL_BACKOFF)
    handling: set[asyncio.Task[None]] = set()
    while True:
        try:
            updates = await fetch(offset)
        except Exception as error:  # polling must outlive any failure of one call
            logger.warning(
                "fetching Telegram updates failed (%s); trying again in %.1f s",
                describe(error),
                backoff.next_delay,
            )
            await backoff.asleep()
            continue
        backoff.reset()
        for update in updates:
            offset = int(update["update_id"]) + 1
            task = asyncio.create_task(handle_update(update), name="telegram-update")
            handling.add(task)
            task.add_done_callback(_handled)
            task.add_done_callback(handling.discard)


def _handled(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("handling a Telegram update failed", exc_info=error)


def describe(error: Exception) -> str:
    """What went wrong with a Bot API call, without the request (its URL holds the token):
    the error's type and the frameworks' own message (Telegram's description)."""
    message = getattr(error, "message", "")
    if isinstance(message, str) and message:
        return f"{type(error).__name__}: {message}"
    return type(error).__name__
