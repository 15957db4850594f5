"""Applications to an offer: the ranked list, approve / reject / profile, batch approval,
and blocking a creator."""

from __future__ import annotations

import json

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.labels import REJECTION_REASONS, category_name, rate_text
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound
from core.conversations.router import router
from core.domain.orders import REJECTION_REASONS as REASON_CODES
from core.services import (
    RankedApplication,
    applicant_profile,
    approve_order,
    approve_orders,
    approve_top,
    block_creator,
    order_view,
    ranked_applications,
    reject_order,
)

APPLICATIONS = "ap"
TICKING = "apt"
APPROVE = "a"
REJECT = "r"
REJECT_WITH = "rr"
PROFILE = "pf"
APPROVE_TOP = "at"
TICK = "tk"
APPROVE_TICKED = "ab"
BLOCK = "bk"
BLOCK_YES = "bky"
UNBLOCK = "ub"
PAGE_SIZE = 5


def _line(ctx: Context, number: int, ranked: RankedApplication) -> str:
    t = ctx.t
    profile = ranked.creator.creator
    assert profile is not None
    stats = profile.stats()
    badge = " 🏅" if profile.top_creator else ""
    return t(
        "{number}. {name}{badge} — score {score} · {videos} videos · {on_time} on time",
        number=number,
        name=ranked.creator.display_name,
        badge=badge,
        score=f"{ranked.score.total:.0f}",
        videos=stats.completed_videos,
        on_time=rate_text(stats.on_time_rate),
    )


async def _ticks(ctx: Context, offer_id: int) -> list[int]:
    raw = await ctx.kv.get(f"ticks:{ctx.member_id}:{offer_id}")
    try:
        return [int(i) for i in json.loads(raw)] if raw else []
    except (ValueError, TypeError):
        return []


async def show_applications(
    ctx: Context, offer_id: int, page: int, *, ticking: bool, note: str = ""
) -> list[Outbound]:
    t = ctx.t
    ranked = await ranked_applications(ctx.mp, ctx.actor, offer_id)
    pages = max(1, (len(ranked) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, page), pages)
    first = (page - 1) * PAGE_SIZE
    chosen = ranked[first : first + PAGE_SIZE]
    ticks = await _ticks(ctx, offer_id) if ticking else []
    lines: list[Markup | str] = []
    if note:
        lines.append(note)
    lines.append(Markup.of(bold(t("Applications, best match first ({count})", count=len(ranked)))))
    if not ranked:
        lines.append(t("Nobody is waiting for a decision."))
    rows: list[list[Choice]] = []
    for number, application in enumerate(chosen, start=first + 1):
        order_id = application.order.id
        assert order_id is not None
        lines.append(_line(ctx, number, application))
        name = application.creator.display_name
        if ticking:
            mark = "☑" if order_id in ticks else "☐"
            rows.append([ctx.button(f"{mark} {number}. {name}", TICK, offer_id, order_id, page)])
        else:
            rows.append(
                [
                    ctx.button(f"✓ {number}. {name}", APPROVE, order_id, page, style="success"),
                    ctx.button(t("✗ Reject"), REJECT, order_id, page),
                    ctx.button(t("Profile"), PROFILE, order_id),
                ]
            )
    paging: list[Choice] = []
    code = TICKING if ticking else APPLICATIONS
    if page > 1:
        paging.append(ctx.button(t("‹ Previous"), code, offer_id, page - 1))
    if page < pages:
        paging.append(ctx.button(t("Next ›"), code, offer_id, page + 1))
    if paging:
        rows.append(paging)
    if ticking:
        rows.append(
            [
                ctx.button(
                    t("Approve ticked ({count})", count=len(ticks)),
                    APPROVE_TICKED,
                    offer_id,
                    style="primary",
                ),
                ctx.button(t("Done ticking"), APPLICATIONS, offer_id, page),
            ]
        )
    elif ranked:
        top = min(len(ranked), 5)
        rows.append(
            [
                ctx.button(
                    t("Approve top {count}", count=top), APPROVE_TOP, offer_id, top, style="primary"
                ),
                ctx.button(t("Tick several"), TICKING, offer_id, page),
            ]
        )
    rows.append([ctx.button(t("‹ Offer"), "sd", offer_id)])
    return [ctx.say(*lines, rows=rows, edit=True)]


@router.action(APPLICATIONS)
async def applications(ctx: Context, action: Action) -> list[Outbound]:
    page = action.ids[1] if len(action.ids) > 1 else 1
    return await show_applications(ctx, action.ids[0], page, ticking=False)


@router.action(TICKING)
async def ticking(ctx: Context, action: Action) -> list[Outbound]:
    page = action.ids[1] if len(action.ids) > 1 else 1
    return await show_applications(ctx, action.ids[0], page, ticking=True)


@router.action(TICK)
async def tick(ctx: Context, action: Action) -> list[Outbound]:
    offer_id, order_id, page = action.ids[0], action.ids[1], action.ids[2]
    ticks = await _ticks(ctx, offer_id)
    if order_id in ticks:
        ticks.remove(order_id)
    else:
        ticks.append(order_id)
    from datetime import timedelta

    await ctx.kv.set(
        f"ticks:{ctx.member_id}:{offer_id}", json.dumps(ticks[:100]), ttl=timedelta(hours=12)
    )
    return await show_applications(ctx, offer_id, page, ticking=True)


def _batch_note(ctx: Context, done: int, skipped: int, ended: bool) -> str:
    t = ctx.t
    note = t("Selected {count}. They are told what happens next.", count=done)
    if skipped:
        note += " " + t(
            "{count} could not be selected (already decided, or no samples left).", count=skipped
        )
    if ended:
        note += " " + t("All samples are taken: the offer ended and the others were told.")
    return note


