"""The seller's offer wizard (/newoffer): one question at a time, a preview, then publish.

The flow keeps only the answers given so far (the seller's number and what was typed or
chosen), never anyone's personal data. A bad answer is answered with what was wrong and the
same question again; earlier answers stay.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from core.amazon import MARKETPLACES
from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.errors import error_text
from core.conversations.flows import FLOW_TTL, Flow
from core.conversations.i18n import N_
from core.conversations.labels import category_name, video_type_name
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound, Prompt
from core.conversations.router import router
from core.conversations.screens.common import cancel_row, choose, expired, main_menu
from core.conversations.screens.creator_offers import offer_details
from core.domain.common import Money
from core.domain.errors import DomainError, InvalidInput
from core.domain.members import Role
from core.domain.offers import (
    Audience,
    Offer,
    Requirements,
    Reward,
    RewardKind,
    SelectionMode,
    VideoType,
)
from core.domain.sellers import Product
from core.services import CATEGORIES, NewOffer, OfferCard, create_offer, parse_deadline
from core.services.seller_accounts import my_sellers, seller_account

FLOW = "newoffer"
NEW_OFFER = "nw"
SELLER_OFFER = "sd"  # a seller's view of one offer (screens/seller_offers.py)

COMMON_MARKETPLACES = (
    "amazon.com",
    "amazon.co.uk",
    "amazon.de",
    "amazon.ca",
    "amazon.fr",
    "amazon.es",
)
FLAGS = {
    "landscape": N_("Landscape"),
    "outdoor": N_("Filmed outdoors"),
    "with_children": N_("With children"),
    "with_pets": N_("With pets"),
    "face_visible": N_("Face visible"),
}
DEADLINE_DAYS = ("7", "14", "30")
CONTENT_DAYS = ("7", "14", "21")
SKIP = "skip"
MAX_COUNTRIES = 30

# What the wizard itself says about a bad answer; other problems come from the domain.
PROBLEMS = {
    "use_buttons": N_("Please choose one of the buttons."),
    "bad_seller_number": N_("Send the seller's number, e.g. 12, or tap one of the sellers."),
    "bad_product": N_(
        "Send the product's ASIN (10 letters and digits, e.g. B0C1234567) or the address of "
        "its Amazon page (with /dp/ in it), or tap Skip."
    ),
    "bad_fee": N_("Send the fee as an amount and a currency, e.g. 25 USD."),
    "bad_countries": N_("Send two-letter country codes separated by commas, e.g. US, GB, DE."),
    "bad_slots": N_("Send the number of samples as a number from 1 to 10,000."),
    "bad_content_days": N_("Send a number of days between 1 and 365."),
}

_ASIN = re.compile(r"[A-Z0-9]{10}")
_PRODUCT_PATH = re.compile(r"/(?:dp|gp/product|gp/aw/d)/([A-Z0-9]{10})(?:/|$)", re.IGNORECASE)
_COUNTRY = re.compile(r"[A-Z]{2}")
_DAYS = re.compile(r"(\d+)\s*(?:d|days?)", re.IGNORECASE)
_FEE = re.compile(
    r"(?P<before>[A-Za-z]{3})?\s*(?P<amount>\d{1,7}(?:[.,]\d{1,2})?)\s*(?P<after>[A-Za-z]{3})?"
)
_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}

Data = Mapping[str, Any]
Answer = dict[str, Any]
"""What one answer adds to the flow's data."""
Taker = Callable[[Context, Data], Awaitable[Answer]]
STAY = "_stay"
"""Set in an answer that keeps the flow on its step (a toggle was pressed)."""


def _problem(code: str) -> InvalidInput:
    return InvalidInput(PROBLEMS[code], code=code)


def _problem_text(ctx: Context, error: DomainError) -> str:
    if error.code in PROBLEMS:
        return ctx.t(PROBLEMS[error.code])
    return error_text(ctx.t, error)


# --- reading answers ----------------------------------------------------------------------


def product_reference(text: str) -> tuple[str, str]:
    """An ASIN typed as is or taken from an Amazon product address (``/dp/ASIN``,
    ``/gp/product/ASIN``), with the address's marketplace ("" when only an ASIN was sent)."""
    text = text.strip()
    if _ASIN.fullmatch(text.upper()):
        return text.upper(), ""
    address = text if "://" in text else "https://" + text
    try:
        parts = urlsplit(address)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise _problem("bad_product") from None
    for prefix in ("www.", "smile.", "m."):
        host = host.removeprefix(prefix)
    if host not in MARKETPLACES:
        raise _problem("bad_product")
    found = _PRODUCT_PATH.search(parts.path)
    if found is None:
        raise _problem("bad_product")
    return found[1].upper(), host


