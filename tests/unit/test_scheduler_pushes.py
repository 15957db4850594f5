""" "A new offer for you": who is pushed which offer, when, how often."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core import services as s
from core.conversations.notice_messages import render_notice
from core.domain.offers import Audience, Offer, VideoType
from core.notices import NoticeTemplate as T
from core.services import Actor, Marketplace
from core.services.offer_pushes import push_key, push_new_offers, wants_applicants
from notifications.leader import LocalLeaderLock
from notifications.scheduler import Scheduler, SchedulerConfig
from tests.fakes import FakeMembers, FakeUnitOfWork
from tests.unit.world import World


def pushes(w: World, creator: Actor | None = None) -> list[tuple[int, int]]:
    """(offer, creator) of every push queued, in order (not the audience rows of targeted
    offers, which have no recipient until the broadcast expander turns them into notices)."""
    return [
        (int(e.params["offer_id"]), e.recipient_id)
        for e in w.notices(T.OFFER_INVITATION, creator)
        if e.recipient_id is not None
    ]


async def world(cap: int = 3, after_hours: int = 24) -> tuple[World, int, Actor]:
    w = World()
    w.mp.policy = replace(w.mp.policy, offer_push_daily_cap=cap, offer_push_after_hours=after_hours)
    seller_id, staff = await w.seller()
    return w, seller_id, staff


async def live_offer(w: World, seller_id: int, **options: object) -> Offer:
    offer = await w.offer(seller_id, **options)  # type: ignore[arg-type]
    assert offer.id is not None
    return offer


async def test_only_creators_who_may_claim_the_offer_are_pushed_it() -> None:
    w, seller_id, staff = await world()
    eligible = await w.creator("Ana")
    await w.person("Newcomer")  # never finished onboarding
    suspended = await w.creator("Sus")
    opted_out = await w.creator("Quiet")
    blocked = await w.creator("Blocked")
    applied = await w.creator("Applied")
    await w.creator("Amateur", storefront=False)  # the offer needs a storefront
    unreachable = await w.creator("Gone")
    offer = await live_offer(w, seller_id, slots=3, video_type=VideoType.INFLUENCER)
    assert offer.id is not None

    await s.suspend_creator(w.mp, w.system, suspended.member_id or 0)
    await s.update_profile(w.mp, opted_out, s.ProfileChanges(announcements_opt_out=True))
    await s.block_creator(w.mp, staff, seller_id, blocked.member_id or 0)
    await s.claim_offer(w.mp, applied, offer.id)
    for identity in w.member(unreachable).identities:
        identity.reachable = False

    w.later(hours=25)
    assert await push_new_offers(w.mp) == 1
    assert pushes(w) == [(offer.id, eligible.member_id)]
    entry = w.notices(T.OFFER_INVITATION)[0]
    assert entry.key == push_key(offer.id, eligible.member_id or 0)
    assert entry.params == {"offer_id": offer.id}
    assert entry.digest is None


async def test_the_push_renders_as_a_new_offer_with_a_view_button() -> None:
    w, seller_id, _ = await world()
    creator = await w.creator("Ana")
    await live_offer(w, seller_id)
    w.later(hours=25)
    await push_new_offers(w.mp)

    message = await render_notice(w.mp, w.notices(T.OFFER_INVITATION), w.member(creator))
    assert message is not None
    assert "Bamboo cutting board" in message.text.plain()
    assert [c.label for row in message.rows for c in row] == ["View offer"]


async def test_only_offers_live_long_enough_and_short_of_applicants_are_pushed() -> None:
    w, seller_id, _ = await world(after_hours=24)
    creators = [await w.creator(f"C{i}") for i in range(4)]
    young = await live_offer(w, seller_id, slots=1)
    w.later(hours=25)
    busy = await live_offer(w, seller_id, slots=1)  # two applicants for one sample: enough
    short = await live_offer(w, seller_id, slots=1)  # one applicant for one sample: short
    targeted = await live_offer(w, seller_id, audience=Audience(public=False))
    closing = await live_offer(
        w, seller_id, application_deadline=w.clock.now() + timedelta(hours=25, minutes=30)
    )
    draft = await live_offer(w, seller_id, publish=False)
    assert busy.id is not None
    assert short.id is not None
    for creator in creators[:2]:
        await s.claim_offer(w.mp, creator, busy.id)
    await s.claim_offer(w.mp, creators[2], short.id)
    w.later(hours=24)  # young is now 49 h old, the others 24 h; closing has 1.5 h left

    assert await push_new_offers(w.mp) > 0
    pushed_offers = {offer for offer, _ in pushes(w)}
    # A targeted offer invites its audience however many applied; the rest wait to fall short.
    assert pushed_offers == {young.id, short.id, targeted.id}
    assert not pushed_offers & {busy.id, closing.id, draft.id}
    # creators[2] applied to short, so they are pushed young (and invited to targeted) only.
    assert {o for o, c in pushes(w) if c == creators[2].member_id} == {young.id, targeted.id}


async def test_a_targeted_offer_invites_its_audience_at_once_and_outside_the_daily_cap() -> None:
    w, seller_id, _ = await world(after_hours=24)
    w.mp.policy = replace(w.mp.policy, offer_push_daily_cap=1)
    germans = [await w.creator(f"De{i}", country="DE") for i in range(2)]
    american = await w.creator("Us", country="US")
    public = await live_offer(w, seller_id, slots=3)
    w.later(hours=25)
    assert await push_new_offers(w.mp) == 3  # the public offer, one per creator (cap 1)
    invited = await live_offer(
        w, seller_id, audience=Audience(public=False, countries=frozenset({"DE"}))
    )
    assert await push_new_offers(w.mp) == 2  # no waiting, and the cap does not apply
    assert {c for o, c in pushes(w) if o == invited.id} == {g.member_id for g in germans}
    assert (invited.id, american.member_id) not in pushes(w)
    assert public.id is not None


async def test_an_offer_is_pushed_to_a_creator_once_whatever_happens_later() -> None:
    w, seller_id, _ = await world()
    creator = await w.creator("Ana")
    offer = await live_offer(w, seller_id, slots=5)
    w.later(hours=25)
    assert await push_new_offers(w.mp) == 1
    for _ in range(5):
        w.later(days=1)
        assert await push_new_offers(w.mp) == 0
        restarted = Marketplace(lambda: FakeUnitOfWork(w.store, w.clock), w.clock, w.mp.policy)
        assert await push_new_offers(restarted) == 0
    assert pushes(w, creator) == [(offer.id, creator.member_id)]


async def test_a_creator_gets_at_most_the_daily_cap_in_any_24_hours() -> None:
    w, seller_id, _ = await world(cap=2)
    creator = await w.creator("Ana")
    other = await w.creator("Ben")
    offers = [await live_offer(w, seller_id, slots=2) for _ in range(5)]
    w.later(hours=25)

    assert await push_new_offers(w.mp) == 4  # two each
    assert await push_new_offers(w.mp) == 0  # the same day: capped
    w.later(hours=23)
    assert await push_new_offers(w.mp) == 0  # still within 24 hours of the first ones
    w.later(hours=1)
    assert await push_new_offers(w.mp) == 0  # exactly 24 hours: they still count
    w.later(minutes=1)
    assert await push_new_offers(w.mp) == 4
    w.later(hours=24, minutes=1)
    assert await push_new_offers(w.mp) == 2  # the fifth offer, then nothing is left
    w.later(days=1)
    assert await push_new_offers(w.mp) == 0

    for member in (creator, other):
        mine = w.notices(T.OFFER_INVITATION, member)
        assert sorted(int(e.params["offer_id"]) for e in mine) == sorted(o.id for o in offers)
        for e in mine:
            window = [x for x in mine if e.created_at <= x.created_at < e.created_at + timedelta(1)]
            assert len(window) <= 2


async def test_any_invitation_counts_against_the_cap() -> None:
    w, seller_id, _ = await world(cap=1)
    creator = await w.creator("Ana")
    await live_offer(w, seller_id)
    w.later(hours=25)
    # An invitation to this creator queued today by someone else (e.g. a targeted offer).
    async with FakeUnitOfWork(w.store, w.clock) as uow:
        from core.notices import Notice

        await uow.outbox.add(
            [Notice("invite:x", T.OFFER_INVITATION, creator.member_id, {"offer_id": 999})],
            w.clock.now(),
        )
        await uow.commit()
    assert await push_new_offers(w.mp) == 0


async def test_a_cap_of_zero_turns_pushes_off() -> None:
    w, seller_id, _ = await world(cap=0)
    await w.creator("Ana")
    await live_offer(w, seller_id)
    w.later(hours=25)
    assert await push_new_offers(w.mp) == 0
    assert pushes(w) == []


async def test_creators_are_read_in_batches_and_a_run_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w, seller_id, _ = await world(cap=5)
    creators = [await w.creator(f"C{i}") for i in range(7)]
    await live_offer(w, seller_id, slots=10)
    w.later(hours=25)
    reads: list[tuple[int, int]] = []
    original = FakeMembers.creators_after

    async def spy(self: FakeMembers, after_id: int, limit: int) -> list:  # type: ignore[type-arg]
        reads.append((after_id, limit))
        return await original(self, after_id, limit)

    monkeypatch.setattr(FakeMembers, "creators_after", spy)

    assert await push_new_offers(w.mp, batch=3, limit=4) == 4
    assert all(limit == 3 for _, limit in reads)
    assert len(reads) == 2  # stopped in the second batch, at the limit
    reads.clear()
    assert await push_new_offers(w.mp, batch=3, limit=100) == 3
    assert len(reads) == 3  # 3 + 3 + 1 (the seller's staff are not creators)
    assert {c for _, c in pushes(w)} == {c.member_id for c in creators}


async def test_the_scheduler_pushes_through_its_job() -> None:
    w, seller_id, _ = await world()
    creator = await w.creator("Ana")
    offer = await live_offer(w, seller_id)
    jobs = Scheduler.for_marketplace(w.mp, LocalLeaderLock("unused"), SchedulerConfig())
    await jobs.run_once()
    assert pushes(w) == []  # too new
    w.later(hours=25)
    await jobs.run_once()
    await jobs.run_once()
    assert pushes(w) == [(offer.id, creator.member_id)]
    assert jobs.done["offer_pushes"] == 1


async def test_short_of_applicants_means_fewer_than_the_ratio_per_sample() -> None:
    w, seller_id, _ = await world()
    offer = await live_offer(w, seller_id, slots=3)
    later = w.clock.now() + timedelta(hours=25)
    policy = w.mp.policy  # two applicants per sample
    assert wants_applicants(replace(offer, applied_count=5), later, policy)
    assert not wants_applicants(replace(offer, applied_count=6), later, policy)
    assert not wants_applicants(replace(offer, selected_count=3), later, policy)  # full
    assert not wants_applicants(offer, later - timedelta(hours=2), policy)  # live 23 h
    assert wants_applicants(
        offer, later - timedelta(hours=2), replace(policy, offer_push_after_hours=0)
    )
