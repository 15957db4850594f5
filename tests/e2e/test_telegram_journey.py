"""The whole marketplace loop in Telegram, through the real client libraries (aiogram and
python-telegram-bot) talking to the strict fake Bot API: updates in, buttons pressed, notices
delivered by the dispatcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.domain.orders import OrderState
from tests.e2e.telegram_bot import RunningBot, running_bot
from tests.e2e.telegram_fake import BotMessage, FakeUser

pytestmark = pytest.mark.parametrize("driver", ["aiogram", "ptb"])

ADDRESS = "Ana Creator\n1 Main St\n-\nAustin\nTX\n78701\nUS\n+15550100"
VIDEO_1 = "https://www.amazon.com/vdp/0123456789abcdef0123456789abcdef"
VIDEO_2 = "https://www.amazon.com/vdp/fedcba9876543210fedcba9876543210"


async def wait_for_button(user: FakeUser, label: str) -> BotMessage:
    """The newest message carrying a button with ``label``: pass it to ``press``, so that a
    notice arriving meanwhile cannot get in the way."""
    return await user.wait_for(
        lambda m: any(label in b for b in m.buttons),
        description=f"a message with the button {label!r}",
    )


async def onboard(user: FakeUser, *, address: bool = False) -> None:
    await user.send_command("/start")
    await user.wait_for_text("which language")
    await user.press("English")
    await user.wait_for_text("What name should sellers see?")
    await user.press("Use")
    await user.wait_for_text("storefront")
    await user.send_text(f"https://www.amazon.com/shop/{user.first_name.lower()}-films")
    await user.wait_for_text("categories")
    await user.press("Kitchen")
    await user.wait_for(
        lambda m: any("Done (1 chosen)" in b for b in m.buttons), description="one category ticked"
    )
    await user.press("Done (1 chosen)")
    await user.wait_for_text("country")
    await user.press("US")
    await user.wait_for_text("Last step")
    if address:
        await user.press("Add it now")
        await user.wait_for_text("one item per line")
        await user.send_text(ADDRESS)
    else:
        await user.press("Later")
    await user.wait_for_text("all set")


async def claim_first_offer(user: FakeUser) -> str:
    await user.send_command("/offers")
    await user.wait_for_text("Offers for you")
    await user.press("1. Bamboo cutting board")
    await wait_for_button(user, "Claim this offer")
    await user.press("Claim this offer")
    answer = await user.wait_for_text("Your order number is")
    return answer.content.split("Your order number is ")[1].split(".")[0]


async def order_state(bot: RunningBot, number: str) -> OrderState:
    from core.domain.orders import parse_order_number
    from core.services import Actor, order_view

    order_id = parse_order_number(number)
    assert order_id is not None
    return (await order_view(bot.mp, Actor.system(), order_id)).order.state


async def test_the_whole_journey_in_telegram(tmp_path: Path, driver: str) -> None:
    async with running_bot(tmp_path, driver) as bot:
        tg = bot.tg
        ana = tg.user(1001, "Ana", language_code="en")
        sam = tg.user(2001, "Sam", language_code="en")
        seller_id = await bot.seller("Acme", sam)
        from decimal import Decimal

        from core.domain.common import Money
        from core.domain.offers import Reward, RewardKind

        await bot.offer(seller_id, reward=Reward(RewardKind.FEE, Money(Decimal("25"), "USD")))

        await onboard(ana)
        number = await claim_first_offer(ana)

        # The seller hears about the application and selects Ana.
        await sam.wait_for_text("Ana applied for Bamboo cutting board")
        await sam.press("Review applications")
        await sam.wait_for_text("Applications, best match first (1)")
        await sam.press("✓ 1. Ana")
        await sam.wait_for_text(f"Selected {number}")

        # Ana is told, and asked for the address she skipped at onboarding.
        await ana.wait_for_text("You were selected for Bamboo cutting board")
        await ana.wait_for(
            lambda m: "shipping address" in m.content and bool(m.buttons),
            description="address request",
        )
        await ana.press("Add address")
        await ana.wait_for_text("one item per line")
        await ana.send_text(ADDRESS)
        await ana.wait_for_text("Address saved")

        # The seller ships.
        await sam.wait_for_text(f"{number} for Bamboo cutting board is ready to ship")
        await sam.press("Enter tracking")
        ship = await sam.wait_for_text("Ship to:")
        assert "Austin" in ship.content
        await sam.press("UPS")
        await sam.wait_for_text("tracking number")
        await sam.send_text("1Z999AA10123456784")
        await sam.wait_for_text(f"Shipped {number}")
        shipped = await ana.wait_for_text("is on its way")
        assert "1Z999AA10123456784" in shipped.content
        assert any("Track parcel" in b for b in shipped.buttons)

        # Ana pastes her video link; the seller asks for a redo.
        await ana.send_text(f"Done! {VIDEO_1}")
        await ana.wait_for_text("with the seller for review")
        await sam.wait_for_text("New video")
        await sam.press("Request redo")
        await sam.wait_for_text("Tick the reasons")
        await sam.press("Portrait instead of landscape")
        await sam.wait_for_text("What should the creator fix")
        await sam.press("Shaky")
        await sam.wait_for(
            lambda m: any("Send redo request (2)" in b for b in m.buttons),
            description="two reasons ticked",
        )
        await sam.press("Send redo request (2)")
        await sam.wait_for_text("short note")
        await sam.send_text("Please hold the phone sideways")
        await sam.wait_for_text(f"Redo requested for {number}")

        redo = await ana.wait_for_text(f"Redo requested for {number}")
        assert "Portrait instead of landscape" in redo.content
        assert "Please hold the phone sideways" in redo.content
        await ana.press("Send new video")
        await ana.wait_for_text("Paste the Amazon link")
        await ana.send_text(VIDEO_2)
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

        await ana.send_command("/profile")
        await ana.wait_for_text("Completed videos: 1")
        await ana.send_command("/orders")
        orders = await ana.wait_for_text("Your orders")
        assert "done" in orders.content

        # Every button press was answered, within a second.
        answers = tg.answered_callbacks
        assert answers
        assert not tg.unanswered_callbacks
        slowest = sorted(round(a.delay, 3) for a in answers)[-3:]
        assert max(a.delay for a in answers) < 1.0, slowest


async def test_a_seller_approves_a_batch(tmp_path: Path, driver: str) -> None:
    async with running_bot(tmp_path, driver) as bot:
        tg = bot.tg
        sam = tg.user(2001, "Sam")
        seller_id = await bot.seller("Acme", sam)
        offer_id = await bot.offer(seller_id, slots=2)
        creators = [tg.user(1001 + i, name) for i, name in enumerate(["Ana", "Bo", "Cy"])]
        numbers = []
        for creator in creators:
            await onboard(creator, address=True)
            numbers.append(await claim_first_offer(creator))
        await sam.send_command("/myoffers")
        await sam.press("Bamboo cutting board", await wait_for_button(sam, "Bamboo cutting board"))
        await sam.press("Applications (3)", await wait_for_button(sam, "Applications (3)"))
        await sam.press("Tick several", await wait_for_button(sam, "Tick several"))
        await sam.press("☐ 1.", await wait_for_button(sam, "Approve ticked (0)"))
        await sam.press("☐ 2.", await wait_for_button(sam, "Approve ticked (1)"))
        ticked = await wait_for_button(sam, "Approve ticked (2)")
        await sam.press("Approve ticked (2)", ticked)
        await sam.wait_for_text("Selected 2")
        selected = 0
        for creator in creators:
            message = await creator.wait_for(
                lambda m: "You were selected" in m.content or "has closed" in m.content,
                description="selected or closed notice",
                since_last_action=False,
            )
            selected += "You were selected" in message.content
        assert selected == 2
        assert offer_id