def parse_marketplace(text: str) -> str:
    """``amazon.de``, ``www.amazon.de``, ``de`` or ``.co.uk`` → the marketplace's domain."""
    name = text.strip().lower()
    for prefix in ("https://", "http://", "www."):
        name = name.removeprefix(prefix)
    name = name.strip("/ ").lstrip(".")
    if not name.startswith("amazon."):
        name = "amazon." + name
    if name not in MARKETPLACES:
        raise InvalidInput(
            "Unknown Amazon marketplace. Use one such as amazon.com or amazon.de.",
            code="unknown_marketplace",
        )
    return name


def parse_fee(text: str) -> Money:
    """``25 USD``, ``USD 25``, ``25.50 eur``, ``19,99 EUR`` or ``$25`` → the fee."""
    cleaned = text.strip()
    for sign, currency in _CURRENCY_SIGNS.items():
        if cleaned.startswith(sign) or cleaned.endswith(sign):
            cleaned = cleaned.strip(sign).strip() + " " + currency
    match = _FEE.fullmatch(cleaned)
    if match is None or bool(match["before"]) == bool(match["after"]):
        raise _problem("bad_fee")
    currency = (match["before"] or match["after"]).upper()
    money = Money(Decimal(match["amount"].replace(",", ".")), currency)
    Reward(RewardKind.FEE, money)  # refuses a zero fee with the domain's own message
    return money


def parse_countries(text: str) -> list[str]:
    codes = [c.strip().upper() for c in re.split(r"[,\s;]+", text) if c.strip()]
    if not codes or len(codes) > MAX_COUNTRIES or not all(_COUNTRY.fullmatch(c) for c in codes):
        raise _problem("bad_countries")
    return sorted(set(codes))


def _days(text: str) -> str:
    """``14 days`` or ``14d`` (as on the buttons) → ``14``; anything else as it was."""
    found = _DAYS.fullmatch(text.strip())
    return found[1] if found else text.strip()


def _number(text: str, low: int, high: int, problem: str) -> int:
    digits = text.strip().replace(",", "").replace(" ", "").replace("_", "")
    if not digits.isdigit() or not low <= int(digits) <= high:
        raise _problem(problem)
    return int(digits)


def _skipped(ctx: Context, text: str) -> bool:
    return text.strip().lower() in (SKIP, "-", ctx.t("Skip").lower())


# --- the offer the answers describe -----------------------------------------------------


def new_offer(data: Data, ctx: Context) -> NewOffer:
    """The offer the answers describe; the deadline counts from now."""
    reward = Reward()
    if data.get("reward") == "fee":
        amount, currency = str(data["fee"]).split()
        reward = Reward(RewardKind.FEE, Money(Decimal(amount), currency))
    flags = set(data.get("flags", ()))
    audience = Audience()
    if data.get("audience") == "top":
        audience = Audience(public=False, top_creators_only=True)
    elif data.get("audience") == "country":
        audience = Audience(public=False, countries=frozenset(data.get("countries", ())))
    return NewOffer(
        title=str(data["title"]),
        video_type=VideoType(int(data["video_type"])),
        slots=int(data["slots"]),
        marketplace=str(data["marketplace"]),
        asin=str(data.get("asin", "")),
        category=str(data["category"]),
        reward=reward,
        requirements=Requirements(
            text=str(data.get("note", "")),
            landscape="landscape" in flags,
            outdoor="outdoor" in flags,
            with_children="with_children" in flags,
            with_pets="with_pets" in flags,
            face_visible="face_visible" in flags,
        ),
        selection=SelectionMode(data["selection"]),
        audience=audience,
        application_deadline=parse_deadline(str(data["deadline"]), ctx.mp.clock.now()),
        content_deadline_days=int(data["content_days"]),
    )


