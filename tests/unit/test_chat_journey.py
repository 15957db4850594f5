"""The whole marketplace loop in chat, platform-neutral: onboarding to payment."""

from __future__ import annotations

from core import services as s
from core.conversations.actions import Action
from core.domain.orders import OrderState
from tests.unit.chat import ChatUser, engine_for
from tests.unit.world import World


async def onboard(creator: ChatUser) -> None:
    await creator.command("start")
    assert "language" in creator.last_text
    await creator.press("English")
    await creator.press("Use")
    await creator.say("https://www.amazon.com/shop/ana-films")
    await creator.press("Kitchen")
    await creator.press("Beauty")
    await creator.press("Done (2 chosen)")
    await creator.press("US")
    await creator.press("Add it now")
    await creator.say("Ana Creator\n1 Main St\n-\nAustin\nTX\n78701\nUS\n+15550100")
    assert "all set" in creator.last_text


async def test_a_creator_and_a_seller_complete_an_order_in_chat() -> None:
    w = World()
    engine = engine_for(w)
    seller_id, _ = await w.seller()
    staff_member = w.store.sellers[seller_id].staff
    staff_id = next(iter(staff_member))
    staff_user_id = w.store.members[staff_id].identities[0].user_id
    offer = await w.offer(seller_id, fee="20")
    assert offer.id is not None

    creator = ChatUser(engine, "777", "Ana")
    await onboard(creator)
    member = await s.find_member(w.mp, creator.platform, "777")
    assert member is not None
    assert member.creator is not None
    assert member.creator.onboarded
    assert member.creator.address is not None
    assert member.creator.categories == frozenset({"kitchen", "beauty"})

    await creator.command("offers")
    assert "Bamboo cutting board" in creator.last_text
    await creator.press("1. Bamboo cutting board")
    await creator.press("Claim this offer")
    assert "Your order number is CB-" in creator.last_text

    seller = ChatUser(engine, staff_user_id, "Acme staff")
    await seller.command("myoffers")
    await seller.press("Bamboo cutting board")
    await seller.press("Applications (1)")
    assert "Ana" in seller.last_text
    await seller.press("✓ 1. Ana")
    assert "Selected CB-" in seller.last_text
    await seller.press("‹ Offer")
    await seller.press("To ship (1)")
    await seller.press("enter tracking")
    assert "Austin" in seller.last_text  # the seller of a selected order sees the address
    await seller.press("UPS")
    await seller.say("1Z999AA10123456784")
    assert "Shipped" in seller.last_text

    await creator.say("Here it is: https://www.amazon.com/vdp/0123456789abcdef0123456789abcdef")
    assert "with the seller for review" in creator.last_text

    order = next(iter(w.store.orders.values()))
    assert order.id is not None
    await seller.press("‹ To ship")
    await seller.press("‹ Offer")
    await seller.press("Videos to review (1)")
    await seller.press(f"Open {order.number}")
    await seller.press("Request redo")
    await seller.press("Portrait instead of landscape")
    await seller.press("Shaky")
    await seller.press("Send redo request (2)")
    await seller.say("Please turn the phone sideways")
    assert w.store.orders[order.id].state is OrderState.REDO_REQUESTED

    await creator.command("orders")
    await creator.press(order.number)
    assert "Portrait instead of landscape" in creator.last_text
    assert "Please turn the phone sideways" in creator.last_text
    await creator.press("Send video")
    await creator.say("https://www.amazon.com/vdp/fedcba9876543210fedcba9876543210")
    assert w.store.orders[order.id].state is OrderState.COMPLETED

    await seller.command("myoffers")
    await seller.press("Bamboo cutting board")
    await seller.press("Videos to review (1)")
    await seller.press(f"Open {order.number}")
    await seller.press("Accept video")
    await seller.press("Confirm payment")
    await seller.press("Yes, it is paid")
    assert w.store.orders[order.id].state is OrderState.PAID

    await creator.command("profile")
    assert "Completed videos: 1" in creator.last_text


