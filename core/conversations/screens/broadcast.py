"""Operators' announcements: /broadcast writes and sends one, /broadcasts lists them.

/broadcast asks for the text, an optional image address and an optional link button, then
who gets it; it shows how many creators that is and the announcement exactly as they will see
it, and sends it now or at a time. What comes back is a progress message: its Refresh button
redraws it in place with what was sent, failed, could not be reached and is still waiting,
and its Cancel button stops the rest.

Times are typed and shown in the ``COLLABBOT_TIMEZONE`` zone (UTC when unset).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.errors import error_text
from core.conversations.flows import FLOW_TTL, Flow
from core.conversations.i18n import N_, Translator
from core.conversations.labels import category_name
from core.conversations.layout import Choice
from core.conversations.markup import Markup, bold
from core.conversations.messages import Outbound, Prompt
from core.conversations.notice_messages import announcement_message
from core.conversations.router import router
from core.conversations.screens.common import cancel_row, choose, expired, main_menu
from core.conversations.screens.profile import PLATFORM_NAMES
from core.domain.broadcasts import AudienceKind, Broadcast, BroadcastAudience, BroadcastState
from core.domain.common import Platform
from core.domain.errors import DomainError, InvalidInput
from core.domain.members import Role
from core.services import CATEGORIES
from core.services.broadcasts import (
    BAD_IMAGE_CODE,
    BAD_LANGUAGE_CODE,
    BAD_SEND_TIME_CODE,
    LABEL_TOO_LONG_CODE,
    NOT_FOUND_CODE,
    SEND_TIME_PASSED_CODE,
    BroadcastDraft,
    BroadcastProgress,
    audience_of,
    audience_size,
    broadcast_progress,
    cancel_broadcast,
    check_draft,
    create_broadcast,
    parse_send_time,
    recent_broadcasts,
)

FLOW = "broadcast"
PROGRESS = "bc"  # show (and refresh) one broadcast's progress
ASK_CANCEL = "bcx"
CANCEL_YES = "bcy"
LIST = "bcl"
NEW = "bcn"
SKIP = "skip"
TIMEZONE_ENV = "COLLABBOT_TIMEZONE"
LIST_SIZE = 10

# What the screen says about a bad answer, by error code; other codes are put into words by
# core/conversations/errors.py.
PROBLEMS = {
    NOT_FOUND_CODE: N_("There is no such announcement."),
    BAD_IMAGE_CODE: N_("The image must be the https:// address of a picture."),
    LABEL_TOO_LONG_CODE: N_("The button label is too long (at most 40 characters)."),
    BAD_LANGUAGE_CODE: N_("Send a language as a two- or three-letter code, e.g. en or zh."),
    BAD_SEND_TIME_CODE: N_(
        "Send the time as YYYY-MM-DD HH:MM (e.g. 2026-05-01 18:30) or as a delay such as in 2h "
        "or in 30m."
    ),
    SEND_TIME_PASSED_CODE: N_("That time has passed. Send a later one."),
    "use_buttons": N_("Please choose one of the buttons."),
    "bad_offer_number": N_("Send the offer number, e.g. 12."),
}

STATE_NAMES = {
    BroadcastState.DRAFT: N_("draft"),
    BroadcastState.SCHEDULED: N_("scheduled"),
    BroadcastState.SENDING: N_("sending"),
    BroadcastState.DONE: N_("done"),
    BroadcastState.CANCELLED: N_("cancelled"),
}

AUDIENCE_CHOICES = (
    ("all", N_("All creators")),
    ("platform", N_("By channel")),
    ("category", N_("By category")),
    ("country", N_("By country")),
    ("language", N_("By language")),
    ("offer", N_("Applicants of an offer")),
    ("top", N_("Top Creators")),
)
AUDIENCE_KINDS = {
    "all": AudienceKind.ALL_CREATORS,
    "top": AudienceKind.TOP_CREATORS,
    "platform": AudienceKind.PLATFORM,
    "category": AudienceKind.CATEGORY,
    "country": AudienceKind.COUNTRY,
    "language": AudienceKind.LANGUAGE,
    "offer": AudienceKind.OFFER_APPLICANTS,
}
CHAT_APPS = (Platform.TELEGRAM, Platform.DISCORD, Platform.WHATSAPP)
COUNTRIES = ("US", "GB", "DE", "CA", "FR", "ES")
LANGUAGES = ("en", "zh", "es", "de", "fr")

Data = Mapping[str, Any]
Taker = Callable[[Context, Data], Awaitable[dict[str, Any]]]


def schedule_zone() -> tzinfo:
    """The zone operators type and read times in: ``COLLABBOT_TIMEZONE``, else UTC."""
    name = os.environ.get(TIMEZONE_ENV, "").strip() or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_time(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({getattr(zone, 'key', 'UTC')})"


def _problem(code: str) -> InvalidInput:
    return InvalidInput(PROBLEMS[code], code=code)


def problem_text(t: Translator, error: DomainError) -> str:
    if error.code in PROBLEMS:
        return t(PROBLEMS[error.code])
    return error_text(t, error)


def refusal(ctx: Context, error: DomainError) -> list[Outbound]:
    text = problem_text(ctx.t, error)
    return [ctx.say(text, toast=text[:190])]


def audience_text(t: Translator, audience: BroadcastAudience) -> str:
    value = audience.value
    match audience.kind:
        case AudienceKind.PLATFORM:
            name = PLATFORM_NAMES.get(Platform(value), value)
            return t("creators on {platform}", platform=name)
        case AudienceKind.CATEGORY:
            return t("creators in {category}", category=category_name(t, value))
        case AudienceKind.COUNTRY:
            return t("creators in {country}", country=value)
        case AudienceKind.LANGUAGE:
            return t("creators who speak {language}", language=value)
        case AudienceKind.OFFER_APPLICANTS:
            return t("applicants of offer #{number}", number=value)
        case AudienceKind.TOP_CREATORS:
            return t("Top Creators")
    return t("all creators")


def _operator_only(ctx: Context) -> list[Outbound] | None:
    if ctx.member.is_operator:
        return None
    return [ctx.say(ctx.t("This command is not available to you."), rows=main_menu(ctx))]


# --- composing ------------------------------------------------------------------------------


@router.command("broadcast", N_("Send an announcement to creators"), Role.OPERATOR)
async def broadcast_command(ctx: Context) -> list[Outbound]:
    return await begin(ctx)


@router.action(NEW)
async def new_button(ctx: Context, action: Action) -> list[Outbound]:
    return _operator_only(ctx) or await begin(ctx)


async def begin(ctx: Context) -> list[Outbound]:
    # ``run`` names this pass through the flow, so that it sends one announcement only.
    await ctx.start_flow(FLOW, "text", run=secrets.token_urlsafe(12))
    intro = ctx.t("Let's write an announcement to creators. Send /cancel to stop.")
    return [ctx.say(intro), *await _ask(ctx, "text", {})]


QUESTIONS = {
    "text": N_("Send the text of the announcement (at most 3500 characters)."),
    "image": N_("Send the address of an image to show with it (https://…), or Skip."),
    "link": N_(
        "Add a button with a link? Send its label and then its address, e.g. Shop now "
        "https://example.com/sale, or Skip."
    ),
    "audience": N_("Who should get it?"),
    "platform": N_("Creators on which chat app?"),
    "category": N_("Creators in which category?"),
    "country": N_("Creators in which country? Tap one, or send its two-letter code."),
    "language": N_("Creators who speak which language? Tap one, or send its code."),
    "offer": N_("Applicants of which offer? Send the offer number."),
    "when": N_(
        "When should it go out? Send a date and time in {zone} as YYYY-MM-DD HH:MM, or a delay "
        "such as in 2h."
    ),
}
PROMPTS = {
    "text": (N_("Announcement"), "", True, 3500),
    "image": (N_("Image address"), "https://", False, 2000),
    "link": (N_("Button label and address"), "Shop now https://example.com", False, 300),
    "country": (N_("Country code"), "US", False, 2),
    "language": (N_("Language code"), "en", False, 3),
    "offer": (N_("Offer number"), "12", False, 12),
    "when": (N_("When"), "2026-05-01 18:30", False, 40),
}
AUDIENCE_STEPS = ("platform", "category", "country", "language", "offer")


def _choices(ctx: Context, step: str) -> list[list[Choice]]:
    t = ctx.t

    def one(label: str, value: str) -> Choice:
        return choose(ctx, label, step, value)

    if step in ("image", "link"):
        return [[one(t("Skip"), SKIP)]]
    if step == "audience":
        return [[one(t(label), value)] for value, label in AUDIENCE_CHOICES]
    if step == "platform":
        return [[one(PLATFORM_NAMES[p], p.value) for p in CHAT_APPS]]
    if step == "category":
        names = [one(category_name(t, c), c) for c in CATEGORIES]
        return [names[i : i + 3] for i in range(0, len(names), 3)]
    if step == "country":
        return [[one(c, c) for c in COUNTRIES]]
    if step == "language":
        return [[one(code, code) for code in LANGUAGES]]
    return []


async def _ask(ctx: Context, step: str, data: Data, problem: str = "") -> list[Outbound]:
    """The question of ``step``, after what was wrong with the last answer (if anything)."""
    if step == "review":
        return await _review(ctx, data, problem)
    t = ctx.t
    zone = getattr(schedule_zone(), "key", "UTC")
    lines = [f"⚠️ {problem}"] if problem else []
    lines.append(t(QUESTIONS[step], zone=zone) if step == "when" else t(QUESTIONS[step]))
    prompt = None
    if step in PROMPTS:
        label, placeholder, multiline, max_length = PROMPTS[step]
        prompt = Prompt(step, t(label), placeholder, multiline, max_length)
    rows = [*_choices(ctx, step), cancel_row(ctx)]
    return [ctx.say(*lines, rows=rows, prompt=prompt)]


def _skipped(ctx: Context) -> bool:
    return ctx.answer.strip().lower() in (SKIP, "-", ctx.t("Skip").lower())


def _draft(data: Data, **changes: str) -> BroadcastDraft:
    audience = BroadcastAudience()
    if "kind" in data:
        audience = BroadcastAudience(AudienceKind(data["kind"]), str(data.get("value", "")))
    texts = {
        name: str(data.get(name, "")) for name in ("text", "image_url", "link_label", "link_url")
    } | changes
    return BroadcastDraft(
        text=texts["text"],
        audience=audience,
        image_url=texts["image_url"],
        link_label=texts["link_label"],
        link_url=texts["link_url"],
    )


async def _take_text(ctx: Context, data: Data) -> dict[str, Any]:
    return {"text": check_draft(_draft(data, text=ctx.answer)).text}


async def _take_image(ctx: Context, data: Data) -> dict[str, Any]:
    if _skipped(ctx):
        return {"image_url": ""}
    return {"image_url": check_draft(_draft(data, image_url=ctx.answer)).image_url}


def split_link(text: str) -> tuple[str, str]:
    """``Shop now https://example.com`` (or the two on separate lines) → label and address."""
    words = text.split()
    addresses = [w for w in words if "://" in w or w.lower().startswith("www.")]
    label = " ".join(w for w in words if w not in addresses)
    return label, addresses[0] if len(addresses) == 1 else ""


