"""The whole marketplace loop on WhatsApp, through the real webhook endpoint, Graph API client
and notice dispatcher, against the strict fake Cloud API: signed webhooks in, buttons and
list rows tapped, notices delivered inside the 24-hour window or as the approved template
outside it. Once across channels too: the creator on WhatsApp, the seller on Telegram."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from pathlib import Path

import aiohttp

from core.domain.common import Money, Platform
from core.domain.offers import Reward, RewardKind, VideoType
from core.domain.orders import OrderState, parse_order_number
from core.services import (
    Actor,
    ProfileChanges,
    approve_order,
    find_member,
    order_view,
    record_shipment,
    update_profile,
)
from tests.e2e.telegram_fake import FakeUser
from tests.e2e.whatsapp_fake import FakeWhatsAppUser, SentMessage
from tests.e2e.whatsapp_fake.harness import VERIFY_TOKEN, RunningBot, running_bot
from tests.e2e.whatsapp_fake.webhooks import SIGNATURE_HEADER, sign

ADDRESS = "Ana Creator\n1 Main St\n-\nAustin\nTX\n78701\nUS\n+15550100"
VIDEO_1 = "https://www.amazon.com/vdp/0123456789abcdef0123456789abcdef"
VIDEO_2 = "https://www.amazon.com/vdp/fedcba9876543210fedcba9876543210"
ANA = "15550001001"
SAM = "15550002001"
FEE = Reward(RewardKind.FEE, Money(Decimal("25"), "USD"))


async def onboard(user: FakeWhatsAppUser, *, address: bool = False) -> None:
    await user.send_text("hi")
    await user.wait_for_text("which language")
    await user.choose("English")
    await user.wait_for_text("What name should sellers see?")
    await user.choose("Use")
    await user.wait_for_text("storefront")
    await user.send_text(f"https://www.amazon.com/shop/{user.name.lower()}-films")
    await user.wait_for_text("categories")
    await user.choose("Kitchen")
    await user.wait_for_option("Done (1 chosen)")
    await user.choose("Done (1 chosen)")
    await user.wait_for_text("country")
    await user.choose("US")
    await user.wait_for_text("Last step")
    if address:
        await user.choose("Add it now")
        await user.wait_for_text("one item per line")
        await user.send_text(ADDRESS)
    else:
        await user.choose("Later")
    await user.wait_for_text("all set")


async def claim_first_offer(user: FakeWhatsAppUser) -> str:
    await user.send_text("offers")
    await user.wait_for_text("Offers for you")
    await user.choose("1. Bamboo")
    await user.wait_for_option("Claim this offer")
    await user.choose("Claim this offer")
    answer = await user.wait_for_text("Your order number is")
    return answer.text.split("Your order number is ")[1].split(".")[0]


async def order_state(bot: RunningBot, number: str) -> OrderState:
    order_id = parse_order_number(number)
    assert order_id is not None
    return (await order_view(bot.mp, Actor.system(), order_id)).order.state


def is_template(message: SentMessage) -> bool:
    return message.type == "template"


async def test_the_whole_journey_on_whatsapp(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.wa.user(ANA, "Ana")
        sam = bot.wa.user(SAM, "Sam")
        seller_id = await bot.seller("Acme", f"whatsapp:{SAM}")
        await bot.offer(seller_id, reward=FEE)

        await onboard(ana)
        number = await claim_first_offer(ana)

        # Sam never wrote to the business number: his first notice can only be the template.
        applied = await sam.wait_for_text(f"Ana applied for Bamboo cutting board ({number})")
        assert is_template(applied)
        assert applied.buttons == ["Open"]
        await sam.press("Open")
        await sam.wait_for_text("Applications, best match first (1)")
        await sam.choose("✓ 1. Ana")
        await sam.wait_for_text(f"Selected {number}")

        # Ana wrote a minute ago: her notices come as ordinary interactive messages.
        selected = await ana.wait_for_text("You were selected for Bamboo cutting board")
        assert not is_template(selected)
        await ana.wait_for_option("Add address")
        await ana.choose("Add address")
        await ana.wait_for_text("one item per line")
        await ana.send_text(ADDRESS)
        await ana.wait_for_text("Address saved")

        await sam.wait_for_text(f"{number} for Bamboo cutting board is ready to ship")
        await sam.choose("Enter tracking")
        ship = await sam.wait_for_text("Ship to:")
        assert "Austin" in ship.text
        await sam.choose("UPS")
        await sam.wait_for_text("tracking number")
        await sam.send_text("1Z999AA10123456784")
        await sam.wait_for_text(f"Shipped {number}")
        shipped = await ana.wait_for_text("is on its way")
        assert "1Z999AA10123456784" in shipped.text
        track = await ana.wait_for_option("Track parcel")
        assert track.interactive_type == "cta_url"

        # Ana pastes her link; Sam asks for a redo, ticking reasons in a list.
        await ana.send_text(f"Done! {VIDEO_1}")
        await ana.wait_for_text("with the seller for review")
        await sam.wait_for_text("New video")
        await sam.choose("Request redo")
        await sam.wait_for_text("Tick the reasons")
        await sam.choose("Portrait instead of")
        await sam.wait_for_text("What should the creator fix")
        await sam.choose("Shaky")
        await sam.wait_for_option("Send redo request (2)")
        await sam.choose("Send redo request (2)")
        await sam.wait_for_text("short note")
        await sam.send_text("Please hold the phone sideways")
        await sam.wait_for_text(f"Redo requested for {number}")

        redo = await ana.wait_for_text(f"Redo requested for {number}")
        assert "Portrait instead of landscape" in redo.text
        assert "Please hold the phone sideways" in redo.text
        await ana.choose("Send new video")
        await ana.wait_for_text("Paste the Amazon link")
        await ana.send_text(VIDEO_2)
        await ana.wait_for_text("with the seller for review")

        await sam.wait_for_text("New video after the redo")
        await sam.choose("✓ Accept")
        await sam.wait_for_text(f"Accepted {number}")
        await sam.choose("Confirm payment")
        await sam.wait_for_text("Confirm you paid 25.00 USD")
        await sam.choose("Yes, it is paid")
        await sam.wait_for_text(f"Payment confirmed for {number}")
        await ana.wait_for_text(f"Payment of 25.00 USD for {number} was confirmed")
        assert await order_state(bot, number) is OrderState.PAID

        await ana.send_text("profile")
        await ana.wait_for_text("Completed videos: 1")
        await ana.send_text("/orders")
        orders = await ana.wait_for_text("Your orders")
        assert "done" in orders.text

        # Nothing the bot sent was refused, and only Sam's first notice was a template.
        assert [c.error_code for c in bot.wa.calls if not c.ok] == []
        templates = [m for m in bot.wa.sent if is_template(m)]
        assert [m.to for m in templates] == [SAM]


async def test_creator_on_whatsapp_and_seller_on_telegram(tmp_path: Path) -> None:
    async with running_bot(tmp_path, telegram=True) as bot:
        assert bot.tg is not None
        ana = bot.wa.user(ANA, "Ana")
        sam: FakeUser = bot.tg.user(2001, "Sam")
        seller_id = await bot.seller("Acme", "telegram:2001")
        await bot.offer(seller_id, reward=FEE)

        await onboard(ana)
        number = await claim_first_offer(ana)

        await sam.wait_for_text("Ana applied for Bamboo cutting board")
        await sam.press("Review applications")
        await sam.wait_for_text("Applications, best match first (1)")
        await sam.press("✓ 1. Ana")
        await sam.wait_for_text(f"Selected {number}")
        await ana.wait_for_text("You were selected for Bamboo cutting board")
        await ana.choose("Add address", await ana.wait_for_option("Add address"))
        await ana.wait_for_text("one item per line")
        await ana.send_text(ADDRESS)
        await ana.wait_for_text("Address saved")

        await sam.wait_for_text(f"{number} for Bamboo cutting board is ready to ship")
        await sam.press("Enter tracking")
        await sam.wait_for_text("Ship to:")
        await sam.press("UPS")
        await sam.wait_for_text("tracking number")
        await sam.send_text("1Z999AA10123456784")
        await ana.wait_for_text("is on its way")

        await ana.send_text(VIDEO_1)
        await ana.wait_for_text("with the seller for review")
        await sam.wait_for_text("New video")
        await sam.press("✓ Accept")
        await sam.wait_for_text(f"Accepted {number}")
        await sam.press("Confirm payment")
        await sam.wait_for_text("Confirm you paid 25.00 USD")
        await sam.press("Yes, it is paid")
        await ana.wait_for_text(f"Payment of 25.00 USD for {number} was confirmed")
        assert await order_state(bot, number) is OrderState.PAID
        assert bot.wa.messages_to(ANA)
        assert bot.tg.user(2001).messages


async def test_a_notice_outside_the_window_goes_as_the_template(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.wa.user(ANA, "Ana")
        sam = bot.wa.user(SAM, "Sam")
        seller_id = await bot.seller("Acme", f"whatsapp:{SAM}")
        await bot.offer(seller_id)
        await onboard(ana, address=True)
        number = await claim_first_offer(ana)
        await sam.wait_for_text("Ana applied")
        await sam.press("Open")
        await sam.wait_for_text("Applications, best match first (1)")

        # A day passes for WhatsApp: Ana's window has closed, so the free-form notice is
        # refused (131047) and the template goes instead.
        bot.wa.close_window(ANA)
        await sam.choose("✓ 1. Ana")
        notice = await ana.wait_for(is_template, description="the notice template")
        assert "You were selected for Bamboo cutting board" in notice.text
        assert "\n" not in notice.template_parameters[0]
        refused = [c for c in bot.wa.calls_to(ANA) if c.error_code == 131047]
        assert len(refused) == 1

        # "Open" does what the notice's button does.
        await ana.press("Open")
        opened = await ana.wait_for_text(number)
        assert not is_template(opened)


async def test_open_on_a_notice_with_several_buttons_shows_them(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.wa.user(ANA, "Ana")
        sam = bot.wa.user(SAM, "Sam")
        seller_id = await bot.seller("Acme", f"whatsapp:{SAM}")
        await bot.offer(seller_id)
        await onboard(ana)
        number = await claim_first_offer(ana)
        await sam.press("Open", await sam.wait_for_text("Ana applied"))
        await sam.wait_for_text("Applications, best match first (1)")
        await sam.choose("✓ 1. Ana")
        await ana.choose("Add address", await ana.wait_for_option("Add address"))
        await ana.wait_for_text("one item per line")
        await ana.send_text(ADDRESS)
        await sam.wait_for_text(f"{number} for Bamboo cutting board is ready to ship")
        await sam.choose("Enter tracking")
        await sam.choose("UPS", await sam.wait_for_option("UPS"))
        await sam.wait_for_text("tracking number")
        await sam.send_text("1Z999AA10123456784")
        await ana.wait_for_text("is on its way")

        bot.wa.close_window(SAM)
        await ana.send_text(VIDEO_1)
        notice = await sam.wait_for(is_template, description="the video notice template")
        assert "New video" in notice.text
        assert VIDEO_1 in notice.text
        await sam.press("Open", notice)
        buttons = await sam.wait_for_option("Accept")
        assert buttons.options == ["✓ Accept", "↺ Request redo", "Open order"]
        await sam.choose("✓ Accept")
        await sam.wait_for_text(f"Accepted {number}")


async def test_forged_and_unsigned_webhooks_are_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        wa = bot.wa
        ana = wa.user(ANA, "Ana")
        await ana.send_text("hi")
        await ana.wait_for_text("which language")
        before = len(wa.calls)

        # A new message id, so de-duplication cannot be what keeps it out.
        raw = ana.sent[-1].raw
        tampered = raw.replace(b'"hi"', b'"/offers"').replace(
            ana.sent[-1].message_id.encode(), b"wamid.forged"
        )
        refused = [
            await wa.post_raw(tampered),  # unsigned
            await wa.post_raw(tampered, {SIGNATURE_HEADER: sign(wa.app_secret, raw)}),
            await wa.post_raw(tampered, {SIGNATURE_HEADER: sign("not-the-secret", tampered)}),
            await wa.post_raw(tampered, {SIGNATURE_HEADER: "sha256="}),
            await wa.post_raw(b"{not json", {SIGNATURE_HEADER: "sha256=00"}),
        ]
        assert [d.status for d in refused] == [403] * 5

        # Correctly signed but not JSON: refused after the signature check, as a bad request.
        junk = b"{not json"
        assert (
            await wa.post_raw(junk, {SIGNATURE_HEADER: sign(wa.app_secret, junk)})
        ).status == 400

        await asyncio.sleep(0.3)
        assert len(wa.calls) == before  # nothing was answered

        # Meta's subscription check: the challenge is echoed only for the right token.
        async with aiohttp.ClientSession() as session:
            good = {
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            }
            async with session.get(bot.webhook_url, params=good) as response:
                assert (response.status, await response.text()) == (200, "1158201444")
            wrong = good | {"hub.verify_token": "guess"}
            async with session.get(bot.webhook_url, params=wrong) as response:
                assert response.status == 403


async def test_a_replayed_message_is_handled_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.wa.user(ANA, "Ana")
        await onboard(ana)
        sent = await ana.send_text("offers")
        await ana.wait_for_text("Offers for you")
        again = await ana.resend(sent)
        assert again.status == 200
        await asyncio.sleep(0.3)
        hall = [m for m in ana.messages if "Offers for you" in m.text]
        assert len(hall) == 1


async def test_a_stale_or_forged_button_is_answered_expired(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.wa.user(ANA, "Ana")
        await onboard(ana)
        await ana.send_text("menu")
        menu = await ana.wait_for_option("Offers")

        # A row id altered on the way: its signature no longer matches.
        row = menu.rows[0]
        forged = row["id"][:-1] + ("A" if row["id"][-1] != "A" else "B")
        await ana.send_reply(forged, row["title"], list_row=True)
        await ana.wait_for_text("This button has expired")

        # A button of another deployment, signed with another key.
        await ana.send_reply("1:h:1::AAAAAAAA", "🛍 Offers")
        await ana.wait_for_text("This button has expired")

        # "Open" under a template whose buttons are long gone.
        await ana.send_quick_reply("wo~" + "x" * 22)
        await ana.wait_for_text("This button has expired")

        # The real row still works.
        await ana.pick(row["title"], menu)
        await ana.wait_for_text("Offers for you")


async def test_a_creator_on_two_apps_gets_each_notice_once_on_the_preferred_one(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, telegram=True) as bot:
        assert bot.tg is not None
        ana = bot.wa.user(ANA, "Ana")
        ana_tg = bot.tg.user(1001, "Ana")
        sam = bot.tg.user(2001, "Sam")
        seller_id = await bot.seller("Acme", "telegram:2001")
        await bot.offer(seller_id)
        await onboard(ana)

        # Ana joins her Telegram to the account she made on WhatsApp.
        await ana.send_text("/link")
        code = re.search(r"/link ([A-Z0-9]{8})", (await ana.wait_for_text("/link ")).text)
        assert code is not None
        await ana_tg.send_command("link", code.group(1))
        await ana_tg.wait_for_text("Linked!")
        number = await claim_first_offer(ana)

        await sam.press("Review applications", await sam.wait_for_text("Ana applied"))
        await sam.wait_for_text("Applications, best match first (1)")
        await sam.press("✓ 1. Ana")
        await ana.wait_for_text("You were selected for Bamboo cutting board")
        add_address = await ana.wait_for_option("Add address")

        # Notices now go to Telegram, and only there.
        member = await find_member(bot.mp, Platform.WHATSAPP, ANA)
        assert member is not None
        assert member.id is not None
        changes = ProfileChanges(preferred_platform=Platform.TELEGRAM)
        await update_profile(bot.mp, Actor.member(member.id), changes)
        await ana.choose("Add address", add_address)
        await ana.wait_for_text("one item per line")
        await ana.send_text(ADDRESS)
        await sam.press("Enter tracking", await sam.wait_for_text("is ready to ship"))
        await sam.wait_for_text("Ship to:")
        await sam.press("UPS")
        await sam.wait_for_text("tracking number")
        await sam.send_text("1Z999AA10123456784")
        await ana_tg.wait_for_text(f"Your sample for {number} is on its way")

        await asyncio.sleep(0.3)
        on_whatsapp = [m.text for m in ana.messages]
        on_telegram = [m.content for m in ana_tg.messages]
        assert sum("You were selected" in t for t in on_whatsapp + on_telegram) == 1
        assert sum("is on its way" in t for t in on_whatsapp + on_telegram) == 1
        assert not any("is on its way" in t for t in on_whatsapp)


async def test_a_video_file_is_handed_in_from_whatsapp(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        ana = bot.wa.user(ANA, "Ana")
        bot.wa.user(SAM, "Sam")
        seller_id = await bot.seller("Acme", f"whatsapp:{SAM}")
        await bot.offer(seller_id, video_type=VideoType.INFLUENCER_WITH_FILE)
        await onboard(ana, address=True)
        number = await claim_first_offer(ana)
        order_id = parse_order_number(number)
        assert order_id is not None
        seller = await find_member(bot.mp, Platform.WHATSAPP, SAM)
        assert seller is not None
        assert seller.id is not None
        await approve_order(bot.mp, Actor.member(seller.id), order_id)
        await record_shipment(
            bot.mp, Actor.member(seller.id), order_id, "ups", "1Z999AA10123456784"
        )
        await ana.wait_for_text("is on its way")

        await ana.send_text(VIDEO_1)
        await ana.wait_for_text("also needs the video file")
        await ana.send_image("the box")  # a photo is not the video
        await ana.wait_for_text("also needs the video file")
        video = await ana.send_video("my video")
        await ana.wait_for_text("with the seller for review")
        view = await order_view(bot.mp, Actor.system(), order_id)
        assert view.order.video is not None
        assert view.order.video.file_ref == video.media_id
