"""Amazon video links as creators paste them: what is accepted, what is refused and why."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.amazon import (
    MARKETPLACES,
    AmazonVideoLink,
    InvalidStorefrontUrl,
    InvalidVideoLink,
    find_video_link,
    parse_video_link,
    storefront_url,
)

VIDEO_ID = "0358f63b34b749239d7c7203ff1be30b"
OTHER_ID = "0a5e8afd2ecc46bab7e555fb9813c1cc"


def vdp(marketplace: str, video_id: str = VIDEO_ID) -> AmazonVideoLink:
    return AmazonVideoLink(
        url=f"https://www.{marketplace}/vdp/{video_id}",
        key=f"vdp:{video_id}",
        marketplace=marketplace,
        kind="vdp",
    )


def short(path: str) -> AmazonVideoLink:
    return AmazonVideoLink(url=f"https://{path}", key=f"short:{path}", marketplace="", kind="short")


ACCEPTED = [
    # Video detail pages, with the decorations Amazon's Share button adds.
    (f"https://www.amazon.com/vdp/{VIDEO_ID}", vdp("amazon.com")),
    (f"https://www.amazon.com/vdp/{VIDEO_ID}?ref=dp_vse_rvc_0", vdp("amazon.com")),
    (
        f"https://www.amazon.com/vdp/{VIDEO_ID}?aci=amzn1.vse.video.{VIDEO_ID}"
        "&product=B08CV69V9G&ref=cm_sw_cp_r_ib_dt_qmNWd03mrt6pW",
        vdp("amazon.com"),
    ),
    (f"https://www.amazon.co.uk/vdp/{VIDEO_ID}/ref=cm_sw_em_r_ib_dt", vdp("amazon.co.uk")),
    (f"http://amazon.de/vdp/{VIDEO_ID}#player", vdp("amazon.de")),
    (f"amazon.co.jp/vdp/{VIDEO_ID}", vdp("amazon.co.jp")),
    (f"www.amazon.com.mx/vdp/{VIDEO_ID}", vdp("amazon.com.mx")),
    (f"https://smile.amazon.com/vdp/{VIDEO_ID}", vdp("amazon.com")),
    (f"https://m.amazon.in/vdp/{VIDEO_ID}", vdp("amazon.in")),
    (f"HTTPS://WWW.AMAZON.FR/VDP/{VIDEO_ID.upper()}", vdp("amazon.fr")),
    (f"https://www.amazon.es/-/en/vdp/{VIDEO_ID}", vdp("amazon.es")),
    (f"https://www.amazon.com.au./vdp/{VIDEO_ID}", vdp("amazon.com.au")),
    (f"https://www.amazon.com:443/vdp/{VIDEO_ID}", vdp("amazon.com")),
    (f"  <https://www.amazon.ca/vdp/{VIDEO_ID}>.  ", vdp("amazon.ca")),
    (f'"https://www.amazon.sa/vdp/{VIDEO_ID}"', vdp("amazon.sa")),
    # Amazon Live videos.
    (
        f"https://www.amazon.com/live/video/{OTHER_ID}?ref_=dp_ib_6_ivx_share",
        AmazonVideoLink(
            url=f"https://www.amazon.com/live/video/{OTHER_ID}",
            key=f"vdp:{OTHER_ID}",
            marketplace="amazon.com",
            kind="live_video",
        ),
    ),
    (
        f"amazon.co.uk/live/video/{OTHER_ID}",
        AmazonVideoLink(
            url=f"https://www.amazon.co.uk/live/video/{OTHER_ID}",
            key=f"vdp:{OTHER_ID}",
            marketplace="amazon.co.uk",
            kind="live_video",
        ),
    ),
    # Videos on an influencer storefront.
    (
        f"https://www.amazon.com/shop/influencer-1604f2b0/video/{VIDEO_ID}?ref=cm_sw_r_cp",
        AmazonVideoLink(
            url=f"https://www.amazon.com/shop/influencer-1604f2b0/video/{VIDEO_ID}",
            key=f"vdp:{VIDEO_ID}",
            marketplace="amazon.com",
            kind="influencer_video",
        ),
    ),
    (
        f"https://www.amazon.de/shop/Kamachasi/video/amzn1.vse.video.{VIDEO_ID}",
        AmazonVideoLink(
            url=f"https://www.amazon.de/shop/kamachasi/video/{VIDEO_ID}",
            key=f"vdp:{VIDEO_ID}",
            marketplace="amazon.de",
            kind="influencer_video",
        ),
    ),
    # Short links: they cannot be expanded offline, so the code is the identity.
    ("https://amzn.to/3K7euOO", short("amzn.to/3K7euOO")),
    ("amzn.to/3K7euOO?tag=creator-20", short("amzn.to/3K7euOO")),
    ("https://a.co/d/0bFNpxY", short("a.co/d/0bFNpxY")),
    ("http://a.co/D/0bFNpxY/", short("a.co/d/0bFNpxY")),
    ("https://amzn.eu/d/4RtZ7kQ", short("amzn.eu/d/4RtZ7kQ")),
    ("https://amzn.asia/d/gH3kLm9", short("amzn.asia/d/gH3kLm9")),
    ("www.amzn.to/3K7euOO", short("amzn.to/3K7euOO")),
]


@pytest.mark.parametrize(("pasted", "expected"), ACCEPTED)
def test_creator_pastes_an_accepted_video_link(pasted: str, expected: AmazonVideoLink) -> None:
    assert parse_video_link(pasted) == expected


@pytest.mark.parametrize("marketplace", MARKETPLACES)
@pytest.mark.parametrize("prefix", ["https://www.", "http://", "", "https://smile.", "m."])
def test_every_marketplace_is_accepted_with_every_host_form(marketplace: str, prefix: str) -> None:
    assert parse_video_link(f"{prefix}{marketplace}/vdp/{VIDEO_ID}?ref=x") == vdp(marketplace)


def test_the_same_video_has_one_key_in_every_form_and_marketplace() -> None:
    forms = [
        f"https://www.amazon.com/vdp/{VIDEO_ID}",
        f"https://www.amazon.co.uk/vdp/{VIDEO_ID.upper()}",
        f"https://www.amazon.com/live/video/{VIDEO_ID}",
        f"https://www.amazon.com/shop/someone/video/{VIDEO_ID}",
    ]
    assert {parse_video_link(form).key for form in forms} == {f"vdp:{VIDEO_ID}"}


def test_short_link_codes_keep_their_case() -> None:
    assert parse_video_link("amzn.to/AbCdEfG").key != parse_video_link("amzn.to/abcdefg").key


REJECTED = [
    # Not a link at all.
    ("", "not_a_url"),
    ("   ", "not_a_url"),
    ("hello", "not_a_url"),
    ("my video is done", "not_a_url"),
    (f"here it is https://www.amazon.com/vdp/{VIDEO_ID}", "not_a_url"),
    ("3.5", "not_a_url"),
    (f"ftp://www.amazon.com/vdp/{VIDEO_ID}", "not_a_url"),
    ("javascript:alert(1)", "not_a_url"),
    ("mailto:creator@amazon.com", "not_a_url"),
    ("https://", "not_a_url"),
    (f"https://www.amazon.com:https/vdp/{VIDEO_ID}", "not_a_url"),
    # Somewhere other than Amazon, including look-alikes.
    (f"https://www.youtube.com/watch?v={VIDEO_ID}", "not_amazon"),
    (f"https://amazon.com.evil.example/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://www.amazon.com.evil.example/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://notamazon.com/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://amazon.com@evil.example/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://evil.example@www.amazon.com/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://user:pass@www.amazon.com/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://www.amazon.xyz/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://aws.amazon.com/vdp/{VIDEO_ID}", "not_amazon"),
    (f"https://www.аmazon.com/vdp/{VIDEO_ID}", "not_amazon"),  # Cyrillic "а"
    (f"https://www.primevideo.com/vdp/{VIDEO_ID}", "not_amazon"),
    ("https://amzn.to.evil.example/3K7euOO", "not_amazon"),
    # Amazon product pages.
    ("https://www.amazon.com/dp/B08N5WRWNW", "product_page"),
    ("https://www.amazon.co.uk/Sony-WH-1000XM4-Headphones/dp/B0863TXGM3?th=1", "product_page"),
    ("amazon.de/gp/product/B098XNCHLD/ref=ox_sc", "product_page"),
    ("https://www.amazon.in/gp/aw/d/B0863TXGM3", "product_page"),
    # Storefront home pages and other storefront posts.
    ("https://www.amazon.com/shop/influencer-1604f2b0", "storefront"),
    ("https://www.amazon.com/shop/influencer-1604f2b0?ref=cm_sw_em_r_inf", "storefront"),
    (
        "https://www.amazon.com/shop/itgirlsyd19/photo/"
        "amzn1.shoppablemedia.v1.5e178c68-c8ef-410c-9899-17662a67cd1b",
        "not_a_video",
    ),
    ("https://www.amazon.com/shop/someone/list/2B5V0ZCW0AAJB", "not_a_video"),
    # Other Amazon pages.
    ("https://www.amazon.com", "not_a_video"),
    ("https://www.amazon.com/s?k=blender", "not_a_video"),
    ("https://www.amazon.com/gp/video/detail/B08WJP55PR", "not_a_video"),
    ("https://www.amazon.com/gp/customer-reviews/R10VE9VUSY19L3", "not_a_video"),
    # Ids that are cut off, padded or altered.
    ("https://www.amazon.com/vdp/", "malformed_id"),
    ("https://www.amazon.com/vdp/0358f63b34b7", "malformed_id"),
    (f"https://www.amazon.com/vdp/{VIDEO_ID}00", "malformed_id"),
    (f"https://www.amazon.com/vdp/{VIDEO_ID[:-1]}g", "malformed_id"),
    ("https://www.amazon.com/vdp/not-a-video", "malformed_id"),
    ("https://www.amazon.com/live/video", "malformed_id"),
    ("https://www.amazon.com/shop/someone/video/", "malformed_id"),
    (f"https://www.amazon.com/shop/-bad-/video/{VIDEO_ID}", "malformed_id"),
    ("https://amzn.to/", "malformed_id"),
    ("https://amzn.to/ab", "malformed_id"),
    ("https://amzn.to/3K7eu-OO", "malformed_id"),
    ("https://amzn.to/3K7euOO/extra", "malformed_id"),
    ("https://a.co/0bFNpxY", "malformed_id"),
    ("https://a.co/d/", "malformed_id"),
    ("https://amzn.eu/x/4RtZ7kQ", "malformed_id"),
    # Too long to be a link.
    (f"https://www.amazon.com/vdp/{VIDEO_ID}?ref=" + "x" * 3000, "too_long"),
]


@pytest.mark.parametrize(("pasted", "reason"), REJECTED)
def test_creator_is_told_why_a_link_is_refused(pasted: str, reason: str) -> None:
    with pytest.raises(InvalidVideoLink) as refused:
        parse_video_link(pasted)

    assert refused.value.reason == reason
    assert isinstance(refused.value, ValueError)
    assert "amazon.com/vdp/" in str(refused.value)  # it always shows what a good link looks like


def test_a_product_page_is_explained_as_not_a_video() -> None:
    with pytest.raises(InvalidVideoLink, match="product page, not a video"):
        parse_video_link("https://www.amazon.com/dp/B08N5WRWNW")


def test_a_disguised_host_is_not_repeated_back_as_amazon() -> None:
    with pytest.raises(InvalidVideoLink) as refused:
        parse_video_link(f"https://www.amazon.com@evil.example/vdp/{VIDEO_ID}")

    assert "disguised" in str(refused.value)


# -- finding the link in a chat message ------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "key"),
    [
        (f"Done! https://www.amazon.com/vdp/{VIDEO_ID}?ref=abc thanks", f"vdp:{VIDEO_ID}"),
        (f"here:https://www.amazon.com/vdp/{VIDEO_ID}.", f"vdp:{VIDEO_ID}"),
        ("My video (https://amzn.to/3K7euOO) is up", "short:amzn.to/3K7euOO"),
        ("[my video](https://a.co/d/0bFNpxY)", "short:a.co/d/0bFNpxY"),
        ("**https://amzn.eu/d/4RtZ7kQ**", "short:amzn.eu/d/4RtZ7kQ"),
        (f"uploaded\namazon.co.uk/live/video/{OTHER_ID}\n", f"vdp:{OTHER_ID}"),
        (
            f"product https://www.amazon.com/dp/B08N5WRWNW video https://amazon.com/vdp/{VIDEO_ID}",
            f"vdp:{VIDEO_ID}",
        ),
        (
            f"https://amzn.to/3K7euOO and https://www.amazon.com/vdp/{VIDEO_ID}",
            "short:amzn.to/3K7euOO",
        ),
    ],
)
def test_the_video_link_is_found_inside_a_message(message: str, key: str) -> None:
    found = find_video_link(message)

    assert found is not None
    assert found.key == key


@pytest.mark.parametrize(
    "message",
    [
        "",
        "thanks, the parcel arrived!",
        "I bought it on amazon.com last year",
        "see https://www.youtube.com/watch?v=abc",
        f"https://amazon.com.evil.example/vdp/{VIDEO_ID}",
        f"https://amazon.com@evil.example/vdp/{VIDEO_ID}",
        f"https://evil.example/?next=https://www.amazon.com/vdp/{VIDEO_ID}",
    ],
)
def test_a_message_without_an_amazon_link_finds_nothing(message: str) -> None:
    assert find_video_link(message) is None


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("here you go https://www.amazon.com/dp/B08N5WRWNW", "product_page"),
        ("my storefront: amazon.com/shop/influencer-1604f2b0", "storefront"),
        (
            "https://www.amazon.com/vdp/0358f63b and https://www.amazon.com/dp/B08N5WRWNW",
            "malformed_id",
        ),
        ("see https://www.amazon.com", "not_a_video"),
    ],
)
def test_a_message_with_only_non_video_amazon_links_is_explained(message: str, reason: str) -> None:
    with pytest.raises(InvalidVideoLink) as refused:
        find_video_link(message)

    assert refused.value.reason == reason


def test_very_long_input_is_handled_quickly() -> None:
    huge_host = "https://" + "a." * 500_000 + "com/vdp/" + VIDEO_ID
    noise = "x" * 1_000_000
    many_links = " ".join(["https://www.amazon.com/dp/B08N5WRWNW"] * 50_000)
    started = time.perf_counter()

    with pytest.raises(InvalidVideoLink):
        parse_video_link(huge_host)
    with pytest.raises(InvalidVideoLink):
        parse_video_link(noise)
    assert find_video_link(noise) is None
    assert find_video_link(huge_host) is None
    with pytest.raises(InvalidVideoLink):
        find_video_link(many_links)
    assert find_video_link(noise + " https://amzn.to/3K7euOO") is None  # beyond what is read

    assert time.perf_counter() - started < 1.0


def test_a_link_cut_off_at_the_end_of_what_is_read_is_not_reported() -> None:
    message = "x " * 8_190 + f"https://www.amazon.com/vdp/{VIDEO_ID}"

    assert find_video_link(message) is None


# -- properties --------------------------------------------------------------------------------

video_ids = st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=32)
short_codes = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=4,
    max_size=20,
)
queries = st.sampled_from(["", "?ref=dp_vse_rvc_0", "?tag=x-20&th=1", "#t=3", "/", "/?k=v"])


@st.composite
def video_links(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["https://", "http://", "", "HTTPS://"]))
    kind = draw(st.sampled_from(["vdp", "live", "shop", "amzn.to", "a.co", "amzn.eu", "amzn.asia"]))
    query = draw(queries)
    if kind in {"amzn.to", "a.co", "amzn.eu", "amzn.asia"}:
        code = draw(short_codes)
        path = code if kind == "amzn.to" else f"d/{code}"
        return f"{scheme}{kind}/{path}{query}"
    host = draw(st.sampled_from(["", "www.", "smile.", "m."])) + draw(st.sampled_from(MARKETPLACES))
    video_id = draw(video_ids)
    query = draw(st.sampled_from(["", "/ref=sr_1_1?k=v", "/extra/segments"])) + query
    if kind == "vdp":
        path = f"vdp/{video_id}"
    elif kind == "live":
        path = f"live/video/{video_id}"
    else:
        name = draw(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True))
        path = f"shop/{name}/video/{video_id}"
    return f"{scheme}{host}/{path}{query}"


REASONS = {"not_a_url", "not_amazon", "not_a_video", "product_page", "storefront"}
REASONS |= {"malformed_id", "too_long"}


def outcome_of(parse: Callable[[str], object], text: str) -> object:
    try:
        return parse(text)
    except InvalidVideoLink as refused:
        return refused


link_fragments = st.sampled_from(
    [
        *["https://", "http://", "//", "www.", "amazon.com", "amazon.co.uk", ".", "amzn.to"],
        *["a.co", "/", "/vdp/", "/d/", "/shop/x/video/", "/dp/", "live/video/", "@", ":", ":443"],
        *["?", "#", "\\", "-", " ", VIDEO_ID, "3K7euOO", "é", "а", "K", "\u0000", "evil.example"],
    ]
)
link_like_text = st.lists(link_fragments, max_size=12).map("".join)


@given(st.one_of(st.text(), link_like_text))
def test_any_text_is_either_a_video_link_or_explained(text: str) -> None:
    outcome = outcome_of(parse_video_link, text)

    if isinstance(outcome, InvalidVideoLink):
        assert outcome.reason in REASONS
        assert str(outcome)
    else:
        assert isinstance(outcome, AmazonVideoLink)
        assert outcome.url.startswith("https://")


@given(st.one_of(st.text(), link_like_text))
def test_any_message_is_searched_without_surprises(text: str) -> None:
    outcome = outcome_of(find_video_link, text)

    assert outcome is None or isinstance(outcome, AmazonVideoLink | InvalidVideoLink)


@given(video_links())
def test_normalising_a_link_twice_changes_nothing(pasted: str) -> None:
    link = parse_video_link(pasted)

    assert parse_video_link(link.url) == link
    assert parse_video_link(link.url).key == link.key


@given(video_links(), st.text(alphabet=" \n\t.,!?abc:", max_size=30))
def test_a_valid_link_is_found_in_any_surrounding_chatter(pasted: str, chatter: str) -> None:
    found = find_video_link(f"{chatter} {pasted} {chatter}")

    assert found == parse_video_link(pasted)


# -- storefronts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        (
            "https://www.amazon.com/shop/influencer-1604f2b0",
            "https://www.amazon.com/shop/influencer-1604f2b0",
        ),
        ("amazon.co.uk/shop/Kamachasi?ref=cm_sw_r_cp", "https://www.amazon.co.uk/shop/kamachasi"),
        ("http://smile.amazon.de/shop/some.one_2/", "https://www.amazon.de/shop/some.one_2"),
        (
            "https://www.amazon.com/shop/influencer-bb664b2f/list/2B5V0ZCW0AAJB?linkCode=spc",
            "https://www.amazon.com/shop/influencer-bb664b2f",
        ),
        (
            " <https://www.amazon.com.br/shop/mauriciootk> ",
            "https://www.amazon.com.br/shop/mauriciootk",
        ),
    ],
)
def test_creator_storefront_is_normalised(pasted: str, expected: str) -> None:
    assert storefront_url(pasted) == expected


@pytest.mark.parametrize(
    ("pasted", "reason"),
    [
        ("my storefront", "not_a_url"),
        ("", "not_a_url"),
        ("https://www.instagram.com/someone", "not_amazon"),
        ("https://amazon.com@evil.example/shop/someone", "not_amazon"),
        ("https://amzn.to/3K7euOO", "short_link"),
        ("https://www.amazon.com/dp/B08N5WRWNW", "not_a_storefront"),
        ("https://www.amazon.com/shop/", "not_a_storefront"),
        ("https://www.amazon.com/", "not_a_storefront"),
        ("https://www.amazon.com/shop/" + "x" * 3000, "too_long"),
    ],
)
def test_a_wrong_storefront_link_is_explained(pasted: str, reason: str) -> None:
    with pytest.raises(InvalidStorefrontUrl) as refused:
        storefront_url(pasted)

    assert refused.value.reason == reason
    assert "amazon.com/shop/yourname" in str(refused.value)
