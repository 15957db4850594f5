"""The whole marketplace loop on Discord, through the real discord.py client talking to the
strict fake Discord: slash commands, buttons, modals for typed answers, and notices by DM
delivered by the dispatcher."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from core.domain.common import Money
from core.domain.offers import Reward, RewardKind
from core.domain.orders import OrderState, parse_order_number
from core.services import Actor, order_view
from tests.e2e.discord_fake.collabbot import (
    ADDRESS,
    VIDEO_1,
    VIDEO_2,
    RunningBot,
    answer,
    claim_first_offer,
    onboard,
    running_bot,
    wait_for_button,
)


async def order_state(bot: RunningBot, number: str) -> OrderState:
    order_id = parse_order_number(number)
    assert order_id is not None
    return (await order_view(bot.mp, Actor.system(), order_id)).order.state


async def test_the_whole_journey_on_discord(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.discord.user("ana")
        sam = bot.discord.user("sam")
        seller_id = await bot.seller("Acme", sam)
        await bot.offer(seller_id, reward=Reward(RewardKind.FEE, Money(Decimal("25"), "USD")))

        await onboard(ana)
        number = await claim_first_offer(ana)

        # The seller hears about the application by DM and selects Ana.
        await sam.wait_for_text("Ana Films applied for Bamboo cutting board")
        await sam.press("Review applications")
        await sam.wait_for_text("Applications, best match first (1)")
        await sam.press("✓ 1. Ana Films")
        await sam.wait_for_text(f"Selected {number}")

        # Ana is told, and asked for the address she skipped at onboarding: a modal.
        await ana.wait_for_text("You were selected for Bamboo cutting board")
        await ana.wait_for(
            lambda m: "shipping address" in m.text and bool(m.buttons),
            description="address request",
        )
        await ana.press("Add address")
        await ana.wait_for_text("one item per line")
        await answer(ana, ADDRESS)
        await ana.wait_for_text("Address saved")

        # The seller ships: carrier by button, tracking number in a modal.
        await sam.wait_for_text(f"{number} for Bamboo cutting board is ready to ship")
        await sam.press("Enter tracking")
        ship = await sam.wait_for_text("Ship to:")
        assert "Austin" in ship.text
        await sam.press("UPS")
        await sam.wait_for_text("tracking number")
        await answer(sam, "1Z999AA10123456784")
        await sam.wait_for_text(f"Shipped {number}")
        shipped = await ana.wait_for_text("is on its way")
        assert "1Z999AA10123456784" in shipped.text
        assert any("Track parcel" in b for b in shipped.buttons)

        # Ana pastes her video link in the DM; the seller asks for a redo.
        await ana.send_dm(f"Done! {VIDEO_1}")
        await ana.wait_for_text("with the seller for review")
        await sam.wait_for_text("New video")
        await sam.press("Request redo")
        await sam.wait_for_text("Tick the reasons")
        await sam.press("Portrait instead of landscape")
        await sam.wait_for_text("What should the creator fix")
        await sam.press("Shaky")
        await wait_for_button(sam, "Send redo request (2)")
        await sam.press("Send redo request (2)")
        await sam.wait_for_text("short note")
        await answer(sam, "Please hold the phone sideways")
        await sam.wait_for_text(f"Redo requested for {number}")

        redo = await ana.wait_for_text(f"Redo requested for {number}")
        assert "Portrait instead of landscape" in redo.text
        assert "Please hold the phone sideways" in redo.text
        await ana.press("Send new video")
        await ana.wait_for_text("Paste the Amazon link")
        await answer(ana, VIDEO_2)
        await ana.wait_for_text("with the seller for review")

        # The seller accepts and confirms payment.
        await sam.wait_for_text("New video after the redo")
        await sam.press("✓ Accept")
        await sam.wait_for_text(f"Accepted {number}")
        await sam.press("Confirm payment")
        await sam.wait_for_text("Confirm you paid 25.00 USD")
        await sam.press("Yes, it is paid")
        await sam.wait_for_text(f"Payment confirmed for {number}")
        await ana.wait_for_text(f"Payment of 25.00 USD for {number} was confirmed")
        assert await order_state(bot, number) is OrderState.PAID

        await ana.slash("profile")
        await ana.wait_for_text("Completed videos: 1")
        await ana.slash("orders")
        orders = await ana.wait_for_text("Your orders")
        assert "done" in orders.text

        # Every interaction was acknowledged, in time, once.
        interactions = bot.discord.interactions
        assert len(interactions) > 30
        assert not bot.discord.unacknowledged
        assert not bot.discord.refused_callbacks
        assert all(i.delay is not None and i.delay < 3.0 for i in interactions)
        # Notices went by DM through the REST API, never as answers to someone's interaction.
        assert bot.discord.calls_to("POST", "/users/@me/channels")
