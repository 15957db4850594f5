"""The notice workers' Telegram sender against the strict fake Bot API: what it sends, and how
each refusal reaches the dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bots.telegram.notice_sender import TelegramNoticeSender
from core.conversations.actions import Action, ActionCodec
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound
from core.ports.channel import DeliveryError, RetryLater, TemporaryFailure, Unreachable
from storage.kv.memory import MemoryKeyValueStore
from tests.e2e.telegram_fake import FakeTelegram

ANA = 5001
BEN = 5002
ANNOUNCEMENT = Outbound(
    Markup.lines(Markup.of(bold("📣 Announcement")), "Summer sale week <3"),
    rows=((Choice("See offers", url="https://example.com/offers"),),),
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.user(ANA, "Ana")
        fake.user(BEN, "Ben")
        yield fake


def codec() -> ActionCodec:
    return ActionCodec(b"e2e-notice-sender-secret-0123456", MemoryKeyValueStore())


@pytest.fixture
async def sender(tg: FakeTelegram) -> AsyncIterator[TelegramNoticeSender]:
    made = TelegramNoticeSender(tg.token, tg.base_url, codec())
    await made.open()
    yield made
    await made.close()


async def test_an_announcement_arrives_with_its_markup_and_link_button(
    tg: FakeTelegram, sender: TelegramNoticeSender
) -> None:
    await sender.send(str(ANA), ANNOUNCEMENT)
    await sender.send(str(BEN), ANNOUNCEMENT)

    for user_id in (ANA, BEN):
        [message] = tg.user(user_id).messages
        assert message.content == "📣 Announcement\nSummer sale week <3"
        assert message.entities == [{"type": "bold", "offset": 0, "length": 15}]
        assert message.inline_buttons() == [
            {"text": "See offers", "url": "https://example.com/offers"}
        ]
        assert message.link_preview_disabled


async def test_action_buttons_get_a_payload_the_bot_can_read_back(
    tg: FakeTelegram, sender: TelegramNoticeSender
) -> None:
    sent = Outbound(Markup.of("Order shipped"), rows=((Choice("Open order", Action("od", (7,))),),))
    await sender.send(str(ANA), sent)

    [button] = tg.user(ANA).messages[0].inline_buttons()
    assert button["text"] == "Open order"
    assert await sender.codec.decode(button["callback_data"]) == Action("od", (7,))


async def test_a_429_says_how_long_to_wait(tg: FakeTelegram, sender: TelegramNoticeSender) -> None:
    tg.inject_error("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)

    with pytest.raises(RetryLater) as wait:
        await sender.send(str(ANA), ANNOUNCEMENT)

    assert wait.value.seconds == 7
    assert tg.user(ANA).messages == []


async def test_a_person_who_blocked_the_bot_is_unreachable(
    tg: FakeTelegram, sender: TelegramNoticeSender
) -> None:
    tg.block(ANA)

    with pytest.raises(Unreachable):
        await sender.send(str(ANA), ANNOUNCEMENT)


async def test_a_server_error_is_temporary_and_a_bad_request_is_not(
    tg: FakeTelegram, sender: TelegramNoticeSender
) -> None:
    tg.inject_error("sendMessage", 502, "Bad Gateway")
    with pytest.raises(TemporaryFailure):
        await sender.send(str(ANA), ANNOUNCEMENT)

    tg.inject_error("sendMessage", 400, "Bad Request: can't parse entities")
    with pytest.raises(DeliveryError) as refused:
        await sender.send(str(ANA), ANNOUNCEMENT)
    assert not isinstance(refused.value, TemporaryFailure | RetryLater | Unreachable)
    assert "can't parse entities" in str(refused.value)


async def test_telegram_out_of_reach_is_a_temporary_failure(tg: FakeTelegram) -> None:
    gone = TelegramNoticeSender(tg.token, "http://127.0.0.1:9", codec(), timeout=2)
    await gone.open()  # only logged: the worker starts and retries later
    try:
        with pytest.raises(TemporaryFailure):
            await gone.send(str(ANA), ANNOUNCEMENT)
    finally:
        await gone.close()


async def test_a_token_telegram_refuses_stops_the_worker_with_what_to_do(
    tg: FakeTelegram,
) -> None:
    wrong = TelegramNoticeSender("999:WRONG", tg.base_url, codec())
    try:
        with pytest.raises(ValueError, match="COLLABBOT_TELEGRAM_TOKEN"):
            await wrong.open()
    finally:
        await wrong.close()
