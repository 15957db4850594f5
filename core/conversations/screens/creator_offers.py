"""The offer hall: live offers a creator may claim, filters, paging, details, and claiming."""

from __future__ import annotations

import re
from datetime import datetime

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.i18n import N_, Translator
from core.conversations.labels import category_name, video_type_name
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold, link
from core.conversations.messages import Outbound
from core.conversations.router import router
from core.domain.members import Role
from core.domain.offers import Offer, VideoType
from core.domain.sellers import Product
from core.services import CATEGORIES, HallFilter, OfferCard, claim_offer, offer_card, offer_hall

HALL = "h"
FILTER = "hf"
DETAIL = "o"
CLAIM = "c"


# Filters travel in a button's arg as "<category>.<video type>": characters that keep the
# payload compact (no stored token). Buttons made before used "|", which is still read.
_SEPARATORS = re.compile(r"[.|]")


def _filters(arg: str) -> HallFilter:
    category, _, video_type = _split(arg)
    kind = int(video_type) if video_type.isdigit() and int(video_type) in range(1, 6) else None
    return HallFilter(category or None, VideoType(kind) if kind else None)


def _split(arg: str) -> tuple[str, str, str]:
    parts = _SEPARATORS.split(arg, maxsplit=1)
    return (parts[0], ".", parts[1]) if len(parts) == 2 else (parts[0], "", "")


def _arg(filters: HallFilter) -> str:
    return f"{filters.category or ''}.{int(filters.video_type) if filters.video_type else ''}"


def reward_text(t: Translator, offer: Offer) -> str:
    if offer.reward.fee is not None:
        return t("free sample + {fee}", fee=str(offer.reward.fee))
    return t("free sample")


