"""A creator's profile: stats, details, editing, language, where notices go, /link."""

from __future__ import annotations

import secrets
from datetime import timedelta

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.flows import Flow
from core.conversations.i18n import LANGUAGE_NAMES, LANGUAGES, N_, translator
from core.conversations.labels import category_name, rate_text
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound, Prompt
from core.conversations.router import router
from core.conversations.screens import onboarding
from core.conversations.screens.common import cancel_row, main_menu
from core.domain.common import Platform
from core.domain.members import Role
from core.services import ProfileChanges, creator_stats, link_identity, update_profile

PROFILE = "pr"
EDIT = "pe"
LANGUAGE = "lg"
CHANNEL = "pc"
ANNOUNCEMENTS = "an"
FLOW = "profile"
LINK_TTL = timedelta(minutes=15)
PLATFORM_NAMES = {
    Platform.TELEGRAM: "Telegram",
    Platform.DISCORD: "Discord",
    Platform.WHATSAPP: "WhatsApp",
    Platform.WEB: "Web",
}


@router.command("profile", N_("Your profile, stats and settings"), Role.CREATOR)
async def profile_command(ctx: Context) -> list[Outbound]:
    return await show_profile(ctx, edit=False)


@router.action(PROFILE)
async def profile_button(ctx: Context, action: Action) -> list[Outbound]:
    return await show_profile(ctx, edit=True)


async def show_profile(ctx: Context, *, edit: bool) -> list[Outbound]:
    t = ctx.t
    member = ctx.member
    profile = member.require_creator()
    stats = await creator_stats(ctx.mp, ctx.actor)
    categories = ", ".join(category_name(t, c) for c in sorted(profile.categories)) or "–"
    channel = PLATFORM_NAMES.get(member.preferred_platform or ctx.inbound.platform, "–")
    lines: list[Markup | str] = [
        Markup.of(bold(member.display_name), f"  (#{member.id})"),
        t("Completed videos: {count}", count=stats.completed_videos),
        t(
            "On time: {rate} · Redo rate: {redo}",
            rate=rate_text(stats.on_time_rate),
            redo=rate_text(stats.redo_rate),
        ),
    ]
    if profile.top_creator:
        lines.append(t("🏅 Top Creator"))
    lines += [
        t("Storefront: {url}", url=profile.storefront_url or "–"),
        t("Categories: {list}", list=categories),
        t("Country: {country}", country=profile.country or "–"),
        t(
            "Shipping address: {state}",
            state=t("on file") if profile.address else t("not given yet"),
        ),
        t("Language: {language}", language=LANGUAGE_NAMES.get(member.language, member.language)),
        t("Notices go to: {channel}", channel=channel),
        t("Announcements: {state}", state=t("off") if profile.announcements_opt_out else t("on")),
    ]
    rows: list[list[Choice]] = [
        [
            ctx.button(t("Name"), EDIT, arg="name"),
            ctx.button(t("Storefront"), EDIT, arg="storefront"),
        ],
        [
            ctx.button(t("Categories"), EDIT, arg="categories"),
            ctx.button(t("Country"), EDIT, arg="country"),
        ],
        [ctx.button(t("Address"), EDIT, arg="address"), ctx.button(t("Language"), LANGUAGE)],
        [
            ctx.button(t("Notices channel"), CHANNEL),
            ctx.button(t("Announcements on/off"), ANNOUNCEMENTS),
        ],
        [ctx.button(t("🏠 Menu"), "m")],
    ]
    return [ctx.say(*lines, rows=rows, edit=edit)]


PROMPTS = {
    "name": N_("Send the name sellers should see."),
    "storefront": N_(
        "Send your Amazon storefront address (https://www.amazon.com/shop/…), or - to remove it."
    ),
    "categories": N_("Send your categories separated by commas, e.g. beauty, kitchen, pets."),
    "country": N_("Send your country as a two-letter code, e.g. US."),
}


