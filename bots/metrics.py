"""Prometheus metrics of a collabbot process, served at ``/metrics``.

The chat bridges time every update they handle with :func:`update_handled`; the notice
dispatcher counts deliveries through :mod:`notifications.metrics` (re-exported here); the
outbox gauges are read from the database when ``/metrics`` is scraped
(:func:`refresh_outbox`). Everything lives in one registry, :data:`REGISTRY`.

| metric | type | labels |
|---|---|---|
| ``collabbot_updates_handled_total`` | counter | ``platform``, ``kind`` |
| ``collabbot_update_handling_seconds`` | histogram | ``platform`` |
| ``collabbot_update_failures_total`` | counter | ``platform`` |
| ``collabbot_notices_sent_total`` | counter | ``channel`` |
| ``collabbot_notices_failed_total`` | counter | ``channel``, ``reason`` |
| ``collabbot_notices_queued`` | gauge | |
| ``collabbot_outbox_lag_seconds`` | gauge | |
| ``collabbot_rate_limit_waits_total`` | counter | ``channel``, ``source`` |
| ``collabbot_rate_limit_wait_seconds_total`` | counter | ``channel``, ``source`` |
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from core.ports.repositories import AbstractUnitOfWork
from core.services import Marketplace
from notifications.metrics import (
    NOTICES_FAILED,
    NOTICES_QUEUED,
    NOTICES_SENT,
    OUTBOX_LAG,
    RATE_LIMIT_WAIT_SECONDS,
    RATE_LIMIT_WAITS,
    REGISTRY,
    notice_failed,
    notice_sent,
    rate_limit_wait,
)

__all__ = [
    "CONTENT_TYPE",
    "NOTICES_FAILED",
    "NOTICES_QUEUED",
    "NOTICES_SENT",
    "OUTBOX_LAG",
    "RATE_LIMIT_WAITS",
    "RATE_LIMIT_WAIT_SECONDS",
    "REGISTRY",
    "UPDATES_HANDLED",
    "UPDATE_FAILURES",
    "UPDATE_LATENCY",
    "notice_failed",
    "notice_sent",
    "rate_limit_wait",
    "refresh_outbox",
    "render",
    "update_handled",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST

UPDATES_HANDLED = Counter(
    "collabbot_updates_handled",
    "Updates from people handled (messages, commands, button presses, files), by platform "
    "and kind.",
    ["platform", "kind"],
    registry=REGISTRY,
)
UPDATE_FAILURES = Counter(
    "collabbot_update_failures",
    "Updates whose handling raised an error, by platform.",
    ["platform"],
    registry=REGISTRY,
)
UPDATE_LATENCY = Histogram(
    "collabbot_update_handling_seconds",
    "Time from taking an update to having answered it, by platform.",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)

OUTBOX_SAMPLE = 50
"""Due notices looked at to find the oldest one a dispatcher can take."""


@contextlib.contextmanager
def update_handled(platform: str, kind: str) -> Iterator[None]:
    """Count and time the handling of one update inside the ``with`` block."""
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        UPDATE_FAILURES.labels(platform).inc()
        raise
    finally:
        UPDATE_LATENCY.labels(platform).observe(time.perf_counter() - started)
        UPDATES_HANDLED.labels(platform, kind).inc()


async def refresh_outbox(mp: Marketplace) -> None:
    """Set the outbox gauges from the database: notices not sent yet, and the lag."""

    async def work(uow: AbstractUnitOfWork) -> tuple[int, float]:
        queued = await uow.outbox.count_pending()
        now = mp.clock.now()
        lag = 0.0
        for entry in await uow.outbox.pending(OUTBOX_SAMPLE):
            due = entry.available_at or entry.created_at
            # Rows without a recipient are audiences for the expander, not for a dispatcher.
            if entry.recipient_id is not None and due <= now:
                lag = max(0.0, (now - due).total_seconds())
                break
        return queued, lag

    queued, lag = await mp.transaction(work)
    NOTICES_QUEUED.set(queued)
    OUTBOX_LAG.set(lag)


def render() -> bytes:
    """Every metric in the Prometheus text format."""
    return generate_latest(REGISTRY)