def deadline_text(t: Translator, moment: datetime, now: datetime) -> str:
    days = (moment - now).days
    if days >= 2:
        return t("{days} days left", days=days)
    hours = max(0, int((moment - now).total_seconds() // 3600))
    return t("{hours} hours left", hours=hours)


def offer_summary(t: Translator, offer: Offer, product: Product, now: datetime) -> Markup:
    return Markup.of(
        bold(product.title),
        "\n",
        f"{reward_text(t, offer)} · {video_type_name(t, offer.video_type)} · ",
        t("{left} of {slots} left", left=offer.open_slots, slots=offer.slots),
        " · ",
        deadline_text(t, offer.application_deadline, now),
    )


@router.command("offers", N_("Browse the offers you can claim"), Role.CREATOR)
async def offers_command(ctx: Context) -> list[Outbound]:
    return await show_hall(ctx, HallFilter(), 1, edit=False)


@router.action(HALL)
async def hall_button(ctx: Context, action: Action) -> list[Outbound]:
    page = action.ids[0] if action.ids else 1
    return await show_hall(ctx, _filters(action.arg), page, edit=True)


async def show_hall(ctx: Context, filters: HallFilter, page: int, *, edit: bool) -> list[Outbound]:
    t = ctx.t
    result = await offer_hall(ctx.mp, ctx.actor, filters, page)
    now = ctx.mp.clock.now()
    arg = _arg(filters)
    active = []
    if filters.category:
        active.append(category_name(t, filters.category))
    if filters.video_type:
        active.append(video_type_name(t, filters.video_type))
    heading = t("Offers for you")
    if active:
        heading += " (" + ", ".join(active) + ")"
    parts: list[Markup | str] = [Markup.of(bold(heading))]
    rows: list[list[Choice]] = []
    if not result.cards:
        parts.append(
            t(
                "No offers match right now. New offers arrive every week — we will "
                "tell you when one fits you."
            )
        )
    first = (result.page - 1) * ctx.mp.policy.hall_page_size
    for number, card in enumerate(result.cards, start=first + 1):
        assert card.offer.id is not None
        parts.append(Markup.of(f"{number}. ", offer_summary(t, card.offer, card.product, now)))
        rows.append([ctx.button(f"{number}. {card.product.title}", DETAIL, card.offer.id)])
    paging: list[Choice] = []
    if result.page > 1:
        paging.append(ctx.button(t("‹ Previous"), HALL, result.page - 1, arg=arg))
    if result.page < result.pages:
        paging.append(ctx.button(t("Next ›"), HALL, result.page + 1, arg=arg))
    if paging:
        rows.append(paging)
    rows.append(
        [
            ctx.button(t("Category"), FILTER, arg="category." + arg),
            ctx.button(t("Video type"), FILTER, arg="type." + arg),
        ]
    )
    if active:
        rows.append([ctx.button(t("Clear filters"), HALL, 1)])
    footer = t(
        "Page {page} of {pages} · {total} offers",
        page=result.page,
        pages=result.pages,
        total=result.total,
    )
    return [ctx.say(*parts, footer, rows=rows, edit=edit)]


@router.action(FILTER)
async def filter_menu(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    which, _, current = _split(action.arg)
    filters = _filters(current)
    rows: list[list[Choice]] = []
    if which == "category":
        row: list[Choice] = []
        for category in sorted(CATEGORIES, key=lambda c: category_name(t, c)):
            chosen = HallFilter(category, filters.video_type)
            row.append(ctx.button(category_name(t, category), HALL, 1, arg=_arg(chosen)))
            if len(row) == 3:
                rows.append(row)
                row = []
        if row:
            rows.append(row)
        title = t("Show offers in which category?")
    else:
        for video_type in VideoType:
            chosen = HallFilter(filters.category, video_type)
            rows.append([ctx.button(video_type_name(t, video_type), HALL, 1, arg=_arg(chosen))])
        title = t("Show offers of which video type?")
    rows.append([ctx.button(t("Any"), HALL, 1, arg="")])
    return [ctx.say(title, rows=rows, edit=True)]


def offer_details(ctx: Context, card: OfferCard) -> Markup:
    t = ctx.t
    offer, product = card.offer, card.product
    now = ctx.mp.clock.now()
    req = offer.requirements
    flags = []
    if req.landscape:
        flags.append(t("landscape"))
    if req.outdoor:
        flags.append(t("filmed outdoors"))
    if req.with_children:
        flags.append(t("with children"))
    if req.with_pets:
        flags.append(t("with pets"))
    if req.face_visible:
        flags.append(t("face visible"))
    flags.append(t("at least {seconds} seconds", seconds=req.min_length_seconds))
    lines: list[Markup | str] = [
        Markup.of(bold(product.title)),
        t("Reward: {reward}", reward=reward_text(t, offer)),
        t("Video: {kind}", kind=video_type_name(t, offer.video_type)),
        t("Samples: {left} of {slots} left", left=offer.open_slots, slots=offer.slots),
        t(
            "Apply by: {when} ({left})",
            when=offer.application_deadline.strftime("%Y-%m-%d"),
            left=deadline_text(t, offer.application_deadline, now),
        ),
        t("Video due: {days} days after shipping", days=offer.content_deadline_days),
        t("Requirements: {flags}", flags=", ".join(flags)),
    ]
    if req.text:
        lines.append(req.text)
    if product.link:
        lines.append(Markup.of(link(t("View on Amazon"), product.link)))
    return Markup.lines(*lines)


@router.action(DETAIL)
async def offer_detail(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    card = await offer_card(ctx.mp, ctx.actor, action.ids[0])
    assert card.offer.id is not None
    rows = [
        [ctx.button(t("✋ Claim this offer"), CLAIM, card.offer.id, style="primary")],
        [ctx.button(t("‹ Back to offers"), HALL, 1)],
    ]
    return [ctx.say(offer_details(ctx, card), rows=rows, image_url=card.product.image_url)]


@router.action(CLAIM)
async def claim(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    order = await claim_offer(ctx.mp, ctx.actor, action.ids[0])
    text = t(
        "Claimed! Your order number is {number}. The seller picks creators soon — we will "
        "tell you here either way.",
        number=order.number,
    )
    return [
        ctx.say(
            text,
            rows=[
                [ctx.button(t("📦 My orders"), "os", 1), ctx.button(t("🛍 More offers"), HALL, 1)]
            ],
            toast=t("Claimed: {number}", number=order.number),
        )
    ]
