"""Answering interactions: the callback (within 3 seconds, once), then the interaction's
webhook — the original response and follow-up messages — for 15 minutes."""

from __future__ import annotations

import time
from typing import Any

from .records import LOADING, Interaction, Message, Modal
from .state import DiscordState
from .validation import (
    EPHEMERAL,
    already_acknowledged,
    check_message,
    check_modal,
    invalid,
    unknown_interaction,
    unknown_message,
    unknown_webhook,
)

CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
MODAL = 9
COMMAND, COMPONENT, MODAL_SUBMIT = 2, 3, 5


class Responses:
    def __init__(self, state: DiscordState) -> None:
        self.state = state

    # --- the callback -------------------------------------------------------------------

    def callback(
        self, interaction_id: int, token: str, body: Any, *, with_response: bool
    ) -> dict[str, Any] | None:
        """POST /interactions/{id}/{token}/callback."""
        interaction = self.state.interactions.get(interaction_id)
        if interaction is None or interaction.token != token:
            raise unknown_interaction()
        if interaction.acknowledged:
            interaction.refused.append((40060, "answered twice"))
            raise already_acknowledged()
        waited = time.monotonic() - interaction.created_at
        if waited > self.state.interaction_timeout:
            interaction.refused.append((10062, f"answered after {waited:.2f} s"))
            raise unknown_interaction()
        if not isinstance(body, dict):
            raise invalid("body: must be an object")
        kind = body.get("type")
        data = body.get("data") or {}
        message = self._respond(interaction, kind, data)
        interaction.response_type = kind
        interaction.responded_at = time.monotonic()
        interaction.response = body
        self.state.changes.fire()
        if not with_response:
            return None
        info: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            info.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            resource["message"] = message.json()
        return {"interaction": info, "resource": resource}

    def _respond(self, interaction: Interaction, kind: Any, data: Any) -> Message | None:
        on_message = interaction.type in (COMPONENT, MODAL_SUBMIT) and interaction.message
        if kind == CHANNEL_MESSAGE:
            check_message(data, interaction=True)
            return self._new_message(interaction, data)
        if kind == DEFERRED_CHANNEL_MESSAGE:
            flags = int(data.get("flags") or 0) if isinstance(data, dict) else 0
            if flags & ~EPHEMERAL:
                raise invalid("data.flags: only the ephemeral flag can be set on a deferral")
            return self._new_message(interaction, {"content": "", "flags": flags | LOADING})
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            if not on_message:
                raise invalid(f"type: {kind} answers only a component on a message")
            assert interaction.message is not None
            interaction.original_message = interaction.message
            if kind == UPDATE_MESSAGE:
                check_message(data, edit=True, interaction=True)
                self.state.edit(interaction.message, data)
            return interaction.message if kind == UPDATE_MESSAGE else None
        if kind == MODAL:
            if interaction.type == MODAL_SUBMIT:
                raise invalid("type: a modal cannot be answered with another modal")
            check_modal(data)
            self.state.modals[interaction.user.id] = Modal(
                data["custom_id"], data["title"], data["components"], interaction
            )
            return None
        raise invalid(f"type: {kind!r} is not an interaction response type a bot may send here")

    def _new_message(self, interaction: Interaction, data: dict[str, Any]) -> Message:
        flags = int(data.get("flags") or 0)
        message = self.state.bot_message(
            interaction.channel,
            {**data, "flags": flags},
            interaction_metadata=interaction.metadata(),
            webhook_id=self.state.application_id,
            application_id=self.state.application_id,
            **self.state.ephemeral_for(interaction, flags),
        )
        if interaction.original_message is None:
            interaction.original_message = message
        return message

    # --- the interaction's webhook ------------------------------------------------------

    def _by_token(self, application_id: int, token: str) -> Interaction:
        if application_id != self.state.application_id:
            raise unknown_webhook()
        found = next((i for i in self.state.interactions.values() if i.token == token), None)
        if found is None or not found.acknowledged:
            raise unknown_webhook()
        if time.monotonic() - found.created_at > self.state.followup_window:
            raise unknown_webhook()
        return found

    def followup(self, application_id: int, token: str, body: Any) -> dict[str, Any]:
        """POST /webhooks/{application}/{token}: a follow-up message. The first one after a
        "thinking…" deferral takes that message's place."""
        interaction = self._by_token(application_id, token)
        check_message(body, interaction=True)
        original = interaction.original_message
        if (
            interaction.response_type == DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.loading
        ):
            return self.state.edit(original, body, clear_flags=LOADING).json()
        message = self._new_message(interaction, body)
        self.state.followups.setdefault(interaction.id, []).append(message)
        return message.json()

    def _target(self, interaction: Interaction, message_id: str) -> Message:
        if message_id == "@original":
            found = interaction.original_message
        else:
            found = next(
                (
                    m
                    for m in self.state.followups.get(interaction.id, [])
                    if str(m.id) == message_id
                ),
                None,
            )
        if found is None or found.deleted:
            raise unknown_message()
        return found

    def get(self, application_id: int, token: str, message_id: str) -> dict[str, Any]:
        interaction = self._by_token(application_id, token)
        return self._target(interaction, message_id).json()

    def edit(self, application_id: int, token: str, message_id: str, body: Any) -> dict[str, Any]:
        """PATCH /webhooks/{application}/{token}/messages/{id or @original}."""
        interaction = self._by_token(application_id, token)
        target = self._target(interaction, message_id)
        check_message(body, edit=True, interaction=True)
        return self.state.edit(target, body, clear_flags=LOADING).json()

    def delete(self, application_id: int, token: str, message_id: str) -> None:
        interaction = self._by_token(application_id, token)
        self.state.delete(self._target(interaction, message_id))
