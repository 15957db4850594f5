"""The whole loop of one order, from claim to payment, through the use cases."""

from __future__ import annotations

from core import services as s
from core.domain.orders import OrderState, RedoReason
from core.notices import NoticeTemplate as T
from tests.unit.world import World


async def test_a_fee_order_goes_from_claim_to_paid_with_every_notice() -> None:
    w = World()
    seller_id, staff = await w.seller()
    creator = await w.creator("Ana")
    offer = await w.offer(seller_id, fee="25.00")
    assert offer.id is not None

    order = await s.claim_offer(w.mp, creator, offer.id)
    assert order.state is OrderState.APPLIED
    assert order.number.startswith("CB-")
    assert [n.recipient_id for n in w.notices(T.NEW_APPLICATION)] == [staff.member_id]
    assert w.notices(T.NEW_APPLICATION)[0].digest == f"applications:{offer.id}"

    assert order.id is not None
    approved = await s.approve_order(w.mp, staff, order.id)
    assert approved.state is OrderState.PENDING_SHIPMENT  # the address was on file
    assert w.notices(T.ORDER_SELECTED, creator)

    shipped = await s.record_shipment(w.mp, staff, order.id, "ups", "1z 999 aa1 0123 4567 84")
    assert shipped.state is OrderState.SHIPPED
    assert shipped.shipment is not None
    assert shipped.shipment.tracking_number == "1Z999AA10123456784"
    assert shipped.shipment.tracking_url
    assert "1Z999AA10123456784" in shipped.shipment.tracking_url
    assert w.notices(T.ORDER_SHIPPED, creator)

    w.later(days=3)
    link = w.video()
    done = await s.submit_video(w.mp, creator, order.id, link)
    assert done.state is OrderState.COMPLETED
    assert w.notices(T.VIDEO_SUBMITTED, staff)
    assert w.member(creator).creator.completed_videos == 1  # type: ignore[union-attr]

    redo = await s.request_redo(
        w.mp, staff, order.id, [RedoReason.PORTRAIT, RedoReason.SHAKY], "Please film in landscape"
    )
    assert redo.state is OrderState.REDO_REQUESTED
    assert redo.last_redo is not None
    assert redo.last_redo.note == "Please film in landscape"
    assert w.notices(T.REDO_REQUESTED, creator)[0].params == {"order_id": order.id, "redo": 1}

    again = await s.submit_video(w.mp, creator, order.id, w.video())
    assert again.state is OrderState.COMPLETED
    assert w.notices(T.VIDEO_RESUBMITTED, staff)
    profile = w.member(creator).creator
    assert profile is not None
    assert profile.completed_videos == 1  # a resubmission does not count twice
    assert profile.redo_orders == 1
    assert profile.on_time_videos == 1

    paid = await s.confirm_payment(w.mp, staff, order.id, "PAYPAL-77")
    assert paid.state is OrderState.PAID
    assert paid.payment is not None
    assert str(paid.payment.amount) == "25.00 USD"
    assert w.notices(T.VIDEO_ACCEPTED, creator)
    assert w.notices(T.PAYMENT_CONFIRMED, creator)

    history = w.store.submissions[order.id]
    assert [h.number for h in history] == [1, 2]
    assert len(w.store.redos[order.id]) == 1


async def test_a_free_product_order_is_done_when_the_video_is_accepted() -> None:
    w = World()
    seller_id, staff = await w.seller()
    creator = await w.creator()
    offer = await w.offer(seller_id)
    assert offer.id is not None
    order = await s.claim_offer(w.mp, creator, offer.id)
    assert order.id is not None
    await s.approve_order(w.mp, staff, order.id)
    await s.record_shipment(w.mp, staff, order.id, "USPS", "9400111899223856928499")
    await s.submit_video(w.mp, creator, order.id, w.video())
    accepted = await s.accept_video(w.mp, staff, order.id)
    assert accepted.state is OrderState.PAID
    assert w.notices(T.VIDEO_ACCEPTED, creator)
    assert not w.notices(T.PAYMENT_CONFIRMED)


