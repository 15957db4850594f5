"""The notice dispatcher over the in-memory marketplace: what arrives, in which order, and
what happens when a platform refuses, throttles or fails."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from core import services as s
from core.conversations.messages import Outbound
from core.domain.common import Platform
from core.notices import Notice
from core.notices import NoticeTemplate as T
from core.ports.channel import RetryLater, TemporaryFailure, Unreachable
from core.ports.repositories import AbstractUnitOfWork, OutboxEntry
from core.services import Actor
from notifications import dispatcher as dispatching
from notifications.dispatcher import Backoff, Dispatcher, describe_error
from notifications.rate_limits import SendingRates
from tests.fakes import FakeOutbox
from tests.unit.world import World

LEASE = timedelta(seconds=60)


class WorkerKilled(BaseException):
    """The process dies on the spot (as with SIGKILL): nothing after it runs."""


class FakeChannel:
    """A chat platform that records what it was asked to send and fails when told to."""

    def __init__(self, platform: Platform = Platform.TELEGRAM) -> None:
        self.platform = platform
        self.sent: list[tuple[str, str]] = []
        self._failures: dict[str, list[BaseException]] = {}
        self.always: dict[str, BaseException] = {}

    def fail(self, chat_id: str, *errors: BaseException) -> None:
        """The next sends to ``chat_id`` raise these errors, one each."""
        self._failures.setdefault(chat_id, []).extend(errors)

    async def send(self, chat_id: str, message: Outbound, *, replace: str = "") -> None:
        queued = self._failures.get(chat_id)
        if queued:
            raise queued.pop(0)
        if chat_id in self.always:
            raise self.always[chat_id]
        self.sent.append((chat_id, message.text.plain()))

    def texts(self, chat_id: str) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]


def make_dispatcher(w: World, *channels: FakeChannel, **options: object) -> Dispatcher:
    settings: dict[str, object] = {
        "rates": SendingRates.unlimited(),
        "rng": random.Random(7),
        "interval": 0.01,
        "lease": LEASE,
    }
    settings.update(options)
    return Dispatcher(w.mp, {c.platform: c for c in channels}, **settings)  # type: ignore[arg-type]


async def drain(dispatcher: Dispatcher, rounds: int = 20) -> None:
    """Run rounds until nothing is due."""
    for _ in range(rounds):
        if await dispatcher.run_once() == 0:
            return
    raise AssertionError("the dispatcher still had work after many rounds")


def chat(w: World, actor: Actor) -> str:
    identity = w.member(actor).identity_on(Platform.TELEGRAM)
    assert identity is not None
    return identity.chat_id


def entry(w: World, template: T, actor: Actor | None = None) -> OutboxEntry:
    [found] = w.notices(template, actor)
    return found


async def dead_letters(w: World) -> list[OutboxEntry]:
    async def work(uow: AbstractUnitOfWork) -> list[OutboxEntry]:
        return await uow.outbox.dead_letters()

    return await w.mp.transaction(work)


async def queue(w: World, *notices: Notice) -> None:
    async def work(uow: AbstractUnitOfWork) -> None:
        await uow.outbox.add(notices, w.clock.now())

    await w.mp.transaction(work)


class Market:
    """A seller with an offer and a creator who applied and was selected."""

    def __init__(self, w: World) -> None:
        self.w = w

    async def setup(self, name: str = "Ana") -> Market:
        self.seller_id, self.staff = await self.w.seller()
        self.creator = await self.w.creator(name)
        offer = await self.w.offer(self.seller_id)
        assert offer.id is not None
        self.offer_id = offer.id
        order = await s.claim_offer(self.w.mp, self.creator, offer.id)
        assert order.id is not None
        self.order_id = order.id
        await s.approve_order(self.w.mp, self.staff, order.id)
        return self


# --- delivered -----------------------------------------------------------------------------


async def test_a_selected_creator_gets_the_notice_and_it_is_marked_sent() -> None:
    w = World()
    m = await Market(w).setup()
    telegram = FakeChannel()
    dispatcher = make_dispatcher(w, telegram)

    assert await dispatcher.run_once() == 2  # the seller's new application, Ana's selection

    [text] = telegram.texts(chat(w, m.creator))
    assert "You were selected for Bamboo cutting board" in text
    assert "applied for Bamboo cutting board" in telegram.texts(chat(w, m.staff))[0]
    selected = entry(w, T.ORDER_SELECTED, m.creator)
    assert (selected.status, selected.channel, selected.sent_at) == (
        "sent",
        "telegram",
        w.clock.now(),
    )
    assert selected.lease_until is None
    assert await dispatcher.run_once() == 0
    assert dispatcher.counts["sent"] == 2


async def test_notices_to_one_person_arrive_in_the_order_they_were_caused() -> None:
    w = World()
    m = await Market(w).setup()
    await s.record_shipment(w.mp, m.staff, m.order_id, "ups", "1Z999AA10123456784")
    telegram = FakeChannel()
    dispatcher = make_dispatcher(w, telegram)

    await drain(dispatcher)

    texts = telegram.texts(chat(w, m.creator))
    assert len(texts) == 2
    assert "You were selected" in texts[0]
    assert "is on its way" in texts[1]


async def test_a_person_whose_notice_waits_gets_nothing_newer_before_it() -> None:
    w = World()
    m = await Market(w).setup()
    await s.record_shipment(w.mp, m.staff, m.order_id, "ups", "1Z999AA10123456784")
    telegram = FakeChannel()
    telegram.fail(chat(w, m.creator), RetryLater(30, "Too Many Requests: retry after 30"))
    dispatcher = make_dispatcher(w, telegram)

    await drain(dispatcher)

    assert telegram.texts(chat(w, m.creator)) == []
    assert telegram.texts(chat(w, m.staff))  # others are not held up
    assert entry(w, T.ORDER_SHIPPED, m.creator).status == "pending"
    w.later(seconds=30)
    await drain(dispatcher)
    texts = telegram.texts(chat(w, m.creator))
    assert ["selected" in texts[0], "on its way" in texts[1]] == [True, True]


async def test_new_applications_for_one_offer_reach_the_seller_as_one_digest() -> None:
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id, slots=5)
    assert offer.id is not None
    for name in ("Ana", "Ben", "Carla"):
        await s.claim_offer(w.mp, await w.creator(name), offer.id)
    telegram = FakeChannel()

    await drain(make_dispatcher(w, telegram))

    assert telegram.texts(chat(w, staff)) == ["3 new applications for Bamboo cutting board."]
    assert {n.status for n in w.notices(T.NEW_APPLICATION)} == {"sent"}


async def test_applications_wait_for_the_digest_window_without_holding_back_other_notices() -> None:
    w = World()
    w.mp.policy = s.Policy(digest_window_seconds=300)
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id, slots=5)
    assert offer.id is not None
    first = await s.claim_offer(w.mp, await w.creator("Ana"), offer.id)
    w.later(seconds=100)
    await s.claim_offer(w.mp, await w.creator("Ben"), offer.id)
    assert first.id is not None
    await s.withdraw_order(w.mp, s.Actor.member(first.creator_id), first.id)
    telegram = FakeChannel()
    dispatcher = make_dispatcher(w, telegram)

    await drain(dispatcher)
    # The withdrawal went out; the applications still wait for company.
    assert telegram.texts(chat(w, staff)) == [
        f"Ana withdrew from Bamboo cutting board ({first.number})."
    ]
    w.later(seconds=201)
    await drain(dispatcher)
    assert telegram.texts(chat(w, staff))[1:] == ["2 new applications for Bamboo cutting board."]


# --- throttled, refused, failing -----------------------------------------------------------


async def test_a_429_is_retried_after_the_wait_and_never_lost() -> None:
    w = World()
    m = await Market(w).setup()
    telegram = FakeChannel()
    telegram.fail(chat(w, m.creator), *[RetryLater(5, "Too Many Requests: retry after 5")] * 12)
    dispatcher = make_dispatcher(w, telegram, max_attempts=3)

    for _ in range(12):
        await drain(dispatcher)
        selected = entry(w, T.ORDER_SELECTED, m.creator)
        assert selected.status == "pending"
        assert selected.available_at == w.clock.now() + timedelta(seconds=5)
        w.later(seconds=5)
    assert selected.attempts == 0  # waiting when asked is not failing
    assert selected.last_error == "RetryLater: Too Many Requests: retry after 5"

    await drain(dispatcher)
    assert entry(w, T.ORDER_SELECTED, m.creator).status == "sent"
    assert len(telegram.texts(chat(w, m.creator))) == 1
    assert dispatcher.counts["throttled"] == 12


async def test_a_blocked_chat_is_marked_unreachable_and_the_next_channel_is_used() -> None:
    w = World()
    m = await Market(w).setup()
    web_login = await w.person("Ana on the web", Platform.WEB)
    await s.link_identity(w.mp, web_login, m.creator.member_id or 0)
    telegram, web = FakeChannel(), FakeChannel(Platform.WEB)
    telegram.fail(chat(w, m.creator), Unreachable("Forbidden: bot was blocked by the user"))
    dispatcher = make_dispatcher(w, telegram, web)

    await drain(dispatcher)

    member = w.member(m.creator)
    web_identity = member.identity_on(Platform.WEB)
    assert web_identity is not None
    assert [i.reachable for i in (member.identity_on(Platform.TELEGRAM), web_identity)] == [
        False,
        True,
    ]
    assert "You were selected" in web.texts(web_identity.chat_id)[0]
    assert entry(w, T.ORDER_SELECTED, m.creator).channel == "web"
    assert dispatcher.counts["unreachable"] == 1

    # the next notice goes straight to the web, Telegram is not tried again
    await s.record_shipment(w.mp, m.staff, m.order_id, "ups", "1Z999AA10123456784")
    await drain(dispatcher)
    assert "on its way" in web.texts(web_identity.chat_id)[1]
    assert telegram.texts(chat(w, m.creator)) == []


async def test_a_notice_goes_dead_when_no_chat_account_is_left() -> None:
    w = World()
    m = await Market(w).setup()
    telegram = FakeChannel()
    telegram.always[chat(w, m.creator)] = Unreachable("Forbidden: user is deactivated")
    dispatcher = make_dispatcher(w, telegram)

    await drain(dispatcher)

    selected = entry(w, T.ORDER_SELECTED, m.creator)
    assert selected.status == "dead"
    assert selected.last_error == "Unreachable: Forbidden: user is deactivated"
    assert [d.id for d in await dead_letters(w)] == [selected.id]
    identity = w.member(m.creator).identity_on(Platform.TELEGRAM)
    assert identity is not None
    assert not identity.reachable
    # writing to the bot again makes the account reachable again
    await s.register_identity(w.mp, Platform.TELEGRAM, identity.user_id, identity.chat_id, "Ana")
    assert w.member(m.creator).delivery_order()


async def test_a_member_only_on_an_unconfigured_platform_gets_a_dead_letter_that_says_so() -> None:
    w = World()
    seller_id, _ = await w.seller()
    whatsapp_only = await w.person("Wen", Platform.WHATSAPP)
    offer = await w.offer(seller_id)
    assert offer.id is not None
    await queue(
        w,
        Notice("invite:wen", T.OFFER_INVITATION, whatsapp_only.member_id, {"offer_id": offer.id}),
    )

    await drain(make_dispatcher(w, FakeChannel()))

    invitation = entry(w, T.OFFER_INVITATION, whatsapp_only)
    assert (invitation.status, invitation.last_error) == (
        "dead",
        "NoChannel: none configured for whatsapp",
    )


async def test_temporary_failures_back_off_then_go_to_the_dead_letters() -> None:
    w = World()
    m = await Market(w).setup()
    telegram = FakeChannel()
    telegram.always[chat(w, m.creator)] = TemporaryFailure("Bad Gateway")
    dispatcher = make_dispatcher(w, telegram, max_attempts=4, backoff=Backoff(base=2, cap=5))

    waits = []
    for attempt in (1, 2, 3):
        await drain(dispatcher)
        selected = entry(w, T.ORDER_SELECTED, m.creator)
        assert (selected.status, selected.attempts) == ("pending", attempt)
        assert selected.available_at is not None
        waits.append((selected.available_at - w.clock.now()).total_seconds())
        w.clock.set(selected.available_at)
    # 2 s, 4 s, then the 5 s cap; each with jitter between half and all of it
    assert [1 <= waits[0] <= 2, 2 <= waits[1] <= 4, 2.5 <= waits[2] <= 5] == [True] * 3

    await drain(dispatcher)
    selected = entry(w, T.ORDER_SELECTED, m.creator)
    assert (selected.status, selected.attempts) == ("dead", 4)
    assert selected.last_error == "TemporaryFailure: Bad Gateway"
    assert telegram.texts(chat(w, m.creator)) == []


async def test_a_dead_notice_revived_by_an_operator_is_delivered() -> None:
    w = World()
    m = await Market(w).setup()
    telegram = FakeChannel()
    telegram.always[chat(w, m.creator)] = TemporaryFailure("Bad Gateway")
    dispatcher = make_dispatcher(w, telegram, max_attempts=1)
    await drain(dispatcher)
    [dead] = await dead_letters(w)

    del telegram.always[chat(w, m.creator)]

    async def revive(uow: AbstractUnitOfWork) -> int:
        return await uow.outbox.revive([dead.id], w.clock.now())

    assert await w.mp.transaction(revive) == 1
    assert entry(w, T.ORDER_SELECTED, m.creator).attempts == 0
    await drain(dispatcher)
    assert entry(w, T.ORDER_SELECTED, m.creator).status == "sent"
    assert await dead_letters(w) == []


async def test_an_error_is_stored_without_personal_data() -> None:
    assert describe_error(ValueError("1 Main St, +1 555 0100")) == "ValueError"
    refused = Unreachable("Forbidden: chat 5550100123 (ana@example.com) not found")
    assert describe_error(refused) == "Unreachable: Forbidden: chat … (…) not found"
    assert describe_error(RetryLater(35)) == "RetryLater: retry after 35 s"


async def test_a_notice_that_cannot_be_rendered_is_retried_and_stores_only_the_error_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = World()
    m = await Market(w).setup()

    async def broken(*args: object, **kwargs: object) -> Outbound:
        raise KeyError("Ana Creator, 1 Main St, +15550100")

    monkeypatch.setattr(dispatching, "render_notice", broken)
    await drain(make_dispatcher(w, FakeChannel()))

    selected = entry(w, T.ORDER_SELECTED, m.creator)
    assert (selected.status, selected.attempts, selected.last_error) == ("pending", 1, "KeyError")


# --- what is not sent ----------------------------------------------------------------------


async def test_announcements_respect_the_opt_out_but_order_notices_are_always_sent() -> None:
    w = World()
    m = await Market(w).setup()
    other = await w.creator("Ben")
    await s.update_profile(w.mp, m.creator, s.ProfileChanges(announcements_opt_out=True))
    await queue(
        w,
        Notice("invite:ana", T.OFFER_INVITATION, m.creator.member_id, {"offer_id": m.offer_id}),
        Notice("invite:ben", T.OFFER_INVITATION, other.member_id, {"offer_id": m.offer_id}),
    )
    telegram = FakeChannel()

    await drain(make_dispatcher(w, telegram))

    ana = telegram.texts(chat(w, m.creator))
    assert len(ana) == 1
    assert "You were selected" in ana[0]
    assert telegram.texts(chat(w, other)) == ["A new offer for you:\nBamboo cutting board"]
    skipped = w.notices(T.OFFER_INVITATION, m.creator)[0]
    assert (skipped.status, skipped.channel) == ("sent", None)


async def test_a_notice_about_something_gone_is_closed_without_a_message() -> None:
    w = World()
    creator = await w.creator("Ana")
    await queue(
        w, Notice("order_shipped:999", T.ORDER_SHIPPED, creator.member_id, {"order_id": 999})
    )
    telegram = FakeChannel()

    await drain(make_dispatcher(w, telegram))

    assert telegram.sent == []
    gone = entry(w, T.ORDER_SHIPPED, creator)
    assert (gone.status, gone.channel) == ("sent", None)


async def test_audience_notices_without_a_recipient_are_left_for_the_broadcast_expander() -> None:
    w = World()
    m = await Market(w).setup()
    await queue(
        w,
        Notice(
            f"offer_invitation:{m.offer_id}", T.OFFER_INVITATION, None, {"offer_id": m.offer_id}
        ),
    )

    await drain(make_dispatcher(w, FakeChannel()))

    audience = entry(w, T.OFFER_INVITATION)
    assert (audience.status, audience.attempts, audience.lease_until) == ("pending", 0, None)


# --- crashes ---------------------------------------------------------------------------------


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_what_was_in_flight() -> (
    None
):
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id, slots=5)
    assert offer.id is not None
    creators = [await w.creator(name) for name in ("Ana", "Ben", "Carla", "Dan")]
    for creator in creators:
        order = await s.claim_offer(w.mp, creator, offer.id)
        await s.approve_order(w.mp, staff, order.id or 0)
    telegram = FakeChannel()
    telegram.fail(chat(w, creators[2]), WorkerKilled())  # dies while sending to Carla
    first = make_dispatcher(w, telegram, concurrency=1)

    with pytest.raises(BaseExceptionGroup) as died:
        await first.run_once()
    assert died.group_contains(WorkerKilled)
    assert {e.status for e in w.store.outbox} == {"sent", "sending"}

    second = make_dispatcher(w, telegram)
    assert await second.run_once() == 0  # the dead worker's lease still runs
    w.later(seconds=LEASE.total_seconds())
    await drain(second)

    assert {e.status for e in w.store.outbox} == {"sent"}
    for creator in creators:
        assert len(telegram.texts(chat(w, creator))) == 1
    reclaimed = [e for e in w.store.outbox if e.attempts]
    assert reclaimed
    assert {e.last_error for e in reclaimed} == {OutboxEntry.LEASE_EXPIRED}


async def test_the_loop_survives_a_failing_round_and_delivers_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = World()
    m = await Market(w).setup()
    real_claim = FakeOutbox.claim
    calls = 0

    async def flaky_claim(self: FakeOutbox, *args: object) -> list[OutboxEntry]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return await real_claim(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(FakeOutbox, "claim", flaky_claim)
    telegram = FakeChannel()
    dispatcher = make_dispatcher(w, telegram)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop))
    for _ in range(200):
        if telegram.texts(chat(w, m.creator)):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, 2)

    assert calls >= 2
    assert "You were selected" in telegram.texts(chat(w, m.creator))[0]