def preview_card(seller_id: int, new: NewOffer, ctx: Context) -> OfferCard:
    """The offer as creators will see it, before it is stored (defaults as ``create_offer``
    fills them in)."""
    product = Product(
        id=None,
        seller_id=seller_id,
        title=new.title,
        marketplace=new.marketplace,
        asin=new.asin,
        url=new.product_url,
        category=new.category,
    )
    policy = ctx.mp.policy
    deadline = new.application_deadline or ctx.mp.clock.now() + timedelta(
        days=policy.application_window_days
    )
    offer = Offer(
        id=None,
        seller_id=seller_id,
        product_id=0,
        video_type=new.video_type,
        slots=new.slots,
        application_deadline=deadline,
        reward=new.reward,
        requirements=new.requirements,
        selection=new.selection,
        audience=new.audience,
        content_deadline_days=new.content_deadline_days or policy.content_deadline_days,
        category=product.category,
    )
    return OfferCard(offer, product)


# --- starting -----------------------------------------------------------------------------


@router.command("newoffer", N_("Post a new offer"), Role.SELLER)
async def new_offer_command(ctx: Context) -> list[Outbound]:
    return await begin(ctx)


@router.action(NEW_OFFER)
async def new_offer_button(ctx: Context, action: Action) -> list[Outbound]:
    if not ctx.has_role(Role.SELLER):
        return [ctx.say(ctx.t("This command is not available to you."), rows=main_menu(ctx))]
    return await begin(ctx)


async def _start(ctx: Context, step: str, **data: Any) -> None:
    # ``run`` names this pass through the wizard, so that it can create one offer only.
    await ctx.start_flow(FLOW, step, run=secrets.token_urlsafe(12), **data)


async def begin(ctx: Context) -> list[Outbound]:
    t = ctx.t
    sellers = await my_sellers(ctx.mp, ctx.actor)
    if ctx.member.is_operator or len(sellers) > 1:
        await _start(ctx, "seller")
        return await _ask(ctx, "seller", {})
    if not sellers:
        return [
            ctx.say(
                t("You are not on any seller's team yet. Ask the marketplace team to add you."),
                rows=main_menu(ctx),
            )
        ]
    seller = sellers[0]
    await _start(ctx, "title", seller_id=seller.id)
    intro = t("Let's post a new offer for {seller}. Send /cancel to stop.", seller=seller.name)
    return [ctx.say(intro), *await _ask(ctx, "title", {})]


# --- questions ----------------------------------------------------------------------------


def _rows(choices: Sequence[Choice], per_row: int) -> list[list[Choice]]:
    return [list(choices[i : i + per_row]) for i in range(0, len(choices), per_row)]


@dataclass(frozen=True, slots=True)
class Question:
    """What a step asks, and how a typed answer is invited (``label`` empty: buttons only)."""

    text: str
    label: str = ""
    placeholder: str = ""
    max_length: int = 100
    multiline: bool = False


QUESTIONS = {
    "seller": Question(N_("Which seller is this offer for?")),
    "title": Question(
        N_("What is the product called? Send its title as creators should see it."),
        N_("Product title"),
        max_length=Product.MAX_TITLE,
    ),
    "product": Question(
        N_("Send the product's ASIN (like B0C1234567) or the address of its Amazon page."),
        N_("ASIN or product link"),
        "B0C1234567",
        max_length=500,
    ),
    "marketplace": Question(
        N_("Which Amazon marketplace is it sold on? Tap it, or type another one (amazon.se)."),
        N_("Marketplace"),
        "amazon.com",
        max_length=40,
    ),
    "category": Question(N_("Which category is the product in?")),
    "video_type": Question(N_("Which kind of video do you want?")),
    "slots": Question(
        N_("How many samples do you give away? Send a number from 1 to 10,000."),
        N_("Number of samples"),
        "10",
        max_length=6,
    ),
    "reward": Question(N_("What do creators get for their video?")),
    "fee": Question(
        N_(
            "How much is the fee? Send the amount and the currency, e.g. 25 USD. It is paid "
            "after you accept the video."
        ),
        N_("Fee"),
        "25 USD",
        max_length=20,
    ),
    "flags": Question(
        N_("What must the video show? Tap to switch a requirement on or off, then Done.")
    ),
    "note": Question(
        N_("Any other instructions for creators? Send them in one message, or Skip."),
        N_("Instructions"),
        max_length=Requirements.MAX_TEXT,
        multiline=True,
    ),
    "selection": Question(N_("Who picks the creators?")),
    "audience": Question(N_("Who may claim this offer?")),
    "countries": Question(
        N_("Which countries? Send two-letter codes separated by commas, e.g. US, CA."),
        N_("Countries"),
        "US, CA",
        max_length=120,
    ),
    "deadline": Question(
        N_(
            "Until when may creators apply? Tap a choice, or send a number of days or a date "
            "(2026-12-31)."
        ),
        N_("Application deadline"),
        "14",
        max_length=10,
    ),
    "content_days": Question(
        N_("How many days after the sample ships is the video due? Tap, or send a number."),
        N_("Days for the video"),
        "14",
        max_length=3,
    ),
}
STEPS = (*QUESTIONS, "preview")
"""The questions in the order they are asked; "fee" and "countries" only when needed."""


