"""Operators: the marketplace's numbers, Top Creator badges, suspensions and seller staff.

Creators are named by their creator number, the member number shown as #123 on a profile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.i18n import N_
from core.conversations.labels import offer_state_name, order_state_name
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound
from core.conversations.router import router
from core.domain.members import Member, Role
from core.services import add_seller_staff, parse_identity, suspend_creator, verify_top_creator
from core.services.seller_accounts import seller_account
from core.services.stats import MarketplaceStats, marketplace_stats

STATS = "st"

CREATOR_USAGE = N_(
    "Send the creator number after the command, e.g. /{command} 123. It is shown as #123 on "
    "the creator's profile."
)
STAFF_USAGE = N_(
    "Send the seller number and the chat account to add, e.g. /addstaff 12 telegram:123456 "
    "(telegram, discord, whatsapp or web, then the user id on that app)."
)


# --- /stats --------------------------------------------------------------------------------


@router.command("stats", N_("The marketplace in numbers"), Role.OPERATOR)
async def stats_command(ctx: Context) -> list[Outbound]:
    return await show_stats(ctx, edit=False)


@router.action(STATS)
async def stats_button(ctx: Context, action: Action) -> list[Outbound]:
    return await show_stats(ctx, edit=True)


def stats_lines(ctx: Context, stats: MarketplaceStats) -> list[Markup | str]:
    t = ctx.t
    creators = stats.creators
    offers = " · ".join(
        f"{offer_state_name(t, state.value)} {count}"
        for state, count in stats.offers.items()
        if count
    )
    orders = " · ".join(
        f"{order_state_name(t, state.value)} {count}"
        for state, count in stats.orders.items()
        if count
    )
    return [
        Markup.of(bold(t("📊 The marketplace now"))),
        t(
            "Creators: {total} · onboarded {onboarded} · Top Creators {top} · suspended "
            "{suspended}",
            total=creators.total,
            onboarded=creators.onboarded,
            top=creators.top_creators,
            suspended=creators.suspended,
        ),
        t("Offers: {total}", total=stats.total_offers) + (f" ({offers})" if offers else ""),
        t("Orders: {total}", total=stats.total_orders) + (f" ({orders})" if orders else ""),
        t("Notices waiting to be sent: {count}", count=stats.pending_notices),
    ]


async def show_stats(ctx: Context, *, edit: bool) -> list[Outbound]:
    stats = await marketplace_stats(ctx.mp, ctx.actor)
    t = ctx.t
    rows = [[ctx.button(t("↻ Refresh"), STATS), ctx.button(t("🏠 Menu"), "m")]]
    return [ctx.say(*stats_lines(ctx, stats), rows=rows, edit=edit)]


# --- badges and suspensions ------------------------------------------------------------------


def parse_number(args: str) -> int | None:
    """``123`` or ``#123`` → 123; anything else (nothing, words, two numbers) → ``None``."""
    text = args.strip().removeprefix("#")
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _named(member: Member) -> str:
    return f"{member.display_name} (#{member.id})"


CreatorChange = Callable[[Context, int], Awaitable[str]]


async def _change_creator(ctx: Context, command: str, change: CreatorChange) -> list[Outbound]:
    number = parse_number(ctx.inbound.args)
    if number is None:
        return [ctx.say(ctx.t(CREATOR_USAGE, command=command))]
    return [ctx.say(await change(ctx, number))]


async def _verify(ctx: Context, number: int) -> str:
    creator = await verify_top_creator(ctx.mp, ctx.actor, number, verified=True)
    return ctx.t("🏅 {creator} now has the Top Creator badge.", creator=_named(creator))


async def _unverify(ctx: Context, number: int) -> str:
    creator = await verify_top_creator(ctx.mp, ctx.actor, number, verified=False)
    return ctx.t("{creator} no longer has the Top Creator badge.", creator=_named(creator))


async def _suspend(ctx: Context, number: int) -> str:
    creator = await suspend_creator(ctx.mp, ctx.actor, number, suspended=True)
    return ctx.t(
        "{creator} is suspended: they cannot claim new offers. Orders already running go on.",
        creator=_named(creator),
    )


async def _unsuspend(ctx: Context, number: int) -> str:
    creator = await suspend_creator(ctx.mp, ctx.actor, number, suspended=False)
    return ctx.t("{creator} is active again.", creator=_named(creator))


@router.command("verify", N_("Give a creator the Top Creator badge"), Role.OPERATOR)
async def verify_command(ctx: Context) -> list[Outbound]:
    return await _change_creator(ctx, "verify", _verify)


@router.command("unverify", N_("Take a creator's Top Creator badge away"), Role.OPERATOR)
async def unverify_command(ctx: Context) -> list[Outbound]:
    return await _change_creator(ctx, "unverify", _unverify)


@router.command("suspend", N_("Suspend a creator"), Role.OPERATOR)
async def suspend_command(ctx: Context) -> list[Outbound]:
    return await _change_creator(ctx, "suspend", _suspend)


@router.command("unsuspend", N_("Lift a creator's suspension"), Role.OPERATOR)
async def unsuspend_command(ctx: Context) -> list[Outbound]:
    return await _change_creator(ctx, "unsuspend", _unsuspend)


# --- seller staff ----------------------------------------------------------------------------


@router.command("addstaff", N_("Add a chat account to a seller's team"), Role.OPERATOR)
async def add_staff_command(ctx: Context) -> list[Outbound]:
    t = ctx.t
    words = ctx.inbound.args.split()
    seller_id = parse_number(words[0]) if words else None
    if len(words) != 2 or seller_id is None:
        return [ctx.say(t(STAFF_USAGE))]
    platform, _ = parse_identity(words[1])
    seller = await seller_account(ctx.mp, ctx.actor, seller_id)
    member = await add_seller_staff(ctx.mp, ctx.actor, seller_id, words[1])
    return [
        ctx.say(
            t(
                "Added the {platform} account (member #{member}) to the team of {seller} "
                "(#{number}). They can post offers with /newoffer.",
                platform=platform.value,
                member=member.id,
                seller=seller.name,
                number=seller_id,
            )
        )
    ]
