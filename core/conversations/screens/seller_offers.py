"""A seller's offers: the list with counts, one offer's dashboard, pause / resume / close."""

from __future__ import annotations

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.i18n import N_
from core.conversations.labels import offer_state_name
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound
from core.conversations.router import router
from core.conversations.screens.creator_offers import offer_details
from core.domain.members import Role
from core.domain.offers import OfferState
from core.domain.orders import OrderState
from core.services import (
    SellerOffer,
    close_offer,
    pause_offer,
    publish_offer,
    resume_offer,
    seller_offer,
    seller_offers,
)
from core.services.seller_accounts import my_sellers

MY_OFFERS = "so"
OFFER = "sd"
PAUSE = "sp"
RESUME = "sr"
PUBLISH = "spb"
CLOSE = "sc"
CLOSE_YES = "scy"


def _waiting(summary: SellerOffer) -> int:
    return summary.counts.get(OrderState.APPLIED, 0)


def _to_ship(summary: SellerOffer) -> int:
    return summary.counts.get(OrderState.PENDING_SHIPMENT, 0) + summary.counts.get(
        OrderState.AWAITING_ADDRESS, 0
    )


def _to_review(summary: SellerOffer) -> int:
    return summary.counts.get(OrderState.COMPLETED, 0)


@router.command("myoffers", N_("Your offers, applications and orders"), Role.SELLER)
async def my_offers_command(ctx: Context) -> list[Outbound]:
    return await show_offers(ctx, edit=False)


@router.action(MY_OFFERS)
async def my_offers_button(ctx: Context, action: Action) -> list[Outbound]:
    return await show_offers(ctx, edit=True)


async def show_offers(ctx: Context, *, edit: bool) -> list[Outbound]:
    t = ctx.t
    lines: list[Markup | str] = []
    rows: list[list[Choice]] = []
    for seller in await my_sellers(ctx.mp, ctx.actor):
        assert seller.id is not None
        lines.append(Markup.of(bold(seller.name)))
        summaries = await seller_offers(ctx.mp, ctx.actor, seller.id)
        if not summaries:
            lines.append(t("No open offers."))
        for summary in summaries:
            offer = summary.card.offer
            assert offer.id is not None
            lines.append(
                t(
                    "{title} — {state} · {selected}/{slots} selected · {waiting} waiting",
                    title=summary.card.product.title,
                    state=offer_state_name(t, offer.state.value),
                    selected=offer.selected_count,
                    slots=offer.slots,
                    waiting=_waiting(summary),
                )
            )
            rows.append([ctx.button(summary.card.product.title, OFFER, offer.id)])
    if not lines:
        lines.append(
            t("You are not on any seller's team yet. Ask the marketplace team to add you.")
        )
    rows.append([ctx.button(t("➕ New offer"), "nw"), ctx.button(t("🏠 Menu"), "m")])
    return [ctx.say(*lines, rows=rows, edit=edit)]


async def show_offer(ctx: Context, offer_id: int, *, edit: bool, note: str = "") -> list[Outbound]:
    t = ctx.t
    summary = await seller_offer(ctx.mp, ctx.actor, offer_id)
    offer = summary.card.offer
    assert offer.id is not None
    lines: list[Markup | str] = []
    if note:
        lines.append(note)
    lines += [
        offer_details(ctx, summary.card),
        t(
            "State: {state} · {selected}/{slots} selected",
            state=offer_state_name(t, offer.state.value),
            selected=offer.selected_count,
            slots=offer.slots,
        ),
    ]
    rows: list[list[Choice]] = [
        [ctx.button(t("Applications ({count})", count=_waiting(summary)), "ap", offer.id, 1)],
        [
            ctx.button(t("To ship ({count})", count=_to_ship(summary)), "ts", offer.id),
            ctx.button(t("Videos to review ({count})", count=_to_review(summary)), "rv", offer.id),
        ],
    ]
    manage: list[Choice] = []
    if offer.state is OfferState.DRAFT:
        manage.append(ctx.button(t("Publish"), PUBLISH, offer.id, style="primary"))
    if offer.state is OfferState.LIVE:
        manage.append(ctx.button(t("Pause"), PAUSE, offer.id))
    if offer.state is OfferState.PAUSED:
        manage.append(ctx.button(t("Resume"), RESUME, offer.id, style="primary"))
    if offer.state in (OfferState.LIVE, OfferState.PAUSED):
        manage.append(ctx.button(t("Close early"), CLOSE, offer.id, style="danger"))
    if manage:
        rows.append(manage)
    rows.append([ctx.button(t("‹ My offers"), MY_OFFERS)])
    return [ctx.say(*lines, rows=rows, edit=edit)]


@router.action(OFFER)
async def offer_button(ctx: Context, action: Action) -> list[Outbound]:
    return await show_offer(ctx, action.ids[0], edit=True)


@router.action(PAUSE)
async def pause(ctx: Context, action: Action) -> list[Outbound]:
    await pause_offer(ctx.mp, ctx.actor, action.ids[0])
    return await show_offer(
        ctx,
        action.ids[0],
        edit=True,
        note=ctx.t("Paused: creators no longer see it; running orders go on."),
    )


@router.action(RESUME)
async def resume(ctx: Context, action: Action) -> list[Outbound]:
    await resume_offer(ctx.mp, ctx.actor, action.ids[0])
    return await show_offer(ctx, action.ids[0], edit=True, note=ctx.t("Live again."))


@router.action(PUBLISH)
async def publish(ctx: Context, action: Action) -> list[Outbound]:
    await publish_offer(ctx.mp, ctx.actor, action.ids[0])
    return await show_offer(
        ctx, action.ids[0], edit=True, note=ctx.t("Published: creators can claim it now.")
    )


@router.action(CLOSE)
async def close_ask(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    offer_id = action.ids[0]
    return [
        ctx.say(
            t(
                "Close this offer now? Everyone still waiting will be told it closed. Selected "
                "creators keep their orders."
            ),
            rows=[
                [
                    ctx.button(t("Yes, close it"), CLOSE_YES, offer_id, style="danger"),
                    ctx.button(t("No"), OFFER, offer_id),
                ]
            ],
            edit=True,
        )
    ]


@router.action(CLOSE_YES)
async def close_yes(ctx: Context, action: Action) -> list[Outbound]:
    await close_offer(ctx.mp, ctx.actor, action.ids[0])
    return await show_offer(
        ctx, action.ids[0], edit=True, note=ctx.t("Closed. Waiting applicants were told.")
    )
