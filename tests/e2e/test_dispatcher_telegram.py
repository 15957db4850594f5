"""The dispatcher delivering notices through the real Telegram channel and client libraries
(aiogram and python-telegram-bot), and through the notice workers' own sender, to the strict
fake Bot API: messages arrive, a blocked bot marks the account unreachable, flood control is
respected."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.telegram.bridge import TelegramChannel
from bots.telegram.notice_sender import TelegramNoticeSender
from core import services as s
from core.conversations.actions import ActionCodec
from core.domain.common import Platform
from core.domain.members import ShippingAddress
from core.domain.offers import VideoType
from core.ports.channel import Channel
from core.ports.clock import SystemClock
from core.services import Actor, Marketplace, Policy
from notifications.dispatcher import Dispatcher
from notifications.rate_limits import PlatformRates, SendingRates
from storage.kv.memory import MemoryKeyValueStore
from storage.migrate import upgrade
from storage.repositories.outbox import outbox
from storage.unit_of_work import Database
from tests.e2e.telegram_fake import FakeTelegram

ANA = 5001
SAM = 5002
SYSTEM = Actor.system()
ADDRESS = ShippingAddress(
    name="Ana Creator", line1="1 Main St", city="Austin", postal_code="78701", country="US"
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.user(ANA, "Ana")
        fake.user(SAM, "Sam")
        yield fake


@pytest.fixture(params=["aiogram", "ptb", "notice_sender"])
async def channel(request: pytest.FixtureRequest, tg: FakeTelegram) -> AsyncIterator[Channel]:
    """A production Telegram channel talking to the fake: over one driver (as the process
    that answers people has it), or the notice workers' sender."""
    codec = ActionCodec(b"e2e-dispatcher-secret-0123456789", MemoryKeyValueStore())
    if request.param == "notice_sender":
        sender = TelegramNoticeSender(tg.token, tg.base_url, codec)
        await sender.open()
        try:
            yield sender
        finally:
            await sender.close()
        return
    driver = importlib.import_module(f"bots.telegram.{request.param}_driver")
    bot = driver.make_bot(tg.token, tg.base_url)
    await driver.open_bot(bot)
    try:
        yield TelegramChannel(driver.Api(bot), codec)
    finally:
        await driver.close_bot(bot)


@dataclass
class Shop:
    database: Database
    mp: Marketplace
    creator_id: int
    order_id: int
    staff: Actor


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    """Sam's shop with a live offer that Ana claimed and Sam approved: two notices queued."""
    url = f"sqlite+aiosqlite:///{tmp_path}/dispatch.sqlite3"
    await upgrade(url)
    database = Database.connect(url, SystemClock())
    mp = Marketplace(database.unit_of_work, database.clock, Policy(digest_window_seconds=0))
    try:
        seller = await s.add_seller(mp, SYSTEM, "Acme", [f"telegram:{SAM}"])
        assert seller.id is not None
        staff = Actor.member(next(iter(seller.staff)))
        ana = await s.register_identity(mp, Platform.TELEGRAM, str(ANA), str(ANA), "Ana", "en")
        assert ana.id is not None
        creator = Actor.member(ana.id)
        await s.update_profile(
            mp,
            creator,
            s.ProfileChanges(
                storefront_url="https://www.amazon.com/shop/ana-films",
                categories=["kitchen"],
                country="US",
                address=ADDRESS,
                finish_onboarding=True,
            ),
        )
        new = s.NewOffer(
            title="Bamboo cutting board",
            video_type=VideoType.INFLUENCER,
            slots=3,
            asin="B0C1234567",
            category="kitchen",
        )
        offer = await s.create_offer(mp, SYSTEM, seller.id, new, publish=True)
        assert offer.id is not None
        order = await s.claim_offer(mp, creator, offer.id)
        assert order.id is not None
        await s.approve_order(mp, staff, order.id)
        yield Shop(database, mp, ana.id, order.id, staff)
    finally:
        await database.dispose()


async def statuses(shop: Shop) -> dict[str, str]:
    async with shop.database.unit_of_work() as uow:
        result = await uow.session.execute(outbox.select())
        return {row["template"]: row["status"] for row in result.mappings()}


