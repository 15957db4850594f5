"""What bad input gets in Telegram: a clear, short answer and nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.domain.orders import OrderState
from tests.e2e.telegram_bot import running_bot
from tests.e2e.test_telegram_journey import (
    VIDEO_1,
    claim_first_offer,
    onboard,
    order_state,
    wait_for_button,
)

pytestmark = pytest.mark.parametrize("driver", ["aiogram", "ptb"])


async def test_bad_input_gets_clear_answers(tmp_path: Path, driver: str) -> None:
    async with running_bot(tmp_path, driver) as bot:
        tg = bot.tg
        ana = tg.user(1001, "Ana")
        bo = tg.user(1002, "Bo")
        sam = tg.user(2001, "Sam")
        seller_id = await bot.seller("Acme", sam)
        await bot.offer(seller_id, slots=1)
        await onboard(ana, address=True)
        await onboard(bo, address=True)

        # Unknown command, text far over the limit, a link that is not an Amazon video.
        await ana.send_command("/frobnicate")
        await ana.wait_for_text("Unknown command /frobnicate")
        await ana.send_text("x" * 4096)
        await ana.wait_for_text("too long")
        await ana.send_text("look https://www.youtube.com/watch?v=abc")
        await ana.wait_for_text("Sorry, I did not understand")
        await ana.send_text("https://www.amazon.com/dp/B0C1234567")
        await ana.wait_for_text("product page, not a video")

        # A claim pressed twice: one order, then "already claimed".
        number = await claim_first_offer(ana)
        await ana.send_command("/offers")
        await ana.wait_for_text("No offers match right now")

        # A forged button payload and a button from someone else's chat.
        tg.push_update(
            "callback_query",
            {
                "id": "forged-1",
                "from": ana.user,
                "chat_instance": "1",
                "message": tg.state.message_json(ana.last),
                "data": "1:a:1::AAAAAAAA",
            },
        )
        await ana.wait_for_text("This button has expired")
        await sam.wait_for_text("Ana applied")
        approve_payload = next(
            b["callback_data"]
            for row in sam.last.reply_markup["inline_keyboard"]
            for b in row
            if "callback_data" in b
        )
        tg.push_update(
            "callback_query",
            {
                "id": "foreign-1",
                "from": bo.user,
                "chat_instance": "2",
                "message": tg.state.message_json(bo.last),
                "data": approve_payload,
            },
        )
        await bo.wait_for_text("not for you")
        assert await order_state(bot, number) is OrderState.APPLIED

        # Approve twice (the second press is late): one selection, a clear answer.
        await sam.press("Review applications")
        await wait_for_button(sam, "✓ 1. Ana")
        listing = sam.last
        assert listing is not None
        payload = next(
            b["callback_data"] for b in listing.inline_buttons() if b["text"] == "✓ 1. Ana"
        )
        await sam.press("✓ 1. Ana", listing)
        await sam.wait_for_text(f"Selected {number}")
        # The same button again, as a second tap that arrives after the first was handled.
        tg.push_update(
            "callback_query",
            {
                "id": "late-tap",
                "from": sam.user,
                "chat_instance": "3",
                "message": tg.state.message_json(listing),
                "data": payload,
            },
        )
        await sam.wait_for_text("already selected")
        assert await order_state(bot, number) is OrderState.PENDING_SHIPMENT

        # The offer is full now, so it ended: a late claim is refused.
        await bo.send_command("/offers")
        await bo.wait_for_text("No offers match right now")

        # An address with missing lines.
        await ana.send_command("/profile")
        await wait_for_button(ana, "Address")
        await ana.press("Address")
        await ana.wait_for_text("one item per line")
        await ana.send_text("Ana\n1 Main St")
        await ana.wait_for_text("on separate lines")
        await ana.send_command("/cancel")
        await ana.wait_for_text("Stopped. Nothing was saved.")

        # A video link while no order waits for one is explained.
        await ana.send_text(VIDEO_1)
        await ana.wait_for_text("none of your orders is waiting for a video")


async def test_webhook_mode_with_a_duplicated_delivery(tmp_path: Path, driver: str) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "webhook-secret-123"
    async with running_bot(
        tmp_path,
        driver,
        telegram_mode="webhook",
        http_listen=f"127.0.0.1:{port}",
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        telegram_webhook_secret=secret,
    ) as bot:
        tg = bot.tg
        await tg.wait_for_call("setWebhook", lambda call: call.ok, timeout=10)
        assert tg.webhook.url.endswith("/telegram/webhook")
        tg.deliver_twice = True
        ana = tg.user(1001, "Ana")
        sam = tg.user(2001, "Sam")
        seller_id = await bot.seller("Acme", sam)
        await bot.offer(seller_id)
        await onboard(ana)
        number = await claim_first_offer(ana)
        assert await order_state(bot, number) is OrderState.APPLIED
        deliveries = tg.webhook_deliveries
        ids = [d.update_id for d in deliveries]
        assert len(ids) > len(set(ids)), "the fake delivered updates twice"
        # Each update was answered once: one "Claimed!" message.
        claimed = [m for m in ana.messages if "Your order number is" in m.content]
        assert len(claimed) == 1

        # A request without the secret header is refused.
        import aiohttp

        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/telegram/webhook", json={"update_id": 1}
            ) as response,
        ):
            assert response.status == 403


async def test_polling_outlives_a_failed_getupdates(tmp_path: Path, driver: str) -> None:
    async with running_bot(tmp_path, driver) as bot:
        tg = bot.tg
        ana = tg.user(1001, "Ana")
        await ana.send_command("/help")
        await ana.wait_for_text("/offers")
        # The call after the one that hands out the next update fails twice; the bot waits,
        # asks again, and neither loses nor repeats an update.
        tg.inject_error("getUpdates", 502, "Bad Gateway", times=2)
        await ana.send_command("/help")
        await ana.wait_for_text("/offers")
        await ana.send_command("/help")
        await ana.wait_for_text("/offers")
        failed = [c for c in tg.calls if c.method == "getUpdates" and c.status >= 400]
        assert [c.status for c in failed] == [502, 502]
        assert len([m for m in ana.messages if "/offers" in m.content]) == 3