@router.action(APPROVE_TICKED)
async def approve_ticked(ctx: Context, action: Action) -> list[Outbound]:
    offer_id = action.ids[0]
    ticks = await _ticks(ctx, offer_id)
    if not ticks:
        return [ctx.say(ctx.t("Tick at least one applicant first."), toast=ctx.t("Nothing ticked"))]
    result = await approve_orders(ctx.mp, ctx.actor, ticks)
    await ctx.kv.delete(f"ticks:{ctx.member_id}:{offer_id}")
    note = _batch_note(ctx, len(result.done), len(result.skipped), result.offer_ended)
    return await show_applications(ctx, offer_id, 1, ticking=False, note=note)


@router.action(APPROVE_TOP)
async def approve_best(ctx: Context, action: Action) -> list[Outbound]:
    offer_id, count = action.ids[0], action.ids[1]
    result = await approve_top(ctx.mp, ctx.actor, offer_id, count)
    note = _batch_note(ctx, len(result.done), len(result.skipped), result.offer_ended)
    return await show_applications(ctx, offer_id, 1, ticking=False, note=note)


@router.action(APPROVE)
async def approve(ctx: Context, action: Action) -> list[Outbound]:
    order = await approve_order(ctx.mp, ctx.actor, action.ids[0])
    page = action.ids[1] if len(action.ids) > 1 else 1
    note = ctx.t("Selected {number}. The creator is told what happens next.", number=order.number)
    return await show_applications(ctx, order.offer_id, page, ticking=False, note=note)


@router.action(REJECT)
async def reject_menu(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    order_id = action.ids[0]
    view = await order_view(ctx.mp, ctx.actor, order_id)
    rows = [
        [ctx.button(t(REJECTION_REASONS[code]), REJECT_WITH, order_id, arg=code)]
        for code in REASON_CODES
        if code not in ("offer_closed", "slots_filled")
    ]
    rows.append([ctx.button(t("‹ Back"), APPLICATIONS, view.order.offer_id, 1)])
    return [
        ctx.say(
            t("Why not {number}? The creator sees the reason.", number=view.order.number),
            rows=rows,
            edit=True,
        )
    ]


@router.action(REJECT_WITH)
async def reject_with(ctx: Context, action: Action) -> list[Outbound]:
    order = await reject_order(ctx.mp, ctx.actor, action.ids[0], action.arg)
    note = ctx.t("Declined {number}. The creator was told.", number=order.number)
    return await show_applications(ctx, order.offer_id, 1, ticking=False, note=note)


@router.action(PROFILE)
async def profile(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    order_id = action.ids[0]
    card = await applicant_profile(ctx.mp, ctx.actor, order_id)
    view = await order_view(ctx.mp, ctx.actor, order_id)
    stats = card.stats
    lines: list[Markup | str] = [
        Markup.of(bold(card.display_name), f" (#{card.member_id})"),
        t("Completed videos: {count}", count=stats.completed_videos),
        t(
            "On time: {rate} · Redo rate: {redo}",
            rate=rate_text(stats.on_time_rate),
            redo=rate_text(stats.redo_rate),
        ),
        t("Storefront: {url}", url=card.storefront_url or "–"),
        t(
            "Categories: {list}",
            list=", ".join(category_name(t, c) for c in sorted(card.categories)) or "–",
        ),
        t("Country: {country}", country=card.country or "–"),
    ]
    if card.top_creator:
        lines.insert(1, t("🏅 Top Creator"))
    rows: list[list[Choice]] = [
        [
            ctx.button(t("✓ Approve"), APPROVE, order_id, style="success"),
            ctx.button(t("✗ Reject"), REJECT, order_id),
        ],
        [
            ctx.button(
                t("Block this creator"), BLOCK, view.order.seller_id, card.member_id, style="danger"
            )
        ],
        [ctx.button(t("‹ Back"), APPLICATIONS, view.order.offer_id, 1)],
    ]
    return [ctx.say(*lines, rows=rows, edit=True)]


@router.action(BLOCK)
async def block_ask(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    seller_id, creator_id = action.ids[0], action.ids[1]
    return [
        ctx.say(
            t(
                "Block creator #{number}? They will not see your future offers. Orders already "
                "running go on.",
                number=creator_id,
            ),
            rows=[
                [
                    ctx.button(t("Yes, block"), BLOCK_YES, seller_id, creator_id, style="danger"),
                    ctx.button(t("No"), "so"),
                ]
            ],
            edit=True,
        )
    ]


@router.action(BLOCK_YES)
async def block_yes(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    seller_id, creator_id = action.ids[0], action.ids[1]
    await block_creator(ctx.mp, ctx.actor, seller_id, creator_id, blocked=True)
    return [
        ctx.say(
            t("Blocked creator #{number}.", number=creator_id),
            rows=[
                [
                    ctx.button(t("Undo"), UNBLOCK, seller_id, creator_id),
                    ctx.button(t("‹ My offers"), "so"),
                ]
            ],
            edit=True,
        )
    ]


@router.action(UNBLOCK)
async def unblock(ctx: Context, action: Action) -> list[Outbound]:
    seller_id, creator_id = action.ids[0], action.ids[1]
    await block_creator(ctx.mp, ctx.actor, seller_id, creator_id, blocked=False)
    return [
        ctx.say(
            ctx.t("Unblocked creator #{number}.", number=creator_id),
            rows=[[ctx.button(ctx.t("‹ My offers"), "so")]],
            edit=True,
        )
    ]
