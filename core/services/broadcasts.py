"""Broadcasts: operators announce something to all or part of the creators.

An operator writes a draft (text, an optional image and one optional link button) for an
audience, sees how many creators it reaches, and sends it now or at a time. Sending is done
by :mod:`notifications.broadcasts`: due broadcasts are expanded into one outbox notice per
creator, in batches, and the dispatcher delivers them at the platforms' pace. Progress and the
final report are counted from those notices. Cancelling stops the rest: notices not yet
handed to a dispatcher are closed unsent, and nothing more is queued.

The audience is onboarded, active creators who did not turn announcements off; a creator who
turns them off after the notice was queued is skipped when it is delivered.

Error codes that have no entry in ``core/conversations/errors.py`` (the ``*_CODE`` constants
below) are put into words by the ``/broadcast`` screen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from core.conversations.markup import is_web_url
from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastAudience, BroadcastState
from core.domain.errors import InvalidInput, NotFound
from core.ports.repositories import AbstractUnitOfWork
from core.services.base import Actor, Marketplace, member_id, require_operator
from core.services.members import CATEGORIES

__all__ = [
    "BAD_AUDIENCE_CODE",
    "BAD_IMAGE_CODE",
    "BAD_LANGUAGE_CODE",
    "BAD_SEND_TIME_CODE",
    "LABEL_TOO_LONG_CODE",
    "MAX_LINK_LABEL",
    "NOT_FOUND_CODE",
    "SEND_TIME_PASSED_CODE",
    "BroadcastDraft",
    "BroadcastProgress",
    "announcement",
    "announcements",
    "audience_of",
    "audience_size",
    "broadcast_progress",
    "cancel_broadcast",
    "check_draft",
    "create_broadcast",
    "parse_audience",
    "parse_send_time",
    "recent_broadcasts",
    "schedule_broadcast",
]

NOT_FOUND_CODE = "broadcast_not_found"
BAD_IMAGE_CODE = "broadcast_bad_image"
LABEL_TOO_LONG_CODE = "broadcast_label_too_long"
BAD_LANGUAGE_CODE = "audience_bad_language"
BAD_AUDIENCE_CODE = "audience_unknown"
BAD_SEND_TIME_CODE = "bad_send_time"
SEND_TIME_PASSED_CODE = "send_time_in_past"

MAX_LINK_LABEL = 40
MAX_URL = 2000
LATE_GRACE = timedelta(minutes=1)
"""A time typed this little in the past (the minute that is running) means "now"."""

_LANGUAGE = re.compile(r"[a-z]{2,3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_DELAY = re.compile(
    r"in\s+(?:(?P<days>\d{1,3})\s*d(?:ays?)?)?\s*(?:(?P<hours>\d{1,4})\s*h(?:ours?|rs?)?)?"
    r"\s*(?:(?P<minutes>\d{1,5})\s*m(?:in(?:utes?|s)?)?)?",
    re.IGNORECASE,
)
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})")


@dataclass(frozen=True, slots=True)
class BroadcastDraft:
    """What an operator composed: the text, an image URL and a link button (both optional),
    and who gets it."""

    text: str
    audience: BroadcastAudience = field(default_factory=BroadcastAudience)
    image_url: str = ""
    link_label: str = ""
    link_url: str = ""


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """Where a broadcast stands: how many creators it goes to, and what became of it.

    ``skipped`` creators turned announcements off after the notice was queued; ``pending``
    ones are still to get it. While the audience is being queued ``recipients`` is the count
    taken when sending started; before that (draft, scheduled) it is the audience right now.
    """

    broadcast: Broadcast
    recipients: int
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    pending: int = 0

    @property
    def not_sent(self) -> int:
        """Creators who will not get a cancelled broadcast (0 for any other)."""
        if self.broadcast.state is not BroadcastState.CANCELLED:
            return 0
        reached = self.sent + self.failed + self.unreachable + self.skipped + self.pending
        return max(0, self.recipients - reached)


# --- checking what the operator typed -----------------------------------------------------


def audience_of(kind: AudienceKind, value: str = "") -> BroadcastAudience:
    """The audience ``kind`` (with its platform, category, country, language or offer
    number), written the way it is stored; refuses values that cannot match anyone."""
    value = value.strip()
    match kind:
        case AudienceKind.ALL_CREATORS | AudienceKind.TOP_CREATORS:
            value = ""
        case AudienceKind.PLATFORM:
            value = value.lower()
        case AudienceKind.CATEGORY:
            value = value.lower().replace(" ", "_")
            if value and value not in CATEGORIES:
                raise InvalidInput("Unknown category. Choose from the list.", code="bad_category")
        case AudienceKind.COUNTRY:
            value = value.upper()
            if value and not _COUNTRY.fullmatch(value):
                raise InvalidInput(
                    "The country must be a two-letter code such as US, GB or DE.",
                    code="address_bad_country",
                )
        case AudienceKind.LANGUAGE:
            value = value.lower()
            if value and not _LANGUAGE.fullmatch(value):
                raise InvalidInput(
                    "Send a language as a two- or three-letter code, e.g. en or zh.",
                    code=BAD_LANGUAGE_CODE,
                )
        case AudienceKind.OFFER_APPLICANTS:
            value = value.removeprefix("#").strip()
    return BroadcastAudience(kind, value)


AUDIENCE_WORDS = {
    "all": AudienceKind.ALL_CREATORS,
    "top": AudienceKind.TOP_CREATORS,
    "platform": AudienceKind.PLATFORM,
    "channel": AudienceKind.PLATFORM,
    "category": AudienceKind.CATEGORY,
    "country": AudienceKind.COUNTRY,
    "language": AudienceKind.LANGUAGE,
    "offer": AudienceKind.OFFER_APPLICANTS,
}


def parse_audience(spec: str) -> BroadcastAudience:
    """``all``, ``top``, ``platform:telegram``, ``category:beauty``, ``country:US``,
    ``language:en`` or ``offer:12`` → the audience."""
    word, _, value = spec.strip().partition(":")
    kind = AUDIENCE_WORDS.get(word.strip().lower())
    if kind is None:
        raise InvalidInput(
            "Unknown audience. Use all, top, platform:telegram, category:beauty, country:US, "
            "language:en or offer:12.",
            code=BAD_AUDIENCE_CODE,
        )
    return audience_of(kind, value)


def check_draft(draft: BroadcastDraft) -> Broadcast:
    """The broadcast ``draft`` describes, not stored; refuses what cannot be sent."""
    image_url = draft.image_url.strip()
    if image_url and not _web_address(image_url):
        raise InvalidInput(
            "The image must be the https:// address of a picture.", code=BAD_IMAGE_CODE
        )
    label = " ".join(draft.link_label.split())
    if len(label) > MAX_LINK_LABEL:
        raise InvalidInput(
            f"The button label is too long (at most {MAX_LINK_LABEL} characters).",
            code=LABEL_TOO_LONG_CODE,
        )
    link_url = draft.link_url.strip()
    if link_url and not _web_address(link_url):
        raise InvalidInput("The link must start with https://", code="broadcast_bad_link")
    return Broadcast(
        id=None,
        author_id=0,
        text=draft.text,
        audience=draft.audience,
        image_url=image_url,
        link_label=label,
        link_url=link_url,
    )


def _web_address(url: str) -> bool:
    # The same test a link button makes of its URL, so a stored link always renders.
    return url.lower().startswith("https://") and len(url) <= MAX_URL and is_web_url(url)


def parse_send_time(text: str, now: datetime, zone: tzinfo) -> datetime:
    """When to send: ``now``, a delay (``in 2h``, ``in 30m``, ``in 1d 2h``) or a time
    ``YYYY-MM-DD HH:MM`` in ``zone``. Times in the past are refused."""
    typed = " ".join(text.split())
    if typed.lower() == "now":
        return now
    delay = _DELAY.fullmatch(typed)
    if delay is not None and any(delay.groupdict().values()):
        return now + timedelta(
            days=int(delay["days"] or 0),
            hours=int(delay["hours"] or 0),
            minutes=int(delay["minutes"] or 0),
        )
    moment = _MOMENT.fullmatch(typed)
    try:
        if moment is None:
            raise ValueError(typed)
        local = datetime.strptime(f"{moment[1]} {moment[2]}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidInput(
            "Send the time as YYYY-MM-DD HH:MM (e.g. 2026-05-01 18:30) or as a delay such as "
            "in 2h or in 30m.",
            code=BAD_SEND_TIME_CODE,
        ) from None
    at = local.replace(tzinfo=zone).astimezone(UTC)
    if at < now - LATE_GRACE:
        raise InvalidInput("That time has passed. Send a later one.", code=SEND_TIME_PASSED_CODE)
    return max(at, now)


# --- use cases ----------------------------------------------------------------------------


async def _checked_audience(uow: AbstractUnitOfWork, audience: BroadcastAudience) -> None:
    applicants = audience.kind is AudienceKind.OFFER_APPLICANTS
    if applicants and await uow.offers.get(int(audience.value)) is None:
        raise InvalidInput("Unknown offer.", code="audience_bad_offer")


async def _load(uow: AbstractUnitOfWork, broadcast_id: int) -> Broadcast:
    broadcast = await uow.broadcasts.get(broadcast_id)
    if broadcast is None:
        raise NotFound(f"There is no announcement #{broadcast_id}.", code=NOT_FOUND_CODE)
    return broadcast


async def audience_size(mp: Marketplace, actor: Actor, audience: BroadcastAudience) -> int:
    """How many creators a broadcast to ``audience`` would reach now."""

    async def work(uow: AbstractUnitOfWork) -> int:
        await require_operator(uow, actor)
        await _checked_audience(uow, audience)
        return await uow.members.count_audience(audience)

    return await mp.transaction(work)


async def create_broadcast(
    mp: Marketplace, actor: Actor, draft: BroadcastDraft, *, send_at: datetime | None = None
) -> Broadcast:
    """Store the broadcast; with ``send_at`` it is also scheduled (at once for a time not
    in the future), otherwise it stays a draft for :func:`schedule_broadcast`."""
    check_draft(draft)  # bad input is refused before the database is asked

    async def work(uow: AbstractUnitOfWork) -> Broadcast:
        author = await require_operator(uow, actor)
        await _checked_audience(uow, draft.audience)
        broadcast = check_draft(draft)
        broadcast.author_id = member_id(author)
        await uow.broadcasts.add(broadcast)
        if send_at is not None:
            broadcast.schedule(send_at, mp.clock.now())
            await uow.broadcasts.save(broadcast)
        return broadcast

    return await mp.transaction(work)


async def schedule_broadcast(
    mp: Marketplace, actor: Actor, broadcast_id: int, at: datetime | None = None
) -> Broadcast:
    """Send a draft at ``at`` (now when ``None`` or past)."""

    async def work(uow: AbstractUnitOfWork) -> Broadcast:
        await require_operator(uow, actor)
        broadcast = await _load(uow, broadcast_id)
        now = mp.clock.now()
        broadcast.schedule(at or now, now)
        await uow.broadcasts.save(broadcast)
        return broadcast

    return await mp.transaction(work)


async def cancel_broadcast(mp: Marketplace, actor: Actor, broadcast_id: int) -> BroadcastProgress:
    """Stop a broadcast that is a draft, scheduled or being sent: creators who did not get it
    yet will not; what was sent stays sent."""

    async def work(uow: AbstractUnitOfWork) -> BroadcastProgress:
        await require_operator(uow, actor)
        broadcast = await _load(uow, broadcast_id)
        now = mp.clock.now()
        broadcast.cancel(now)
        await uow.broadcasts.cancel_deliveries(broadcast_id, now)
        progress = await _progress(uow, broadcast)
        broadcast.sent = progress.sent
        broadcast.failed = progress.failed
        broadcast.unreachable = progress.unreachable
        await uow.broadcasts.save(broadcast)
        return progress

    return await mp.transaction(work)


async def broadcast_progress(mp: Marketplace, actor: Actor, broadcast_id: int) -> BroadcastProgress:
    """How far a broadcast is: recipients, sent, failed, unreachable and still pending."""

    async def work(uow: AbstractUnitOfWork) -> BroadcastProgress:
        await require_operator(uow, actor)
        return await _progress(uow, await _load(uow, broadcast_id))

    return await mp.transaction(work)


async def recent_broadcasts(mp: Marketplace, actor: Actor, limit: int = 10) -> list[Broadcast]:
    """The newest broadcasts first, with the counts recorded on them."""

    async def work(uow: AbstractUnitOfWork) -> list[Broadcast]:
        await require_operator(uow, actor)
        return await uow.broadcasts.recent(limit)

    return await mp.transaction(work)


async def announcement(mp: Marketplace, broadcast_id: int) -> Broadcast | None:
    """The broadcast a notice announces, for the dispatcher to render; ``None`` if gone."""

    async def work(uow: AbstractUnitOfWork) -> Broadcast | None:
        return await uow.broadcasts.get(broadcast_id)

    return await mp.read(work)


async def announcements(
    mp: Marketplace, broadcast_ids: Iterable[int]
) -> dict[int, Broadcast | None]:
    """The broadcasts a batch of notices announces, read together (``None`` for one gone)."""
    wanted = sorted(set(broadcast_ids))

    async def work(uow: AbstractUnitOfWork) -> dict[int, Broadcast | None]:
        return {broadcast_id: await uow.broadcasts.get(broadcast_id) for broadcast_id in wanted}

    return await mp.read(work) if wanted else {}


async def _progress(uow: AbstractUnitOfWork, broadcast: Broadcast) -> BroadcastProgress:
    state = broadcast.state
    if state in (BroadcastState.DRAFT, BroadcastState.SCHEDULED):
        count = await uow.members.count_audience(broadcast.audience)
        return BroadcastProgress(broadcast, count, pending=count)
    assert broadcast.id is not None
    done = await uow.broadcasts.deliveries(broadcast.id)
    if state is BroadcastState.DONE and done.queued == 0:
        # The notices are gone from the outbox: the counts kept on the broadcast remain.
        b = broadcast
        skipped = max(0, b.recipients - b.sent - b.failed - b.unreachable)
        return BroadcastProgress(b, b.recipients, b.sent, b.failed, b.unreachable, skipped)
    expansion = await uow.broadcasts.expansion(broadcast.id)
    # While the audience is still being queued, the count taken at the start stands.
    recipients = done.queued if expansion.complete else max(broadcast.recipients, done.queued)
    if state is BroadcastState.CANCELLED:
        pending = done.unsent
    else:
        settled = done.sent + done.failed + done.unreachable + done.skipped + done.cancelled
        pending = max(0, recipients - settled)
    return BroadcastProgress(
        broadcast,
        recipients,
        sent=done.sent,
        failed=done.failed,
        unreachable=done.unreachable,
        skipped=done.skipped,
        pending=pending,
    )
