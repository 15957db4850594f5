"""Every "not allowed" path answers with a clear domain error and changes nothing."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from core import services as s
from core.domain.common import Platform
from core.domain.errors import (
    AlreadyDone,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
)
from core.domain.members import ShippingAddress
from core.domain.offers import VideoType
from core.domain.orders import OrderState, RedoReason
from core.services import Actor
from tests.unit.world import World


def snapshot(w: World) -> Any:
    return copy.deepcopy(w.store.__dict__)


async def refused(
    w: World,
    call: Callable[[], Awaitable[object]],
    error: type[DomainError],
    code: str | None = None,
) -> DomainError:
    """Run a use case that must be refused, and check nothing changed."""
    before = snapshot(w)
    with pytest.raises(error) as caught:
        await call()
    assert snapshot(w) == before, "a refused move must change nothing"
    if code is not None:
        assert caught.value.code == code
    assert str(caught.value)  # a message a person can read
    return caught.value


async def claimed(w: World, **offer: Any) -> tuple[int, Actor, Actor, int]:
    seller_id, staff = await w.seller()
    creator = await w.creator()
    o = await w.offer(seller_id, **offer)
    assert o.id is not None
    order = await s.claim_offer(w.mp, creator, o.id)
    assert order.id is not None
    return seller_id, staff, creator, order.id


# --- roles and ownership -----------------------------------------------------------------


async def test_seller_cannot_approve_another_sellers_order() -> None:
    w = World()
    _, _, _, order_id = await claimed(w)
    _, other_staff = await w.seller("Other brand")
    await refused(
        w, lambda: s.approve_order(w.mp, other_staff, order_id), NotAllowed, "not_seller_staff"
    )
    await refused(
        w, lambda: s.approve_orders(w.mp, other_staff, [order_id]), NotAllowed, "not_seller_staff"
    )
    await refused(w, lambda: s.reject_order(w.mp, other_staff, order_id, "not_a_fit"), NotAllowed)


async def test_a_creator_cannot_act_as_the_seller() -> None:
    w = World()
    _, _, creator, order_id = await claimed(w)
    await refused(w, lambda: s.approve_order(w.mp, creator, order_id), NotAllowed)
    await refused(w, lambda: s.record_shipment(w.mp, creator, order_id, "UPS", "1Z1"), NotAllowed)
    await refused(w, lambda: s.accept_video(w.mp, creator, order_id), NotAllowed)
    await refused(w, lambda: s.cancel_order(w.mp, creator, order_id, "no"), NotAllowed)


async def test_a_creator_cannot_touch_another_creators_order() -> None:
    w = World()
    _, staff, _, order_id = await claimed(w)
    intruder = await w.creator("Mallory")
    await s.approve_order(w.mp, staff, order_id)
    await s.record_shipment(w.mp, staff, order_id, "UPS", "1Z999AA10123456784")
    await refused(
        w, lambda: s.withdraw_order(w.mp, intruder, order_id), NotAllowed, "not_your_order"
    )
    await refused(
        w, lambda: s.submit_video(w.mp, intruder, order_id, w.video()), NotAllowed, "not_your_order"
    )
    # Someone else's order is not even confirmed to exist.
    await refused(w, lambda: s.order_view(w.mp, intruder, order_id), NotFound)


async def test_addresses_are_shown_only_to_the_seller_of_a_selected_order() -> None:
    w = World()
    _, staff, creator, order_id = await claimed(w)
    _, other_staff = await w.seller("Other brand")
    stranger = await w.creator("Eve")
    await refused(
        w, lambda: s.shipping_address(w.mp, staff, order_id), NotAllowed, "address_hidden"
    )
    await s.approve_order(w.mp, staff, order_id)
    assert (await s.shipping_address(w.mp, staff, order_id)).city == "Austin"
    assert (await s.shipping_address(w.mp, creator, order_id)).city == "Austin"
    await refused(w, lambda: s.shipping_address(w.mp, other_staff, order_id), NotAllowed)
    await refused(w, lambda: s.shipping_address(w.mp, stranger, order_id), NotAllowed)


async def test_only_operators_verify_suspend_and_add_sellers() -> None:
    w = World()
    _, staff = await w.seller()
    creator = await w.creator()
    target = creator.member_id
    assert target is not None
    for actor in (creator, staff):
        await refused(
            w, lambda a=actor: s.verify_top_creator(w.mp, a, target), NotAllowed, "operators_only"
        )
        await refused(w, lambda a=actor: s.suspend_creator(w.mp, a, target), NotAllowed)
        await refused(w, lambda a=actor: s.add_seller(w.mp, a, "New brand"), NotAllowed)
        await refused(w, lambda a=actor: s.add_operator(w.mp, a, "telegram:999"), NotAllowed)
    operator = await w.operator()
    assert (await s.verify_top_creator(w.mp, operator, target)).creator.top_creator  # type: ignore[union-attr]


async def test_seller_staff_cannot_manage_another_sellers_offer() -> None:
    w = World()
    seller_id, _ = await w.seller()
    _, other_staff = await w.seller("Other brand")
    offer = await w.offer(seller_id)
    assert offer.id is not None
    oid = offer.id
    for use_case in (s.pause_offer, s.close_offer, s.cancel_offer):
        await refused(w, lambda uc=use_case: uc(w.mp, other_staff, oid), NotAllowed)
    await refused(w, lambda: s.ranked_applications(w.mp, other_staff, oid), NotAllowed)
    await refused(w, lambda: s.block_creator(w.mp, other_staff, seller_id, 1), NotAllowed)


# --- claims --------------------------------------------------------------------------------


async def test_a_second_claim_of_the_same_offer_is_refused_with_the_order_number() -> None:
    w = World()
    _, _, creator, order_id = await claimed(w)
    offer_id = w.store.orders[order_id].offer_id
    error = await refused(
        w, lambda: s.claim_offer(w.mp, creator, offer_id), AlreadyDone, "already_claimed"
    )
    assert w.store.orders[order_id].number in str(error)


@pytest.mark.parametrize("change", ["pause", "close", "deadline"])
async def test_claims_on_paused_or_ended_offers_are_refused(change: str) -> None:
    w = World()
    seller_id, staff = await w.seller()
    offer = await w.offer(seller_id)
    assert offer.id is not None
    oid = offer.id
    creator = await w.creator()
    if change == "pause":
        await s.pause_offer(w.mp, staff, oid)
        code = "offer_not_live"
    elif change == "close":
        await s.close_offer(w.mp, staff, oid)
        code = "offer_not_live"
    else:
        w.later(days=30)
        code = "offer_past_deadline"
    await refused(w, lambda: s.claim_offer(w.mp, creator, oid), NotAllowed, code)


async def test_an_unpublished_offer_cannot_be_claimed_or_seen() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id, publish=False)
    assert offer.id is not None
    oid = offer.id
    creator = await w.creator()
    await refused(w, lambda: s.claim_offer(w.mp, creator, oid), NotAllowed, "offer_not_live")
    await refused(w, lambda: s.offer_card(w.mp, creator, oid), NotAllowed)


@pytest.mark.parametrize(
    ("video_type", "storefront", "top", "code"),
    [
        (VideoType.INFLUENCER, False, False, "needs_storefront"),
        (VideoType.INFLUENCER_WITH_FILE, False, False, "needs_storefront"),
        (VideoType.TOP_CREATOR, True, False, "needs_top_creator"),
        (VideoType.TOP_CREATOR_WITH_FILE, True, False, "needs_top_creator"),
    ],
)
async def test_ineligible_video_types_are_refused(
    video_type: VideoType, storefront: bool, top: bool, code: str
) -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id, video_type=video_type)
    assert offer.id is not None
    oid = offer.id
    creator = await w.creator(storefront=storefront, top=top)
    await refused(w, lambda: s.claim_offer(w.mp, creator, oid), NotAllowed, code)
    hall = await s.offer_hall(w.mp, creator)
    assert hall.total == 0


async def test_amateur_offers_are_open_to_creators_without_a_storefront() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id, video_type=VideoType.AMATEUR_WITH_FILE)
    assert offer.id is not None
    creator = await w.creator(storefront=False)
    assert (await s.offer_hall(w.mp, creator)).total == 1
    await s.claim_offer(w.mp, creator, offer.id)


async def test_a_blocked_creator_sees_no_new_offers_but_running_orders_go_on() -> None:
    w = World()
    seller_id, staff, creator, order_id = await claimed(w)
    await s.approve_order(w.mp, staff, order_id)
    assert creator.member_id is not None
    await s.block_creator(w.mp, staff, seller_id, creator.member_id)
    newer = await w.offer(seller_id)
    assert newer.id is not None
    nid = newer.id
    await refused(w, lambda: s.claim_offer(w.mp, creator, nid), NotAllowed, "blocked_by_seller")
    assert (await s.offer_hall(w.mp, creator)).total == 0
    shipped = await s.record_shipment(w.mp, staff, order_id, "UPS", "1Z999AA10123456784")
    assert shipped.state is OrderState.SHIPPED
    await s.block_creator(w.mp, staff, seller_id, creator.member_id, blocked=False)
    await s.claim_offer(w.mp, creator, nid)


async def test_a_suspended_creator_cannot_claim() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id)
    assert offer.id is not None
    oid = offer.id
    creator = await w.creator()
    operator = await w.operator()
    assert creator.member_id is not None
    await s.suspend_creator(w.mp, operator, creator.member_id)
    await refused(w, lambda: s.claim_offer(w.mp, creator, oid), NotAllowed, "member_suspended")


async def test_targeted_offers_admit_only_their_audience() -> None:
    from core.domain.offers import Audience

    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id, audience=Audience(public=False, countries=frozenset({"DE"})))
    assert offer.id is not None
    oid = offer.id
    us = await w.creator("Us", country="US")
    de = await w.creator("De", country="DE")
    await refused(w, lambda: s.claim_offer(w.mp, us, oid), NotAllowed, "not_in_audience")
    await s.claim_offer(w.mp, de, oid)


async def test_a_creator_who_has_not_finished_onboarding_is_asked_to() -> None:
    w = World()
    seller_id, _ = await w.seller()
    offer = await w.offer(seller_id)
    assert offer.id is not None
    oid = offer.id
    newcomer = await w.person("New")
    await refused(w, lambda: s.claim_offer(w.mp, newcomer, oid), NotAllowed, "not_onboarded")


# --- wrong state ---------------------------------------------------------------------------


async def test_moves_from_the_wrong_state_are_refused() -> None:
    w = World()
    _, staff, creator, order_id = await claimed(w)
    await refused(
        w, lambda: s.record_shipment(w.mp, staff, order_id, "UPS", "1Z1"), InvalidTransition
    )
    await refused(w, lambda: s.submit_video(w.mp, creator, order_id, w.video()), InvalidTransition)
    await refused(w, lambda: s.accept_video(w.mp, staff, order_id), InvalidTransition)
    await refused(
        w, lambda: s.request_redo(w.mp, staff, order_id, [RedoReason.BLURRY]), InvalidTransition
    )
    await s.approve_order(w.mp, staff, order_id)
    await refused(
        w, lambda: s.approve_order(w.mp, staff, order_id), AlreadyDone, "already_selected"
    )
    await refused(w, lambda: s.reject_order(w.mp, staff, order_id, "not_a_fit"), InvalidTransition)
    await s.record_shipment(w.mp, staff, order_id, "UPS", "1Z999AA10123456784")
    await refused(w, lambda: s.withdraw_order(w.mp, creator, order_id), InvalidTransition)


async def test_shipping_before_the_address_arrives_is_refused() -> None:
    w = World()
    seller_id, staff = await w.seller()
    creator = await w.creator(address=False)
    offer = await w.offer(seller_id)
    assert offer.id is not None
    order = await s.claim_offer(w.mp, creator, offer.id)
    assert order.id is not None
    oid = order.id
    await s.approve_order(w.mp, staff, oid)
    await refused(
        w,
        lambda: s.record_shipment(w.mp, staff, oid, "UPS", "1Z999AA1"),
        InvalidTransition,
        "address_not_yet",
    )


async def test_double_presses_change_things_once() -> None:
    w = World()
    _, staff, creator, order_id = await claimed(w, fee="10")
    await s.approve_order(w.mp, staff, order_id)
    await s.record_shipment(w.mp, staff, order_id, "UPS", "1Z999AA10123456784")
    await refused(
        w,
        lambda: s.record_shipment(w.mp, staff, order_id, "UPS", "1Z999AA10123456784"),
        AlreadyDone,
    )
    link = w.video()
    await s.submit_video(w.mp, creator, order_id, link)
    await refused(w, lambda: s.submit_video(w.mp, creator, order_id, link), AlreadyDone)
    await s.request_redo(w.mp, staff, order_id, [RedoReason.BLURRY])
    await refused(
        w, lambda: s.request_redo(w.mp, staff, order_id, [RedoReason.BLURRY]), AlreadyDone
    )
    await s.submit_video(w.mp, creator, order_id, w.video())
    await s.accept_video(w.mp, staff, order_id)
    await refused(w, lambda: s.accept_video(w.mp, staff, order_id), AlreadyDone)
    await s.confirm_payment(w.mp, staff, order_id)
    await refused(w, lambda: s.confirm_payment(w.mp, staff, order_id), AlreadyDone, "already_paid")
    await refused(w, lambda: s.withdraw_order(w.mp, creator, order_id), InvalidTransition)


async def test_confirming_payment_on_a_free_offer_says_to_accept_instead() -> None:
    w = World()
    _, staff, creator, order_id = await claimed(w)
    await s.approve_order(w.mp, staff, order_id)
    await s.record_shipment(w.mp, staff, order_id, "UPS", "1Z999AA10123456784")
    await s.submit_video(w.mp, creator, order_id, w.video())
    await refused(
        w, lambda: s.confirm_payment(w.mp, staff, order_id), InvalidTransition, "no_fee_to_pay"
    )


# --- bad input -----------------------------------------------------------------------------


async def shipped_order(w: World, **offer: Any) -> tuple[Actor, Actor, int]:
    _, staff, creator, order_id = await claimed(w, **offer)
    await s.approve_order(w.mp, staff, order_id)
    await s.record_shipment(w.mp, staff, order_id, "UPS", "1Z999AA10123456784")
    return staff, creator, order_id


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("https://www.youtube.com/watch?v=abc", "video_link_not_amazon"),
        ("https://www.amazon.com/dp/B0C1234567", "video_link_product_page"),
        ("not a link at all", "video_link_not_a_url"),
    ],
)
async def test_links_that_are_not_amazon_videos_are_refused(text: str, code: str) -> None:
    w = World()
    _, creator, order_id = await shipped_order(w)
    error = await refused(w, lambda: s.submit_video(w.mp, creator, order_id, text), InvalidInput)
    assert error.code == code


async def test_the_same_video_cannot_complete_two_orders() -> None:
    w = World()
    seller_id, staff = await w.seller()
    creator = await w.creator()
    other = await w.creator("Bo")
    ids = []
    for actor in (creator, other, creator):
        offer = await w.offer(seller_id)
        assert offer.id is not None
        order = await s.claim_offer(w.mp, actor, offer.id)
        assert order.id is not None
        await s.approve_order(w.mp, staff, order.id)
        await s.record_shipment(w.mp, staff, order.id, "UPS", "1Z999AA10123456784")
        ids.append(order.id)
    link = w.video()
    await s.submit_video(w.mp, creator, ids[0], link)
    mine = await refused(
        w, lambda: s.submit_video(w.mp, creator, ids[2], link), InvalidInput, "video_link_reused"
    )
    assert w.store.orders[ids[0]].number in str(mine)
    theirs = await refused(
        w, lambda: s.submit_video(w.mp, other, ids[1], link), InvalidInput, "video_link_reused"
    )
    assert w.store.orders[ids[0]].number not in str(theirs)  # never reveal another creator's order


async def test_video_types_with_a_file_need_the_file() -> None:
    w = World()
    _, creator, order_id = await shipped_order(w, video_type=VideoType.INFLUENCER_WITH_FILE)
    await refused(
        w,
        lambda: s.submit_video(w.mp, creator, order_id, w.video()),
        InvalidInput,
        "video_file_missing",
    )
    done = await s.submit_video(w.mp, creator, order_id, w.video(), file_ref="tg-file-1")
    assert done.video is not None
    assert done.video.file_ref == "tg-file-1"


async def test_an_address_missing_fields_is_refused_with_what_is_missing() -> None:
    with pytest.raises(InvalidInput) as caught:
        ShippingAddress(name="Ana", line1="", city="Austin", postal_code="", country="US")
    assert "line1" in str(caught.value)
    assert "postal code" in str(caught.value)
    assert "Ana" not in repr(ShippingAddress("Ana", "1 Main", "Austin", "78701", "US"))


async def test_a_redo_needs_a_reason_and_other_needs_a_note() -> None:
    w = World()
    staff, creator, order_id = await shipped_order(w)
    await s.submit_video(w.mp, creator, order_id, w.video())
    await refused(
        w, lambda: s.request_redo(w.mp, staff, order_id, []), InvalidInput, "redo_no_reason"
    )
    await refused(
        w,
        lambda: s.request_redo(w.mp, staff, order_id, [RedoReason.OTHER]),
        InvalidInput,
        "redo_other_needs_note",
    )
    await refused(
        w,
        lambda: s.request_redo(w.mp, staff, order_id, [RedoReason.BLURRY], "x" * 5000),
        InvalidInput,
    )


async def test_cancelling_needs_a_reason_and_frees_the_sample() -> None:
    w = World()
    staff, creator, order_id = await shipped_order(w)
    await refused(
        w,
        lambda: s.cancel_order(w.mp, staff, order_id, "  "),
        InvalidInput,
        "cancel_reason_missing",
    )
    cancelled = await s.cancel_order(w.mp, staff, order_id, "Product recalled")
    assert cancelled.state is OrderState.CANCELLED
    assert w.store.offers[cancelled.offer_id].selected_count == 0
    assert w.notices("order_cancelled", creator)


async def test_unknown_things_are_not_found() -> None:
    w = World()
    creator = await w.creator()
    await refused(w, lambda: s.claim_offer(w.mp, creator, 9999), NotFound, "offer_not_found")
    await refused(w, lambda: s.withdraw_order(w.mp, creator, 9999), NotFound, "order_not_found")
    await refused(
        w, lambda: s.claim_offer(w.mp, Actor.member(4242), 1), NotAllowed, "unknown_member"
    )


async def test_profile_input_is_checked() -> None:
    w = World()
    creator = await w.creator()
    bad = [
        s.ProfileChanges(country="USA"),
        s.ProfileChanges(categories=["weapons"]),
        s.ProfileChanges(storefront_url="https://example.com/shop/me"),
        s.ProfileChanges(language="xx"),
        s.ProfileChanges(display_name="x" * 500),
        s.ProfileChanges(languages=["english"]),
    ]
    for change in bad:
        await refused(w, lambda c=change: s.update_profile(w.mp, creator, c), InvalidInput)


async def test_whatsapp_accounts_typed_with_plus_and_spaces_are_the_same_person() -> None:
    w = World()
    seller = await s.add_seller(w.mp, w.system, "Acme", ["whatsapp:+1 555-0100"])
    staff_id = next(iter(seller.staff))
    member = await s.register_identity(w.mp, Platform.WHATSAPP, "15550100", "15550100", "Sam")
    assert member.id == staff_id
