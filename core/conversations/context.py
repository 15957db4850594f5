"""What a screen handler works with: who is writing, in which language, and how to answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.conversations.actions import Action
from core.conversations.flows import Flow, FlowStore
from core.conversations.i18n import Translator
from core.conversations.layout import Choice, ChoiceStyle
from core.conversations.markup import Markup, Part
from core.conversations.messages import Inbound, Outbound, Prompt
from core.domain.members import Member, Role
from core.ports.kv import KeyValueStore
from core.services.base import Actor, Marketplace


@dataclass
class Context:
    """One inbound event being answered."""

    mp: Marketplace
    kv: KeyValueStore
    flows: FlowStore
    inbound: Inbound
    member: Member
    t: Translator
    flow: Flow | None = None
    choice: str | None = None
    """The value of the flow button that was pressed, when one was."""

    @property
    def answer(self) -> str:
        """What the person answered a flow step with: a pressed choice or typed text."""
        if self.choice is not None:
            return self.choice
        return self.inbound.text.strip()

    @property
    def actor(self) -> Actor:
        assert self.member.id is not None
        return Actor.member(self.member.id)

    @property
    def member_id(self) -> int:
        assert self.member.id is not None
        return self.member.id

    def has_role(self, role: Role) -> bool:
        return self.member.has_role(role) or self.member.is_operator

    # --- answers ------------------------------------------------------------------------

    def say(
        self,
        *lines: Part,
        rows: Sequence[Sequence[Choice]] = (),
        edit: bool = False,
        toast: str = "",
        image_url: str = "",
        prompt: Prompt | None = None,
        ephemeral: bool = False,
    ) -> Outbound:
        """A message: each argument on its own line."""
        return Outbound(
            Markup.lines(*lines),
            rows=tuple(tuple(r) for r in rows),
            image_url=image_url,
            edit=edit and bool(self.inbound.message_id),
            toast=toast,
            prompt=prompt,
            ephemeral=ephemeral or not self.inbound.private,
        )

    def button(
        self, label: str, code: str, *ids: int, arg: str = "", style: ChoiceStyle = "secondary"
    ) -> Choice:
        return Choice(label, action=Action(code, tuple(ids), arg), style=style)

    def link_button(self, label: str, url: str) -> Choice:
        return Choice(label, url=url)

    # --- flows --------------------------------------------------------------------------

    async def start_flow(self, name: str, step: str, **data: Any) -> Flow:
        self.flow = Flow(name, step, dict(data))
        await self.flows.put(self.member_id, self.flow)
        return self.flow

    async def next_step(self, step: str, **data: Any) -> Flow:
        assert self.flow is not None, "no flow to continue"
        self.flow.step = step
        self.flow.data.update(data)
        await self.flows.put(self.member_id, self.flow)
        return self.flow

    async def end_flow(self) -> None:
        self.flow = None
        await self.flows.clear(self.member_id)
