"""Getting notices to people: the outbox dispatcher and the platforms' sending limits."""

from notifications.dispatcher import Backoff, Dispatcher, describe_error
from notifications.rate_limits import (
    DEFAULT_RATES,
    TELEGRAM_PAID_BROADCAST,
    NoSlot,
    PlatformRates,
    SendingRates,
)

__all__ = [
    "DEFAULT_RATES",
    "TELEGRAM_PAID_BROADCAST",
    "Backoff",
    "Dispatcher",
    "NoSlot",
    "PlatformRates",
    "SendingRates",
    "describe_error",
]
