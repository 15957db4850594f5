"""A creator's orders: the list by state, one order with its actions, withdrawing."""

from __future__ import annotations

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.i18n import N_
from core.conversations.labels import order_state_name, video_type_name
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold, link
from core.conversations.messages import Outbound
from core.conversations.router import router
from core.conversations.screens import onboarding
from core.domain.members import Role
from core.domain.orders import OPEN_VIDEO_STATES, OrderState
from core.services import OrderView, my_orders, order_view, withdraw_order

ORDERS = "os"
ORDER = "od"
WITHDRAW = "w"
WITHDRAW_YES = "wy"
ADDRESS = "ad"
PAGE_SIZE = 8
WITHDRAWABLE = frozenset(
    {OrderState.APPLIED, OrderState.AWAITING_ADDRESS, OrderState.PENDING_SHIPMENT}
)


@router.command("orders", N_("Your orders and what to do next"), Role.CREATOR)
async def orders_command(ctx: Context) -> list[Outbound]:
    return await show_orders(ctx, 1, edit=False)


@router.action(ORDERS)
async def orders_button(ctx: Context, action: Action) -> list[Outbound]:
    return await show_orders(ctx, action.ids[0] if action.ids else 1, edit=True)


async def show_orders(ctx: Context, page: int, *, edit: bool) -> list[Outbound]:
    t = ctx.t
    views = await my_orders(ctx.mp, ctx.actor)
    if not views:
        return [
            ctx.say(
                t("You have no orders yet. Claim an offer to start."),
                rows=[[ctx.button(t("🛍 Offers"), "h", 1)]],
                edit=edit,
            )
        ]
    pages = max(1, (len(views) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, page), pages)
    chosen = views[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    lines: list[Markup | str] = [Markup.of(bold(t("Your orders")))]
    rows: list[list[Choice]] = []
    for view in chosen:
        order = view.order
        assert order.id is not None
        lines.append(
            Markup.of(
                bold(order.number),
                f" · {view.product.title} — ",
                order_state_name(t, order.state.value),
            )
        )
        rows.append([ctx.button(f"{order.number} · {view.product.title}", ORDER, order.id)])
    paging: list[Choice] = []
    if page > 1:
        paging.append(ctx.button(t("‹ Previous"), ORDERS, page - 1))
    if page < pages:
        paging.append(ctx.button(t("Next ›"), ORDERS, page + 1))
    if paging:
        rows.append(paging)
    rows.append([ctx.button(t("🏠 Menu"), "m")])
    return [ctx.say(*lines, rows=rows, edit=edit)]


def next_step_text(ctx: Context, view: OrderView) -> str:
    t = ctx.t
    order = view.order
    state = order.state
    if state is OrderState.APPLIED:
        return t("The seller is choosing creators. We will tell you when they decide.")
    if state is OrderState.AWAITING_ADDRESS:
        return t("You were selected! Send your shipping address so the seller can ship.")
    if state is OrderState.PENDING_SHIPMENT:
        return t("You were selected. The seller will ship soon and send you the tracking number.")
    if state in (OrderState.SHIPPED, OrderState.VIDEO_OVERDUE):
        due = order.video_due_at.strftime("%Y-%m-%d") if order.video_due_at else "?"
        if state is OrderState.VIDEO_OVERDUE:
            return t(
                "Your video was due on {due}. Please post it on Amazon and send the link.", due=due
            )
        return t("On its way. Post your video on Amazon and send the link by {due}.", due=due)
    if state is OrderState.REDO_REQUESTED:
        return t("The seller asked for a redo. Fix the points below and send the new link.")
    if state is OrderState.COMPLETED:
        return t("Your video is in. The seller will review it.")
    if state is OrderState.PAID:
        return t("Done — thank you!")
    return ""


def order_lines(ctx: Context, view: OrderView) -> list[Markup | str]:
    from core.conversations.labels import REDO_REASONS

    t = ctx.t
    order = view.order
    lines: list[Markup | str] = [
        Markup.of(bold(t("Order {number}", number=order.number))),
        view.product.title,
        t("Status: {state}", state=order_state_name(t, order.state.value)),
        t("Video: {kind}", kind=video_type_name(t, view.offer.video_type)),
    ]
    if order.shipment is not None:
        tracking = order.shipment.tracking_number
        if order.shipment.tracking_url:
            lines.append(
                Markup.of(
                    t("Shipped with {carrier}: ", carrier=order.shipment.carrier),
                    link(tracking, order.shipment.tracking_url),
                )
            )
        else:
            lines.append(
                t(
                    "Shipped with {carrier}: {number}",
                    carrier=order.shipment.carrier,
                    number=tracking,
                )
            )
    if order.video is not None and order.video.url:
        lines.append(Markup.of(t("Your video: "), link(order.video.url, order.video.url)))
    if order.state is OrderState.REDO_REQUESTED and order.last_redo is not None:
        reasons = ", ".join(t(REDO_REASONS[r]) for r in sorted(order.last_redo.reasons))
        lines.append(t("Redo reasons: {reasons}", reasons=reasons))
        if order.last_redo.note:
            lines.append(t("Seller's note: {note}", note=order.last_redo.note))
    if order.state is OrderState.CANCELLED and order.reason:
        lines.append(t("Reason: {reason}", reason=order.reason))
    step = next_step_text(ctx, view)
    if step:
        lines.append(step)
    return lines


def order_actions(ctx: Context, view: OrderView) -> list[list[Choice]]:
    t = ctx.t
    order = view.order
    assert order.id is not None
    rows: list[list[Choice]] = []
    if order.state in OPEN_VIDEO_STATES:
        rows.append([ctx.button(t("🎬 Send video"), "sv", order.id, style="primary")])
    if order.state is OrderState.AWAITING_ADDRESS:
        rows.append([ctx.button(t("🏠 Add address"), ADDRESS, order.id, style="primary")])
    elif order.state is OrderState.PENDING_SHIPMENT:
        rows.append([ctx.button(t("🏠 Update address"), ADDRESS, order.id)])
    if order.state in WITHDRAWABLE:
        rows.append([ctx.button(t("Withdraw"), WITHDRAW, order.id, style="danger")])
    rows.append([ctx.button(t("‹ My orders"), ORDERS, 1)])
    return rows


@router.action(ORDER)
async def order_detail(ctx: Context, action: Action) -> list[Outbound]:
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    if view.order.creator_id != ctx.member_id:
        # Seller staff look at orders through their own screens.
        from core.conversations.screens import seller_fulfilment

        return await seller_fulfilment.show_order(ctx, view, edit=True)
    return [ctx.say(*order_lines(ctx, view), rows=order_actions(ctx, view), edit=True)]


@router.action(WITHDRAW)
async def withdraw_ask(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    view = await order_view(ctx.mp, ctx.actor, action.ids[0])
    order = view.order
    assert order.id is not None
    return [
        ctx.say(
            t(
                "Withdraw from {title} ({number})? The seller will be told.",
                title=view.product.title,
                number=order.number,
            ),
            rows=[
                [
                    ctx.button(t("Yes, withdraw"), WITHDRAW_YES, order.id, style="danger"),
                    ctx.button(t("No, keep it"), ORDER, order.id),
                ]
            ],
            edit=True,
        )
    ]


@router.action(WITHDRAW_YES)
async def withdraw_yes(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    order = await withdraw_order(ctx.mp, ctx.actor, action.ids[0])
    return [
        ctx.say(
            t("You withdrew from order {number}.", number=order.number),
            rows=[[ctx.button(t("‹ My orders"), ORDERS, 1)]],
            edit=True,
            toast=t("Withdrawn"),
        )
    ]


@router.action(ADDRESS)
async def address_button(ctx: Context, action: Action) -> list[Outbound]:
    return await onboarding.ask_address(ctx)