async def _take_link(ctx: Context, data: Data) -> dict[str, Any]:
    if _skipped(ctx):
        return {"link_label": "", "link_url": ""}
    label, url = split_link(ctx.answer)
    checked = check_draft(_draft(data, link_label=label, link_url=url))
    return {"link_label": checked.link_label, "link_url": checked.link_url}


async def _take_audience(ctx: Context, data: Data) -> dict[str, Any]:
    choice = ctx.answer.strip().lower()
    if choice not in AUDIENCE_KINDS:
        raise _problem("use_buttons")
    return {"kind": AUDIENCE_KINDS[choice].value, "value": "", "audience_step": choice}


async def _take_value(ctx: Context, data: Data) -> dict[str, Any]:
    kind = AudienceKind(data["kind"])
    answer = ctx.answer.strip()
    if kind is AudienceKind.PLATFORM and answer not in {p.value for p in CHAT_APPS}:
        raise _problem("use_buttons")
    if kind is AudienceKind.OFFER_APPLICANTS and not answer.removeprefix("#").isdigit():
        raise _problem("bad_offer_number")
    if kind is AudienceKind.CATEGORY:
        typed = answer.lower()
        answer = next(
            (c for c in CATEGORIES if typed in (c, category_name(ctx.t, c).lower())), typed
        )
    audience = audience_of(kind, answer)
    # Refuses what reaches nobody for sure (an offer that does not exist).
    await audience_size(ctx.mp, ctx.actor, audience)
    return {"value": audience.value}


