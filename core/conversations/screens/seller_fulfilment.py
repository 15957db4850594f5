"""After selection, for sellers: shipping with tracking, reviewing videos, redos, payment,
and cancelling an order."""

from __future__ import annotations

from core.carriers import KNOWN_CARRIERS
from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.flows import Flow
from core.conversations.labels import REDO_REASONS, order_state_name
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold, link
from core.conversations.messages import Outbound, Prompt
from core.conversations.router import router
from core.conversations.screens.common import cancel_row, choose
from core.domain.orders import OrderState, RedoReason
from core.services import (
    OrderView,
    accept_video,
    cancel_order,
    confirm_payment,
    offer_orders,
    order_view,
    record_shipment,
    request_redo,
    shipping_address,
)

TO_SHIP = "ts"
TRACKING = "tr"
TO_REVIEW = "rv"
ACCEPT = "va"
REDO = "rd"
PAY = "pm"
PAY_YES = "pmy"
CANCEL_ORDER = "co"
TRACKING_FLOW = "tracking"
REDO_FLOW = "redo"
CANCEL_FLOW = "cancel_order"
SHIPPING = frozenset({OrderState.AWAITING_ADDRESS, OrderState.PENDING_SHIPMENT})
REVIEW = frozenset({OrderState.COMPLETED})


