"""Small value types shared by the whole marketplace."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from core.domain.errors import InvalidInput


class Platform(enum.StrEnum):
    """A chat platform a person can reach the marketplace through."""

    TELEGRAM = "telegram"
    DISCORD = "discord"
    WHATSAPP = "whatsapp"
    WEB = "web"


CURRENCIES = frozenset(
    {
        "USD",
        "CAD",
        "MXN",
        "BRL",
        "GBP",
        "EUR",
        "SEK",
        "PLN",
        "TRY",
        "AED",
        "SAR",
        "EGP",
        "INR",
        "JPY",
        "AUD",
        "SGD",
        "CNY",
    }
)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency. Amounts are exact decimals, never floats."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in CURRENCIES:
            raise InvalidInput(
                f"Unknown currency {self.currency!r}. Use a code such as USD, EUR or GBP.",
                code="unknown_currency",
                currency=self.currency,
            )
        if self.amount < 0:
            raise InvalidInput("An amount cannot be negative.", code="negative_amount")

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"


def base36(number: int) -> str:
    """Compact text form of a non-negative integer (used in order numbers and buttons)."""
    if number < 0:
        raise ValueError("base36 takes non-negative integers")
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(digits[rest])
    return "".join(reversed(out))
