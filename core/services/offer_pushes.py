""" "A new offer for you": pushes for live offers that are short of applicants.

Run by the scheduler. An offer qualifies when it is live and public, has been live for
``Policy.offer_push_after_hours``, still has free samples, has fewer than
``Policy.offer_push_applicant_ratio`` applications per sample, and takes applications for a
while yet. Each creator who may claim it (onboarded, not suspended, eligible by
:meth:`~core.domain.offers.Offer.ineligibility`, not blocked by the seller, not yet claimed,
not opted out of announcements, with a chat account that can be reached) gets an
``offer_invitation`` notice — at most ``Policy.offer_push_daily_cap`` of them in any 24 hours.

The outbox is the record: the notice key ``offer_push:<offer>:<creator>`` makes a push once
per offer and creator, and the cap is counted from the creator's invitations queued in the
last 24 hours. A run that is cut short, repeated, or run by two processes at once therefore
pushes nothing twice and never exceeds the cap (within one unit of work per creator batch;
two concurrent runs may each see the same count before either commits, which is why only one
scheduler runs at a time).

Targeted offers (an audience of categories, countries, languages, experience or Top
Creators) invite their whole audience: from their first run after publishing, without waiting
for applications to fall short and outside the daily cap — being invited is the point of a
targeted offer — but still once per offer and creator, and never to creators who opted out.

Creators are read in batches (``creators_after``), never all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.domain.members import Member, MemberStatus
from core.domain.offers import Offer, OfferState
from core.notices import Notice, NoticeTemplate
from core.ports.repositories import AbstractUnitOfWork, OfferQuery
from core.services.base import Marketplace, Policy

__all__ = [
    "CAP_WINDOW",
    "MIN_TIME_LEFT",
    "offers_short_of_applicants",
    "push_key",
    "push_new_offers",
    "wants_applicants",
]

CAP_WINDOW = timedelta(hours=24)
"""The daily cap counts the invitations of the last 24 hours."""
MIN_TIME_LEFT = timedelta(hours=2)
"""Offers closing sooner than this are not pushed: there is no time left to act on them."""


def push_key(offer_id: int, creator_id: int) -> str:
    """The outbox key of the push of one offer to one creator: at most one, ever."""
    return f"offer_push:{offer_id}:{creator_id}"


def wants_applicants(offer: Offer, now: datetime, policy: Policy) -> bool:
    """Whether ``offer`` qualifies for pushes at ``now`` (see the module documentation)."""
    if offer.state is not OfferState.LIVE or offer.published_at is None:
        return False
    if not offer.audience.public:
        return offer.application_deadline - now >= MIN_TIME_LEFT and offer.open_slots > 0
    if now - offer.published_at < timedelta(hours=policy.offer_push_after_hours):
        return False
    if offer.application_deadline - now < MIN_TIME_LEFT or offer.open_slots == 0:
        return False
    return offer.applied_count < policy.offer_push_applicant_ratio * offer.slots


async def offers_short_of_applicants(mp: Marketplace) -> list[Offer]:
    """The offers creators should be pushed to now, neediest first (fewest applications per
    sample, then the longest live)."""
    now = mp.clock.now()

    async def work(uow: AbstractUnitOfWork) -> list[Offer]:
        return [o for o in await uow.offers.live(OfferQuery(now)) if o.id is not None]

    found = [o for o in await mp.transaction(work) if wants_applicants(o, now, mp.policy)]
    found.sort(key=lambda o: (o.applied_count / o.slots, o.published_at or now, o.id or 0))
    return found


async def push_new_offers(mp: Marketplace, *, batch: int = 200, limit: int = 2000) -> int:
    """Queue "new offer for you" notices; returns how many were queued (at most ``limit``).

    Safe to run at any time and as often as wanted: what was pushed is read back from the
    outbox, so nothing is pushed twice and the daily cap holds across runs and restarts.
    """
    if mp.policy.offer_push_daily_cap <= 0 or limit <= 0:
        return 0
    offers = await offers_short_of_applicants(mp)
    if not offers:
        return 0
    pushed = 0
    after = 0
    while pushed < limit:

        async def work(
            uow: AbstractUnitOfWork, after: int = after, budget: int = limit - pushed
        ) -> tuple[int, int | None]:
            creators = await uow.members.creators_after(after, batch)
            now = mp.clock.now()
            queued = 0
            for creator in creators:
                assert creator.id is not None
                queued += await _push_to(uow, mp.policy, creator, offers, now, budget - queued)
                if queued >= budget:
                    return queued, None
            last = creators[-1].id if len(creators) == batch else None
            return queued, last

        queued, next_after = await mp.transaction(work)
        pushed += queued
        if next_after is None:
            break
        after = next_after
    return pushed


def _reachable_creator(member: Member) -> bool:
    profile = member.creator
    return (
        profile is not None
        and profile.onboarded
        and not profile.announcements_opt_out
        and member.status is MemberStatus.ACTIVE
        and bool(member.delivery_order())
    )


async def _push_to(
    uow: AbstractUnitOfWork,
    policy: Policy,
    member: Member,
    offers: Sequence[Offer],
    now: datetime,
    budget: int,
) -> int:
    """Queue the pushes one creator should get now; how many were new."""
    if budget <= 0 or not _reachable_creator(member):
        return 0
    candidates = [o for o in offers if o.ineligibility(member, now, blocked=False) is None]
    if not candidates:
        return 0
    assert member.id is not None
    recent = await uow.outbox.count_for(
        member.id, NoticeTemplate.OFFER_INVITATION, now - CAP_WINDOW
    )
    room = min(budget, policy.offer_push_daily_cap - recent)
    claimed = await uow.orders.claimed_offer_ids(member.id)
    blocking = await uow.sellers.blocking(member.id)
    queued = 0
    pushed = 0
    for offer in candidates:
        if queued >= budget:
            break
        assert offer.id is not None
        if offer.id in claimed or offer.seller_id in blocking:
            continue
        invited = not offer.audience.public
        if not invited and pushed >= room:
            continue
        notice = Notice(
            push_key(offer.id, member.id),
            NoticeTemplate.OFFER_INVITATION,
            member.id,
            {"offer_id": offer.id},
        )
        # A key already in the outbox (pushed in an earlier run) is skipped and counts 0.
        added = await uow.outbox.add([notice], now)
        queued += added
        if not invited:
            pushed += added
    return queued