@router.action(TO_SHIP)
async def to_ship(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    offer_id = action.ids[0]
    lines: list[Markup | str] = [Markup.of(bold(t("Selected creators to ship to")))]
    rows: list[list[Choice]] = []
    for item in await offer_orders(ctx.mp, ctx.actor, offer_id, SHIPPING):
        order = item.order
        assert order.id is not None
        if order.state is OrderState.AWAITING_ADDRESS:
            lines.append(
                t(
                    "{number} · {name} — waiting for the address",
                    number=order.number,
                    name=item.creator_name,
                )
            )
            continue
        lines.append(
            t("{number} · {name} — ready to ship", number=order.number, name=item.creator_name)
        )
        rows.append(
            [
                ctx.button(
                    t("📦 {number}: enter tracking", number=order.number),
                    TRACKING,
                    order.id,
                    style="primary",
                )
            ]
        )
    if len(lines) == 1:
        lines.append(t("Nothing to ship right now."))
    rows.append([ctx.button(t("‹ Offer"), "sd", offer_id)])
    return [ctx.say(*lines, rows=rows, edit=True)]


@router.action(TRACKING)
async def tracking_start(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    order_id = action.ids[0]
    view = await order_view(ctx.mp, ctx.actor, order_id)
    if view.order.state is not OrderState.PENDING_SHIPMENT:
        return await show_order(ctx, view, edit=True)
    lines: list[Markup | str] = [Markup.of(bold(t("Ship {number}", number=view.order.number)))]
    if ctx.inbound.private:
        address = await shipping_address(ctx.mp, ctx.actor, order_id)
        lines.append(t("Ship to:"))
        lines.extend(address.lines())
    else:
        lines.append(t("Open a private chat with me to see the shipping address."))
    lines.append(t("Which carrier?"))
    await ctx.start_flow(TRACKING_FLOW, "carrier", order=order_id)
    rows: list[list[Choice]] = []
    carriers = list(KNOWN_CARRIERS[:6])
    for start in range(0, len(carriers), 3):
        rows.append([choose(ctx, c, "carrier", c) for c in carriers[start : start + 3]])
    rows.append(cancel_row(ctx))
    return [
        ctx.say(*lines, rows=rows, prompt=Prompt("carrier", t("Carrier"), "UPS", max_length=60))
    ]


@router.flow(TRACKING_FLOW)
async def tracking_step(ctx: Context, flow: Flow) -> list[Outbound]:
    t = ctx.t
    order_id = int(flow.data["order"])
    if flow.step == "carrier":
        carrier = ctx.answer
        if not carrier:
            return [ctx.say(t("Which carrier? Tap one or type its name."), rows=[cancel_row(ctx)])]
        await ctx.next_step("number", carrier=carrier[:60])
        return [
            ctx.say(
                t("Send the {carrier} tracking number.", carrier=carrier[:60]),
                rows=[cancel_row(ctx)],
                prompt=Prompt("tracking", t("Tracking number"), max_length=40),
            )
        ]
    order = await record_shipment(
        ctx.mp, ctx.actor, order_id, str(flow.data["carrier"]), ctx.inbound.text
    )
    await ctx.end_flow()
    shipment = order.shipment
    assert shipment is not None
    return [
        ctx.say(
            t(
                "Shipped {number} with {carrier}, tracking {tracking}. The creator is told.",
                number=order.number,
                carrier=shipment.carrier,
                tracking=shipment.tracking_number,
            ),
            rows=[[ctx.button(t("‹ To ship"), TO_SHIP, order.offer_id)]],
            toast=t("Tracking saved"),
        )
    ]


@router.action(TO_REVIEW)
async def to_review(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    offer_id = action.ids[0]
    items = await offer_orders(ctx.mp, ctx.actor, offer_id, REVIEW)
    lines: list[Markup | str] = [Markup.of(bold(t("Videos to review")))]
    rows: list[list[Choice]] = []
    for item in items:
        order = item.order
        assert order.id is not None
        video = order.video
        url = video.url if video else ""
        lines.append(
            Markup.of(
                f"{order.number} · {item.creator_name}: ", link(url, url) if url else t("file only")
            )
        )
        rows.append([ctx.button(t("Open {number}", number=order.number), "od", order.id)])
    if not items:
        lines.append(t("No videos waiting for review."))
    rows.append([ctx.button(t("‹ Offer"), "sd", offer_id)])
    return [ctx.say(*lines, rows=rows, edit=True)]


async def show_order(
    ctx: Context, view: OrderView, *, edit: bool, note: str = ""
) -> list[Outbound]:
    """An order as its seller's staff see it, with the actions its state allows."""
    t = ctx.t
    order = view.order
    assert order.id is not None
    lines: list[Markup | str] = []
    if note:
        lines.append(note)
    lines += [
        Markup.of(bold(t("Order {number}", number=order.number)), f" · {view.product.title}"),
        t("Status: {state}", state=order_state_name(t, order.state.value)),
    ]
    if order.shipment is not None:
        lines.append(
            t(
                "Shipped with {carrier}: {number}",
                carrier=order.shipment.carrier,
                number=order.shipment.tracking_number,
            )
        )
    if order.video is not None:
        if order.video.url:
            lines.append(Markup.of(t("Video: "), link(order.video.url, order.video.url)))
        if order.video.file_ref:
            lines.append(t("A video file was sent with it."))
    rows: list[list[Choice]] = []
    if order.state is OrderState.PENDING_SHIPMENT:
        rows.append([ctx.button(t("📦 Enter tracking"), TRACKING, order.id, style="primary")])
    if order.state is OrderState.COMPLETED:
        review: list[Choice] = []
        if order.accepted_at is None:
            review.append(ctx.button(t("✓ Accept video"), ACCEPT, order.id, style="success"))
            review.append(ctx.button(t("↺ Request redo"), REDO, order.id))
        if view.offer.reward.has_fee:
            review.append(ctx.button(t("💰 Confirm payment"), PAY, order.id, style="primary"))
        rows.append(review)
    if not order.state.terminal and order.state is not OrderState.COMPLETED:
        rows.append([ctx.button(t("Cancel order"), CANCEL_ORDER, order.id, style="danger")])
    rows.append([ctx.button(t("‹ Offer"), "sd", order.offer_id)])
    return [ctx.say(*lines, rows=rows, edit=edit)]


@router.action(ACCEPT)
async def accept(ctx: Context, action: Action) -> list[Outbound]:
    order = await accept_video(ctx.mp, ctx.actor, action.ids[0])
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    note = ctx.t("Accepted {number}. The creator is told.", number=order.number)
    if order.state is OrderState.COMPLETED:
        note += " " + ctx.t("Confirm the payment once you have paid the fee.")
    return await show_order(ctx, view, edit=True, note=note)


@router.action(PAY)
async def pay_ask(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    fee = view.offer.reward.fee
    return [
        ctx.say(
            t(
                "Confirm you paid {fee} for {number}? The creator is told.",
                fee=str(fee),
                number=view.order.number,
            ),
            rows=[
                [
                    ctx.button(t("Yes, it is paid"), PAY_YES, action.ids[0], style="primary"),
                    ctx.button(t("No"), "od", action.ids[0]),
                ]
            ],
            edit=True,
        )
    ]


@router.action(PAY_YES)
async def pay_yes(ctx: Context, action: Action) -> list[Outbound]:
    order = await confirm_payment(ctx.mp, ctx.actor, action.ids[0])
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    return await show_order(
        ctx,
        view,
        edit=True,
        note=ctx.t("Payment confirmed for {number}. Thank you!", number=order.number),
    )


def _redo_rows(ctx: Context, ticked: list[str]) -> list[list[Choice]]:
    t = ctx.t
    rows = [
        [
            choose(
                ctx, ("☑ " if r.value in ticked else "☐ ") + t(REDO_REASONS[r]), "reasons", r.value
            )
        ]
        for r in RedoReason
    ]
    rows.append(
        [
            choose(
                ctx,
                t("Send redo request ({count})", count=len(ticked)),
                "reasons",
                "send",
                "primary",
            )
        ]
    )
    rows.append(cancel_row(ctx))
    return rows


@router.action(REDO)
async def redo_start(ctx: Context, action: Action) -> list[Outbound]:
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    if view.order.state is not OrderState.COMPLETED:
        return await show_order(ctx, view, edit=True)
    await ctx.start_flow(REDO_FLOW, "reasons", order=action.ids[0], ticked=[])
    return [
        ctx.say(
            ctx.t(
                "What should the creator fix in {number}? Tick the reasons, then send.",
                number=view.order.number,
            ),
            rows=_redo_rows(ctx, []),
            edit=True,
        )
    ]


@router.flow(REDO_FLOW)
async def redo_step(ctx: Context, flow: Flow) -> list[Outbound]:
    t = ctx.t
    order_id = int(flow.data["order"])
    ticked = [str(r) for r in flow.data.get("ticked", [])]
    if flow.step == "note":
        return await _send_redo(ctx, order_id, ticked, ctx.inbound.text)
    if ctx.choice is None:
        return [
            ctx.say(
                t("Tick the reasons with the buttons, then send."), rows=_redo_rows(ctx, ticked)
            )
        ]
    if ctx.choice == "send":
        if not ticked:
            return [
                ctx.say(
                    t("Tick at least one reason for the redo."),
                    rows=_redo_rows(ctx, ticked),
                    edit=True,
                )
            ]
        await ctx.next_step("note")
        return [
            ctx.say(
                t("Add a short note for the creator, or skip."),
                rows=[[choose(ctx, t("Skip"), "note", "skip")], cancel_row(ctx)],
                prompt=Prompt("note", t("Note for the creator"), multiline=True, max_length=1000),
            )
        ]
    if ctx.choice in {r.value for r in RedoReason}:
        if ctx.choice in ticked:
            ticked.remove(ctx.choice)
        else:
            ticked.append(ctx.choice)
        await ctx.next_step("reasons", ticked=ticked)
    return [
        ctx.say(
            t("What should the creator fix? Tick the reasons, then send."),
            rows=_redo_rows(ctx, ticked),
            edit=True,
        )
    ]


async def _send_redo(ctx: Context, order_id: int, ticked: list[str], note: str) -> list[Outbound]:
    note = "" if ctx.choice == "skip" else note
    order = await request_redo(ctx.mp, ctx.actor, order_id, [RedoReason(r) for r in ticked], note)
    await ctx.end_flow()
    view = await order_view(ctx.mp, ctx.actor, order_id)
    return await show_order(
        ctx,
        view,
        edit=False,
        note=ctx.t(
            "Redo requested for {number}. The creator is told what to fix.", number=order.number
        ),
    )


@router.action(CANCEL_ORDER)
async def cancel_start(ctx: Context, action: Action) -> list[Outbound]:
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    await ctx.start_flow(CANCEL_FLOW, "reason", order=action.ids[0])
    return [
        ctx.say(
            ctx.t(
                "Cancel {number}? Send the reason the creator will see.", number=view.order.number
            ),
            rows=[cancel_row(ctx)],
            prompt=Prompt("reason", ctx.t("Reason"), multiline=True, max_length=500),
        )
    ]


@router.flow(CANCEL_FLOW)
async def cancel_step(ctx: Context, flow: Flow) -> list[Outbound]:
    order_id = int(flow.data["order"])
    order = await cancel_order(ctx.mp, ctx.actor, order_id, ctx.inbound.text)
    await ctx.end_flow()
    view = await order_view(ctx.mp, ctx.actor, order_id)
    return await show_order(
        ctx,
        view,
        edit=False,
        note=ctx.t("Cancelled {number}. The creator is told why.", number=order.number),
    )
