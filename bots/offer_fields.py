"""Turning the text (or JSON value) of one import field into what the marketplace needs.

Each function takes the raw value and returns the parsed one, or raises :class:`BadValue`
whose message says what to write instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from core.domain.common import CURRENCIES
from core.domain.offers import RewardKind, SelectionMode, VideoType
from core.domain.sellers import MARKETPLACES
from core.services import CATEGORIES

CURRENCY_OF_MARKETPLACE = {
    "amazon.com": "USD",
    "amazon.ca": "CAD",
    "amazon.com.mx": "MXN",
    "amazon.com.br": "BRL",
    "amazon.co.uk": "GBP",
    "amazon.de": "EUR",
    "amazon.fr": "EUR",
    "amazon.it": "EUR",
    "amazon.es": "EUR",
    "amazon.nl": "EUR",
    "amazon.com.be": "EUR",
    "amazon.se": "SEK",
    "amazon.pl": "PLN",
    "amazon.com.tr": "TRY",
    "amazon.ae": "AED",
    "amazon.sa": "SAR",
    "amazon.eg": "EGP",
    "amazon.in": "INR",
    "amazon.co.jp": "JPY",
    "amazon.com.au": "AUD",
    "amazon.sg": "SGD",
    "amazon.cn": "CNY",
}

_TRUE = frozenset({"true", "yes", "y", "1", "x"})
_FALSE = frozenset({"false", "no", "n", "0"})
_MAX_URL = 2000

T = TypeVar("T")


class BadValue(Exception):
    """A field's value cannot be used; the message says what to write instead."""


def text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadValue("write this as text.")
    return str(value)


def shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text[:40] + "…") if len(text) > 40 else repr(text)


def whole_number(low: int, high: int | None = None, *, example: int) -> Callable[[Any], int]:
    """A reader of whole numbers from ``low`` to ``high`` (no upper bound when ``None``)."""

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise BadValue(f"{shown(value)} is not a whole number.")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and value.lstrip("+-").isdigit():
            number = int(value)
        else:
            raise BadValue(
                f"{shown(value)} is not a whole number; write digits only, e.g. {example}."
            )
        if number < low or (high is not None and number > high):
            span = f"between {low} and {high}" if high is not None else f"{low} or more"
            raise BadValue(f"must be {span}, not {number}.")
        return number

    return parse


def amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise BadValue(f"{shown(value)} is not an amount.")
    text = str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or text.startswith(("+", ".")) or "e" in text.lower():
        raise BadValue(
            f"{shown(value)} is not an amount; write a number such as 19.99 (no symbol)."
        )
    if amount <= 0:
        raise BadValue("must be above zero.")
    if amount != amount.quantize(Decimal("0.01")):
        raise BadValue(f"{shown(value)} has more than two decimals.")
    return amount


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue(f"{shown(value)} is not yes or no; write true or false.")


def choice(options: Mapping[str, T]) -> Callable[[Any], T]:
    def parse(value: Any) -> T:
        key = text(value).strip().lower()
        if key not in options:
            allowed = " or ".join(sorted({k for k in options if "_" not in k}))
            raise BadValue(f"{shown(value)} is not one of {allowed}.")
        return options[key]

    return parse


def word_list(value: Any) -> list[str]:
    if isinstance(value, list):
        items = value
    else:
        items = text(value).replace(";", ",").replace("|", ",").split(",")
    if not all(isinstance(item, str) for item in items):
        raise BadValue("write a list of words, e.g. beauty, health.")
    return [item.strip() for item in items if item.strip()]


def categories(value: Any) -> frozenset[str]:
    chosen = frozenset(c.lower() for c in word_list(value))
    unknown = sorted(chosen - set(CATEGORIES))
    if unknown:
        raise BadValue(f"unknown categor{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}.")
    return chosen


def category(value: Any) -> str:
    name = text(value).strip().lower()
    if name not in CATEGORIES:
        raise BadValue(f"unknown category {name!r}; use one of: {', '.join(CATEGORIES)}.")
    return name


def countries(value: Any) -> frozenset[str]:
    codes = frozenset(c.upper() for c in word_list(value))
    bad = sorted(c for c in codes if len(c) != 2 or not c.isalpha())
    if bad:
        raise BadValue(f"{', '.join(bad)}: use two-letter country codes such as US, GB, DE.")
    return codes


def languages(value: Any) -> frozenset[str]:
    codes = frozenset(c.lower() for c in word_list(value))
    bad = sorted(c for c in codes if not (2 <= len(c) <= 3 and c.isalpha()))
    if bad:
        raise BadValue(f"{', '.join(bad)}: use language codes such as en, es, de.")
    return codes


def marketplace(value: Any) -> str:
    name = text(value).strip().lower().removeprefix("https://").removeprefix("www.")
    name = name.rstrip("/")
    if name not in MARKETPLACES:
        raise BadValue(
            f"unknown Amazon marketplace {name!r}; use one such as amazon.com or amazon.de."
        )
    return name


def currency(value: Any) -> str:
    code = text(value).strip().upper()
    if code not in CURRENCIES:
        raise BadValue(f"unknown currency {code!r}; use a code such as USD, EUR or GBP.")
    return code


def web_link(value: Any) -> str:
    url = text(value).strip()
    if not url.lower().startswith(("https://", "http://")) or " " in url:
        raise BadValue("write a full web address starting with https://.")
    if len(url) > _MAX_URL:
        raise BadValue(f"the address is too long (at most {_MAX_URL} characters).")
    return url


_VIDEO_TYPES = {str(int(t)): t for t in VideoType}
REWARDS = {"free": RewardKind.FREE_PRODUCT, "free_product": RewardKind.FREE_PRODUCT}
REWARDS["fee"] = RewardKind.FEE
SELECTIONS = {m.value: m for m in SelectionMode}


def video_type(value: Any) -> VideoType:
    key = str(value).strip() if not isinstance(value, bool) else ""
    if key.endswith(".0"):
        key = key[:-2]
    if key not in _VIDEO_TYPES:
        raise BadValue(
            f"{shown(value)} is not a video type; write 1, 2, 3, 4 or 5 (see docs/offer-import.md)."
        )
    return _VIDEO_TYPES[key]
