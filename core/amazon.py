"""Amazon links pasted by creators: recognise, validate and normalise them.

A creator completes an order by pasting the link to the video they published on Amazon.
:func:`parse_video_link` checks one pasted link; :func:`find_video_link` picks the link out of
a longer chat message. Both return an :class:`AmazonVideoLink` whose ``key`` is the identity
used to enforce "the same video cannot complete two orders".

Accepted video links
--------------------

On every Amazon marketplace (see :data:`MARKETPLACES`: amazon.com, .ca, .com.mx, .com.br,
.co.uk, .de, .fr, .it, .es, .nl, .se, .pl, .com.be, .com.tr, .ae, .sa, .eg, .in, .co.jp,
.com.au, .sg, .cn), with or without ``www.``, ``smile.`` or ``m.``, over ``https``, ``http``
or with no scheme at all (``amazon.de/vdp/…``), and with any query string or fragment
(``?ref=…``, ``?aci=…&product=…``), which is dropped:

* ``vdp`` — ``amazon.<tld>/vdp/<video id>``, keyed ``vdp:<video id>``.
* ``live_video`` — ``amazon.<tld>/live/video/<video id>``, keyed ``vdp:<video id>``.
* ``influencer_video`` — ``amazon.<tld>/shop/<storefront>/video/<video id>``, keyed
  ``vdp:<video id>``.
* ``short`` — ``amzn.to/<code>``, ``a.co/d/<code>``, ``amzn.eu/d/<code>`` and
  ``amzn.asia/d/<code>``, keyed ``short:<host>/<path>``, e.g. ``short:amzn.to/3xYzAbC``.

* A video id is Amazon's 32-character hexadecimal video id (the tail of
  ``amzn1.vse.video.<id>``; the long form is accepted too). Upper case is folded to lower.
  Extra path segments after the id (``/vdp/<id>/ref=…``) are ignored.
* A language prefix in the path (``amazon.com/-/es/vdp/<id>``) is ignored.
* The three long forms share one key: the same video pasted as its storefront link, its
  ``/vdp/`` link or on another marketplace is still the same video.
* Short links cannot be expanded without going online, so they are keyed on their code
  (which is case-sensitive) and their marketplace is ``""``.

Rejected, each with a :class:`InvalidVideoLink` ``reason``
------------------------------------------------------------

* ``not_a_url`` — text that is not a single web link (or uses another scheme than http/https).
* ``not_amazon`` — a link to any other host, including look-alikes such as
  ``amazon.com.evil.example``, ``notamazon.com`` and ``amazon.com@evil.example``.
* ``product_page`` — an Amazon product page (``/dp/<ASIN>``, ``/gp/product/<ASIN>``, …).
* ``storefront`` — a storefront's home page (``/shop/<name>``) rather than one of its videos.
* ``not_a_video`` — any other Amazon page (search, lists, photo posts, the home page, …).
* ``malformed_id`` — a video or short link whose id is missing, cut off or altered.
* ``too_long`` — more than :data:`MAX_LINK_LENGTH` characters.

Storefront links
----------------

:func:`storefront_url` accepts ``amazon.<tld>/shop/<name>`` (same hosts and schemes as above;
anything after the name is dropped) and returns ``https://www.amazon.<tld>/shop/<name>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

MARKETPLACES: Final[tuple[str, ...]] = (
    "amazon.com",
    "amazon.ca",
    "amazon.com.mx",
    "amazon.com.br",
    "amazon.co.uk",
    "amazon.de",
    "amazon.fr",
    "amazon.it",
    "amazon.es",
    "amazon.nl",
    "amazon.se",
    "amazon.pl",
    "amazon.com.be",
    "amazon.com.tr",
    "amazon.ae",
    "amazon.sa",
    "amazon.eg",
    "amazon.in",
    "amazon.co.jp",
    "amazon.com.au",
    "amazon.sg",
    "amazon.cn",
)
"""Every Amazon marketplace domain a link may point to."""

MAX_LINK_LENGTH: Final = 2048
"""Longer text is refused without being examined."""

MAX_MESSAGE_SCAN: Final = 16_384
"""How much of a chat message :func:`find_video_link` looks at."""

_MAX_CANDIDATES: Final = 64

VideoLinkProblem = Literal[
    "not_a_url",
    "not_amazon",
    "not_a_video",
    "product_page",
    "storefront",
    "malformed_id",
    "too_long",
]
StorefrontProblem = Literal["not_a_url", "not_amazon", "short_link", "not_a_storefront", "too_long"]

_MARKETPLACE_BY_HOST: Final[dict[str, str]] = {
    prefix + marketplace: marketplace
    for marketplace in MARKETPLACES
    for prefix in ("", "www.", "smile.", "m.")
}
# Short-link host -> the path segment that precedes the code ("" when the code comes first).
_SHORT_LINK_PREFIX: Final[dict[str, str]] = {
    "amzn.to": "",
    "a.co": "d",
    "amzn.eu": "d",
    "amzn.asia": "d",
}
_SHORT_HOSTS: Final[dict[str, str]] = {
    prefix + host: host for host in _SHORT_LINK_PREFIX for prefix in ("", "www.")
}

_EXAMPLE: Final = "https://www.amazon.com/vdp/… or https://amzn.to/…"
_HTTP_SCHEME = re.compile(r"(?i)https?://")
_OTHER_SCHEME = re.compile(r"(?i)[a-z][a-z0-9+.-]{0,30}:(?://|(?![0-9]))")
_HOST_LIKE = re.compile(r"[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[^\W\d_]{2,63}")
_VIDEO_ID = re.compile(r"[0-9a-f]{32}")
_LONG_VIDEO_ID_PREFIX: Final = "amzn1.vse.video."
_SHORT_CODE = re.compile(r"[A-Za-z0-9]{4,20}")
_STOREFRONT_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z]{2,4})?")
_CANDIDATE = re.compile(r"[^\s<>\"'`()\[\]{}|]+")
_WRAPPING = "<>\"'`()[]{}*_~"
_TRAILING = _WRAPPING + ".,;:!?"


@dataclass(frozen=True)
class AmazonVideoLink:
    """A creator's video on Amazon, identified well enough to tell one video from another.

    ``url`` is the canonical https address without tracking parameters, ``key`` the stable
    identity of the video, ``marketplace`` its domain (``""`` for short links) and ``kind``
    one of ``vdp``, ``live_video``, ``influencer_video`` or ``short``.
    """

    url: str
    key: str
    marketplace: str
    kind: str


class InvalidVideoLink(ValueError):
    """Pasted text that is not a usable Amazon video link; ``str()`` says what to do instead."""

    def __init__(self, reason: VideoLinkProblem, message: str) -> None:
        super().__init__(message)
        self.reason: VideoLinkProblem = reason


class InvalidStorefrontUrl(ValueError):
    """Text that is not an Amazon storefront address; ``str()`` says what to do instead."""

    def __init__(self, reason: StorefrontProblem, message: str) -> None:
        super().__init__(message)
        self.reason: StorefrontProblem = reason


@dataclass(frozen=True)
class _Address:
    """The parts of a pasted web address that matter here."""

    host: str
    has_userinfo: bool
    has_scheme: bool
    segments: tuple[str, ...]


def parse_video_link(text: str) -> AmazonVideoLink:
    """Validate one pasted Amazon video link and return it normalised.

    Surrounding whitespace, quotes, angle brackets and trailing punctuation are ignored.
    Raises :class:`InvalidVideoLink` when the text is anything else.
    """
    link = _trim(text)
    if len(link) > MAX_LINK_LENGTH:
        raise InvalidVideoLink(
            "too_long",
            f"That is too long to be a link. Paste only the link to your video: {_EXAMPLE}",
        )
    if not link:
        raise InvalidVideoLink(
            "not_a_url", f"There is no link here. Paste the link to your video: {_EXAMPLE}"
        )
    if any(char.isspace() for char in link):
        raise InvalidVideoLink(
            "not_a_url", f"Please send only the link, without other text. It looks like {_EXAMPLE}"
        )
    address = _split_address(link)
    if address is None:
        raise InvalidVideoLink(
            "not_a_url",
            f"That doesn't look like a link. Paste the link to your video on Amazon: {_EXAMPLE}",
        )
    short_host = None if address.has_userinfo else _SHORT_HOSTS.get(address.host)
    if short_host is not None:
        return _short_link(short_host, address.segments)
    marketplace = None if address.has_userinfo else _MARKETPLACE_BY_HOST.get(address.host)
    if marketplace is None:
        raise InvalidVideoLink(
            "not_amazon",
            f"That link goes to {_shown_host(address)}, not to Amazon. "
            f"Paste the link to your video on Amazon: {_EXAMPLE}",
        )
    return _marketplace_video(marketplace, _without_language(address.segments))


def find_video_link(text: str) -> AmazonVideoLink | None:
    """The first Amazon video link in a chat message, or ``None`` when it has no Amazon link.

    When the message holds Amazon links but none of them is a video, the problem with the
    first one is raised as :class:`InvalidVideoLink`, so the chat can explain it. Only the first
    :data:`MAX_MESSAGE_SCAN` characters are looked at.
    """
    window = text[:MAX_MESSAGE_SCAN]
    truncated = len(text) > len(window)
    first_problem: InvalidVideoLink | None = None
    for count, match in enumerate(_CANDIDATE.finditer(window)):
        if count >= _MAX_CANDIDATES or (truncated and match.end() == len(window)):
            break
        candidate = match.group()
        scheme = _HTTP_SCHEME.search(candidate)
        if scheme is not None:
            candidate = candidate[scheme.start() :]
        candidate = _trim(candidate)
        if not _looks_like_amazon(candidate):
            continue
        try:
            return parse_video_link(candidate)
        except InvalidVideoLink as problem:
            first_problem = first_problem or problem
    if first_problem is not None:
        raise first_problem
    return None


def storefront_url(text: str) -> str:
    """Validate a creator's Amazon storefront address; return ``https://www.amazon.<tld>/shop/<name>``.

    Raises :class:`InvalidStorefrontUrl` with a message that says what to paste instead.
    """
    example = "https://www.amazon.com/shop/yourname"
    link = _trim(text)
    if len(link) > MAX_LINK_LENGTH:
        raise InvalidStorefrontUrl(
            "too_long",
            f"That is too long to be a link. Paste only your storefront link, like {example}",
        )
    address = None if any(char.isspace() for char in link) else _split_address(link)
    if address is None:
        raise InvalidStorefrontUrl(
            "not_a_url",
            "That doesn't look like a link. "
            f"Paste only your Amazon storefront link, like {example}",
        )
    if not address.has_userinfo and address.host in _SHORT_HOSTS:
        raise InvalidStorefrontUrl(
            "short_link",
            "Short links can't be checked. Open it in your browser and paste the full address "
            f"from the address bar, like {example}",
        )
    marketplace = None if address.has_userinfo else _MARKETPLACE_BY_HOST.get(address.host)
    if marketplace is None:
        raise InvalidStorefrontUrl(
            "not_amazon",
            f"That link goes to {_shown_host(address)}, not to Amazon. "
            f"Paste your Amazon storefront link, like {example}",
        )
    segments = _without_language(address.segments)
    name = segments[1].lower() if len(segments) >= 2 and segments[0].lower() == "shop" else ""
    if not _STOREFRONT_NAME.fullmatch(name):
        raise InvalidStorefrontUrl(
            "not_a_storefront",
            "That Amazon page is not a storefront. Open your storefront (Amazon Influencer "
            f"Program → your page) and paste its address, like {example}",
        )
    return f"https://www.{marketplace}/shop/{name}"


def _marketplace_video(marketplace: str, segments: tuple[str, ...]) -> AmazonVideoLink:
    head = tuple(segment.lower() for segment in segments[:4])
    if head[:1] == ("vdp",):
        video_id = _video_id(segments[1] if len(segments) > 1 else "")
        return _long_link(f"https://www.{marketplace}/vdp/{video_id}", video_id, marketplace, "vdp")
    if head[:2] == ("live", "video"):
        video_id = _video_id(segments[2] if len(segments) > 2 else "")
        url = f"https://www.{marketplace}/live/video/{video_id}"
        return _long_link(url, video_id, marketplace, "live_video")
    if head[:1] == ("shop",):
        return _storefront_video(marketplace, segments)
    if _is_product_page(head):
        raise InvalidVideoLink(
            "product_page",
            "That is a product page, not a video. Open your video on Amazon (on your storefront "
            f"or under the product's videos), tap Share → Copy link and paste that: {_EXAMPLE}",
        )
    raise InvalidVideoLink(
        "not_a_video",
        "That Amazon page is not a video. Open your video on Amazon, tap Share → Copy link "
        f"and paste that: {_EXAMPLE}",
    )


def _storefront_video(marketplace: str, segments: tuple[str, ...]) -> AmazonVideoLink:
    if len(segments) < 3:
        raise InvalidVideoLink(
            "storefront",
            "That is a storefront, not one video. Open the video on the storefront, tap "
            f"Share → Copy link and paste that: {_EXAMPLE}",
        )
    if segments[2].lower() != "video":
        raise InvalidVideoLink(
            "not_a_video",
            "That storefront post is not a video. Open the video itself, tap Share → Copy link "
            f"and paste that: {_EXAMPLE}",
        )
    name = segments[1].lower()
    video_id = _video_id(segments[3] if len(segments) > 3 else "")
    if not _STOREFRONT_NAME.fullmatch(name):
        raise _malformed()
    url = f"https://www.{marketplace}/shop/{name}/video/{video_id}"
    return _long_link(url, video_id, marketplace, "influencer_video")


def _short_link(host: str, segments: tuple[str, ...]) -> AmazonVideoLink:
    prefix = _SHORT_LINK_PREFIX[host]
    if prefix:
        ok = len(segments) == 2 and segments[0].lower() == prefix
        path = f"{prefix}/{segments[1]}" if ok else ""
    else:
        ok = len(segments) == 1
        path = segments[0] if ok else ""
    if not ok or not _SHORT_CODE.fullmatch(path.rpartition("/")[2]):
        raise _malformed()
    return AmazonVideoLink(
        url=f"https://{host}/{path}", key=f"short:{host}/{path}", marketplace="", kind="short"
    )


def _long_link(url: str, video_id: str, marketplace: str, kind: str) -> AmazonVideoLink:
    return AmazonVideoLink(url=url, key=f"vdp:{video_id}", marketplace=marketplace, kind=kind)


def _video_id(raw: str) -> str:
    candidate = raw.lower()
    if candidate.startswith(_LONG_VIDEO_ID_PREFIX):
        candidate = candidate[len(_LONG_VIDEO_ID_PREFIX) :]
    if not _VIDEO_ID.fullmatch(candidate):
        raise _malformed()
    return candidate


def _malformed() -> InvalidVideoLink:
    return InvalidVideoLink(
        "malformed_id",
        "That link looks cut off or changed, so the video can't be identified. Copy the link "
        f"from Amazon again (Share → Copy link) and paste it whole: {_EXAMPLE}",
    )


def _is_product_page(head: tuple[str, ...]) -> bool:
    return (
        "dp" in head[:2]
        or head[:2] == ("gp", "product")
        or head[:3] == ("gp", "aw", "d")
        or head[:2] == ("exec", "obidos")
    )


def _without_language(segments: tuple[str, ...]) -> tuple[str, ...]:
    """Drop a ``/-/<language>/`` prefix, which Amazon adds for a chosen display language."""
    if len(segments) >= 2 and segments[0] == "-" and _LANGUAGE.fullmatch(segments[1]):
        return segments[2:]
    return segments


def _looks_like_amazon(candidate: str) -> bool:
    address = _split_address(candidate)
    if address is None or address.has_userinfo:
        return False
    if address.host not in _MARKETPLACE_BY_HOST and address.host not in _SHORT_HOSTS:
        return False
    # Without a scheme, "amazon.com" alone is a word in a sentence, not a pasted link.
    return address.has_scheme or bool(address.segments) or candidate.endswith("/")


def _split_address(link: str) -> _Address | None:
    """Split a web address into host and path, or ``None`` when it is not one.

    Written by hand rather than with ``urllib.parse`` so that every oddity (userinfo,
    backslashes, ports) is decided here, the way a browser would see it, and nothing raises.
    """
    rest = link
    scheme = _HTTP_SCHEME.match(rest)
    if scheme is not None:
        rest = rest[scheme.end() :]
    elif rest.startswith("//"):
        rest = rest[2:]
    elif _OTHER_SCHEME.match(rest):
        return None
    end = len(rest)
    for separator in "/?#\\":
        position = rest.find(separator)
        if position != -1:
            end = min(end, position)
    authority, remainder = rest[:end], rest[end:]
    _, at, host_port = authority.rpartition("@")
    host, colon, port = host_port.partition(":")
    if colon and not (port.isascii() and port.isdigit()):
        return None
    host = host.removesuffix(".")
    if not _HOST_LIKE.fullmatch(host):
        return None
    path = remainder.replace("\\", "/")
    for separator in "?#":
        path = path.partition(separator)[0]
    segments = tuple(segment for segment in path.split("/") if segment)
    return _Address(
        # Only ASCII is folded: a few non-ASCII letters lower-case to ASCII (the Kelvin sign).
        host=host.lower() if host.isascii() else host,
        has_userinfo=bool(at),
        has_scheme=scheme is not None,
        segments=segments,
    )


def _shown_host(address: _Address) -> str:
    if address.has_userinfo:
        return "a disguised address"
    return address.host if len(address.host) <= 60 else address.host[:57] + "…"


def _trim(text: str) -> str:
    """Remove whitespace, wrapping brackets or quotes and sentence punctuation around a link."""
    return text.strip().lstrip(_WRAPPING).rstrip(_TRAILING).strip()