TAKERS: dict[str, Taker] = {
    "text": _take_text,
    "image": _take_image,
    "link": _take_link,
    "audience": _take_audience,
    **dict.fromkeys(AUDIENCE_STEPS, _take_value),
}


def _next(step: str, answer: Data) -> str:
    order = {"text": "image", "image": "link", "link": "audience"}
    if step in order:
        return order[step]
    if step == "audience":
        chosen = str(answer["audience_step"])
        return chosen if chosen in AUDIENCE_STEPS else "review"
    return "review"


@router.flow(FLOW)
async def broadcast_step(ctx: Context, flow: Flow) -> list[Outbound]:
    if flow.step == "review":
        return await _decide(ctx, flow)
    if flow.step == "when":
        return await _send_at(ctx, flow)
    take = TAKERS.get(flow.step)
    if take is None:
        await ctx.end_flow()
        return [ctx.say(ctx.t("Stopped. Nothing was saved."), rows=main_menu(ctx))]
    try:
        answer = await take(ctx, flow.data)
    except DomainError as error:
        return await _ask(ctx, flow.step, flow.data, problem_text(ctx.t, error))
    step = _next(flow.step, answer)
    answer.pop("audience_step", None)
    await ctx.next_step(step, **answer)
    return await _ask(ctx, step, flow.data)


