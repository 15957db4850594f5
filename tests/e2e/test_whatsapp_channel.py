"""The WhatsApp channel against the strict fake Cloud API: the 24-hour window (known from the
database, or learnt from WhatsApp's 131047), the notice template outside it, and every
refusal turned into the error the dispatcher acts on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.http_app import HttpApp
from bots.settings import load_settings
from bots.whatsapp.channel import WhatsAppChannel
from bots.whatsapp.graph import GraphApi
from bots.whatsapp.service import WEBHOOK_PATH, WhatsAppService
from core import services as s
from core.conversations.actions import Action, ActionCodec
from core.conversations.engine import ConversationEngine
from core.conversations.layout import Choice
from core.conversations.markup import Markup
from core.conversations.messages import Outbound
from core.domain.common import Platform
from core.domain.offers import VideoType
from core.ports.channel import DeliveryError, RetryLater, TemporaryFailure, Unreachable
from core.ports.clock import FixedClock
from core.services import Actor, Marketplace, Policy
from notifications.dispatcher import Dispatcher
from notifications.rate_limits import SendingRates
from storage.kv.memory import MemoryKeyValueStore
from storage.migrate import upgrade
from storage.repositories.outbox import outbox
from storage.unit_of_work import Database
from tests.e2e.whatsapp_fake import FakeWhatsApp

ANA = "15550001001"
OUR_LOGGERS = ("bots", "core", "notifications")
SAM = "15550002001"
NOTICE = Outbound(
    Markup.of("You were selected for Bamboo cutting board!"),
    rows=[[Choice("Open order", action=Action("od", (1,)))]],
)


@dataclass
class Setup:
    wa: FakeWhatsApp
    mp: Marketplace
    clock: FixedClock
    database: Database
    service: WhatsAppService

    @property
    def channel(self) -> WhatsAppChannel:
        return self.service.channel

    async def member_who_wrote(self, wa_id: str) -> int:
        """A creator who has just written to the business number."""
        self.wa.user(wa_id).fake.person_wrote(wa_id)
        member = await s.register_identity(self.mp, Platform.WHATSAPP, wa_id, wa_id, "Ana", "en")
        assert member.id is not None
        return member.id


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    """The WhatsApp service of a collabbot process (webhook endpoint included), on a fixed
    clock, talking to the fake."""
    url = f"sqlite+aiosqlite:///{tmp_path}/whatsapp.sqlite3"
    await upgrade(url)
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    database = Database.connect(url, clock)
    mp = Marketplace(database.unit_of_work, database.clock, Policy(digest_window_seconds=0))
    kv = MemoryKeyValueStore()
    engine = ConversationEngine(mp, kv, ActionCodec(b"whatsapp-channel-test-secret", kv))
    async with FakeWhatsApp() as wa:
        wa.approve_template("collabbot_notice", "en", "collabbot: {{1}}", ("Open",))
        settings = load_settings(
            whatsapp_token=wa.token,
            whatsapp_phone_number_id=wa.phone_number_id,
            whatsapp_app_secret=wa.app_secret,
            whatsapp_verify_token="verify",
            whatsapp_api_url=wa.base_url,
            whatsapp_api_version=wa.version,
        )
        service = WhatsAppService(settings, engine)
        http = HttpApp("127.0.0.1:0")
        service.add_routes(http)
        await http.start()
        wa.connect(f"http://127.0.0.1:{http.bound_port}{WEBHOOK_PATH}")
        try:
            yield Setup(wa, mp, clock, database, service)
        finally:
            await service.stop()
            await http.stop()
            await database.dispose()


def kinds(wa: FakeWhatsApp, wa_id: str) -> list[str]:
    return [m.type for m in wa.messages_to(wa_id)]


async def test_inside_the_window_a_notice_goes_as_it_is(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    await setup.channel.send(ANA, NOTICE)
    [message] = setup.wa.messages_to(ANA)
    assert message.interactive_type == "button"
    assert message.buttons == ["Open order"]


async def test_a_day_after_the_last_message_a_notice_goes_as_the_template(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    setup.clock.advance(timedelta(hours=25))
    setup.wa.close_window(ANA)

    await setup.channel.send(ANA, NOTICE)

    [message] = setup.wa.messages_to(ANA)
    assert message.type == "template"
    assert message.text == "collabbot: You were selected for Bamboo cutting board!"
    assert [c.error_code for c in setup.wa.calls_to(ANA)] == [None]  # known, not tried first


async def test_a_member_who_never_wrote_gets_the_template(setup: Setup) -> None:
    setup.wa.user(SAM, "Sam")
    await s.add_seller(setup.mp, Actor.system(), "Acme", [f"whatsapp:{SAM}"])
    await setup.channel.send(SAM, NOTICE)
    assert kinds(setup.wa, SAM) == ["template"]


async def test_when_whatsapp_says_the_window_closed_the_template_follows(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    setup.wa.close_window(ANA)  # WhatsApp counts differently from the database

    await setup.channel.send(ANA, NOTICE)
    await setup.channel.send(ANA, NOTICE)

    assert kinds(setup.wa, ANA) == ["template", "template"]
    codes = [c.error_code for c in setup.wa.calls_to(ANA)]
    assert codes == [131047, None, None]  # learnt once, then the template straight away


async def test_a_rate_limit_asks_the_dispatcher_to_wait(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    setup.wa.rate_limit()
    with pytest.raises(RetryLater) as waited:
        await setup.channel.send(ANA, NOTICE)
    assert waited.value.seconds > 0
    assert setup.wa.messages_to(ANA) == []


@pytest.mark.parametrize("code", [131026, 131030, 131021])
async def test_a_person_whatsapp_cannot_reach_is_unreachable(setup: Setup, code: int) -> None:
    await setup.member_who_wrote(ANA)
    setup.wa.unreachable(ANA, code)
    with pytest.raises(Unreachable) as refused:
        await setup.channel.send(ANA, NOTICE)
    assert ANA not in str(refused.value)


async def test_a_server_error_or_no_connection_is_temporary(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    setup.wa.fail_next(131000, status=500)
    with pytest.raises(TemporaryFailure):
        await setup.channel.send(ANA, NOTICE)
    nowhere = GraphApi("http://127.0.0.1:9", "v21.0", "1", "token")
    try:
        with pytest.raises(TemporaryFailure):
            await nowhere.send(ANA, (await _rendered(setup))[0])
    finally:
        await nowhere.close()


async def test_a_wrong_token_is_a_delivery_error_that_does_not_show_it(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    graph = GraphApi(setup.wa.base_url, setup.wa.version, setup.wa.phone_number_id, "EAAwrong")
    try:
        with pytest.raises(DeliveryError) as refused:
            await graph.send(ANA, (await _rendered(setup))[0])
    finally:
        await graph.close()
    assert type(refused.value) is DeliveryError
    assert "EAAwrong" not in str(refused.value)
    assert "EAAwrong" not in repr(graph)


async def _rendered(setup: Setup) -> list:  # type: ignore[type-arg]
    from bots.whatsapp.render import render

    return await render(NOTICE, setup.channel.codec)


async def wait_until(condition: object, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.02)


async def test_statuses_from_whatsapp_are_counted(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    await setup.channel.send(ANA, NOTICE)
    await wait_until(lambda: setup.channel.statuses["delivered"] == 1)
    assert setup.channel.statuses["sent"] == 1


async def test_an_undeliverable_report_sends_the_next_notice_elsewhere(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    setup.wa.fail_later(ANA, 131026)
    await setup.channel.send(ANA, NOTICE)  # accepted, then reported failed
    await wait_until(lambda: setup.channel.statuses["failed:unreachable"] == 1)

    with pytest.raises(Unreachable):
        await setup.channel.send(ANA, NOTICE)

    await setup.wa.user(ANA).send_text("hello again")
    await wait_until(lambda: not setup.channel.window.undeliverable(ANA))
    await setup.channel.send(ANA, NOTICE)
    assert len(setup.wa.messages_to(ANA)) >= 1


async def test_a_late_131047_report_still_gets_the_template_out(setup: Setup) -> None:
    await setup.member_who_wrote(ANA)
    setup.wa.fail_later(ANA, 131047)
    await setup.channel.send(ANA, NOTICE)  # accepted, then reported outside the window

    message = await setup.wa.user(ANA).wait_for(lambda m: m.type == "template")
    assert "You were selected" in message.text
    assert kinds(setup.wa, ANA) == ["template"]


async def test_the_dispatcher_delivers_through_whatsapp_and_marks_the_unreachable(
    setup: Setup,
) -> None:
    """Sam never wrote (template); Ana's number no longer has WhatsApp (unreachable)."""
    mp = setup.mp
    setup.clock.set(datetime.now(UTC))  # the dispatcher's leases run on real time
    setup.wa.user(SAM, "Sam")
    seller = await s.add_seller(mp, Actor.system(), "Acme", [f"whatsapp:{SAM}"])
    assert seller.id is not None
    ana_id = await setup.member_who_wrote(ANA)
    await s.update_profile(
        mp,
        Actor.member(ana_id),
        s.ProfileChanges(
            storefront_url="https://www.amazon.com/shop/ana-films",
            categories=["kitchen"],
            country="US",
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
    offer = await s.create_offer(mp, Actor.system(), seller.id, new, publish=True)
    assert offer.id is not None
    order = await s.claim_offer(mp, Actor.member(ana_id), offer.id)
    assert order.id is not None
    await s.approve_order(mp, Actor.member(next(iter(seller.staff))), order.id)
    setup.wa.unreachable(ANA)

    dispatcher = Dispatcher(
        mp, {Platform.WHATSAPP: setup.channel}, rates=SendingRates.unlimited(), interval=0.05
    )
    stop = asyncio.Event()
    loop = asyncio.create_task(dispatcher.run(stop))
    try:
        applied = await setup.wa.user(SAM).wait_for_text("Ana applied for Bamboo cutting board")
        await wait_until(lambda: dispatcher.counts["unreachable"] == 1)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(loop, timeout=10)
    assert applied.type == "template"
    member = await s.find_member(mp, Platform.WHATSAPP, ANA)
    assert member is not None
    identity = member.identity_on(Platform.WHATSAPP)
    assert identity is not None
    assert not identity.reachable
    async with setup.database.unit_of_work() as uow:
        rows = (await uow.session.execute(outbox.select())).mappings()
        statuses = {row["template"]: (row["status"], row["channel"]) for row in rows}
    assert statuses["new_application"] == ("sent", "whatsapp")
    assert statuses["order_selected"][0] == "dead"


async def test_no_phone_number_or_token_reaches_the_logs(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    for name in OUR_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    await setup.member_who_wrote(ANA)
    setup.wa.fail_later(ANA, 131047)
    await setup.channel.send(ANA, NOTICE)
    await setup.wa.user(ANA).wait_for(lambda m: m.type == "template")
    setup.wa.fail_later(ANA, 131026)
    await setup.channel.send(ANA, NOTICE)
    await wait_until(lambda: setup.channel.statuses["failed:unreachable"] == 1)
    setup.wa.unreachable(ANA)
    await setup.wa.user(ANA).send_text("hello")
    await wait_until(
        lambda: any("sending a WhatsApp answer failed" in r.message for r in caplog.records)
    )
    await setup.wa.post_raw(b"{}", {"X-Hub-Signature-256": "sha256=00"})

    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert "failed: error 131047" in logged
    assert ANA not in logged
    assert ANA[-7:] not in logged
    assert setup.wa.token not in logged
    assert "wamid." not in logged