async def _choices(ctx: Context, step: str, data: Data) -> list[list[Choice]]:
    """The buttons that answer ``step``."""
    t = ctx.t

    def one(label: str, value: str) -> Choice:
        return choose(ctx, label, step, value)

    if step == "seller":
        sellers = await my_sellers(ctx.mp, ctx.actor)
        return _rows([one(s.name, str(s.id)) for s in sellers[:12]], 2)
    if step == "product" or step == "note":
        return [[one(t("Skip"), SKIP)]]
    if step == "marketplace":
        suggested = str(data.get("url_marketplace", ""))
        names = [suggested] if suggested and suggested not in COMMON_MARKETPLACES else []
        return _rows([one(name, name) for name in [*names, *COMMON_MARKETPLACES]], 3)
    if step == "category":
        return _rows([one(category_name(t, c), c) for c in CATEGORIES], 3)
    if step == "video_type":
        return [[one(video_type_name(t, v), str(int(v)))] for v in VideoType]
    if step == "reward":
        return [[one(t("Free product"), "free")], [one(t("Free product + a fee"), "fee")]]
    if step == "flags":
        chosen = set(data.get("flags", ()))
        toggles = [
            one(("✅ " if flag in chosen else "") + t(label), flag) for flag, label in FLAGS.items()
        ]
        return [*_rows(toggles, 2), [choose(ctx, t("Done"), step, "done", "primary")]]
    if step == "selection":
        return [
            [one(t("I pick (with a ranking to help)"), SelectionMode.SELLER.value)],
            [one(t("Automatic: the top-ranked applicants"), SelectionMode.AUTO.value)],
        ]
    if step == "audience":
        return [
            [one(t("Everyone who fits"), "public")],
            [one(t("Top Creators only"), "top")],
            [one(t("Creators in some countries"), "country")],
        ]
    if step in ("deadline", "content_days"):
        days = DEADLINE_DAYS if step == "deadline" else CONTENT_DAYS
        return [[one(t("{days} days", days=d), d) for d in days]]
    return []


async def _ask(ctx: Context, step: str, data: Data, problem: str = "") -> list[Outbound]:
    """The question of ``step``, after what was wrong with the last answer (if anything)."""
    if step == "preview":
        return await _preview(ctx, data)
    t = ctx.t
    question = QUESTIONS[step]
    lines = [f"⚠️ {problem}"] if problem else []
    lines.append(t(question.text))
    label = question.label
    if step == "seller" and ctx.member.is_operator:
        lines.append(t("Tap a seller, or send the number of any seller."))
        label = N_("Seller number")
    prompt = None
    if label:
        prompt = Prompt(
            step, t(label), question.placeholder, question.multiline, question.max_length
        )
    rows = [*await _choices(ctx, step, data), cancel_row(ctx)]
    # Switching a requirement redraws the same question in place.
    edit = step == "flags" and ctx.choice in FLAGS and not problem
    return [ctx.say(*lines, rows=rows, prompt=prompt, edit=edit)]


# --- answers ------------------------------------------------------------------------------


def _button(ctx: Context, allowed: Sequence[str]) -> str:
    """The pressed (or typed) value of a step that only takes its buttons."""
    answer = ctx.answer
    if answer not in allowed:
        raise _problem("use_buttons")
    return answer


async def _take_seller(ctx: Context, data: Data) -> Answer:
    text = ctx.answer.strip().lstrip("#")
    if not text.isdigit():
        raise _problem("bad_seller_number")
    seller = await seller_account(ctx.mp, ctx.actor, int(text))
    return {"seller_id": seller.id}


async def _take_title(ctx: Context, data: Data) -> Answer:
    title = " ".join(ctx.answer.split())
    Product(id=None, seller_id=0, title=title)  # the domain's own checks and messages
    return {"title": title}