# --- review, then send ------------------------------------------------------------------------


async def _review(ctx: Context, data: Data, problem: str = "") -> list[Outbound]:
    t = ctx.t
    draft = _draft(data)
    count = await audience_size(ctx.mp, ctx.actor, draft.audience)
    who = audience_text(t, draft.audience)
    lines = [f"⚠️ {problem}"] if problem else []
    if count == 0:
        lines.append(t("No creator matches {audience} right now. Choose others.", audience=who))
        rows = [[choose(ctx, t("👥 Change audience"), "review", "audience")], cancel_row(ctx)]
        return [ctx.say(*lines, rows=rows)]
    lines.append(
        t("This announcement goes to {count} creators: {audience}.", count=count, audience=who)
    )
    lines.append(t("Preview: this is how they will see it."))
    preview = announcement_message(t, check_draft(draft))
    preview = dataclasses.replace(preview, ephemeral=not ctx.inbound.private)
    rows = [
        [
            choose(ctx, t("🚀 Send now"), "review", "now", "primary"),
            choose(ctx, t("🕒 Schedule"), "review", "later"),
        ],
        [choose(ctx, t("👥 Change audience"), "review", "audience"), *cancel_row(ctx)],
    ]
    return [
        ctx.say(*lines),
        preview,
        ctx.say(t("Send it now, or at a time?"), rows=rows),
    ]


