"""Onboarding (/start for a new creator) and entering a shipping address.

Every answer is saved to the profile as soon as it is given, so nothing personal waits in
the key-value store, and a person who stops half-way keeps what they answered.
"""

from __future__ import annotations

from core.conversations.context import Context
from core.conversations.flows import Flow
from core.conversations.i18n import LANGUAGE_NAMES, LANGUAGES, translator
from core.conversations.labels import category_name
from core.conversations.layout import Choice
from core.conversations.messages import Outbound, Prompt
from core.conversations.router import router
from core.conversations.screens.common import cancel_row, choose, main_menu
from core.domain.errors import InvalidInput
from core.domain.members import ShippingAddress
from core.services import CATEGORIES, ProfileChanges, update_profile

FLOW = "onboarding"
ADDRESS_FLOW = "address"
COUNTRIES = ("US", "GB", "DE", "CA", "FR", "IT", "ES", "JP")


async def begin(ctx: Context) -> list[Outbound]:
    await ctx.start_flow(FLOW, "language")
    t = ctx.t
    rows = [[choose(ctx, LANGUAGE_NAMES[code], "language", code) for code in LANGUAGES]]
    return [
        ctx.say(
            t("Welcome to collabbot! Free samples of great products, for your Amazon videos."),
            t("First, which language should I use?"),
            rows=rows,
        )
    ]


def _ask_name(ctx: Context) -> Outbound:
    t = ctx.t
    return ctx.say(
        t("What name should sellers see?"),
        rows=[[choose(ctx, t("Use “{name}”", name=ctx.member.display_name[:40]), "name", "keep")]],
        prompt=Prompt("name", t("Your name"), max_length=64),
    )


def _ask_storefront(ctx: Context) -> Outbound:
    t = ctx.t
    return ctx.say(
        t(
            "Do you have an Amazon Influencer storefront? Send its address "
            "(like https://www.amazon.com/shop/yourname)."
        ),
        t("Without one you can still take amateur-video offers."),
        rows=[[choose(ctx, t("I don't have one"), "storefront", "none")]],
        prompt=Prompt("storefront", t("Storefront URL"), "https://www.amazon.com/shop/…"),
    )


def _ask_categories(ctx: Context, chosen: list[str]) -> Outbound:
    t = ctx.t
    rows: list[list[Choice]] = []
    row: list[Choice] = []
    for category in CATEGORIES:
        mark = "✅ " if category in chosen else ""
        row.append(choose(ctx, mark + category_name(t, category), "categories", category))
        if len(row) == 3:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    rows.append(
        [
            choose(
                ctx, t("Done ({count} chosen)", count=len(chosen)), "categories", "done", "primary"
            )
        ]
    )
    return ctx.say(
        t(
            "Which product categories do you like to film? Tap to choose, then Done. You can "
            "also type them, separated by commas."
        ),
        rows=rows,
        edit=ctx.choice is not None,
    )


def _ask_country(ctx: Context) -> Outbound:
    t = ctx.t
    return ctx.say(
        t("Which country do you live in? Tap it, or type its two-letter code (e.g. MX)."),
        rows=[
            [choose(ctx, c, "country", c) for c in COUNTRIES[:4]],
            [choose(ctx, c, "country", c) for c in COUNTRIES[4:]],
        ],
        prompt=Prompt("country", t("Country code"), "US", max_length=2),
    )


def address_prompt(ctx: Context) -> Outbound:
    t = ctx.t
    return ctx.say(
        t("Send your shipping address in one message, one item per line:"),
        t(
            "Full name\nStreet and number\nApartment, suite (or -)\nCity\nState or region (or -)\n"
            "Postal code\nCountry code (e.g. US)\nPhone for the courier (or -)"
        ),
        t("Only the seller of an order you are selected for will see it."),
        rows=[cancel_row(ctx)],
        prompt=Prompt("address", t("Shipping address"), multiline=True, max_length=800),
    )


