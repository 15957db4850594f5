"""Prometheus metrics of notice delivery, and the registry every collabbot metric is kept in.

The dispatcher calls the small functions below; ``/metrics`` (see :mod:`bots.metrics`)
renders :data:`REGISTRY`. ``channel`` is the platform a notice went to (``telegram``,
``whatsapp``, ``discord``, ``web``), or ``none`` when no platform was involved. Labels never
carry people, chats or message ids.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

__all__ = [
    "NOTICES_FAILED",
    "NOTICES_QUEUED",
    "NOTICES_SENT",
    "OUTBOX_LAG",
    "RATE_LIMIT_WAITS",
    "RATE_LIMIT_WAIT_SECONDS",
    "REGISTRY",
    "notice_failed",
    "notice_sent",
    "rate_limit_wait",
]

REGISTRY = CollectorRegistry(auto_describe=True)
"""Every collabbot metric of this process (and the process's own: CPU, memory, GC)."""

ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

NOTICES_SENT = Counter(
    "collabbot_notices_sent",
    "Notices delivered, by the channel they went through.",
    ["channel"],
    registry=REGISTRY,
)
NOTICES_FAILED = Counter(
    "collabbot_notices_failed",
    "Failed attempts to deliver a notice, by channel and reason: `unreachable` (the "
    "platform refused the person for good), `error` (anything else; retried with backoff).",
    ["channel", "reason"],
    registry=REGISTRY,
)
RATE_LIMIT_WAITS = Counter(
    "collabbot_rate_limit_waits",
    "Times a notice waited for a rate limit, by channel and source: `limiter` (our own "
    "sending limits) or `platform` (the platform answered 429).",
    ["channel", "source"],
    registry=REGISTRY,
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "collabbot_rate_limit_wait_seconds",
    "Seconds notices waited for rate limits (waited in place, or put back for), by channel "
    "and source.",
    ["channel", "source"],
    registry=REGISTRY,
)
NOTICES_QUEUED = Gauge(
    "collabbot_notices_queued",
    "Notices in the outbox not sent yet (waiting, or being sent right now), all channels: "
    "the channel is chosen when a notice is sent. Read from the database at each scrape.",
    registry=REGISTRY,
)
OUTBOX_LAG = Gauge(
    "collabbot_outbox_lag_seconds",
    "How long the oldest due notice has waited since it became due (0: none is waiting). "
    "Read from the database at each scrape.",
    registry=REGISTRY,
)

NO_CHANNEL = "none"


def notice_sent(channel: str | None) -> None:
    """A notice went out through ``channel``."""
    NOTICES_SENT.labels(channel or NO_CHANNEL).inc()


def notice_failed(channel: str | None, reason: str = "error") -> None:
    """Delivering a notice through ``channel`` failed (``reason``: ``error``, ``unreachable``)."""
    NOTICES_FAILED.labels(channel or NO_CHANNEL, reason).inc()


def rate_limit_wait(channel: str, seconds: float, source: str) -> None:
    """A notice waited ``seconds`` for a rate limit of ``source`` (``limiter``, ``platform``)."""
    RATE_LIMIT_WAITS.labels(channel, source).inc()
    RATE_LIMIT_WAIT_SECONDS.labels(channel, source).inc(max(0.0, seconds))