async def _take_product(ctx: Context, data: Data) -> Answer:
    if _skipped(ctx, ctx.answer):
        return {"asin": "", "url_marketplace": ""}
    asin, marketplace = product_reference(ctx.answer)
    return {"asin": asin, "url_marketplace": marketplace}


async def _take_marketplace(ctx: Context, data: Data) -> Answer:
    return {"marketplace": parse_marketplace(ctx.answer)}


async def _take_category(ctx: Context, data: Data) -> Answer:
    typed = ctx.answer.strip().lower()
    for category in CATEGORIES:
        if typed in (category, category.replace("_", " "), category_name(ctx.t, category).lower()):
            return {"category": category}
    raise InvalidInput("Unknown category. Choose from the list.", code="bad_category")


async def _take_video_type(ctx: Context, data: Data) -> Answer:
    return {"video_type": int(_button(ctx, [str(int(v)) for v in VideoType]))}


async def _take_slots(ctx: Context, data: Data) -> Answer:
    return {"slots": _number(ctx.answer, 1, Offer.MAX_SLOTS, "bad_slots")}


async def _take_reward(ctx: Context, data: Data) -> Answer:
    return {"reward": _button(ctx, ["free", "fee"])}


async def _take_fee(ctx: Context, data: Data) -> Answer:
    return {"fee": str(parse_fee(ctx.answer))}


async def _take_flags(ctx: Context, data: Data) -> Answer:
    flag = _button(ctx, [*FLAGS, "done"])
    if flag == "done":
        return {}
    chosen = set(data.get("flags", ()))
    chosen ^= {flag}
    return {"flags": [f for f in FLAGS if f in chosen], STAY: True}


async def _take_note(ctx: Context, data: Data) -> Answer:
    if _skipped(ctx, ctx.answer):
        return {"note": ""}
    note = ctx.answer
    Requirements(text=note)  # the domain's length check
    return {"note": note}


async def _take_selection(ctx: Context, data: Data) -> Answer:
    return {"selection": _button(ctx, [m.value for m in SelectionMode])}


async def _take_audience(ctx: Context, data: Data) -> Answer:
    return {"audience": _button(ctx, ["public", "top", "country"])}


async def _take_countries(ctx: Context, data: Data) -> Answer:
    return {"countries": parse_countries(ctx.answer)}


async def _take_deadline(ctx: Context, data: Data) -> Answer:
    text = _days(ctx.answer)
    parse_deadline(text, ctx.mp.clock.now())
    return {"deadline": text}


async def _take_content_days(ctx: Context, data: Data) -> Answer:
    return {"content_days": _number(_days(ctx.answer), 1, 365, "bad_content_days")}


TAKERS: dict[str, Taker] = {
    "seller": _take_seller,
    "title": _take_title,
    "product": _take_product,
    "marketplace": _take_marketplace,
    "category": _take_category,
    "video_type": _take_video_type,
    "slots": _take_slots,
    "reward": _take_reward,
    "fee": _take_fee,
    "flags": _take_flags,
    "note": _take_note,
    "selection": _take_selection,
    "audience": _take_audience,
    "countries": _take_countries,
    "deadline": _take_deadline,
    "content_days": _take_content_days,
}


def _next(step: str, data: Data) -> str:
    """The step after ``step``, leaving out questions the answers made unnecessary."""
    if step == "deadline" and "content_days" in data:
        return "preview"  # the deadline was asked again from the preview
    index = STEPS.index(step) + 1
    while (STEPS[index] == "fee" and data.get("reward") != "fee") or (
        STEPS[index] == "countries" and data.get("audience") != "country"
    ):
        index += 1
    return STEPS[index]


@router.flow(FLOW)
async def wizard_step(ctx: Context, flow: Flow) -> list[Outbound]:
    if flow.step == "preview":
        return await _decide(ctx, flow)
    take = TAKERS.get(flow.step)
    if take is None:
        await ctx.end_flow()
        return [ctx.say(ctx.t("Stopped. Nothing was saved."), rows=main_menu(ctx))]
    try:
        answer = await take(ctx, flow.data)
    except DomainError as error:
        return await _ask(ctx, flow.step, flow.data, _problem_text(ctx, error))
    stay = bool(answer.pop(STAY, False))
    step = flow.step if stay else _next(flow.step, {**flow.data, **answer})
    await ctx.next_step(step, **answer)
    return await _ask(ctx, step, flow.data)