@router.action(EDIT)
async def edit_field(ctx: Context, action: Action) -> list[Outbound]:
    if action.arg == "address":
        return await onboarding.ask_address(ctx)
    if action.arg not in PROMPTS:
        return []
    await ctx.start_flow(FLOW, action.arg)
    return [
        ctx.say(
            ctx.t(PROMPTS[action.arg]),
            rows=[cancel_row(ctx)],
            prompt=Prompt(action.arg, ctx.t(PROMPTS[action.arg])),
        )
    ]


@router.flow(FLOW)
async def profile_step(ctx: Context, flow: Flow) -> list[Outbound]:
    text = ctx.inbound.text.strip()
    if flow.step == "name":
        changes = ProfileChanges(display_name=text)
    elif flow.step == "storefront":
        changes = ProfileChanges(storefront_url="" if text == "-" else text)
    elif flow.step == "categories":
        changes = ProfileChanges(
            categories=[c.strip().lower().replace(" ", "_") for c in text.split(",")]
        )
    else:
        changes = ProfileChanges(country=text)
    ctx.member = await update_profile(ctx.mp, ctx.actor, changes)
    await ctx.end_flow()
    return [ctx.say(ctx.t("Saved."))] + await show_profile(ctx, edit=False)


@router.action(LANGUAGE)
async def language(ctx: Context, action: Action) -> list[Outbound]:
    if action.arg in LANGUAGES:
        ctx.member = await update_profile(ctx.mp, ctx.actor, ProfileChanges(language=action.arg))
        ctx.t = translator(action.arg)
        return await show_profile(ctx, edit=True)
    rows = [[ctx.button(LANGUAGE_NAMES[code], LANGUAGE, arg=code)] for code in LANGUAGES]
    return [ctx.say(ctx.t("Choose your language."), rows=rows, edit=True)]


@router.action(CHANNEL)
async def channel(ctx: Context, action: Action) -> list[Outbound]:
    t = ctx.t
    if action.arg:
        ctx.member = await update_profile(
            ctx.mp, ctx.actor, ProfileChanges(preferred_platform=Platform(action.arg))
        )
        return await show_profile(ctx, edit=True)
    rows = [
        [ctx.button(PLATFORM_NAMES[i.platform], CHANNEL, arg=i.platform.value)]
        for i in ctx.member.identities
    ]
    rows.append([ctx.button(t("➕ Link another app"), "lk")])
    return [ctx.say(t("Where should your notices go?"), rows=rows, edit=True)]


@router.action(ANNOUNCEMENTS)
async def announcements(ctx: Context, action: Action) -> list[Outbound]:
    profile = ctx.member.require_creator()
    ctx.member = await update_profile(
        ctx.mp, ctx.actor, ProfileChanges(announcements_opt_out=not profile.announcements_opt_out)
    )
    return await show_profile(ctx, edit=True)


@router.command("link", N_("Use this account from another chat app"))
async def link_command(ctx: Context) -> list[Outbound]:
    t = ctx.t
    code = ctx.inbound.args.strip().upper()
    if code:
        target = await ctx.kv.get(f"link:{code}")
        if target is None or not target.isdigit():
            return [
                ctx.say(
                    t("That link code is not valid any more. Send /link again to get a new one.")
                )
            ]
        ctx.member = await link_identity(ctx.mp, ctx.actor, int(target))
        await ctx.kv.delete(f"link:{code}")
        ctx.t = translator(ctx.member.language)
        return [
            ctx.say(
                ctx.t(
                    "Linked! This chat now uses your account, {name}.", name=ctx.member.display_name
                ),
                rows=main_menu(ctx),
            )
        ]
    return await _new_code(ctx)


@router.action("lk")
async def link_button(ctx: Context, action: Action) -> list[Outbound]:
    return await _new_code(ctx)


async def _new_code(ctx: Context) -> list[Outbound]:
    code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
    await ctx.kv.set(f"link:{code}", str(ctx.member_id), ttl=LINK_TTL)
    return [
        ctx.say(
            ctx.t("To use your account from another chat app, send this there within 15 minutes:"),
            Markup.of(bold(f"/link {code}")),
        )
    ]
