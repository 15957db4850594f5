"""Handing in videos: from an order's button, or by pasting an Amazon link anywhere."""

from __future__ import annotations

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.flows import Flow
from core.conversations.layout import Choice
from core.conversations.messages import InboundKind, Outbound, Prompt
from core.conversations.router import router
from core.conversations.screens.common import cancel_row
from core.domain.orders import Order
from core.services import match_video_link, order_view, submit_video

SEND_VIDEO = "sv"
FOR_ORDER = "vl"
FLOW = "video"


def _link_prompt(ctx: Context, order: Order) -> Outbound:
    t = ctx.t
    return ctx.say(
        t("Paste the Amazon link of your video for {number}.", number=order.number),
        t(
            "On Amazon, open your video, tap Share and copy the link (amazon.com/vdp/… or "
            "amzn.to/…)."
        ),
        rows=[cancel_row(ctx)],
        prompt=Prompt("link", t("Amazon video link"), "https://www.amazon.com/vdp/…"),
    )


def _file_prompt(ctx: Context, order: Order) -> Outbound:
    t = ctx.t
    return ctx.say(
        t(
            "This offer also needs the video file. Send the video file for {number} now.",
            number=order.number,
        ),
        rows=[cancel_row(ctx)],
    )


@router.action(SEND_VIDEO)
async def send_video(ctx: Context, action: Action) -> list[Outbound]:
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    order = view.order
    assert order.id is not None
    if view.offer.video_type.needs_link:
        await ctx.start_flow(FLOW, "link", order=order.id)
        return [_link_prompt(ctx, order)]
    await ctx.start_flow(FLOW, "file", order=order.id, link="")
    return [_file_prompt(ctx, order)]


async def _hand_in(ctx: Context, order_id: int, link: str, file_ref: str = "") -> list[Outbound]:
    t = ctx.t
    view = await order_view(ctx.mp, ctx.actor, order_id)
    if view.offer.video_type.needs_file and not file_ref:
        await ctx.start_flow(FLOW, "file", order=order_id, link=link)
        return [_file_prompt(ctx, view.order)]
    order = await submit_video(ctx.mp, ctx.actor, order_id, link, file_ref)
    await ctx.end_flow()
    return [
        ctx.say(
            t(
                "Got it! Your video for {number} is with the seller for review.",
                number=order.number,
            ),
            rows=[[ctx.button(t("📦 My orders"), "os", 1)]],
            toast=t("Video submitted"),
        )
    ]


@router.flow(FLOW)
async def video_step(ctx: Context, flow: Flow) -> list[Outbound]:
    order_id = int(flow.data["order"])
    if flow.step == "link":
        if ctx.inbound.kind is not InboundKind.TEXT:
            view = await order_view(ctx.mp, ctx.actor, order_id)
            return [_link_prompt(ctx, view.order)]
        match = await match_video_link(ctx.mp, ctx.actor, ctx.inbound.text)
        if match is None:
            view = await order_view(ctx.mp, ctx.actor, order_id)
            return [_link_prompt(ctx, view.order)]
        return await _hand_in(ctx, order_id, match.link.url)
    file = ctx.inbound.file
    if file is None or file.kind not in ("video", "document"):
        view = await order_view(ctx.mp, ctx.actor, order_id)
        return [_file_prompt(ctx, view.order)]
    return await _hand_in(ctx, order_id, str(flow.data.get("link", "")), file.file_id)


async def pasted_link(ctx: Context) -> list[Outbound]:
    """An Amazon link pasted outside any flow: match it to the order waiting for a video."""
    t = ctx.t
    match = await match_video_link(ctx.mp, ctx.actor, ctx.inbound.text)
    if match is None:
        return []
    if not match.orders:
        return [
            ctx.say(
                t("Thanks! But none of your orders is waiting for a video right now."),
                rows=[[ctx.button(t("📦 My orders"), "os", 1)]],
            )
        ]
    if len(match.orders) == 1:
        only = match.orders[0]
        assert only.id is not None
        return await _hand_in(ctx, only.id, match.link.url)
    rows: list[list[Choice]] = []
    for order in match.orders:
        assert order.id is not None
        rows.append([ctx.button(order.number, FOR_ORDER, order.id, arg=match.link.url)])
    rows.append(cancel_row(ctx))
    return [ctx.say(t("Which order is this video for?"), rows=rows)]


@router.action(FOR_ORDER)
async def link_for_order(ctx: Context, action: Action) -> list[Outbound]:
    return await _hand_in(ctx, action.ids[0], action.arg)