async def test_bad_input_gets_clear_answers_and_changes_nothing() -> None:
    w = World()
    engine = engine_for(w)
    creator = ChatUser(engine, "888")
    await onboard(creator)
    commits = w.store.commits

    await creator.command("frobnicate")
    assert "Unknown command /frobnicate" in creator.last_text
    await creator.say("x" * 5000)
    assert "too long" in creator.last_text
    await creator.press_payload("1:ap:2s:x:AAAAAAAA")
    assert "expired" in creator.last_text
    await creator.press_payload("not a payload at all")
    assert "expired" in creator.last_text
    await creator.say("https://www.amazon.com/dp/B0C1234567")
    assert "product page" in creator.last_text
    await creator.command("myoffers")
    assert "not available to you" in creator.last_text
    assert not w.store.orders
    assert w.store.commits - commits <= 6  # only "last seen" updates of the chat account


async def test_a_button_pressed_twice_acts_once_and_foreign_buttons_are_refused() -> None:
    w = World()
    engine = engine_for(w)
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id)
    assert offer.id is not None
    creator = ChatUser(engine, "901")
    await onboard(creator)
    await creator.command("offers")
    await creator.press("1. Bamboo cutting board")
    detail = creator.last_with_buttons()
    await creator.press("Claim this offer", detail)
    await creator.press("Claim this offer", detail)
    assert "already claimed" in creator.last_text
    assert len(w.store.orders) == 1

    intruder = ChatUser(engine, "902", "Mallory")
    await onboard(intruder)
    order_id = next(iter(w.store.orders))
    approve = await engine.codec.encode(Action("a", (order_id,)))
    await intruder.press_payload(approve)
    assert "not on this seller's team" in intruder.last_text
    assert w.store.orders[order_id].state is OrderState.APPLIED


async def test_the_same_update_delivered_twice_is_handled_once() -> None:
    w = World()
    engine = engine_for(w)
    creator = ChatUser(engine, "903")
    from core.conversations.messages import Inbound, InboundKind

    inbound = Inbound(
        creator.platform,
        "903",
        "903",
        "same-event",
        InboundKind.COMMAND,
        display_name="Ana",
        command="start",
    )
    first = await engine.handle(inbound)
    second = await engine.handle(inbound)
    assert first
    assert second == []


async def test_chinese_is_used_when_chosen() -> None:
    w = World()
    engine = engine_for(w)
    creator = ChatUser(engine, "904", language_code="zh-hans")
    await creator.command("start")
    await creator.press("简体中文")
    assert creator.last_text != "What name should sellers see?"
    member = await s.find_member(w.mp, creator.platform, "904")
    assert member is not None
    assert member.language == "zh"


async def test_events_beyond_the_bound_wait_their_turn_and_are_all_answered() -> None:
    import asyncio

    from core.conversations.actions import ActionCodec
    from core.conversations.engine import ConversationEngine
    from core.conversations.router import Router
    from storage.kv.memory import MemoryKeyValueStore

    w = World()
    routes = Router()
    running = 0
    most = 0

    @routes.command("slow", "answers after a pause")
    async def slow(ctx):  # type: ignore[no-untyped-def]
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return [ctx.say("done")]

    async def answers(bound: int | None) -> list[str]:
        kv = MemoryKeyValueStore()
        engine = ConversationEngine(
            w.mp,
            kv,
            ActionCodec(b"test-secret-for-buttons", kv),
            routes=routes,
            max_concurrent=bound,
        )
        users = [ChatUser(engine, f"95{n}") for n in range(6)]
        replies = await asyncio.gather(*(user.command("slow") for user in users))
        return [reply[-1].text.plain() for reply in replies]

    assert await answers(2) == ["done"] * 6
    assert most == 2
    most = 0
    assert await answers(None) == ["done"] * 6
    assert most == 6
