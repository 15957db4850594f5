"""Slash commands: one per chat command of the core's router, with options for the commands
that take arguments, and descriptions in every language the core speaks.

Discord shows one set of slash commands to everybody, so all commands are registered; the
core answers "not available to you" to a creator who tries a seller's or operator's one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import discord
from discord import app_commands

from bots.discord.texts import OPTION_DESCRIPTIONS
from core.conversations.i18n import LANGUAGES, translator
from core.conversations.layout import shorten
from core.conversations.router import Router, router

logger = logging.getLogger(__name__)

DESCRIPTION_MAX: Final = 100


@dataclass(frozen=True, slots=True)
class Option:
    """A text option of a slash command; its value becomes part of the command's args."""

    name: str
    required: bool = True

    @property
    def description(self) -> str:
        return OPTION_DESCRIPTIONS[self.name]


#: The commands whose screens read arguments (``/verify 123``), and in which order.
OPTIONS: Final[dict[str, tuple[Option, ...]]] = {
    "link": (Option("code", required=False),),
    "verify": (Option("creator"),),
    "unverify": (Option("creator"),),
    "suspend": (Option("creator"),),
    "unsuspend": (Option("creator"),),
    "addstaff": (Option("seller"), Option("account")),
}

#: Discord locales the core's languages are offered in.
LOCALES: Final[dict[discord.Locale, str]] = {
    discord.Locale.chinese: "zh",
}


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    summary: str
    """The message id of the description (English), translated per locale."""
    options: tuple[Option, ...] = ()

    @property
    def description(self) -> str:
        return shorten(translator("en")(self.summary), DESCRIPTION_MAX)


def slash_commands(routes: Router = router) -> list[SlashCommand]:
    """Every chat command as a slash command, in the router's order."""
    return [
        SlashCommand(c.name, c.summary, OPTIONS.get(c.name, ())) for c in routes.commands.values()
    ]


CommandHandler = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]
"""Called with the interaction, the command name and its args as one string."""


def app_command(
    command: SlashCommand, handle: CommandHandler
) -> app_commands.Command[Any, Any, None]:
    """A discord.py slash command that hands its invocation to ``handle``."""

    async def invoked(interaction: discord.Interaction[Any], /, **values: Any) -> None:
        args = " ".join(str(values[o.name]).strip() for o in command.options if values.get(o.name))
        await handle(interaction, command.name, args)

    # discord.py reads the options from the callback's signature.
    invoked.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_ONLY),
            *(
                inspect.Parameter(
                    o.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=str,
                    default=inspect.Parameter.empty if o.required else None,
                )
                for o in command.options
            ),
        ]
    )
    invoked.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
        o.name: o.description for o in command.options
    }
    return app_commands.Command(
        name=command.name,
        description=app_commands.locale_str(command.description, summary=command.summary),
        callback=invoked,
    )


class SummaryTranslator(app_commands.Translator):
    """Command descriptions in the core's catalogues: Chinese for Discord's zh locales."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = LOCALES.get(locale)
        summary = string.extras.get("summary")
        if language is None or language not in LANGUAGES or not summary:
            return None
        translated = translator(language)(summary)
        return shorten(translated, DESCRIPTION_MAX) if translated != summary else None


class CommandTree(app_commands.CommandTree[Any]):
    """The bot's slash commands; a command Discord still shows but the bot no longer has
    (registered by an older version) gets the core's "unknown command" answer."""

    def __init__(self, client: discord.Client, handle: CommandHandler) -> None:
        super().__init__(client)
        self._handle = handle

    def add_commands(self, commands: Sequence[SlashCommand], guild: discord.Object | None) -> None:
        for command in commands:
            self.add_command(app_command(command, self._handle), guild=guild)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandNotFound) and not interaction.response.is_done():
            await self._handle(interaction, error.name, "")
            return
        logger.error("a slash command failed", exc_info=error)
