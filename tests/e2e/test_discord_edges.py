"""Discord's hard cases, through the real process wiring and discord.py: stale and forged
buttons, buttons pressed by someone else in a server channel, slow answers, restarts,
gateway reconnects, closed DMs (the notice falls back to Telegram), and what the bot
registers and asks for."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from core.conversations.engine import ConversationEngine
from core.conversations.messages import Inbound
from core.domain.common import Platform
from core.services import find_member
from tests.e2e.discord_fake.collabbot import (
    ADDRESS,
    answer,
    claim_first_offer,
    onboard,
    running_bot,
)

EXPIRED = "This button has expired"
FORGED = "1:cl:5::AAAAAAAA"  # the shape of a payload, signed with no key collabbot knows


async def test_stale_and_forged_buttons_are_answered_expired(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.discord.user("ana")
        old = bot.discord.plant_message(ana, "An offer from last month", [("Claim", FORGED)])
        await ana.press("Claim", old)
        await ana.wait_for_text(EXPIRED)

        await ana.slash("start")
        await ana.wait_for_text("which language")
        for custom_id in ("not-a-payload", "1~" + "A" * 22 + ":AAAAAAAA", "ask|garbage"):
            await ana.press("English", custom_id=custom_id, tamper=True)
            await ana.wait_for_text(EXPIRED)
        # The real button still works, and nothing was changed by the forged ones.
        await ana.press("English")
        await ana.wait_for_text("What name should sellers see?")
        assert not bot.discord.unacknowledged


async def test_in_a_server_channel_answers_are_private_and_not_for_others(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        general = bot.discord.server_channel("general")
        ana = bot.discord.user("ana")
        bob = bot.discord.user("bob")
        await ana.slash("start", channel=general)
        welcome = await ana.wait_for_text("which language")
        assert welcome.ephemeral
        assert welcome.visible_to == ana.id
        assert welcome not in bob.messages

        # Bob's client is tampered with to press Ana's private buttons: refused.
        await bob.press("English", welcome, tamper=True)
        refusal = await bob.wait_for_text("belong to someone else")
        assert refusal.ephemeral
        assert refusal.visible_to == bob.id
        assert await find_member(bot.mp, Platform.DISCORD, str(bob.id)) is None

        # Ana goes on in the channel, typed answers through the modal.
        await ana.press("English", welcome)
        await ana.wait_for_text("What name should sellers see?")
        await answer(ana, "Ana Films")
        asked = await ana.wait_for_text("storefront")
        assert asked.ephemeral
        member = await find_member(bot.mp, Platform.DISCORD, str(ana.id))
        assert member is not None
        assert member.display_name == "Ana Films"
        # Her chat account is written to by DM, never in the server channel.
        identity = member.identity_on(Platform.DISCORD)
        assert identity is not None
        assert identity.chat_id == str(ana.id)


async def test_a_slow_answer_is_deferred_in_time_and_delivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = ConversationEngine.handle

    async def slowly(self: ConversationEngine, inbound: Inbound) -> Any:
        if inbound.command == "help" or inbound.payload:
            await asyncio.sleep(2.0)
        return await handle(self, inbound)

    monkeypatch.setattr(ConversationEngine, "handle", slowly)
    async with running_bot(tmp_path) as bot:
        ana = bot.discord.user("ana")
        helped = await ana.slash("help")
        await ana.wait_for_text("/offers")
        assert helped.response_type == 5  # "thinking…", then the answer in its place
        assert helped.delay is not None
        assert helped.delay < 2.0
        assert not any(m.loading for m in ana.messages)

        await ana.slash("start")
        await ana.wait_for_text("which language")
        pressed = await ana.press("English")
        await ana.wait_for_text("What name should sellers see?", timeout=6)
        assert pressed.response_type == 6
        assert pressed.delay is not None
        assert pressed.delay < 2.0
        assert not bot.discord.refused_callbacks


async def test_buttons_and_modals_keep_working_after_a_restart(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.discord.user("ana")
        await ana.slash("start")
        await ana.wait_for_text("which language")
        await bot.restart()
        await ana.press("English")
        await ana.wait_for_text("What name should sellers see?")

        await ana.press("✍")
        await ana.wait_for_modal()
        await bot.restart()
        await ana.submit_modal("Ana After Restart")
        await ana.wait_for_text("storefront")
        assert len(bot.discord.gateway.identifies) == 3
        assert not bot.discord.unacknowledged


async def test_the_gateway_session_is_resumed_after_a_reconnect_request(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.discord.user("ana")
        await bot.discord.reconnect()
        await ana.slash("start")
        await ana.wait_for_text("which language", timeout=10)
        assert bot.discord.gateway.resumes == 1


async def test_closed_dms_mark_discord_unreachable_and_notices_go_to_telegram(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, telegram=True, telegram_driver="ptb") as bot:
        assert bot.telegram is not None
        ana = bot.discord.user("ana")
        sam = bot.discord.user("sam")
        ana_on_telegram = bot.telegram.user(7001, "Ana")
        seller_id = await bot.seller("Acme", sam)
        await bot.offer(seller_id)

        await onboard(ana)
        await ana.slash("link")
        shown = await ana.wait_for_text("/link ")
        code = re.search(r"/link ([A-Z0-9]{8})", shown.text)
        assert code is not None
        await ana_on_telegram.send_command("link", code.group(1))
        await ana_on_telegram.wait_for_text("Linked!")
        number = await claim_first_offer(ana)

        bot.discord.close_dms(ana)
        await sam.wait_for_text("applied for Bamboo cutting board")
        await sam.press("Review applications")
        await sam.wait_for_text("Applications, best match first (1)")
        await sam.press("✓ 1.")
        await sam.wait_for_text(f"Selected {number}")

        await ana_on_telegram.wait_for_text("You were selected for Bamboo cutting board")
        member = await find_member(bot.mp, Platform.DISCORD, str(ana.id))
        assert member is not None
        identity = member.identity_on(Platform.DISCORD)
        assert identity is not None
        assert not identity.reachable

        # The next notices go straight to Telegram; Discord is not asked again.
        await ana_on_telegram.wait_for(
            lambda m: "shipping address" in m.content and bool(m.buttons),
            description="address request",
        )
        await ana_on_telegram.press("Add address")
        await ana_on_telegram.wait_for_text("one item per line")
        await ana_on_telegram.send_text(ADDRESS)
        await ana_on_telegram.wait_for_text("Address saved")
        await sam.wait_for_text("is ready to ship")
        await sam.press("Enter tracking")
        await sam.wait_for_text("Ship to:")
        await sam.press("UPS")
        await sam.wait_for_text("tracking number")
        await answer(sam, "1Z999AA10123456784")
        await ana_on_telegram.wait_for_text("is on its way")
        refused = [
            c
            for c in bot.discord.calls_to("POST", f"/channels/{ana.dm.id}/messages")
            if c.status == 403
        ]
        assert len(refused) == 1
        assert refused[0].body["code"] == 50007

        # Writing to the bot on Discord again makes the account reachable there again.
        await ana.slash("orders")
        await ana.wait_for_text("Your orders")
        member = await find_member(bot.mp, Platform.DISCORD, str(ana.id))
        assert member is not None
        assert member.identity_on(Platform.DISCORD).reachable


async def test_commands_and_intents(tmp_path: Path) -> None:
    async with running_bot(tmp_path, discord_guild_id=424242) as bot:
        names = {c["name"] for c in bot.discord.commands(424242)}
        assert {"start", "offers", "orders", "profile", "link", "help", "cancel"} <= names
        assert {"myoffers", "newoffer", "stats", "verify", "suspend"} <= names
        assert bot.discord.commands() == []  # guild sync only: instant, nothing global
        # Only non-privileged intents: guilds and direct messages.
        assert bot.discord.gateway.identifies == [(1 << 0) | (1 << 12)]

        general = bot.discord.server_channel("general", guild_id=424242)
        ana = bot.discord.user("ana")
        await ana.slash("stats", channel=general)
        await ana.wait_for_text("not available to you")

        # A command Discord still lists but this version of the bot no longer has.
        bot.discord.state.commands[424242].append(
            {"id": "1", "name": "oldthing", "description": "Gone", "options": []}
        )
        await ana.slash("oldthing", channel=general)
        await ana.wait_for_text("Unknown command /oldthing")


async def test_operators_use_commands_with_arguments(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.discord.user("ana")
        olga = bot.discord.user("olga")
        await bot.operator(olga)
        await onboard(ana)
        member = await find_member(bot.mp, Platform.DISCORD, str(ana.id))
        assert member is not None
        await olga.slash("verify", creator=f"#{member.id}")
        await olga.wait_for_text("Top Creator")
        await olga.slash("stats")
        await olga.wait_for_text("The marketplace now")


async def test_direct_messages_typed_commands_and_text(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.discord.user("ana")
        await ana.send_dm("/help")
        await ana.wait_for_text("/offers")
        await ana.send_dm("hello there")
        await ana.wait_for_text("did not understand")
        await ana.send_dm("x" * 4100)
        await ana.wait_for_text("too long")
        assert not bot.discord.interactions  # answered by DM: no interaction involved