@router.flow(FLOW)
async def onboarding_step(ctx: Context, flow: Flow) -> list[Outbound]:
    t = ctx.t
    answer = ctx.answer
    if flow.step == "language":
        if answer not in LANGUAGES:
            return [await _repeat(ctx, flow)]
        await update_profile(ctx.mp, ctx.actor, ProfileChanges(language=answer))
        ctx.member.language = answer
        ctx.t = translator(answer)
        await ctx.next_step("name")
        return [_ask_name(ctx)]
    if flow.step == "name":
        if answer != "keep":
            await update_profile(ctx.mp, ctx.actor, ProfileChanges(display_name=answer))
            ctx.member.display_name = " ".join(answer.split())
        await ctx.next_step("storefront")
        return [_ask_storefront(ctx)]
    if flow.step == "storefront":
        url = "" if answer == "none" else answer
        await update_profile(ctx.mp, ctx.actor, ProfileChanges(storefront_url=url))
        await ctx.next_step("categories", chosen=[])
        return [_ask_categories(ctx, [])]
    if flow.step == "categories":
        chosen: list[str] = list(flow.data.get("chosen", []))
        if ctx.choice is None:
            typed = [c.strip().lower().replace(" ", "_") for c in answer.split(",") if c.strip()]
            await update_profile(ctx.mp, ctx.actor, ProfileChanges(categories=typed))
        elif answer != "done":
            if answer in chosen:
                chosen.remove(answer)
            elif answer in CATEGORIES:
                chosen.append(answer)
            await ctx.next_step("categories", chosen=chosen)
            return [_ask_categories(ctx, chosen)]
        else:
            await update_profile(ctx.mp, ctx.actor, ProfileChanges(categories=chosen))
        await ctx.next_step("country")
        return [_ask_country(ctx)]
    if flow.step == "country":
        await update_profile(
            ctx.mp, ctx.actor, ProfileChanges(country=answer, languages=[ctx.member.language])
        )
        await ctx.next_step("address")
        return [
            ctx.say(
                t(
                    "Last step: your shipping address, so sellers can send you samples. "
                    "You can also add it later, when you are selected."
                ),
                rows=[
                    [
                        choose(ctx, t("Add it now"), "address", "now", "primary"),
                        choose(ctx, t("Later"), "address", "later"),
                    ]
                ],
            )
        ]
    if flow.step == "address":
        if answer == "now":
            await ctx.next_step("address_text")
            return [address_prompt(ctx)]
        if answer == "later":
            return await _finish(ctx)
        return [await _repeat(ctx, flow)]
    if flow.step == "address_text":
        await _save_address(ctx)
        return await _finish(ctx)
    return [await _repeat(ctx, flow)]


async def _repeat(ctx: Context, flow: Flow) -> Outbound:
    return ctx.say(ctx.t("Please use the buttons to answer."), rows=[cancel_row(ctx)])


async def _finish(ctx: Context) -> list[Outbound]:
    await update_profile(ctx.mp, ctx.actor, ProfileChanges(finish_onboarding=True))
    await ctx.end_flow()
    t = ctx.t
    return [
        ctx.say(
            t("You are all set! Browse the offers and claim the ones you like."),
            rows=main_menu(ctx),
        )
    ]


def parse_address(text: str) -> ShippingAddress:
    """The one-message address form: eight lines, "-" for an empty optional line."""
    lines = [line.strip() for line in text.strip().splitlines()]
    lines = [("" if line == "-" else line) for line in lines]
    if len(lines) < 7:
        raise InvalidInput(
            "Please send the address on separate lines: name, street, apartment (or -), city, "
            "state (or -), postal code, country code, phone (or -).",
            code="address_format",
        )
    name, line1, line2, city, region, postal, country = lines[:7]
    phone = lines[7] if len(lines) > 7 else ""
    return ShippingAddress(
        name=name,
        line1=line1,
        line2=line2,
        city=city,
        region=region,
        postal_code=postal,
        country=country.upper(),
        phone=phone,
    )


async def _save_address(ctx: Context) -> None:
    address = parse_address(ctx.inbound.text)
    await update_profile(ctx.mp, ctx.actor, ProfileChanges(address=address))


@router.flow(ADDRESS_FLOW)
async def address_step(ctx: Context, flow: Flow) -> list[Outbound]:
    await _save_address(ctx)
    await ctx.end_flow()
    t = ctx.t
    return [
        ctx.say(
            t("Address saved. Any order waiting for it goes on to the seller for shipping."),
            rows=[[ctx.button(t("📦 My orders"), "os", 1)], [ctx.button(t("🏠 Menu"), "m")]],
        )
    ]


async def ask_address(ctx: Context) -> list[Outbound]:
    if not ctx.inbound.private:
        return [ctx.say(ctx.t("Please send your address in a private chat with me, not here."))]
    await ctx.start_flow(ADDRESS_FLOW, "text")
    return [address_prompt(ctx)]
