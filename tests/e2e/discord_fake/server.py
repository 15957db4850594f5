"""``FakeDiscord``: a strict Discord (REST + gateway) on 127.0.0.1 for end-to-end tests.

discord.py talks to it as to discord.com: REST under ``base_url`` (``…/api/v10``), the
gateway at the URL ``GET /gateway/bot`` names. The test makes people act
(``discord.user(...)``), turns the network's moods on (closed DMs, 429s, failures), and
reads back every interaction, acknowledgement and API call.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .gateway import Gateway
from .records import ApiCall, Channel, Interaction, Message, Person, snowflake
from .rest import API, RestApi
from .state import DiscordState, Fault
from .user import FakeDiscordUser

ROUTES = (
    "gateway_bot", "me", "application", "commands", "open_dm", "create_message", "edit_message",
    "callback", "followup", "get_original", "edit_original", "delete_original",
)  # fmt: skip


class FakeDiscord:
    """A fake Discord; use as ``async with FakeDiscord() as discord:``.

    ``interaction_timeout`` is Discord's 3 seconds to acknowledge an interaction;
    ``followup_window`` the 15 minutes its token lasts.
    """

    def __init__(
        self,
        token: str = "MTAxMDEwMTAxMDEwMTAxMDEw.fake.bot-token",
        *,
        host: str = "127.0.0.1",
        interaction_timeout: float = 3.0,
        followup_window: float = 15 * 60.0,
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self.token = token
        self.host = host
        self.state = DiscordState(
            token, interaction_timeout=interaction_timeout, followup_window=followup_window
        )
        self.gateway = Gateway(self.state, heartbeat_interval_ms=heartbeat_interval_ms)
        self.state.dispatch = self.gateway.dispatch
        self.rest = RestApi(self.state, lambda: self.gateway_url)
        self._people: dict[int, FakeDiscordUser] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0

    # --- running -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        self.rest.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self._port = self._runner.addresses[0][1]
        self.gateway.url = self.gateway_url

    async def close(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The REST base, ``http://127.0.0.1:PORT/api/v10`` (discord.py's ``Route.BASE``)."""
        return f"http://{self.host}:{self._port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self._port}/gateway"

    async def wait_ready(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Until a bot has identified (or resumed) on the gateway."""
        await asyncio.wait_for(self.gateway.ready.wait(), timeout)

    # --- people and places ---------------------------------------------------------------

    @property
    def bot(self) -> Person:
        return self.state.bot

    @property
    def application_id(self) -> int:
        return self.state.application_id

    def user(
        self,
        name: str = "ana",
        *,
        user_id: int | None = None,
        global_name: str | None = None,
        locale: str = "en-US",
    ) -> FakeDiscordUser:
        """A person with a DM channel to the bot (the same one again for the same id)."""
        if user_id is not None and user_id in self._people:
            return self._people[user_id]
        person = Person(user_id or snowflake(), name, global_name or name.title(), locale)
        self.state.add_person(person)
        self._people[person.id] = FakeDiscordUser(self.state, person)
        return self._people[person.id]

    def server_channel(self, name: str = "general", *, guild_id: int | None = None) -> Channel:
        """A text channel of a server the bot is in."""
        return self.state.add_guild_channel(guild_id or snowflake(), name)

    def close_dms(self, user: FakeDiscordUser) -> None:
        """The person turns off DMs from server members (or blocks the bot): the bot's
        messages to them fail with 50007."""
        user.person.dms_open = False

    def open_dms(self, user: FakeDiscordUser) -> None:
        user.person.dms_open = True

    def plant_message(
        self, user: FakeDiscordUser, content: str, buttons: list[tuple[str, str]]
    ) -> Message:
        """A message the bot sent this person earlier (e.g. before its signing key changed):
        ``buttons`` are (label, custom_id)."""
        row = {
            "type": 1,
            "components": [
                {"type": 2, "style": 2, "label": label, "custom_id": custom_id}
                for label, custom_id in buttons
            ],
        }
        return self.state.bot_message(user.dm, {"content": content, "components": [row]})

    # --- the network's moods -------------------------------------------------------------

    def inject(
        self,
        route: str,
        status: int,
        code: int = 0,
        message: str = "",
        *,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """The next ``times`` calls of ``route`` (one of :data:`ROUTES`) fail this way; a
        429 comes with ``retry_after`` in the body and the headers, as Discord sends it."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {', '.join(ROUTES)}")
        if status == 429 and retry_after is None:
            raise ValueError("a 429 needs retry_after")
        self.state.faults.append(
            Fault(route, status, code, message or f"{status}", times, retry_after)
        )

    async def reconnect(self) -> None:
        """Ask the bot to reconnect and resume its gateway session (op 7)."""
        await self.gateway.reconnect()

    # --- what happened -------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        return self.state.calls

    def calls_to(self, method: str, path_part: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and path_part in c.path]

    @property
    def interactions(self) -> list[Interaction]:
        return sorted(self.state.interactions.values(), key=lambda i: i.id)

    @property
    def unacknowledged(self) -> list[Interaction]:
        return [i for i in self.interactions if not i.acknowledged]

    @property
    def refused_callbacks(self) -> list[tuple[Interaction, int, str]]:
        return [(i, code, why) for i in self.interactions for code, why in i.refused]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The slash commands registered globally (or in one server)."""
        return list(self.state.commands.get(guild_id, []))
