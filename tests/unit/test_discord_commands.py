"""Slash commands mirror the chat commands, within Discord's rules; failed sends map onto
the channel errors the dispatcher acts on."""

from __future__ import annotations

import re
from types import SimpleNamespace

import discord
import pytest

from bots.discord.channel import classify
from bots.discord.commands import OPTIONS, SummaryTranslator, app_command, slash_commands
from core.conversations import screens
from core.conversations.router import router
from core.ports.channel import DeliveryError, RetryLater, TemporaryFailure, Unreachable

screens.load()


def test_every_chat_command_is_a_slash_command_within_discords_rules() -> None:
    commands = slash_commands()
    assert [c.name for c in commands] == list(router.commands)
    for command in commands:
        assert re.fullmatch(r"[a-z0-9_-]{1,32}", command.name)
        assert 1 <= len(command.description) <= 100
        required = [o.required for o in command.options]
        assert required == sorted(required, reverse=True), "required options come first"
    assert set(OPTIONS) <= set(router.commands)


async def _noop(interaction: object, name: str, args: str) -> None:
    return None


def test_a_slash_command_declares_its_options() -> None:
    link = next(c for c in slash_commands() if c.name == "link")
    built = app_command(link, _noop)
    [code] = built.parameters
    assert (code.name, code.required, code.type) == (
        "code",
        False,
        discord.AppCommandOptionType.string,
    )
    addstaff = app_command(next(c for c in slash_commands() if c.name == "addstaff"), _noop)
    assert [(p.name, p.required) for p in addstaff.parameters] == [
        ("seller", True),
        ("account", True),
    ]


async def test_descriptions_are_offered_in_chinese() -> None:
    start = next(c for c in slash_commands() if c.name == "start")
    built = app_command(start, _noop)
    translator = SummaryTranslator()
    chinese = await translator.translate(built._locale_description, discord.Locale.chinese, None)  # type: ignore[arg-type]
    assert chinese
    assert chinese != start.description
    assert (
        await translator.translate(built._locale_description, discord.Locale.german, None) is None
    )  # type: ignore[arg-type]


def http_error(
    status: int, code: int, headers: dict[str, str] | None = None
) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="x", headers=headers or {})
    return discord.HTTPException(response, {"code": code, "message": "refused"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (http_error(403, 50007), Unreachable),
        (http_error(404, 10013), Unreachable),
        (http_error(404, 10003), Unreachable),
        (http_error(429, 0, {"Retry-After": "7"}), RetryLater),
        (discord.RateLimited(12.5), RetryLater),
        (http_error(503, 0), TemporaryFailure),
        (TimeoutError(), TemporaryFailure),
        (http_error(400, 50035), DeliveryError),
    ],
)
def test_failed_sends_become_channel_errors(
    error: Exception, expected: type[DeliveryError]
) -> None:
    classified = classify(error)
    assert type(classified) is expected


def test_retry_after_comes_from_the_answer() -> None:
    assert classify(http_error(429, 0, {"Retry-After": "7"})).seconds == 7.0  # type: ignore[attr-defined]
    assert classify(discord.RateLimited(12.5)).seconds == 12.5  # type: ignore[attr-defined]
