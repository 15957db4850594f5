"""A person on the fake Discord: runs slash commands, presses buttons, fills in modals and
writes direct messages — in their DM with the bot or in a server channel — and reads what
the bot showed them (ephemeral answers included)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from .records import Channel, Interaction, Message, Modal, Person, snowflake
from .state import DiscordState

DEFAULT_TIMEOUT = 5.0
COMMAND, COMPONENT, MODAL_SUBMIT = 2, 3, 5


class FakeDiscordUser:
    """Someone who uses the bot. Actions happen in their DM unless ``channel`` is given."""

    def __init__(self, state: DiscordState, person: Person) -> None:
        self._state = state
        self.person = person
        self._mark = 0

    def __repr__(self) -> str:
        return f"FakeDiscordUser({self.id}, {self.person.username!r})"

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def name(self) -> str:
        return self.person.global_name or self.person.username

    @property
    def dm(self) -> Channel:
        return self._state.channels[self.person.dm_channel_id]

    def _act(self) -> None:
        self._mark = self._state.changes.version

    # --- what the bot showed -----------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Every bot message this person can see, oldest first (deleted ones left out)."""
        return sorted(
            (
                m
                for m in self._state.messages.values()
                if m.author is self._state.bot and self._state.visible(m, self.person)
            ),
            key=lambda m: m.id,
        )

    @property
    def last(self) -> Message | None:
        shown = [m for m in self.messages if not m.loading]
        return shown[-1] if shown else None

    def _latest_with_button(self, label: str) -> Message | None:
        return next((m for m in reversed(self.messages) if _matches(m, label)), None)

    def _history(self) -> str:
        shown = [repr(m) for m in self.messages[-8:]]
        return "\n  ".join(shown) if shown else "(nothing)"

    async def wait_for(
        self,
        predicate: Callable[[Message], bool],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
        *,
        description: str = "matching message",
        since_last_action: bool = True,
    ) -> Message:
        """The first message shown or changed since this person last acted (or ever, with
        ``since_last_action=False``) that ``predicate`` accepts."""
        baseline = self._mark if since_last_action else 0
        deadline = time.monotonic() + timeout
        while True:
            since = self._state.changes.version
            changed = sorted(
                (m for m in self.messages if m.change > baseline and not m.loading),
                key=lambda m: m.change,
            )
            for message in changed:
                if predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"{self!r} got no {description} within {timeout} s; what the bot showed:"
                    f"\n  {self._history()}"
                )
            await self._state.changes.wait(since, remaining)

    async def wait_for_text(
        self,
        substring: str,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 — the assertion's deadline
    ) -> Message:
        return await self.wait_for(
            lambda m: substring in m.text, timeout, description=f"message with {substring!r}"
        )

    # --- doing things --------------------------------------------------------------------

    async def slash(
        self, name: str, *, channel: Channel | None = None, **options: str
    ) -> Interaction:
        """Run ``/name`` with ``options``, as Discord's client would: only a registered
        command, with its required options and no unknown ones."""
        where = channel or self.dm
        command = self._state.command(name, where.guild_id)
        if command is None:
            raise AssertionError(f"/{name} is not a registered slash command here")
        declared = {o["name"]: o for o in command.get("options") or []}
        unknown = set(options) - set(declared)
        missing = {n for n, o in declared.items() if o.get("required") and n not in options}
        if unknown or missing:
            raise AssertionError(
                f"/{name}: unknown options {unknown or '{}'}, missing {missing or '{}'}"
            )
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
        if options:
            data["options"] = [
                {"name": key, "type": declared[key]["type"], "value": value}
                for key, value in options.items()
            ]
        if where.guild_id is not None:
            data["guild_id"] = str(where.guild_id)
        self._act()
        return self._state.new_interaction(COMMAND, self.person, where, data)

    async def press(
        self,
        label: str,
        message: Message | None = None,
        *,
        custom_id: str | None = None,
        tamper: bool = False,
    ) -> Interaction:
        """Press the button labelled ``label`` (whole, prefix or unique part) on ``message``,
        by default the latest message this person can see that has such a button (a long
        screen may come as several messages, as on Discord).

        ``tamper`` plays a modified client: it may press a message this person cannot see
        (someone else's ephemeral answer), and ``custom_id`` replaces the button's own (the
        message the bot gets then shows the button with that custom_id).
        """
        target = message or self._latest_with_button(label)
        if target is None:
            raise AssertionError(
                f"{self!r} has no message with a button {label!r}; the bot "
                f"showed:\n  {self._history()}"
            )
        if custom_id is not None and not tamper:
            raise AssertionError("only a tampered press can send another custom_id")
        if not tamper and not self._state.visible(target, self.person):
            raise AssertionError(f"{self!r} cannot see message #{target.id}")
        button = _find_button(target, label)
        if button.get("style") == 5:
            raise AssertionError(f"{button.get('label')!r} is a link: it sends the bot nothing")
        if button.get("disabled"):
            raise AssertionError(f"{button.get('label')!r} is disabled")
        sent = custom_id if custom_id is not None else str(button["custom_id"])
        shown = target
        if custom_id is not None:
            shown = _with_custom_id(target, button, custom_id)
        self._act()
        channel = self._state.channels[target.channel_id]
        data = {"custom_id": sent, "component_type": 2}
        return self._state.new_interaction(COMPONENT, self.person, channel, data, shown)

    @property
    def modal(self) -> Modal | None:
        """The modal the bot opened for this person and they have not submitted yet."""
        return self._state.modals.get(self.id)

    async def wait_for_modal(self, timeout: float = DEFAULT_TIMEOUT) -> Modal:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while self.modal is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no modal opened for {self!r} within {timeout} s")
            since = self._state.changes.version
            await self._state.changes.wait(since, remaining)
        assert self.modal is not None
        return self.modal

    async def submit_modal(self, answer: str | dict[str, str]) -> Interaction:
        """Fill in the open modal (one text for its only field, or values by custom_id) and
        submit it; Discord's client enforces required fields and lengths, so this does too."""
        modal = self.modal
        if modal is None:
            raise AssertionError(f"{self!r} has no open modal to submit")
        fields = modal.text_inputs()
        values = answer if isinstance(answer, dict) else {fields[0]["custom_id"]: answer}
        rows = []
        for field in fields:
            value = values.get(field["custom_id"], "")
            if field.get("required", True) and not value:
                raise AssertionError(f"the modal field {field['custom_id']!r} is required")
            if not field.get("min_length", 0) <= len(value) <= field.get("max_length", 4000):
                raise AssertionError(f"{len(value)} characters do not fit {field['custom_id']!r}")
            rows.append(
                {
                    "type": 1,
                    "components": [{"type": 4, "custom_id": field["custom_id"], "value": value}],
                }
            )
        del self._state.modals[self.id]
        self._act()
        source = modal.source
        data = {"custom_id": modal.custom_id, "components": rows}
        return self._state.new_interaction(
            MODAL_SUBMIT, self.person, source.channel, data, source.message
        )

    async def send_dm(
        self, text: str, *, attachments: list[dict[str, Any]] | None = None
    ) -> Message:
        """Write to the bot in the DM (a MESSAGE_CREATE the bot gets with the DM intent)."""
        self._act()
        message = Message(
            snowflake(), self.dm.id, self.person, text, attachments=list(attachments or [])
        )
        self._state.add_message(message)
        self._state.dispatch("MESSAGE_CREATE", message.json())
        return message


def _matches(message: Message, label: str) -> list[dict[str, Any]]:
    """The buttons ``label`` names: by whole label, else prefix, else any part."""
    buttons = message.button_components()
    for matches in (
        [b for b in buttons if b.get("label") == label],
        [b for b in buttons if str(b.get("label", "")).startswith(label)],
        [b for b in buttons if label in str(b.get("label", ""))],
    ):
        if matches:
            return matches
    return []


def _find_button(message: Message, label: str) -> dict[str, Any]:
    matches = _matches(message, label)
    if len(matches) > 1:
        found = [b.get("label") for b in matches]
        raise AssertionError(f"{label!r} matches several buttons {found}; be more precise")
    if not matches:
        raise AssertionError(
            f"no button {label!r} on message #{message.id}; it has {message.buttons}"
        )
    return matches[0]


def _with_custom_id(message: Message, button: dict[str, Any], custom_id: str) -> Message:
    shown = copy.deepcopy(message)
    for row in shown.components:
        for child in row.get("components", []):
            if child.get("custom_id") == button.get("custom_id"):
                child["custom_id"] = custom_id
    return shown