async def test_a_creator_without_address_is_asked_and_the_seller_told_when_it_arrives() -> None:
    w = World()
    seller_id, staff = await w.seller()
    creator = await w.creator(address=False)
    offer = await w.offer(seller_id)
    assert offer.id is not None
    order = await s.claim_offer(w.mp, creator, offer.id)
    assert order.id is not None
    selected = await s.approve_order(w.mp, staff, order.id)
    assert selected.state is OrderState.AWAITING_ADDRESS
    assert w.notices(T.ADDRESS_NEEDED, creator)

    from tests.unit.world import ADDRESS

    await s.set_shipping_address(w.mp, creator, ADDRESS)
    assert w.store.orders[order.id].state is OrderState.PENDING_SHIPMENT
    assert w.notices(T.READY_TO_SHIP, staff)
    address = await s.shipping_address(w.mp, staff, order.id)
    assert address.city == "Austin"


async def test_overdue_video_gets_reminders_then_a_final_one_and_each_only_once() -> None:
    w = World()
    seller_id, staff = await w.seller()
    creator = await w.creator()
    offer = await w.offer(seller_id, content_deadline_days=14)
    assert offer.id is not None
    order = await s.claim_offer(w.mp, creator, offer.id)
    assert order.id is not None
    await s.approve_order(w.mp, staff, order.id)
    await s.record_shipment(w.mp, staff, order.id, "DHL", "JD014600006281230910")

    w.later(days=13)
    assert await s.mark_overdue_videos(w.mp) == 0
    w.later(days=1, minutes=1)
    assert await s.mark_overdue_videos(w.mp) == 1
    assert await s.mark_overdue_videos(w.mp) == 0  # a second sweep changes nothing
    assert w.store.orders[order.id].state is OrderState.VIDEO_OVERDUE
    assert len(w.notices(T.VIDEO_OVERDUE, creator)) == 1

    sent = 0
    for _ in range(6):
        w.later(days=3)
        sent += await s.send_due_reminders(w.mp)
        sent += await s.send_due_reminders(w.mp)
    reminders = w.notices(T.VIDEO_REMINDER, creator)
    assert sent == 3 == len(reminders)  # four in all with the first, the last one final
    assert [r.params["final"] for r in reminders] == [False, False, True]

    late = await s.submit_video(w.mp, creator, order.id, w.video())
    assert late.state is OrderState.COMPLETED
    assert late.on_time is False
    profile = w.member(creator).creator
    assert profile is not None
    assert (profile.completed_videos, profile.on_time_videos) == (1, 0)
    stats = await s.creator_stats(w.mp, creator)
    assert stats.on_time_rate == 0.0


async def test_filling_the_last_slot_ends_the_offer_and_tells_everyone_waiting() -> None:
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id, slots=2)
    assert offer.id is not None
    creators = [await w.creator(f"C{i}") for i in range(4)]
    orders = [await s.claim_offer(w.mp, c, offer.id) for c in creators]
    ids = [o.id for o in orders if o.id is not None]

    result = await s.approve_orders(w.mp, staff, ids[:2])
    assert len(result.done) == 2
    assert result.offer_ended
    stored = w.store.offers[offer.id]
    assert stored.state.value == "ended"
    assert stored.end_reason == "slots_filled"
    for c in creators[2:]:
        assert [n.template for n in w.notices(recipient=c)] == [T.OFFER_CLOSED]
    assert w.notices(T.OFFER_ENDED, staff)


async def test_batch_approval_reports_what_it_could_not_do() -> None:
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id, slots=2)
    assert offer.id is not None
    creators = [await w.creator(f"C{i}") for i in range(3)]
    orders = [await s.claim_offer(w.mp, c, offer.id) for c in creators]
    first = orders[0].id
    assert first is not None
    await s.approve_order(w.mp, staff, first)
    result = await s.approve_orders(w.mp, staff, [o.id for o in orders if o.id])
    assert [o.id for o in result.done] == [orders[1].id]
    codes = {oid: err.code for oid, err in result.skipped}
    assert codes[first] == "already_selected"
    assert codes[orders[2].id] in ("order_bad_state", "offer_full")  # declined as the offer filled