async def _decide(ctx: Context, flow: Flow) -> list[Outbound]:
    choice = ctx.choice if ctx.choice is not None else ""
    if choice == "audience":
        await ctx.next_step("audience")
        return await _ask(ctx, "audience", flow.data)
    if choice == "later":
        await ctx.next_step("when")
        return await _ask(ctx, "when", flow.data)
    if choice != "now":
        return await _review(ctx, flow.data, ctx.t(PROBLEMS["use_buttons"]))
    return await _create(ctx, flow, ctx.mp.clock.now())


async def _send_at(ctx: Context, flow: Flow) -> list[Outbound]:
    try:
        at = parse_send_time(ctx.answer, ctx.mp.clock.now(), schedule_zone())
    except DomainError as error:
        return await _ask(ctx, "when", flow.data, problem_text(ctx.t, error))
    return await _create(ctx, flow, at)


async def _create(ctx: Context, flow: Flow, at: datetime) -> list[Outbound]:
    # Two presses handled at the same time would both find the flow here: one broadcast only.
    once = f"broadcast-created:{ctx.member_id}:{flow.data.get('run', '')}"
    if not await ctx.kv.set_if_absent(once, "1", ttl=FLOW_TTL):
        return expired(ctx)
    try:
        broadcast = await create_broadcast(ctx.mp, ctx.actor, _draft(flow.data), send_at=at)
    except Exception:
        await ctx.kv.delete(once)
        raise
    await ctx.end_flow()
    assert broadcast.id is not None
    return await show_progress(ctx, broadcast.id, edit=ctx.choice is not None)


# --- progress, cancelling, the list -------------------------------------------------------------


def progress_lines(t: Translator, progress: BroadcastProgress) -> list[Markup | str]:
    broadcast = progress.broadcast
    zone = schedule_zone()
    state = t(STATE_NAMES[broadcast.state])
    lines: list[Markup | str] = [
        Markup.of(bold(t("📣 Announcement #{number}", number=broadcast.id)), f" · {state}"),
        t("To: {audience}", audience=audience_text(t, broadcast.audience)),
    ]
    if broadcast.state is BroadcastState.SCHEDULED and broadcast.scheduled_at is not None:
        lines.append(t("Goes out at {time}.", time=local_time(broadcast.scheduled_at, zone)))
    lines.append(
        t(
            "Recipients: {recipients} · sent: {sent} · failed: {failed} · unreachable: "
            "{unreachable} · waiting: {pending}",
            recipients=progress.recipients,
            sent=progress.sent,
            failed=progress.failed,
            unreachable=progress.unreachable,
            pending=progress.pending,
        )
    )
    if progress.skipped:
        lines.append(t("Turned announcements off meanwhile: {count}", count=progress.skipped))
    if progress.not_sent:
        lines.append(t("Did not get it (cancelled): {count}", count=progress.not_sent))
    if broadcast.state is BroadcastState.DONE and broadcast.finished_at is not None:
        lines.append(t("Finished at {time}.", time=local_time(broadcast.finished_at, zone)))
    return lines


def progress_message(ctx: Context, progress: BroadcastProgress, *, edit: bool) -> Outbound:
    t = ctx.t
    broadcast = progress.broadcast
    assert broadcast.id is not None
    refresh = ctx.button(t("↻ Refresh"), PROGRESS, broadcast.id)
    running = (BroadcastState.DRAFT, BroadcastState.SCHEDULED, BroadcastState.SENDING)
    if broadcast.state in running:
        stop = ctx.button(t("✖ Cancel broadcast"), ASK_CANCEL, broadcast.id, style="danger")
        rows = [[refresh, stop]]
    else:
        rows = [[refresh, ctx.button(t("📣 Announcements"), LIST)]]
    return ctx.say(*progress_lines(t, progress), rows=rows, edit=edit)


