"""Broadcasts: announcements an operator sends to all or part of the creators."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from core.domain.common import Platform
from core.domain.errors import InvalidInput, InvalidTransition
from core.domain.events import BroadcastQueued, Event


class AudienceKind(enum.StrEnum):
    ALL_CREATORS = "all"
    PLATFORM = "platform"
    CATEGORY = "category"
    COUNTRY = "country"
    LANGUAGE = "language"
    OFFER_APPLICANTS = "offer_applicants"
    TOP_CREATORS = "top_creators"


@dataclass(frozen=True, slots=True)
class BroadcastAudience:
    """Who receives a broadcast. ``value`` names the platform, category, country, language or
    offer id, depending on ``kind``."""

    kind: AudienceKind = AudienceKind.ALL_CREATORS
    value: str = ""

    def __post_init__(self) -> None:
        needs_value = self.kind not in (AudienceKind.ALL_CREATORS, AudienceKind.TOP_CREATORS)
        if needs_value and not self.value:
            raise InvalidInput(
                f"Choose which {self.kind.value.replace('_', ' ')} to send to.",
                code="audience_value_missing",
            )
        if self.kind is AudienceKind.PLATFORM and self.value not in {p.value for p in Platform}:
            raise InvalidInput("Unknown channel.", code="audience_bad_platform")
        if self.kind is AudienceKind.OFFER_APPLICANTS and not self.value.isdigit():
            raise InvalidInput("Unknown offer.", code="audience_bad_offer")


class BroadcastState(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class Broadcast:
    id: int | None
    author_id: int
    text: str
    audience: BroadcastAudience = field(default_factory=BroadcastAudience)
    image_url: str = ""
    link_label: str = ""
    link_url: str = ""
    state: BroadcastState = BroadcastState.DRAFT
    scheduled_at: datetime | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    version: int = 0
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    MAX_TEXT = 3500

    def __post_init__(self) -> None:
        self.text = self.text.strip()
        if not self.text:
            raise InvalidInput("An announcement needs some text.", code="broadcast_empty")
        if len(self.text) > self.MAX_TEXT:
            raise InvalidInput(
                f"The announcement is too long (at most {self.MAX_TEXT} characters).",
                code="broadcast_too_long",
            )
        if bool(self.link_label) != bool(self.link_url):
            raise InvalidInput(
                "A link button needs both a label and a URL.", code="broadcast_link_incomplete"
            )
        if self.link_url and not self.link_url.startswith("https://"):
            raise InvalidInput("The link must start with https://", code="broadcast_bad_link")

    def schedule(self, at: datetime, now: datetime) -> None:
        if self.state is not BroadcastState.DRAFT:
            raise InvalidTransition(
                "This announcement was already sent or scheduled.", code="broadcast_bad_state"
            )
        self.scheduled_at = max(at, now)
        self.state = BroadcastState.SCHEDULED
        assert self.id is not None
        self.events.append(BroadcastQueued(self.id))

    def start(self, now: datetime) -> None:
        if self.state is not BroadcastState.SCHEDULED:
            raise InvalidTransition(
                "This announcement is not waiting to be sent.", code="broadcast_bad_state"
            )
        self.state = BroadcastState.SENDING
        self.started_at = now

    def finish(self, now: datetime) -> None:
        if self.state is BroadcastState.SENDING:
            self.state = BroadcastState.DONE
            self.finished_at = now

    def cancel(self, now: datetime) -> None:
        if self.state not in (
            BroadcastState.DRAFT,
            BroadcastState.SCHEDULED,
            BroadcastState.SENDING,
        ):
            raise InvalidTransition(
                "This announcement has already finished.", code="broadcast_bad_state"
            )
        self.state = BroadcastState.CANCELLED
        self.finished_at = now

    def pull_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events
