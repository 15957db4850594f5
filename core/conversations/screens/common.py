"""Start, help, cancel, the main menu, and answers to what the bot does not understand."""

from __future__ import annotations

from core.conversations.actions import Action
from core.conversations.context import Context
from core.conversations.i18n import N_
from core.conversations.layout import Choice, ChoiceStyle
from core.conversations.messages import Outbound
from core.conversations.router import router
from core.domain.members import Role

MENU = "m"
CANCEL = "x"


def main_menu(ctx: Context) -> list[list[Choice]]:
    """The buttons a member starts from, by role."""
    t = ctx.t
    rows: list[list[Choice]] = []
    if ctx.member.creator is not None and ctx.member.has_role(Role.CREATOR):
        rows.append([ctx.button(t("🛍 Offers"), "h", 1), ctx.button(t("📦 My orders"), "os", 1)])
        rows.append([ctx.button(t("👤 Profile"), "pr")])
    if ctx.has_role(Role.SELLER):
        rows.append([ctx.button(t("🏷 My offers"), "so"), ctx.button(t("➕ New offer"), "nw")])
    if ctx.member.is_operator:
        rows.append([ctx.button(t("📊 Stats"), "st")])
    rows.append([ctx.button(t("❓ Help"), "hp")])
    return rows


def hint(ctx: Context) -> str:
    return ctx.t("Send /help to see what you can do.")


def menu_text(ctx: Context) -> str:
    return ctx.t("What would you like to do, {name}?", name=ctx.member.display_name)


@router.command("start", N_("Start, or show the main menu"))
async def start(ctx: Context) -> list[Outbound]:
    from core.conversations.screens import onboarding

    profile = ctx.member.creator
    is_staff = ctx.has_role(Role.SELLER)
    if profile is not None and not profile.onboarded and not is_staff:
        return await onboarding.begin(ctx)
    return [ctx.say(menu_text(ctx), rows=main_menu(ctx))]


@router.action(MENU)
async def menu_button(ctx: Context, action: Action) -> list[Outbound]:
    return [ctx.say(menu_text(ctx), rows=main_menu(ctx), edit=True)]


@router.command("help", N_("What this bot does and how to use it"))
async def help_command(ctx: Context) -> list[Outbound]:
    t = ctx.t
    lines = [t("Here is what you can do:")]
    for command in router.commands_for(ctx.member.roles):
        lines.append(f"/{command.name} — {t(command.summary)}")
    lines.append("")
    lines.append(
        t(
            "Tip: when your video is live on Amazon, just paste its link here and we will match it "
            "to your order."
        )
    )
    return [ctx.say(*lines, rows=main_menu(ctx))]


@router.action("hp")
async def help_button(ctx: Context, action: Action) -> list[Outbound]:
    return await help_command(ctx)


@router.command("cancel", N_("Stop what you are doing"))
async def cancel(ctx: Context) -> list[Outbound]:
    had_flow = ctx.flow is not None
    await ctx.end_flow()
    text = ctx.t("Stopped. Nothing was saved.") if had_flow else ctx.t("There is nothing to stop.")
    return [ctx.say(text, rows=main_menu(ctx))]


@router.action(CANCEL)
async def cancel_button(ctx: Context, action: Action) -> list[Outbound]:
    had_flow = ctx.flow is not None
    await ctx.end_flow()
    text = ctx.t("Stopped. Nothing was saved.") if had_flow else menu_text(ctx)
    return [ctx.say(text, rows=main_menu(ctx), edit=True)]


def cancel_row(ctx: Context) -> list[Choice]:
    return [ctx.button(ctx.t("✖ Cancel"), CANCEL, style="danger")]


def not_understood(ctx: Context) -> list[Outbound]:
    return [
        ctx.say(
            ctx.t("Sorry, I did not understand that. Choose an option below, or send /help."),
            rows=main_menu(ctx),
        )
    ]


def unknown_command(ctx: Context) -> list[Outbound]:
    return [
        ctx.say(
            ctx.t(
                "Unknown command /{command}. Send /help to see the commands.",
                command=ctx.inbound.command.lstrip("/")[:32],
            ),
            rows=main_menu(ctx),
        )
    ]


def expired(ctx: Context) -> list[Outbound]:
    text = ctx.t("This button has expired. Send /start to begin again.")
    return [ctx.say(text, toast=text)]


def flow_choice(ctx: Context, step: str, value: str) -> Action:
    """A button answering the current step of a flow (see ``flow_step_value``)."""
    return Action("f", (), f"{step}:{value}")


def choose(
    ctx: Context, label: str, step: str, value: str, style: ChoiceStyle = "secondary"
) -> Choice:
    return Choice(label, action=flow_choice(ctx, step, value), style=style)


@router.action("f")
async def flow_button(ctx: Context, action: Action) -> list[Outbound]:
    """A button that answers a flow step: routed to the flow, if it is still at that step."""
    step, _, value = action.arg.partition(":")
    flow = ctx.flow
    if flow is None or flow.step != step:
        return expired(ctx)
    handler = router.flows.get(flow.name)
    if handler is None:
        return expired(ctx)
    ctx.choice = value
    return await handler(ctx, flow)
