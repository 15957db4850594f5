"""The conversation engine: one inbound event in, the messages to send back out.

Every channel hands its updates here. The engine drops repeated deliveries, finds (or
creates) the member behind the chat account, routes commands, button presses, typed text and
files to the screens, and turns refusals into clear answers in the person's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from core.amazon import find_video_link
from core.conversations import screens
from core.conversations.actions import ActionCodec
from core.conversations.context import Context
from core.conversations.errors import error_text
from core.conversations.flows import FlowStore
from core.conversations.i18n import N_, translator
from core.conversations.markup import Markup
from core.conversations.messages import Inbound, InboundKind, Outbound
from core.conversations.router import Router, router
from core.domain.errors import DomainError
from core.domain.members import Member
from core.ports.kv import KeyValueStore
from core.services import find_member, register_identity
from core.services.base import Marketplace

logger = logging.getLogger(__name__)

DEDUP_TTL = timedelta(hours=24)
MAX_TEXT = 4000
EXPIRED = N_("This button has expired. Send /start to begin again.")


class ConversationEngine:
    """Answers inbound events. Shared by every channel; holds no per-person state itself.

    ``max_concurrent`` bounds how many events are answered at once; the rest wait their
    turn. Each event holds at most one database connection while it is answered, so a bound
    no larger than the connection pool keeps the pool from opening (and closing again) a
    connection for every event beyond it under load. ``None``: no bound.
    """

    def __init__(
        self,
        mp: Marketplace,
        store: KeyValueStore,
        codec: ActionCodec,
        *,
        routes: Router = router,
        max_concurrent: int | None = None,
    ) -> None:
        screens.load()
        self.mp = mp
        self.store = store
        self.codec = codec
        self.flows = FlowStore(store)
        self.routes = routes
        self._slots: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Semaphore(max_concurrent)
            if max_concurrent is not None
            else contextlib.nullcontext()
        )

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """The answers to one inbound event ([] for a repeated delivery)."""
        seen_key = f"seen:{inbound.platform.value}:{inbound.event_id}"
        if inbound.event_id and not await self.store.set_if_absent(seen_key, "1", ttl=DEDUP_TTL):
            return []
        # The screens' reads share one read transaction; changes still commit on their own.
        async with self._slots, self.mp.reading():
            return await self._handle(inbound, seen_key)

    async def _handle(self, inbound: Inbound, seen_key: str) -> list[Outbound]:
        try:
            member = await register_identity(
                self.mp,
                inbound.platform,
                inbound.user_id,
                inbound.chat_id,
                inbound.display_name,
                inbound.language_code,
            )
        except DomainError as error:
            return [Outbound(Markup.of(error.message))]
        assert member.id is not None
        ctx = Context(
            self.mp,
            self.store,
            self.flows,
            inbound,
            member,
            translator(member.language),
            await self.flows.get(member.id),
        )
        try:
            return await self._route(ctx)
        except DomainError as error:
            return [ctx.say(error_text(ctx.t, error), toast=error_text(ctx.t, error)[:190])]
        except Exception:
            # Let a redelivery of this event try again, and tell the person plainly.
            await self.store.delete(seen_key)
            logger.exception(
                "handling an inbound event failed",
                extra={"platform": inbound.platform.value, "kind": inbound.kind.value},
            )
            return [
                ctx.say(ctx.t("Something went wrong on our side. Please try again in a moment."))
            ]

    async def member_of(self, inbound: Inbound) -> Member | None:
        """The member behind the sender of ``inbound``, if known."""
        return await find_member(self.mp, inbound.platform, inbound.user_id)

    async def _route(self, ctx: Context) -> list[Outbound]:
        inbound = ctx.inbound
        t = ctx.t
        if inbound.kind is InboundKind.ACTION:
            action = await self.codec.decode(inbound.payload)
            handler = self.routes.actions.get(action.code) if action else None
            if action is None or handler is None:
                return [ctx.say(t(EXPIRED), toast=t(EXPIRED))]
            return await handler(ctx, action)
        if inbound.kind is InboundKind.COMMAND:
            return await self._command(ctx)
        if len(inbound.text) > MAX_TEXT:
            return [
                ctx.say(
                    t(
                        "That message is too long ({length} characters). Please keep it under "
                        "{limit} characters.",
                        length=len(inbound.text),
                        limit=MAX_TEXT,
                    )
                )
            ]
        if ctx.flow is not None:
            flow_handler = self.routes.flows.get(ctx.flow.name)
            if flow_handler is not None:
                return await flow_handler(ctx, ctx.flow)
            await ctx.end_flow()
        if inbound.kind is InboundKind.TEXT and find_video_link_safe(inbound.text):
            return await screens.creator_videos.pasted_link(ctx)
        return screens.common.not_understood(ctx)

    async def _command(self, ctx: Context) -> list[Outbound]:
        name = ctx.inbound.command.lower().lstrip("/").split("@")[0]
        command = self.routes.commands.get(name)
        if command is None:
            return screens.common.unknown_command(ctx)
        if command.role is not None and not ctx.has_role(command.role):
            return [
                ctx.say(ctx.t("This command is not available to you."), screens.common.hint(ctx))
            ]
        if ctx.flow is not None and name != "cancel":
            await ctx.end_flow()
        return await command.handler(ctx)


def find_video_link_safe(text: str) -> bool:
    """Whether the text holds an Amazon link (a video or not — the screen explains which)."""
    try:
        return find_video_link(text) is not None
    except ValueError:
        return True
