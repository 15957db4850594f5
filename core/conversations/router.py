"""Where commands, button actions and flow steps are registered, by the screen modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.domain.members import Role

if TYPE_CHECKING:
    from core.conversations.actions import Action
    from core.conversations.context import Context
    from core.conversations.flows import Flow
    from core.conversations.messages import Outbound

Replies = list["Outbound"]
CommandHandler = Callable[["Context"], Awaitable[Replies]]
ActionHandler = Callable[["Context", "Action"], Awaitable[Replies]]
FlowHandler = Callable[["Context", "Flow"], Awaitable[Replies]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: CommandHandler
    role: Role | None
    """Who may use it: ``None`` is everyone; operators may use every command."""
    summary: str
    """A message id shown in /help and in the platform's command menu."""


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    flows: dict[str, FlowHandler] = field(default_factory=dict)

    def command(
        self, name: str, summary: str, role: Role | None = None
    ) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = Command(name, handler, role, summary)
            return handler

        return register

    def action(self, code: str) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            if code in self.actions:
                raise ValueError(f"action {code!r} registered twice")
            self.actions[code] = handler
            return handler

        return register

    def flow(self, name: str) -> Callable[[FlowHandler], FlowHandler]:
        def register(handler: FlowHandler) -> FlowHandler:
            if name in self.flows:
                raise ValueError(f"flow {name!r} registered twice")
            self.flows[name] = handler
            return handler

        return register

    def commands_for(self, roles: frozenset[Role]) -> list[Command]:
        """The commands a member with these roles may use, in registration order."""
        if Role.OPERATOR in roles:
            return list(self.commands.values())
        return [c for c in self.commands.values() if c.role is None or c.role in roles]


router = Router()
