"""The notice dispatcher: takes due notices from the outbox and delivers them in chat.

Each round claims a batch (:meth:`~core.ports.repositories.OutboxRepository.claim`: a lease,
per-recipient order, digest groups together), delivers every recipient's notice, and records
what happened:

- **sent** — through the first of the member's chat accounts (preferred platform first)
  whose platform has a channel here. A notice whose subject is gone (``render_notice`` has
  nothing to say) or an announcement the member opted out of is recorded as sent with no
  channel.
- **unreachable** — the platform refused for good (blocked, deactivated, chat not found):
  that account is marked unreachable and the next one is tried; with none left the notice
  goes dead.
- **429** — the platform asked to wait: the notice waits ``retry_after`` seconds. Waiting is
  pacing, not failure, so it does not count as a failed attempt and never dead-letters a
  notice by itself. Later notices to the same person wait behind it.
- **other failures** (network, 5xx, unexpected errors) — retried with exponential backoff
  and jitter, and dead after ``max_attempts`` failed attempts. Dead notices are listed by
  ``dead_letters`` and can be queued again with ``revive``.

A round claims a batch, reads every recipient in it with one query and each broadcast it
announces once (:class:`~core.conversations.notice_messages.BatchAnnouncements`), and serves
up to ``concurrency`` recipients at once, so the rate limiter, not round trips to the
database, paces the sending. Outcomes are group-committed (:mod:`notifications.recording`).
With fast platforms (a cap of 100 a second or more) two rounds overlap, so one is claiming
while the other still sends.

A crash between sending and recording can send the notices in flight once more, after their
lease runs out; a crash anywhere else loses and repeats nothing. Notices without a recipient
(an offer's invitations to an audience) are never claimed here: they wait, pending, for the
broadcast expander to turn them into one notice per person.

Stored errors hold the error's class and the platform's short description only, with
anything that looks like a phone number, e-mail address or chat id blanked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.conversations.messages import Outbound
from core.conversations.notice_messages import BatchAnnouncements, render_notice
from core.domain.common import Platform
from core.domain.members import Member
from core.notices import OPTIONAL_TEMPLATES
from core.ports.channel import Channel, DeliveryError, RetryLater, Unreachable
from core.ports.repositories import AbstractUnitOfWork, OutboxEntry
from core.services import Actor, Marketplace
from core.services.reachability import mark_unreachable, notice_recipient
from notifications.metrics import notice_failed, notice_sent, rate_limit_wait
from notifications.rate_limits import NoSlot, SendingRates
from notifications.recording import Dead, OutcomeLedger, Sent, Settled, Wait

__all__ = ["INTERVAL_ENV", "Backoff", "Dispatcher", "describe_error"]

logger = logging.getLogger(__name__)

INTERVAL_ENV = "COLLABBOT_DISPATCH_INTERVAL_SECONDS"
REDIS_ENV = "COLLABBOT_REDIS_URL"
DEFAULT_INTERVAL = 1.0
LIMITER_DOWN_WAIT = 5.0
FAST_PLATFORM = 100.0
"""Messages a second from which two rounds overlap (claiming while the other sends)."""
SYSTEM = Actor.system()

_PERSONAL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|\+?\d[\d ().-]{3,}\d"  # phone numbers, chat and user ids
)


def describe_error(error: BaseException) -> str:
    """What to store about a failed delivery: the error's class and, for a platform's
    refusal, its short description — without anything that could identify a person."""
    name = type(error).__name__
    if not isinstance(error, DeliveryError):
        # Other exceptions may quote anything (a rendered message, an address): class only.
        return name
    detail = _PERSONAL.sub("…", " ".join(str(error).split()))[:200]
    return f"{name}: {detail}" if detail else name


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: after the n-th failed attempt wait between half and
    all of ``base * 2**(n-1)`` seconds, at most ``cap``."""

    base: float = 2.0
    cap: float = 600.0

    def delay(self, failures: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** max(0, failures - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class _Failed:
    error: str
    final: bool = False  # retrying cannot help: dead at once


_Outcome = Sent | Wait | _Failed | Dead
RELEASED = Wait(0.0, "Released: not started within the lease", kind="released")
Members = Mapping[int, Member]


def _interval_from_environment() -> float:
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        logger.warning("%s=%r is not a number; using %s s", INTERVAL_ENV, raw, DEFAULT_INTERVAL)
        return DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


class Dispatcher:
    """Delivers due notices through ``channels`` (one per platform configured here).

    ``lease`` is how long a claimed batch stays this dispatcher's before another may take
    it over; it must comfortably cover a batch, rate-limit waits included. ``rates``
    defaults to the platforms' limits, shared through Redis when ``COLLABBOT_REDIS_URL`` is
    set; ``interval`` (seconds between looks when idle) defaults to
    ``COLLABBOT_DISPATCH_INTERVAL_SECONDS`` or 1.

    ``batch`` (notices claimed per round), ``concurrency`` (recipients served at once) and
    ``lanes`` (rounds under way at once) follow from the fastest cap among ``channels``
    unless given: 50, 8 and 1 up to Telegram's 30 a second; half a second's worth, a tenth
    of a second's worth and 2 at Telegram's 1000 a second for paid broadcasts.
    """

    def __init__(
        self,
        mp: Marketplace,
        channels: Mapping[Platform, Channel],
        *,
        lease: timedelta = timedelta(seconds=60),
        batch: int | None = None,
        max_attempts: int = 8,
        backoff: Backoff | None = None,
        rates: SendingRates | None = None,
        interval: float | None = None,
        concurrency: int | None = None,
        lanes: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._owns_rates = rates is None
        self.rates = rates or SendingRates.shared(os.environ.get(REDIS_ENV) or None)
        fastest = max((self.rates.per_second(p) or 0.0 for p in channels), default=0.0)
        self.batch = batch if batch is not None else _within(fastest / 2, 50, 500)
        self.concurrency = concurrency if concurrency is not None else _within(fastest / 10, 8, 200)
        self.lanes = lanes if lanes is not None else (2 if fastest >= FAST_PLATFORM else 1)
        if min(self.batch, self.concurrency, self.lanes, max_attempts) < 1:
            raise ValueError("batch, max_attempts, concurrency and lanes must be at least 1")
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self.mp = mp
        self.channels = dict(channels)
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self.interval = interval if interval is not None else _interval_from_environment()
        self.rng = rng or random.Random()  # noqa: S311 — jitter, not secrecy
        self.counts: Counter[str] = Counter()
        """Notices so far by outcome: ``sent``, ``skipped`` (nothing to send, or opted out),
        ``throttled`` (the platform said 429), ``paced`` (no rate-limit slot in time),
        ``retried`` (failed, will retry), ``dead``, ``released`` (handed back unsent); and
        ``unreachable``: chat accounts marked unreachable."""
        self._gate = asyncio.Semaphore(self.concurrency)
        self._ledger = OutcomeLedger(mp)

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; look again every ``interval`` seconds when idle.

        A failing round (the database is away, a bug) is logged and the loop goes on; the
        notices it had claimed are taken up again when their lease runs out.
        """
        try:
            async with asyncio.TaskGroup() as lanes:
                for _ in range(self.lanes):
                    lanes.create_task(self._lane(stop))
        finally:
            await self.close()

    async def _lane(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                logger.exception("a round of notice delivery failed; trying again")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)

    async def close(self) -> None:
        """Release the rate-limit storage, if this dispatcher made it."""
        if self._owns_rates:
            await self.rates.close()

    async def run_once(self) -> int:
        """Claim one batch of due notices and deliver it; returns how many were claimed."""
        now = self.mp.clock.now()

        async def claim(uow: AbstractUnitOfWork) -> list[OutboxEntry]:
            return await uow.outbox.claim(now, self.lease, self.batch)

        claimed = await self.mp.transaction(claim)
        if not claimed:
            return 0
        by_recipient = _by_recipient(claimed)
        announcements = BatchAnnouncements()
        members: Members | None = None
        try:
            members = await self._recipients(by_recipient)
            await announcements.load(self.mp, claimed)
        except Exception as error:
            # Each notice reads what it needs itself then, and fails on its own if it must.
            logger.warning("reading a batch's recipients failed: %s", type(error).__name__)

        async def serve(groups: list[list[OutboxEntry]]) -> None:
            async with self._gate:
                await self._serve_recipient(groups, members, announcements)

        async with asyncio.TaskGroup() as tasks:
            for groups in by_recipient.values():
                tasks.create_task(serve(groups))
        return len(claimed)

    async def _recipients(self, by_recipient: Mapping[int, object]) -> Members:
        """Every recipient of a batch, read at once (one missing is gone)."""

        async def work(uow: AbstractUnitOfWork) -> Members:
            return await uow.members.get_many(by_recipient)

        return await self.mp.read(work)

    async def _serve_recipient(
        self,
        groups: list[list[OutboxEntry]],
        members: Members | None,
        announcements: BatchAnnouncements,
    ) -> None:
        """One person's notices, in order; after one that is not delivered the rest wait."""
        for index, group in enumerate(groups):
            outcome = await self._attempt(group, members, announcements)
            await self._record(group, outcome)
            if not isinstance(outcome, Sent):
                rest = [entry for later in groups[index + 1 :] for entry in later]
                if rest:
                    await self._record(rest, RELEASED)
                return

    # --- one delivery ---------------------------------------------------------------------

    async def _attempt(
        self,
        group: list[OutboxEntry],
        members: Members | None,
        announcements: BatchAnnouncements,
    ) -> _Outcome:
        try:
            return await self._deliver(group, members, announcements)
        except Exception as error:
            # A bug or an outage while preparing this notice: retry it like any failure,
            # so one bad notice cannot stop the others.
            logger.warning(
                "notice %s (%s) failed: %s",
                group[0].id,
                group[0].template.value,
                type(error).__name__,
                exc_info=not isinstance(error, DeliveryError),
            )
            return _Failed(describe_error(error))

    async def _deliver(
        self,
        group: list[OutboxEntry],
        members: Members | None,
        announcements: BatchAnnouncements,
    ) -> _Outcome:
        head = group[0]
        assert head.recipient_id is not None, "claim never hands out audience notices"
        if members is not None:
            member = members.get(head.recipient_id)
        else:
            member = await notice_recipient(self.mp, SYSTEM, head.recipient_id)
        if member is None:
            return _Failed("NoRecipient: the member no longer exists", final=True)
        if head.template in OPTIONAL_TEMPLATES and _opted_out(member):
            return Sent(None)
        message = await render_notice(self.mp, group, member, batch=announcements)
        if message is None:
            return Sent(None)
        return await self._send(group, member, message)

    async def _send(self, group: list[OutboxEntry], member: Member, message: Outbound) -> _Outcome:
        lease_end = min(e.lease_until or self.mp.clock.now() for e in group)
        targets = member.delivery_order()
        if not targets:
            return _Failed("Unreachable: no reachable chat account", final=True)
        configured = [i for i in targets if i.platform in self.channels]
        if not configured:
            platforms = ", ".join(sorted({i.platform.value for i in targets}))
            return _Failed(f"NoChannel: none configured for {platforms}", final=True)
        last_refusal = ""
        for identity in configured:
            if not self._lease_left(lease_end):
                return RELEASED
            try:
                waited = await self.rates.wait_for_slot(identity.platform, identity.chat_id)
            except NoSlot as busy:
                rate_limit_wait(identity.platform.value, busy.seconds, "limiter")
                return Wait(busy.seconds, describe_error(busy), kind="paced")
            except Exception as error:
                # The shared limiter (Redis) is away: wait for it rather than send unpaced,
                # and do not count it against the notice.
                logger.warning(
                    "no sending slot: the rate limiter failed (%s)", type(error).__name__
                )
                return Wait(LIMITER_DOWN_WAIT, describe_error(error), kind="paced")
            if waited:
                rate_limit_wait(identity.platform.value, waited, "limiter")
            if not self._lease_left(lease_end):
                return RELEASED
            channel = self.channels[identity.platform]
            try:
                await channel.send(identity.chat_id, message)
            except Unreachable as refusal:
                notice_failed(identity.platform.value, "unreachable")
                last_refusal = describe_error(refusal)
                await self._unreachable(member, identity.platform, identity.chat_id)
                continue
            except RetryLater as wait:
                rate_limit_wait(identity.platform.value, wait.seconds, "platform")
                return Wait(wait.seconds, describe_error(wait))
            except Exception:
                notice_failed(identity.platform.value)
                raise
            notice_sent(identity.platform.value)
            return Sent(identity.platform.value)
        return _Failed(last_refusal or "Unreachable: no reachable chat account", final=True)

    async def _unreachable(self, member: Member, platform: Platform, chat_id: str) -> None:
        assert member.id is not None
        identity = member.identity_on(platform)
        if identity is not None and identity.chat_id == chat_id:
            identity.reachable = False  # the member's later notices in this batch skip it
        if await mark_unreachable(self.mp, SYSTEM, member.id, platform, chat_id):
            self.counts["unreachable"] += 1
            logger.info("member %s is not reachable on %s any more", member.id, platform.value)

    def _lease_left(self, lease_end: datetime) -> bool:
        # Keep a tenth of the lease in hand: past it another dispatcher may take over.
        return self.mp.clock.now() + self.lease / 10 < lease_end

    # --- recording the outcome ------------------------------------------------------------

    async def _record(self, group: Sequence[OutboxEntry], outcome: _Outcome) -> None:
        settled = self._settle(group, outcome)
        await self._ledger.record([entry.id for entry in group], settled)
        self.counts[settled.kind] += len(group)
        if isinstance(settled, Dead) or (isinstance(settled, Wait) and settled.failed):
            head = group[0]
            log = logger.warning if isinstance(settled, Dead) else logger.info
            verdict = "given up" if isinstance(settled, Dead) else "will be retried"
            log("notice %s (%s) %s: %s", head.id, head.template.value, verdict, settled.error)

    def _settle(self, group: Sequence[OutboxEntry], outcome: _Outcome) -> Settled:
        """A failure becomes a retry with backoff, or dead once attempts run out."""
        if not isinstance(outcome, _Failed):
            return outcome
        failures = max(entry.attempts for entry in group) + 1
        if outcome.final or failures >= self.max_attempts:
            return Dead(outcome.error)
        delay = self.backoff.delay(failures, self.rng)
        return Wait(delay, outcome.error, failed=True, kind="retried")


def _within(value: float, low: int, high: int) -> int:
    return max(low, min(high, math.ceil(value)))


def _opted_out(member: Member) -> bool:
    return member.creator is not None and member.creator.announcements_opt_out


def _by_recipient(entries: Sequence[OutboxEntry]) -> dict[int, list[list[OutboxEntry]]]:
    """Each recipient's notices as delivery groups (a digest's notices together), in order."""
    out: dict[int, list[list[OutboxEntry]]] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        assert entry.recipient_id is not None
        groups = out.setdefault(entry.recipient_id, [])
        same = next(
            (g for g in groups if entry.digest is not None and g[0].digest == entry.digest),
            None,
        )
        if same is None:
            groups.append([entry])
        else:
            same.append(entry)
    return out