@contextlib.asynccontextmanager
async def dispatching(dispatcher: Dispatcher) -> AsyncIterator[Dispatcher]:
    """The dispatcher's loop running in the background for the duration of the block."""
    stop = asyncio.Event()
    loop = asyncio.create_task(dispatcher.run(stop))
    try:
        yield dispatcher
    finally:
        stop.set()
        await asyncio.wait_for(loop, timeout=10)
        await dispatcher.rates.close()


def dispatcher_for(shop: Shop, channel: Channel, rates: SendingRates) -> Dispatcher:
    return Dispatcher(shop.mp, {Platform.TELEGRAM: channel}, rates=rates, interval=0.05)


async def test_a_notice_arrives_in_the_persons_chat(
    tg: FakeTelegram, channel: Channel, shop: Shop
) -> None:
    async with dispatching(dispatcher_for(shop, channel, SendingRates())):
        selected = await tg.user(ANA).wait_for_text("You were selected for Bamboo cutting board")
        applied = await tg.user(SAM).wait_for_text("applied for Bamboo cutting board")

    assert selected.buttons == ["Open order"]
    assert applied.buttons == ["Review applications"]
    assert await statuses(shop) == {"new_application": "sent", "order_selected": "sent"}


async def test_a_person_who_blocked_the_bot_is_marked_unreachable(
    tg: FakeTelegram, channel: Channel, shop: Shop
) -> None:
    tg.block(ANA)

    async with dispatching(dispatcher_for(shop, channel, SendingRates())) as dispatcher:
        await tg.user(SAM).wait_for_text("applied for")
        for _ in range(100):
            if (await statuses(shop))["order_selected"] == "dead":
                break
            await asyncio.sleep(0.05)

    assert (await statuses(shop))["order_selected"] == "dead"
    assert tg.user(ANA).messages == []
    member = await s.find_member(shop.mp, Platform.TELEGRAM, str(ANA))
    assert member is not None
    identity = member.identity_on(Platform.TELEGRAM)
    assert identity is not None
    assert not identity.reachable
    assert dispatcher.counts["unreachable"] == 1


async def test_a_429_from_telegram_is_honoured_and_the_notice_still_arrives(
    tg: FakeTelegram, channel: Channel, shop: Shop
) -> None:
    await s.record_shipment(shop.mp, shop.staff, shop.order_id, "ups", "1Z999AA10123456784")
    tg.limit(per_chat_per_second=1, global_per_second=None, group_per_minute=None)
    # Without limits of its own, the dispatcher runs into Telegram's flood control.
    unpaced = SendingRates.unlimited()

    async with dispatching(dispatcher_for(shop, channel, unpaced)) as dispatcher:
        await tg.user(ANA).wait_for_text("You were selected")
        shipped = await tg.user(ANA).wait_for_text("is on its way", timeout=8)

    assert tg.throttled >= 1
    assert dispatcher.counts["throttled"] >= 1
    to_ana = [c for c in tg.calls_to("sendMessage") if c.params.get("chat_id") == str(ANA)]
    refused = next(c for c in to_ana if c.status == 429)
    retried = next(c for c in to_ana if c.ok and c.at > refused.at)
    assert retried.at - refused.at >= 0.95  # waited as long as Telegram asked (1 s)
    texts = [m.content for m in tg.user(ANA).messages]
    assert len(texts) == 2
    assert "You were selected" in texts[0]
    assert shipped.content == texts[1]
    assert await statuses(shop) == {
        "new_application": "sent",
        "order_selected": "sent",
        "order_shipped": "sent",
    }


async def test_with_its_rate_limits_the_dispatcher_stays_under_flood_control(
    tg: FakeTelegram, channel: Channel, shop: Shop
) -> None:
    await s.record_shipment(shop.mp, shop.staff, shop.order_id, "ups", "1Z999AA10123456784")
    tg.limit(per_chat_per_second=1, global_per_second=30, group_per_minute=20)
    rates = SendingRates({Platform.TELEGRAM: PlatformRates("30/second", "1/second", "20/minute")})
    started = time.monotonic()

    async with dispatching(dispatcher_for(shop, channel, rates)):
        await tg.user(ANA).wait_for_text("is on its way")

    assert time.monotonic() - started >= 0.95  # the second message waited for its second
    assert tg.throttled == 0
