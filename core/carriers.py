"""Parcel carriers and tracking numbers: what a seller types when shipping a sample.

The seller picks a carrier (buttons show :data:`KNOWN_CARRIERS`, but free text is accepted
too) and types a tracking number. :func:`normalise_tracking_number` cleans the number up;
:func:`tracking_url` builds the public tracking page for the creator's "shipped" notice.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import quote

MAX_TRACKING_NUMBER_LENGTH: Final = 40
_MAX_CARRIER_NAME_LENGTH: Final = 100

# Display name -> tracking page, with "{number}" where the URL-encoded number goes.
_TRACKING_PAGES: Final[dict[str, str]] = {
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "DHL": "https://www.dhl.com/global-en/home/tracking/tracking-express.html"
    "?submit=1&tracking-id={number}",
    "Amazon Logistics": "https://track.amazon.com/tracking/{number}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    "DPD": "https://tracking.dpd.de/status/en_US/parcel/{number}",
    "Evri (Hermes)": "https://www.evri.com/track/parcel/{number}",
    "GLS": "https://gls-group.com/GROUP/en/parcel-tracking?match={number}",
    "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search"
    "?searchFor={number}",
    "Australia Post": "https://auspost.com.au/mypost/track/details/{number}",
    "Japan Post": "https://trackings.post.japanpost.jp/services/srv/search/direct"
    "?reqCodeNo1={number}&locale=en",
    "Yamato": "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01={number}",
}

KNOWN_CARRIERS: Final[tuple[str, ...]] = tuple(_TRACKING_PAGES)
"""Display names of the carriers with a tracking page, in the order buttons show them."""

# Other names people type for a known carrier (compared after _fold()).
_ALIASES: Final[dict[str, str]] = {
    "united parcel service": "UPS",
    "us postal service": "USPS",
    "united states postal service": "USPS",
    "us mail": "USPS",
    "federal express": "FedEx",
    "fed ex": "FedEx",
    "dhl express": "DHL",
    "dhl parcel": "DHL",
    "amazon": "Amazon Logistics",
    "amzl": "Amazon Logistics",
    "amzl us": "Amazon Logistics",
    "amazon shipping": "Amazon Logistics",
    "royalmail": "Royal Mail",
    "parcelforce": "Royal Mail",
    "dpd uk": "DPD",
    "evri": "Evri (Hermes)",
    "hermes": "Evri (Hermes)",
    "hermes uk": "Evri (Hermes)",
    "myhermes": "Evri (Hermes)",
    "postes canada": "Canada Post",
    "canadapost": "Canada Post",
    "auspost": "Australia Post",
    "aus post": "Australia Post",
    "japanpost": "Japan Post",
    "jp post": "Japan Post",
    "yu pack": "Japan Post",
    "日本郵便": "Japan Post",
    "yamato transport": "Yamato",
    "kuroneko yamato": "Yamato",
    "kuroneko": "Yamato",
    "ヤマト運輸": "Yamato",
}
# Whitespace, hyphen-minus and the dashes phone keyboards substitute for it.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_TRACKING_NUMBER = re.compile(r"[A-Z0-9]+")


class InvalidTrackingNumber(ValueError):
    """A tracking number that cannot be right; ``str()`` says what to fix."""


def carrier_name(carrier: str) -> str | None:
    """The display name of a known carrier typed in any case or by an alias, else ``None``."""
    folded = _fold(carrier)
    for name in KNOWN_CARRIERS:
        if _fold(name) == folded:
            return name
    return _ALIASES.get(folded)


def tracking_url(carrier: str, tracking_number: str) -> str | None:
    """The carrier's public tracking page for a parcel, or ``None`` when there is none to give.

    ``None`` when the carrier is not one of :data:`KNOWN_CARRIERS` (or an alias of one) or the
    number cannot be a tracking number; a notice then shows the number without a link.
    """
    name = carrier_name(carrier)
    if name is None:
        return None
    try:
        number = normalise_tracking_number(tracking_number)
    except InvalidTrackingNumber:
        return None
    return _TRACKING_PAGES[name].format(number=quote(number, safe=""))


def normalise_tracking_number(text: str) -> str:
    """A tracking number without spaces or dashes, in upper case.

    Full-width characters typed on Japanese and Chinese keyboards are folded to plain ones.
    Raises :class:`InvalidTrackingNumber` when nothing is left, when it is longer than
    :data:`MAX_TRACKING_NUMBER_LENGTH`, or when it has anything but letters and digits.
    """
    # Length-check before normalising so a huge paste costs no more than a glance.
    if len(text) > 4 * MAX_TRACKING_NUMBER_LENGTH:
        raise _too_long()
    number = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not number:
        raise InvalidTrackingNumber(
            "The tracking number is empty. Send the number printed on the shipping label "
            "or in the carrier's receipt."
        )
    if len(number) > MAX_TRACKING_NUMBER_LENGTH:
        raise _too_long()
    if not (number.isascii() and _TRACKING_NUMBER.fullmatch(number)):
        bad = next(char for char in number if not (char.isascii() and char.isalnum()))
        shown = f"“{bad}”" if bad.isprintable() else "a hidden character"
        raise InvalidTrackingNumber(
            f"A tracking number has only letters and digits, but this one has {shown}. "
            "Send just the number from the shipping label, without other text."
        )
    return number


def _too_long() -> InvalidTrackingNumber:
    return InvalidTrackingNumber(
        f"That is longer than any tracking number (at most {MAX_TRACKING_NUMBER_LENGTH} "
        "letters and digits). Send just the number from the shipping label."
    )


def _fold(name: str) -> str:
    """Case-, punctuation- and spacing-insensitive form of a carrier name."""
    if len(name) > _MAX_CARRIER_NAME_LENGTH:
        return ""
    # "U.S." becomes "us"; any other punctuation separates words.
    folded = re.sub(r"[.'’]", "", unicodedata.normalize("NFKC", name).casefold())
    words = re.sub(r"[\W_]+", " ", folded)
    return " ".join(words.split())
