"""Carriers and tracking numbers a seller enters when shipping a sample."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.carriers import (
    KNOWN_CARRIERS,
    MAX_TRACKING_NUMBER_LENGTH,
    InvalidTrackingNumber,
    carrier_name,
    normalise_tracking_number,
    tracking_url,
)


@pytest.mark.parametrize(
    ("carrier", "number", "expected"),
    [
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        (
            "USPS",
            "9400111899223197428490",
            "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223197428490",
        ),
        ("FedEx", "123456789012", "https://www.fedex.com/fedextrack/?trknbr=123456789012"),
        (
            "DHL",
            "1234567890",
            "https://www.dhl.com/global-en/home/tracking/tracking-express.html"
            "?submit=1&tracking-id=1234567890",
        ),
        (
            "Amazon Logistics",
            "TBA123456789000",
            "https://track.amazon.com/tracking/TBA123456789000",
        ),
        (
            "Royal Mail",
            "AB123456789GB",
            "https://www.royalmail.com/track-your-item#/tracking-results/AB123456789GB",
        ),
        ("DPD", "15501234567890", "https://tracking.dpd.de/status/en_US/parcel/15501234567890"),
        ("Evri (Hermes)", "H01ABC1234567890", "https://www.evri.com/track/parcel/H01ABC1234567890"),
        ("GLS", "12345678901", "https://gls-group.com/GROUP/en/parcel-tracking?match=12345678901"),
        (
            "Canada Post",
            "1234567890123456",
            "https://www.canadapost-postescanada.ca/track-reperage/en#/search"
            "?searchFor=1234567890123456",
        ),
        (
            "Australia Post",
            "33ABC1234567",
            "https://auspost.com.au/mypost/track/details/33ABC1234567",
        ),
        (
            "Japan Post",
            "123456789012",
            "https://trackings.post.japanpost.jp/services/srv/search/direct"
            "?reqCodeNo1=123456789012&locale=en",
        ),
        (
            "Yamato",
            "123456789012",
            "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01=123456789012",
        ),
    ],
)
def test_every_known_carrier_has_a_tracking_page(carrier: str, number: str, expected: str) -> None:
    assert tracking_url(carrier, number) == expected


def test_buttons_offer_every_carrier_that_has_a_tracking_page() -> None:
    assert len(KNOWN_CARRIERS) == len(set(KNOWN_CARRIERS)) == 13
    for carrier in KNOWN_CARRIERS:
        url = tracking_url(carrier, "ABC123")
        assert url is not None
        assert urlsplit(url).scheme == "https"
        assert "ABC123" in url


@pytest.mark.parametrize(
    ("typed", "carrier"),
    [
        ("ups", "UPS"),
        ("  Ups ", "UPS"),
        ("United Parcel Service", "UPS"),
        ("usps", "USPS"),
        ("U.S. Postal Service", "USPS"),
        ("fedex", "FedEx"),
        ("Fed-Ex", "FedEx"),
        ("Federal Express", "FedEx"),
        ("dhl express", "DHL"),
        ("AMZL", "Amazon Logistics"),
        ("amazon", "Amazon Logistics"),
        ("amazon logistics", "Amazon Logistics"),
        ("ROYAL MAIL", "Royal Mail"),
        ("royal_mail", "Royal Mail"),
        ("Hermes", "Evri (Hermes)"),
        ("evri", "Evri (Hermes)"),
        ("gls", "GLS"),
        ("Postes Canada", "Canada Post"),
        ("AusPost", "Australia Post"),
        ("japan post", "Japan Post"),
        ("日本郵便", "Japan Post"),
        ("Kuroneko Yamato", "Yamato"),
        ("ヤマト運輸", "Yamato"),
    ],
)
def test_carrier_names_are_matched_loosely(typed: str, carrier: str) -> None:
    assert carrier_name(typed) == carrier
    assert tracking_url(typed, "ABC123") == tracking_url(carrier, "ABC123")


@pytest.mark.parametrize("typed", ["", "   ", "Pony Express", "ups ground extra", "u" * 1000])
def test_an_unknown_carrier_has_no_tracking_link(typed: str) -> None:
    assert carrier_name(typed) is None
    assert tracking_url(typed, "1Z999AA10123456784") is None


def test_tracking_link_uses_the_normalised_number() -> None:
    assert tracking_url("ups", "1z 999-aa1 0123456784") == (
        "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    )


@pytest.mark.parametrize("number", ["", "a/b", "ABC?x=1", "x" * 41])
def test_a_number_that_cannot_be_right_gets_no_tracking_link(number: str) -> None:
    assert tracking_url("UPS", number) is None


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1Z999AA10123456784", "1Z999AA10123456784"),
        ("1z999aa10123456784", "1Z999AA10123456784"),
        ("  1Z 999 AA1 0123 4567 84 ", "1Z999AA10123456784"),
        ("9400-1118-9922-3197-4284-90", "9400111899223197428490"),
        ("tba–123–456", "TBA123456"),  # en dashes from a phone keyboard
        ("１２３４－５６７８－９０１２", "123456789012"),  # full-width digits
        ("AB\t123\n456GB", "AB123456GB"),
        ("x" * MAX_TRACKING_NUMBER_LENGTH, "X" * MAX_TRACKING_NUMBER_LENGTH),
    ],
)
def test_tracking_numbers_are_normalised(typed: str, number: str) -> None:
    assert normalise_tracking_number(typed) == number


@pytest.mark.parametrize(
    ("typed", "explanation"),
    [
        ("", "empty"),
        ("  - - ", "empty"),
        ("x" * (MAX_TRACKING_NUMBER_LENGTH + 1), "longer than any tracking number"),
        ("1" * 10_000, "longer than any tracking number"),
        ("1Z999/AA1", "“/”"),
        ("tracking: 1Z999", "“:”"),
        ("ÄBC123", "“Ä”"),
        ("ABC\u0000123", "hidden character"),
    ],
)
def test_a_wrong_tracking_number_is_explained(typed: str, explanation: str) -> None:
    with pytest.raises(InvalidTrackingNumber, match=explanation) as refused:
        normalise_tracking_number(typed)

    assert isinstance(refused.value, ValueError)
    assert "Send" in str(refused.value)  # always says what to do next


@given(st.text(max_size=80))
def test_any_text_is_either_a_clean_number_or_explained(text: str) -> None:
    try:
        number = normalise_tracking_number(text)
    except InvalidTrackingNumber:
        return
    assert number.isascii()
    assert number.isalnum()
    assert number == number.upper()
    assert 0 < len(number) <= MAX_TRACKING_NUMBER_LENGTH
    assert normalise_tracking_number(number) == number