# --- preview and the decision -------------------------------------------------------------

DEADLINE_PROBLEMS = frozenset({"bad_days", "bad_deadline", "deadline_in_past"})


async def _preview(ctx: Context, data: Data) -> list[Outbound]:
    t = ctx.t
    seller = await seller_account(ctx.mp, ctx.actor, int(data["seller_id"]))
    try:
        new = new_offer(data, ctx)
    except InvalidInput as error:
        if error.code not in DEADLINE_PROBLEMS:
            raise
        return await _ask_deadline_again(ctx, data, error)
    card = preview_card(int(data["seller_id"]), new, ctx)
    if new.audience.top_creators_only:
        audience = t("Top Creators only")
    elif new.audience.countries:
        audience = t("creators in {countries}", countries=", ".join(sorted(new.audience.countries)))
    else:
        audience = t("everyone who fits")
    selection = (
        t("automatic: the top-ranked applicants")
        if new.selection is SelectionMode.AUTO
        else t("you pick the creators")
    )
    settings: list[Markup | str] = [
        Markup.of(bold(t("Only you see these settings:"))),
        t("Seller: {name} (#{number})", name=seller.name, number=seller.id),
        t(
            "Product: {asin} on {marketplace} · {category}",
            asin=new.asin or t("no ASIN"),
            marketplace=new.marketplace,
            category=category_name(t, new.category),
        ),
        t("Selection: {how}", how=selection),
        t("Who may claim it: {audience}", audience=audience),
        t("Publish it now, or keep it as a draft to publish later?"),
    ]
    rows = _preview_rows(ctx)
    return [
        ctx.say(
            Markup.of(bold(t("Preview: this is how creators will see your offer."))),
            offer_details(ctx, card),
        ),
        ctx.say(*settings, rows=rows),
    ]


async def _ask_deadline_again(ctx: Context, data: Data, error: DomainError) -> list[Outbound]:
    """The deadline was a date that has passed while the flow waited: ask for it again."""
    await ctx.next_step("deadline")
    return await _ask(ctx, "deadline", data, _problem_text(ctx, error))


def _preview_rows(ctx: Context) -> list[list[Choice]]:
    t = ctx.t
    return [
        [
            choose(ctx, t("🚀 Publish"), "preview", "publish", "primary"),
            choose(ctx, t("💾 Save as draft"), "preview", "draft"),
        ],
        [choose(ctx, t("↺ Start over"), "preview", "restart"), *cancel_row(ctx)],
    ]


async def _decide(ctx: Context, flow: Flow) -> list[Outbound]:
    t = ctx.t
    seller_id = int(flow.data["seller_id"])
    choice = ctx.choice if ctx.choice is not None else ""
    if choice == "restart":
        await _start(ctx, "title", seller_id=seller_id)
        return [ctx.say(t("Starting again.")), *await _ask(ctx, "title", {})]
    if choice not in ("publish", "draft"):
        return [ctx.say(f"⚠️ {t(PROBLEMS['use_buttons'])}", rows=_preview_rows(ctx))]
    publish = choice == "publish"
    # Two presses handled at the same time would both find the flow here: one offer only.
    once = f"newoffer-created:{ctx.member_id}:{flow.data.get('run', '')}"
    if not await ctx.kv.set_if_absent(once, "1", ttl=FLOW_TTL):
        return expired(ctx)
    try:
        offer = await create_offer(
            ctx.mp, ctx.actor, seller_id, new_offer(flow.data, ctx), publish=publish
        )
    except Exception as error:
        await ctx.kv.delete(once)
        if isinstance(error, InvalidInput) and error.code in DEADLINE_PROBLEMS:
            return await _ask_deadline_again(ctx, flow.data, error)
        raise
    await ctx.end_flow()
    assert offer.id is not None
    if publish:
        text = t(
            "Published! Offer #{number} is live: creators who fit it can claim it now.",
            number=offer.id,
        )
    else:
        text = t(
            "Saved as a draft: offer #{number}. Publish it from your offers when you are ready.",
            number=offer.id,
        )
    rows = [
        [ctx.button(t("View the offer"), SELLER_OFFER, offer.id, style="primary")],
        [ctx.button(t("➕ Another offer"), NEW_OFFER), ctx.button(t("🏠 Menu"), "m")],
    ]
    return [ctx.say(text, rows=rows, toast=text[:190])]
