"""Broadcasts over the in-memory marketplace: who gets them, how they are queued in batches,
delivered, cancelled and reported."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from core import services as s
from core.conversations.messages import Outbound
from core.conversations.notice_messages import render_notice
from core.domain.broadcasts import AudienceKind, BroadcastAudience, BroadcastState
from core.domain.common import Platform
from core.domain.errors import InvalidInput, InvalidTransition, NotAllowed
from core.notices import NoticeTemplate as T
from core.ports.channel import Unreachable
from core.ports.repositories import BroadcastExpansion, OutboxEntry
from core.services import Actor
from core.services.broadcasts import (
    BAD_SEND_TIME_CODE,
    SEND_TIME_PASSED_CODE,
    BroadcastDraft,
    audience_of,
    audience_size,
    broadcast_progress,
    cancel_broadcast,
    check_draft,
    create_broadcast,
    parse_audience,
    parse_send_time,
    recent_broadcasts,
    schedule_broadcast,
)
from notifications.broadcasts import expand_due_broadcasts, finish_broadcasts
from notifications.dispatcher import Dispatcher
from notifications.rate_limits import SendingRates
from tests.fakes import FakeBroadcasts, FakeMembers
from tests.unit.world import START, World

ALL = BroadcastAudience()


@dataclass
class Inbox:
    """A chat platform that records every message and refuses the chats told to."""

    platform: Platform = Platform.TELEGRAM
    sent: list[tuple[str, Outbound]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        if chat_id in self.blocked:
            raise Unreachable("Forbidden: bot was blocked by the user")
        self.sent.append((chat_id, message))

    def texts(self, chat_id: str) -> list[str]:
        return [m.text.plain() for chat, m in self.sent if chat == chat_id]


def dispatcher(w: World, *channels: Inbox, batch: int = 50) -> Dispatcher:
    return Dispatcher(
        w.mp,
        {c.platform: c for c in channels},  # type: ignore[misc]
        rates=SendingRates.unlimited(),
        rng=random.Random(3),
        interval=0.01,
        batch=batch,
    )


async def deliver_all(d: Dispatcher) -> None:
    for _ in range(50):
        if await d.run_once() == 0:
            return
    raise AssertionError("the dispatcher still had work after many rounds")


class Crowd:
    """Creators of every kind an audience can pick, and some who must never get anything."""

    async def setup(self, w: World) -> Crowd:
        self.w = w
        self.operator = await w.operator()
        self.seller_id, self.staff = await w.seller()
        self.ana = await w.creator("Ana", country="US", categories=("beauty",))
        self.ben = await w.creator("Ben", country="GB", categories=("kitchen",), top=True)
        self.cleo = await self.discord_creator("Cleo")
        self.dee = await w.creator("Dee", country="US", categories=("beauty",))
        await s.update_profile(w.mp, self.dee, s.ProfileChanges(announcements_opt_out=True))
        self.eve = await w.person("Eve")  # never finished onboarding
        self.fay = await w.creator("Fay")
        await s.suspend_creator(w.mp, w.system, self.fay.member_id or 0, suspended=True)
        offer = await w.offer(self.seller_id)
        assert offer.id is not None
        self.offer_id = offer.id
        for applicant in (self.ana, self.ben, self.dee):
            await s.claim_offer(w.mp, applicant, offer.id)
        return self

    async def discord_creator(self, name: str) -> Actor:
        member = await s.register_identity(self.w.mp, Platform.DISCORD, "d-cleo", "dm-c", name)
        assert member.id is not None
        actor = Actor.member(member.id)
        changes = s.ProfileChanges(
            categories=["kitchen"], country="US", languages=["zh"], finish_onboarding=True
        )
        await s.update_profile(self.w.mp, actor, changes)
        return actor

    def ids(self, *actors: Actor) -> set[int]:
        return {a.member_id or 0 for a in actors}

    def chat(self, actor: Actor) -> str:
        member = self.w.member(actor)
        return member.delivery_order()[0].chat_id


@pytest.fixture
async def crowd() -> Crowd:
    return await Crowd().setup(World())


async def send(crowd: Crowd, audience: BroadcastAudience = ALL, **draft: str) -> int:
    text = draft.pop("text", "Summer sale: new offers every day this week!")
    broadcast = await create_broadcast(
        crowd.w.mp,
        crowd.operator,
        BroadcastDraft(text, audience, **draft),
        send_at=crowd.w.clock.now(),
    )
    assert broadcast.id is not None
    return broadcast.id


def announcements(w: World, broadcast_id: int) -> list[OutboxEntry]:
    return [
        e
        for e in w.store.outbox
        if e.template is T.ANNOUNCEMENT and e.params == {"broadcast_id": broadcast_id}
    ]


def recipients(w: World, broadcast_id: int) -> set[int]:
    return {e.recipient_id or 0 for e in announcements(w, broadcast_id)}


# --- who gets it ------------------------------------------------------------------------------


AUDIENCES = [
    ("all", ("ana", "ben", "cleo")),
    ("platform:telegram", ("ana", "ben")),
    ("platform:discord", ("cleo",)),
    ("category:beauty", ("ana",)),
    ("category:kitchen", ("ben", "cleo")),
    ("country:us", ("ana", "cleo")),
    ("country:GB", ("ben",)),
    ("language:zh", ("cleo",)),
    ("language:EN", ("ana", "ben")),
    ("offer:{offer}", ("ana", "ben")),
    ("top", ("ben",)),
]


@pytest.mark.parametrize(("spec", "names"), AUDIENCES)
async def test_each_audience_reaches_exactly_its_onboarded_active_opted_in_creators(
    crowd: Crowd, spec: str, names: tuple[str, ...]
) -> None:
    audience = parse_audience(spec.format(offer=crowd.offer_id))
    wanted = crowd.ids(*(getattr(crowd, name) for name in names))

    size = await audience_size(crowd.w.mp, crowd.operator, audience)
    broadcast_id = await send(crowd, audience)
    await expand_due_broadcasts(crowd.w.mp, batch=2)

    assert size == len(wanted)
    assert recipients(crowd.w, broadcast_id) == wanted


async def test_opted_out_suspended_and_unfinished_creators_get_nothing(crowd: Crowd) -> None:
    broadcast_id = await send(crowd)
    await expand_due_broadcasts(crowd.w.mp)

    left_out = crowd.ids(crowd.dee, crowd.eve, crowd.fay, crowd.operator, crowd.staff)
    assert not recipients(crowd.w, broadcast_id) & left_out


async def test_an_opted_out_creator_still_gets_the_notices_of_her_orders(crowd: Crowd) -> None:
    inbox = Inbox()
    dee_chat = crowd.chat(crowd.dee)
    await send(crowd)
    await expand_due_broadcasts(crowd.w.mp)
    [dee_order] = [o for o in crowd.w.store.orders.values() if o.creator_id == crowd.dee.member_id]
    assert dee_order.id is not None
    await s.approve_order(crowd.w.mp, crowd.staff, dee_order.id)

    await deliver_all(dispatcher(crowd.w, inbox, Inbox(Platform.DISCORD)))

    [selected] = inbox.texts(dee_chat)
    assert "You were selected" in selected
    assert any("Summer sale" in text for text in inbox.texts(crowd.chat(crowd.ana)))


async def test_a_creator_who_opts_out_after_queuing_is_skipped_and_counted(crowd: Crowd) -> None:
    inbox = Inbox()
    broadcast_id = await send(crowd, parse_audience("platform:telegram"))
    await expand_due_broadcasts(crowd.w.mp)
    await s.update_profile(crowd.w.mp, crowd.ben, s.ProfileChanges(announcements_opt_out=True))

    await deliver_all(dispatcher(crowd.w, inbox))
    await finish_broadcasts(crowd.w.mp)

    assert inbox.texts(crowd.chat(crowd.ben)) == []
    progress = await broadcast_progress(crowd.w.mp, crowd.operator, broadcast_id)
    assert (progress.recipients, progress.sent, progress.skipped) == (2, 1, 1)
    assert progress.broadcast.state is BroadcastState.DONE


# --- batches, crashes, restarts -------------------------------------------------------------


async def test_the_audience_is_queued_in_batches_never_all_at_once(
    crowd: Crowd, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4):
        await crowd.w.creator(f"Extra{n}")
    pages: list[int] = []
    real = FakeMembers.audience_after

    async def spy(
        self: FakeMembers, audience: BroadcastAudience, after: int, limit: int
    ) -> list[int]:
        found = await real(self, audience, after, limit)
        pages.append(len(found))
        return found

    monkeypatch.setattr(FakeMembers, "audience_after", spy)
    broadcast_id = await send(crowd)

    queued = await expand_due_broadcasts(crowd.w.mp, batch=3)

    assert queued == 7
    assert pages == [3, 3, 1]
    assert len(announcements(crowd.w, broadcast_id)) == 7
    assert crowd.w.store.broadcast_expansions[broadcast_id].complete


async def test_a_crash_between_batches_resumes_from_the_cursor(crowd: Crowd) -> None:
    broadcast_id = await send(crowd)

    first = await expand_due_broadcasts(crowd.w.mp, batch=2, max_batches=1)  # then "killed"
    cursor = crowd.w.store.broadcast_expansions[broadcast_id]
    second = await expand_due_broadcasts(crowd.w.mp, batch=2)

    assert (first, second) == (2, 1)
    assert not cursor.complete
    assert recipients(crowd.w, broadcast_id) == crowd.ids(crowd.ana, crowd.ben, crowd.cleo)


async def test_expanding_again_from_an_old_cursor_duplicates_nothing(crowd: Crowd) -> None:
    broadcast_id = await send(crowd)
    await expand_due_broadcasts(crowd.w.mp, batch=2, max_batches=1)
    # As if the cursor were written before the batch it belongs to: the batch is repeated.
    crowd.w.store.broadcast_expansions[broadcast_id] = BroadcastExpansion(0, False)

    await expand_due_broadcasts(crowd.w.mp, batch=2)

    keys = [e.key for e in announcements(crowd.w, broadcast_id)]
    assert len(keys) == len(set(keys)) == 3
    assert f"announcement:{broadcast_id}:{crowd.ana.member_id}" in keys


async def test_a_batch_that_fails_midway_leaves_nothing_and_is_done_again(
    crowd: Crowd, monkeypatch: pytest.MonkeyPatch
) -> None:
    broadcast_id = await send(crowd)
    real = FakeBroadcasts.record_expansion
    failures = iter([True])

    async def flaky(self: FakeBroadcasts, bid: int, expansion: BroadcastExpansion) -> None:
        if next(failures, False):
            raise ConnectionError("the database went away")
        await real(self, bid, expansion)

    monkeypatch.setattr(FakeBroadcasts, "record_expansion", flaky)
    with pytest.raises(ConnectionError):
        await expand_due_broadcasts(crowd.w.mp, batch=2)
    assert announcements(crowd.w, broadcast_id) == []  # rolled back with the batch

    await expand_due_broadcasts(crowd.w.mp, batch=2)

    assert len(announcements(crowd.w, broadcast_id)) == 3


async def test_a_scheduled_broadcast_waits_for_its_time(crowd: Crowd) -> None:
    later = crowd.w.clock.now() + timedelta(hours=2)
    broadcast = await create_broadcast(
        crowd.w.mp, crowd.operator, BroadcastDraft("Soon", ALL), send_at=later
    )
    assert broadcast.id is not None

    assert await expand_due_broadcasts(crowd.w.mp) == 0
    crowd.w.later(hours=2)
    assert await expand_due_broadcasts(crowd.w.mp) == 3
    assert crowd.w.store.broadcasts[broadcast.id].state is BroadcastState.SENDING


async def test_a_draft_is_sent_only_once_scheduled(crowd: Crowd) -> None:
    draft = await create_broadcast(crowd.w.mp, crowd.operator, BroadcastDraft("Hi", ALL))
    assert draft.id is not None
    assert await expand_due_broadcasts(crowd.w.mp) == 0

    await schedule_broadcast(crowd.w.mp, crowd.operator, draft.id)

    assert await expand_due_broadcasts(crowd.w.mp) == 3
    with pytest.raises(InvalidTransition):
        await schedule_broadcast(crowd.w.mp, crowd.operator, draft.id)


# --- cancelling --------------------------------------------------------------------------------


async def test_cancelling_midway_stops_the_rest_and_keeps_what_was_sent(crowd: Crowd) -> None:
    inbox = Inbox()
    d = dispatcher(crowd.w, inbox, batch=1)
    await deliver_all(d)  # the notices of the claims, out of the way
    broadcast_id = await send(crowd, parse_audience("platform:telegram"))
    await crowd.w.creator("Gil")
    await expand_due_broadcasts(crowd.w.mp, batch=2, max_batches=1)  # Ana and Ben queued
    await d.run_once()  # one of them is sent

    progress = await cancel_broadcast(crowd.w.mp, crowd.operator, broadcast_id)
    await expand_due_broadcasts(crowd.w.mp, batch=2)
    await deliver_all(d)

    got = [chat for chat, m in inbox.sent if "Summer sale" in m.text.plain()]
    assert len(got) == 1
    assert len(announcements(crowd.w, broadcast_id)) == 2  # Gil was never queued
    assert progress.broadcast.state is BroadcastState.CANCELLED
    assert (progress.recipients, progress.sent, progress.pending, progress.not_sent) == (3, 1, 0, 2)
    with pytest.raises(InvalidTransition):
        await cancel_broadcast(crowd.w.mp, crowd.operator, broadcast_id)


async def test_a_notice_of_a_cancelled_broadcast_in_flight_says_nothing(crowd: Crowd) -> None:
    broadcast_id = await send(crowd)
    await expand_due_broadcasts(crowd.w.mp)
    entry = announcements(crowd.w, broadcast_id)[0]
    member = crowd.w.store.members[entry.recipient_id or 0]
    assert await render_notice(crowd.w.mp, [entry], member) is not None

    await cancel_broadcast(crowd.w.mp, crowd.operator, broadcast_id)

    assert await render_notice(crowd.w.mp, [entry], member) is None


# --- the report --------------------------------------------------------------------------------


async def test_the_final_report_counts_sent_failed_and_unreachable(crowd: Crowd) -> None:
    telegram = Inbox()
    telegram.blocked.add(crowd.chat(crowd.ben))
    broadcast_id = await send(crowd)  # Ana and Ben on Telegram, Cleo on Discord
    await expand_due_broadcasts(crowd.w.mp)
    assert await finish_broadcasts(crowd.w.mp) == 0  # nothing delivered yet

    await deliver_all(dispatcher(crowd.w, telegram))  # no Discord here: Cleo's fails
    assert await finish_broadcasts(crowd.w.mp) == 1

    stored = crowd.w.store.broadcasts[broadcast_id]
    assert stored.state is BroadcastState.DONE
    assert stored.finished_at == START
    assert (stored.recipients, stored.sent, stored.failed, stored.unreachable) == (3, 1, 1, 1)
    progress = await broadcast_progress(crowd.w.mp, crowd.operator, broadcast_id)
    assert (progress.sent, progress.failed, progress.unreachable, progress.pending) == (1, 1, 1, 0)
    assert await finish_broadcasts(crowd.w.mp) == 0


async def test_progress_while_sending_counts_who_is_still_waiting(crowd: Crowd) -> None:
    broadcast_id = await send(crowd)
    before = await broadcast_progress(crowd.w.mp, crowd.operator, broadcast_id)
    await expand_due_broadcasts(crowd.w.mp, batch=2, max_batches=1)

    during = await broadcast_progress(crowd.w.mp, crowd.operator, broadcast_id)

    assert (before.broadcast.state, before.recipients, before.pending) == (
        BroadcastState.SCHEDULED,
        3,
        3,
    )
    assert (during.broadcast.state, during.recipients, during.pending) == (
        BroadcastState.SENDING,
        3,
        3,
    )
    listed = await recent_broadcasts(crowd.w.mp, crowd.operator)
    assert [b.id for b in listed] == [broadcast_id]


async def test_the_announcement_reads_as_composed(crowd: Crowd) -> None:
    broadcast_id = await send(
        crowd,
        text="Big news",
        image_url="https://images.example.com/sale.jpg",
        link_label="See offers",
        link_url="https://example.com/offers",
    )
    await expand_due_broadcasts(crowd.w.mp)
    entry = announcements(crowd.w, broadcast_id)[0]
    member = crowd.w.store.members[entry.recipient_id or 0]

    message = await render_notice(crowd.w.mp, [entry], member)

    assert message is not None
    assert "Big news" in message.text.plain()
    assert message.image_url == "https://images.example.com/sale.jpg"
    [[button]] = message.rows
    assert (button.label, button.url) == ("See offers", "https://example.com/offers")


# --- who may, and what is refused ---------------------------------------------------------------


async def test_only_operators_broadcast(crowd: Crowd) -> None:
    with pytest.raises(NotAllowed):
        await create_broadcast(crowd.w.mp, crowd.ana, BroadcastDraft("Hi", ALL))
    with pytest.raises(NotAllowed):
        await audience_size(crowd.w.mp, crowd.staff, ALL)


async def test_the_command_line_broadcasts_as_the_system(crowd: Crowd) -> None:
    broadcast = await create_broadcast(crowd.w.mp, crowd.w.system, BroadcastDraft("Hi", ALL))
    assert broadcast.author_id == 0


async def test_applicants_of_an_unknown_offer_are_refused(crowd: Crowd) -> None:
    with pytest.raises(InvalidInput) as refused:
        await audience_size(crowd.w.mp, crowd.operator, parse_audience("offer:999"))
    assert refused.value.code == "audience_bad_offer"


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ("everyone", "audience_unknown"),
        ("platform:icq", "audience_bad_platform"),
        ("category:cars", "bad_category"),
        ("country:USA", "address_bad_country"),
        ("language:english", "audience_bad_language"),
        ("offer:twelve", "audience_bad_offer"),
        ("country:", "audience_value_missing"),
    ],
)
def test_audiences_that_can_match_nobody_are_refused(spec: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_audience(spec)
    assert refused.value.code == code


def test_audience_values_are_stored_in_one_spelling() -> None:
    assert audience_of(AudienceKind.COUNTRY, " us ").value == "US"
    assert audience_of(AudienceKind.CATEGORY, "Personal Care").value == "personal_care"
    assert parse_audience("offer:#12") == BroadcastAudience(AudienceKind.OFFER_APPLICANTS, "12")
    assert parse_audience("TOP") == BroadcastAudience(AudienceKind.TOP_CREATORS)


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        (BroadcastDraft("   "), "broadcast_empty"),
        (BroadcastDraft("x" * 3501), "broadcast_too_long"),
        (BroadcastDraft("Hi", image_url="http://example.com/a.jpg"), "broadcast_bad_image"),
        (BroadcastDraft("Hi", image_url="not a url"), "broadcast_bad_image"),
        (BroadcastDraft("Hi", link_label="Go", link_url="http://x.com"), "broadcast_bad_link"),
        (BroadcastDraft("Hi", link_label="Go"), "broadcast_link_incomplete"),
        (BroadcastDraft("Hi", link_url="https://x.com"), "broadcast_link_incomplete"),
        (
            BroadcastDraft("Hi", link_label="L" * 41, link_url="https://x.com"),
            "broadcast_label_too_long",
        ),
    ],
)
def test_drafts_that_cannot_be_sent_are_refused(draft: BroadcastDraft, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_draft(draft)
    assert refused.value.code == code


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("now", NOW),
        ("in 2h", NOW + timedelta(hours=2)),
        ("in 30m", NOW + timedelta(minutes=30)),
        ("in 1d 2h", NOW + timedelta(days=1, hours=2)),
        ("in 90 minutes", NOW + timedelta(minutes=90)),
        ("2026-03-02 18:30", datetime(2026, 3, 2, 18, 30, tzinfo=UTC)),
        ("2026-03-02 09:00", NOW),
    ],
)
def test_send_times_are_read_in_every_form(typed: str, expected: datetime) -> None:
    assert parse_send_time(typed, NOW, UTC) == expected


def test_send_times_are_read_in_the_marketplace_timezone() -> None:
    from zoneinfo import ZoneInfo

    at = parse_send_time("2026-03-02 18:30", NOW, ZoneInfo("Asia/Shanghai"))
    assert at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("tomorrow", BAD_SEND_TIME_CODE),
        ("in", BAD_SEND_TIME_CODE),
        ("2026-02-30 10:00", BAD_SEND_TIME_CODE),
        ("2026-03-01 10:00", SEND_TIME_PASSED_CODE),
    ],
)
def test_send_times_that_make_no_sense_are_refused(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_send_time(typed, NOW, UTC)
    assert refused.value.code == code
