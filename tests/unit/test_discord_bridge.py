"""How the bridge answers an interaction: directly when the core is quick, else deferred at
once and followed up — edits where the screen replaces the pressed message, privately in
server channels, and always acknowledged, even with nothing to say."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest

from bots.discord.bridge import DiscordBridge
from core.conversations.actions import ActionCodec
from core.conversations.markup import Markup
from core.conversations.messages import Inbound, Outbound
from storage.kv.memory import MemoryKeyValueStore

Calls = list[tuple[str, dict[str, Any]]]


@dataclass
class Response:
    calls: Calls
    done: bool = False

    def is_done(self) -> bool:
        return self.done

    async def _record(self, name: str, **kwargs: Any) -> None:
        assert not self.done, "an interaction is acknowledged once"
        self.done = True
        self.calls.append((name, kwargs))

    async def defer(self, **kwargs: Any) -> None:
        await self._record("defer", **kwargs)

    async def send_message(self, **kwargs: Any) -> None:
        await self._record("send_message", **kwargs)

    async def edit_message(self, **kwargs: Any) -> None:
        await self._record("edit_message", **kwargs)


@dataclass
class Interaction:
    type: discord.InteractionType
    guild_id: int | None = None
    on_message: bool = False
    calls: Calls = field(default_factory=list)
    id: int = 4242
    locale: discord.Locale = discord.Locale.american_english
    user: Any = field(default_factory=lambda: SimpleNamespace(id=77, global_name="Ana", name="ana"))

    def __post_init__(self) -> None:
        self.response = Response(self.calls)
        self.message = SimpleNamespace(id=5150) if self.on_message else None
        self.followup = SimpleNamespace(send=self._followup)

    async def _followup(self, **kwargs: Any) -> None:
        assert self.response.done, "follow-ups need an acknowledged interaction"
        self.calls.append(("followup", kwargs))

    async def edit_original_response(self, **kwargs: Any) -> None:
        assert self.response.done
        self.calls.append(("edit_original", kwargs))

    async def delete_original_response(self) -> None:
        self.calls.append(("delete_original", {}))


@dataclass
class Engine:
    replies: list[Outbound]
    delay: float = 0.0
    codec: ActionCodec = field(
        default_factory=lambda: ActionCodec(b"bridge-test-secret-0123456789", MemoryKeyValueStore())
    )
    seen: list[Inbound] = field(default_factory=list)

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        self.seen.append(inbound)
        await asyncio.sleep(self.delay)
        return self.replies


def bridge(engine: Engine) -> DiscordBridge:
    channel = SimpleNamespace(forget_refusal=lambda user_id: None)
    return DiscordBridge(cast(Any, engine), cast(Any, channel), answer_within=0.05)


def say(text: str, **fields: Any) -> Outbound:
    return Outbound(Markup.of(text), **fields)


def shape(calls: Calls) -> list[tuple[str, Any]]:
    return [(name, kwargs.get("content", kwargs.get("ephemeral"))) for name, kwargs in calls]


async def test_a_quick_answer_is_the_response() -> None:
    interaction = Interaction(discord.InteractionType.application_command)
    engine = Engine([say("One"), say("Two")])
    await bridge(engine).on_command(cast(Any, interaction), "start", "")
    assert shape(interaction.calls) == [("send_message", "One"), ("followup", "Two")]
    assert interaction.calls[0][1]["ephemeral"] is False
    assert engine.seen[0].command == "start"
    assert engine.seen[0].event_id == "4242"


async def test_a_slow_answer_is_deferred_then_fills_in_the_deferred_response() -> None:
    interaction = Interaction(discord.InteractionType.application_command)
    await bridge(Engine([say("One"), say("Two")], delay=0.2)).on_command(
        cast(Any, interaction), "help", ""
    )
    assert shape(interaction.calls) == [
        ("defer", False),
        ("edit_original", "One"),
        ("followup", "Two"),
    ]
    assert interaction.calls[0][1] == {"ephemeral": False, "thinking": True}


async def test_in_a_server_channel_every_answer_is_private() -> None:
    interaction = Interaction(discord.InteractionType.application_command, guild_id=9)
    await bridge(Engine([say("One"), say("Two")])).on_command(cast(Any, interaction), "offers", "")
    assert [kwargs["ephemeral"] for _, kwargs in interaction.calls] == [True, True]
    slow = Interaction(discord.InteractionType.application_command, guild_id=9)
    await bridge(Engine([say("One")], delay=0.2)).on_command(cast(Any, slow), "offers", "")
    assert slow.calls[0] == ("defer", {"ephemeral": True, "thinking": True})


@pytest.mark.parametrize(
    ("delay", "expected"),
    [(0.0, ["edit_message", "followup"]), (0.2, ["defer", "edit_original", "followup"])],
)
async def test_a_pressed_button_replaces_its_message_when_the_screen_says_so(
    delay: float, expected: list[str]
) -> None:
    interaction = Interaction(discord.InteractionType.component, on_message=True)
    engine = Engine([say("Page 2", edit=True), say("And a new one")], delay=delay)
    await bridge(engine).on_action(cast(Any, interaction), "1:m::x:AAAAAAAA")
    assert [name for name, _ in interaction.calls] == expected
    assert engine.seen[0].message_id == "5150"


async def test_a_button_answer_that_is_not_an_edit_is_a_new_message() -> None:
    interaction = Interaction(discord.InteractionType.component, on_message=True)
    await bridge(Engine([say("New")])).on_action(cast(Any, interaction), "1:m::x:AAAAAAAA")
    assert shape(interaction.calls) == [("send_message", "New")]


async def test_nothing_to_say_is_still_acknowledged() -> None:
    pressed = Interaction(discord.InteractionType.component, on_message=True)
    await bridge(Engine([])).on_action(cast(Any, pressed), "1:m::x:AAAAAAAA")
    assert [name for name, _ in pressed.calls] == ["defer"]
    command = Interaction(discord.InteractionType.application_command)
    await bridge(Engine([])).on_command(cast(Any, command), "start", "")
    assert [name for name, _ in command.calls] == ["defer", "delete_original"]


async def test_a_failure_in_the_core_is_answered_plainly() -> None:
    class Broken(Engine):
        async def handle(self, inbound: Inbound) -> list[Outbound]:
            raise RuntimeError("database away")

    interaction = Interaction(discord.InteractionType.application_command)
    await bridge(Broken([])).on_command(cast(Any, interaction), "start", "")
    assert interaction.calls[0][0] == "send_message"
    assert "went wrong" in interaction.calls[0][1]["content"]
