"""The Discord channel the notice dispatcher sends through: discord.py over the fake
Discord, DMs opened and reused, closed DMs → Unreachable (and not asked again), 429 →
RetryLater, 5xx → TemporaryFailure, long notices split within Discord's limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import pytest

from bots.discord.channel import DiscordChannel
from bots.discord.service import DiscordService
from bots.settings import load_settings
from core.conversations.actions import Action, ActionCodec
from core.conversations.layout import Choice
from core.conversations.markup import Markup
from core.conversations.messages import Outbound
from core.ports.channel import RetryLater, TemporaryFailure, Unreachable
from storage.kv.memory import MemoryKeyValueStore
from tests.e2e.discord_fake import FakeDiscord


@dataclass
class _Engine:
    """All the service needs of an engine when nobody writes to the bot."""

    codec: ActionCodec


@dataclass
class Setup:
    discord: FakeDiscord
    channel: DiscordChannel


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async with FakeDiscord() as discord:
        settings = load_settings(discord_token=discord.token, discord_api_url=discord.base_url)
        codec = ActionCodec(b"notice-test-secret-0123456789", MemoryKeyValueStore())
        service = DiscordService(settings, cast(Any, _Engine(codec)))
        await service.start()
        try:
            yield Setup(discord, service.channel)
        finally:
            await service.stop()


def notice(text: str = "Your order CB-1 was shipped.", *labels: str) -> Outbound:
    rows = [[Choice(label, action=Action("m", (i,))) for i, label in enumerate(labels)]]
    return Outbound(Markup.of(text), rows=rows if labels else ())


async def test_a_notice_arrives_by_dm_with_its_buttons(setup: Setup) -> None:
    ana = setup.discord.user("ana")
    await setup.channel.send(str(ana.id), notice("Shipped!", "Track", "Orders"))
    await setup.channel.send(str(ana.id), notice("Second"))
    assert [m.text for m in ana.messages] == ["Shipped!", "Second"]
    assert ana.messages[0].buttons == ["Track", "Orders"]
    assert len(setup.discord.calls_to("POST", "/users/@me/channels")) == 1  # DM reused


async def test_closed_dms_are_unreachable_and_not_asked_again(setup: Setup) -> None:
    ana = setup.discord.user("ana")
    setup.discord.close_dms(ana)
    with pytest.raises(Unreachable):
        await setup.channel.send(str(ana.id), notice())
    with pytest.raises(Unreachable):
        await setup.channel.send(str(ana.id), notice())
    assert len(setup.discord.calls_to("POST", f"/channels/{ana.dm.id}/messages")) == 1
    # She writes to the bot again (and has opened her DMs): she is asked again.
    setup.discord.open_dms(ana)
    setup.channel.forget_refusal(str(ana.id))
    await setup.channel.send(str(ana.id), notice("Back"))
    assert ana.last is not None
    assert ana.last.text == "Back"


async def test_unknown_people_are_unreachable(setup: Setup) -> None:
    with pytest.raises(Unreachable):
        await setup.channel.send("123456789012345678", notice())
    with pytest.raises(Unreachable):
        await setup.channel.send("telegram-id", notice())


async def test_a_long_rate_limit_is_handed_to_the_dispatcher(setup: Setup) -> None:
    ana = setup.discord.user("ana")
    setup.discord.inject("create_message", 429, retry_after=42.0)
    with pytest.raises(RetryLater) as waited:
        await setup.channel.send(str(ana.id), notice())
    assert 40 <= waited.value.seconds <= 43


async def test_a_short_rate_limit_is_waited_out(setup: Setup) -> None:
    ana = setup.discord.user("ana")
    setup.discord.inject("create_message", 429, retry_after=0.2)
    await setup.channel.send(str(ana.id), notice("After a short wait"))
    assert ana.last is not None
    assert ana.last.text == "After a short wait"


async def test_a_server_error_is_temporary(setup: Setup) -> None:
    ana = setup.discord.user("ana")
    setup.discord.inject("create_message", 503, 0, "Service Unavailable")
    with pytest.raises(TemporaryFailure):
        await setup.channel.send(str(ana.id), notice())


async def test_a_long_notice_with_many_buttons_fits_discords_limits(setup: Setup) -> None:
    ana = setup.discord.user("ana")
    text = "\n".join(f"Line {i}: " + "word " * 20 for i in range(40))
    labels = [f"Option {i} " + "x" * 90 for i in range(30)]
    await setup.channel.send(str(ana.id), notice(text, *labels))
    messages = ana.messages
    assert len(messages) >= 3
    assert all(len(m.content) <= 2000 for m in messages)
    assert sum(len(m.buttons) for m in messages) == 30
    assert all(len(b) <= 80 for m in messages for b in m.buttons)
    assert not [c for c in setup.discord.calls if c.status >= 400]


async def test_an_edit_replaces_the_message(setup: Setup) -> None:
    ana = setup.discord.user("ana")
    await setup.channel.send(str(ana.id), notice("Before", "Go"))
    first = ana.messages[0]
    edited = Outbound(Markup.of("After"), edit=True)
    await setup.channel.send(str(ana.id), edited, replace=str(first.id))
    assert [m.text for m in ana.messages] == ["After"]
    assert ana.messages[0].buttons == []