async def test_approve_top_selects_the_recommended_creators() -> None:
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id, slots=5)
    assert offer.id is not None
    newbie = await w.creator("Newbie")
    veteran = await w.creator("Veteran", top=True)
    for actor in (newbie, veteran):
        await s.claim_offer(w.mp, actor, offer.id)
    ranked = await s.ranked_applications(w.mp, staff, offer.id)
    assert [r.creator.id for r in ranked] == [veteran.member_id, newbie.member_id]
    result = await s.approve_top(w.mp, staff, offer.id, 1)
    assert [o.creator_id for o in result.done] == [veteran.member_id]


async def test_auto_offers_select_the_top_ranked_applicants() -> None:
    w = World()
    seller_id, staff = await w.seller()
    from core.domain.offers import SelectionMode

    offer = await w.offer(seller_id, slots=1, selection=SelectionMode.AUTO)
    assert offer.id is not None
    a = await w.creator("A")
    b = await w.creator("B", top=True)
    await s.claim_offer(w.mp, a, offer.id)
    await s.claim_offer(w.mp, b, offer.id)
    assert await s.auto_select_due(w.mp) == 1
    selected = [o for o in w.store.orders.values() if o.is_selected]
    assert [o.creator_id for o in selected] == [b.member_id]
    assert w.notices(T.READY_TO_SHIP, staff)  # nobody pressed a button: the seller is told
    assert w.notices(T.OFFER_CLOSED, a)
    assert await s.auto_select_due(w.mp) == 0


async def test_the_application_deadline_ends_the_offer_and_declines_applicants() -> None:
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id)
    assert offer.id is not None
    creator = await w.creator()
    await s.claim_offer(w.mp, creator, offer.id)
    assert await s.end_due_offers(w.mp) == 0
    w.later(days=15)
    assert await s.end_due_offers(w.mp) == 1
    assert await s.end_due_offers(w.mp) == 0
    assert w.store.offers[offer.id].end_reason == "deadline"
    assert w.notices(T.OFFER_CLOSED, creator)
    assert len(w.notices(T.OFFER_ENDED, staff)) == 1


async def test_withdrawing_a_selected_order_frees_the_sample_and_tells_the_seller() -> None:
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id, slots=2)
    assert offer.id is not None
    creator = await w.creator()
    order = await s.claim_offer(w.mp, creator, offer.id)
    assert order.id is not None
    await s.approve_order(w.mp, staff, order.id)
    assert w.store.offers[offer.id].selected_count == 1
    await s.withdraw_order(w.mp, creator, order.id)
    assert w.store.offers[offer.id].selected_count == 0
    notice = w.notices(T.CREATOR_WITHDREW, staff)[0]
    assert notice.params["was_selected"] is True


async def test_pasting_a_link_finds_the_orders_waiting_for_a_video() -> None:
    w = World()
    seller_id, staff = await w.seller()
    creator = await w.creator()
    orders = []
    for _ in range(2):
        offer = await w.offer(seller_id)
        assert offer.id is not None
        order = await s.claim_offer(w.mp, creator, offer.id)
        assert order.id is not None
        await s.approve_order(w.mp, staff, order.id)
        orders.append(order.id)
    assert await s.match_video_link(w.mp, creator, "hi there") is None
    text = f"here it is {w.video()} thanks!"
    none_open = await s.match_video_link(w.mp, creator, text)
    assert none_open is not None
    assert none_open.orders == ()
    await s.record_shipment(w.mp, staff, orders[0], "UPS", "1Z999AA10123456784")
    one = await s.match_video_link(w.mp, creator, text)
    assert one is not None
    assert [o.id for o in one.orders] == [orders[0]]
    await s.record_shipment(w.mp, staff, orders[1], "UPS", "1Z999AA10123456785")
    two = await s.match_video_link(w.mp, creator, text)
    assert two is not None
    assert len(two.orders) == 2