async def show_progress(ctx: Context, broadcast_id: int, *, edit: bool) -> list[Outbound]:
    progress = await broadcast_progress(ctx.mp, ctx.actor, broadcast_id)
    return [progress_message(ctx, progress, edit=edit)]


def _broadcast_id(action: Action) -> int | None:
    return action.ids[0] if len(action.ids) == 1 else None


@router.action(PROGRESS)
async def progress_button(ctx: Context, action: Action) -> list[Outbound]:
    broadcast_id = _broadcast_id(action)
    if broadcast_id is None:
        return expired(ctx)
    try:
        return await show_progress(ctx, broadcast_id, edit=True)
    except DomainError as error:
        return refusal(ctx, error)


@router.action(ASK_CANCEL)
async def ask_cancel_button(ctx: Context, action: Action) -> list[Outbound]:
    broadcast_id = _broadcast_id(action)
    if broadcast_id is None:
        return expired(ctx)
    refused = _operator_only(ctx)
    if refused:
        return refused
    t = ctx.t
    rows = [
        [
            ctx.button(t("Yes, stop it"), CANCEL_YES, broadcast_id, style="danger"),
            ctx.button(t("No, keep it"), PROGRESS, broadcast_id),
        ]
    ]
    text = t(
        "Stop announcement #{number}? Creators who have not got it yet will not get it; those "
        "who got it keep it.",
        number=broadcast_id,
    )
    return [ctx.say(text, rows=rows, edit=True)]


@router.action(CANCEL_YES)
async def cancel_button(ctx: Context, action: Action) -> list[Outbound]:
    broadcast_id = _broadcast_id(action)
    if broadcast_id is None:
        return expired(ctx)
    try:
        progress = await cancel_broadcast(ctx.mp, ctx.actor, broadcast_id)
    except DomainError as error:
        return refusal(ctx, error)
    toast = ctx.t("Announcement #{number} is stopped.", number=broadcast_id)
    message = progress_message(ctx, progress, edit=True)
    return [dataclasses.replace(message, toast=toast)]


@router.command("broadcasts", N_("Recent announcements and how far they are"), Role.OPERATOR)
async def broadcasts_command(ctx: Context) -> list[Outbound]:
    return await show_list(ctx, edit=False)


@router.action(LIST)
async def list_button(ctx: Context, action: Action) -> list[Outbound]:
    return _operator_only(ctx) or await show_list(ctx, edit=True)


def _summary(t: Translator, broadcast: Broadcast) -> str:
    first_line = broadcast.text.splitlines()[0] if broadcast.text else ""
    excerpt = first_line if len(first_line) <= 40 else first_line[:39] + "…"
    return t(
        "#{number} · {state} · {audience} · sent {sent} of {recipients} · “{text}”",
        number=broadcast.id,
        state=t(STATE_NAMES[broadcast.state]),
        audience=audience_text(t, broadcast.audience),
        sent=broadcast.sent,
        recipients=broadcast.recipients,
        text=excerpt,
    )


async def show_list(ctx: Context, *, edit: bool) -> list[Outbound]:
    t = ctx.t
    found = await recent_broadcasts(ctx.mp, ctx.actor, LIST_SIZE)
    new = ctx.button(t("📣 New announcement"), NEW, style="primary")
    if not found:
        text = t("No announcements yet. Send /broadcast to write one.")
        return [ctx.say(text, rows=[[new]], edit=edit)]
    lines: list[Markup | str] = [Markup.of(bold(t("📣 Recent announcements")))]
    lines += [_summary(t, b) for b in found]
    buttons = [
        ctx.button(f"#{b.id} · {t(STATE_NAMES[b.state])}", PROGRESS, b.id or 0) for b in found
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([new, ctx.button(t("🏠 Menu"), "m")])
    return [ctx.say(*lines, rows=rows, edit=edit)]
