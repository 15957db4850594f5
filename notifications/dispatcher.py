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
import os
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.conversations.messages import Outbound
from core.conversations.notice_messages import render_notice
from core.domain.common import Platform
from core.domain.members import Member
from core.notices import OPTIONAL_TEMPLATES
from core.ports.channel import Channel, DeliveryError, RetryLater, Unreachable
from core.ports.repositories import AbstractUnitOfWork, OutboxEntry
from core.services import Actor, Marketplace
from core.services.reachability import mark_unreachable, notice_recipient
from notifications.metrics import notice_failed, notice_sent, rate_limit_wait
from notifications.rate_limits import NoSlot, SendingRates

__all__ = ["INTERVAL_ENV", "Backoff", "Dispatcher", "describe_error"]

logger = logging.getLogger(__name__)

INTERVAL_ENV = "COLLABBOT_DISPATCH_INTERVAL_SECONDS"
REDIS_ENV = "COLLABBOT_REDIS_URL"
DEFAULT_INTERVAL = 1.0
LIMITER_DOWN_WAIT = 5.0
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
class _Sent:
    channel: str | None  # None: nothing needed sending

    @property
    def kind(self) -> str:
        return "sent" if self.channel else "skipped"


@dataclass(frozen=True, slots=True)
class _Wait:
    seconds: float
    error: str
    failed: bool = False
    kind: str = "throttled"


@dataclass(frozen=True, slots=True)
class _Failed:
    error: str
    final: bool = False  # retrying cannot help: dead at once


@dataclass(frozen=True, slots=True)
class _Dead:
    error: str
    kind: str = "dead"


_Outcome = _Sent | _Wait | _Failed | _Dead
RELEASED = _Wait(0.0, "Released: not started within the lease", kind="released")


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
    it over; it must comfortably cover a batch, rate-limit waits included. ``concurrency``
    recipients are served at once. ``rates`` defaults to the platforms' limits, shared
    through Redis when ``COLLABBOT_REDIS_URL`` is set; ``interval`` (seconds between looks
    when idle) defaults to ``COLLABBOT_DISPATCH_INTERVAL_SECONDS`` or 1.
    """

    def __init__(
        self,
        mp: Marketplace,
        channels: Mapping[Platform, Channel],
        *,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 50,
        max_attempts: int = 8,
        backoff: Backoff | None = None,
        rates: SendingRates | None = None,
        interval: float | None = None,
        concurrency: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        if batch < 1 or max_attempts < 1 or concurrency < 1:
            raise ValueError("batch, max_attempts and concurrency must be at least 1")
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self.mp = mp
        self.channels = dict(channels)
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self._owns_rates = rates is None
        self.rates = rates or SendingRates.shared(os.environ.get(REDIS_ENV) or None)
        self.interval = interval if interval is not None else _interval_from_environment()
        self.concurrency = concurrency
        self.rng = rng or random.Random()  # noqa: S311 — jitter, not secrecy
        self.counts: Counter[str] = Counter()
        """Notices so far by outcome: ``sent``, ``skipped`` (nothing to send, or opted out),
        ``throttled`` (the platform said 429), ``paced`` (no rate-limit slot in time),
        ``retried`` (failed, will retry), ``dead``, ``released`` (handed back unsent); and
        ``unreachable``: chat accounts marked unreachable."""

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; look again every ``interval`` seconds when idle.

        A failing round (the database is away, a bug) is logged and the loop goes on; the
        notices it had claimed are taken up again when their lease runs out.
        """
        try:
            while not stop.is_set():
                try:
                    handled = await self.run_once()
                except Exception:
                    logger.exception("a round of notice delivery failed; trying again")
                    handled = 0
                if handled == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.interval)
        finally:
            await self.close()

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
        gate = asyncio.Semaphore(self.concurrency)

        async def serve(groups: list[list[OutboxEntry]]) -> None:
            async with gate:
                await self._serve_recipient(groups)

        async with asyncio.TaskGroup() as tasks:
            for groups in _by_recipient(claimed).values():
                tasks.create_task(serve(groups))
        return len(claimed)

    async def _serve_recipient(self, groups: list[list[OutboxEntry]]) -> None:
        """One person's notices, in order; after one that is not delivered the rest wait."""
        for index, group in enumerate(groups):
            outcome = await self._attempt(group)
            await self._record(group, outcome)
            if not isinstance(outcome, _Sent):
                rest = [entry for later in groups[index + 1 :] for entry in later]
                if rest:
                    await self._record(rest, RELEASED)
                return

    # --- one delivery ---------------------------------------------------------------------

    async def _attempt(self, group: list[OutboxEntry]) -> _Outcome:
        try:
            return await self._deliver(group)
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

    async def _deliver(self, group: list[OutboxEntry]) -> _Outcome:
        head = group[0]
        assert head.recipient_id is not None, "claim never hands out audience notices"
        member = await notice_recipient(self.mp, SYSTEM, head.recipient_id)
        if member is None:
            return _Failed("NoRecipient: the member no longer exists", final=True)
        if head.template in OPTIONAL_TEMPLATES and _opted_out(member):
            return _Sent(None)
        message = await render_notice(self.mp, group, member)
        if message is None:
            return _Sent(None)
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
                return _Wait(busy.seconds, describe_error(busy), kind="paced")
            except Exception as error:
                # The shared limiter (Redis) is away: wait for it rather than send unpaced,
                # and do not count it against the notice.
                logger.warning(
                    "no sending slot: the rate limiter failed (%s)", type(error).__name__
                )
                return _Wait(LIMITER_DOWN_WAIT, describe_error(error), kind="paced")
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
                return _Wait(wait.seconds, describe_error(wait))
            except Exception:
                notice_failed(identity.platform.value)
                raise
            notice_sent(identity.platform.value)
            return _Sent(identity.platform.value)
        return _Failed(last_refusal or "Unreachable: no reachable chat account", final=True)

    async def _unreachable(self, member: Member, platform: Platform, chat_id: str) -> None:
        assert member.id is not None
        if await mark_unreachable(self.mp, SYSTEM, member.id, platform, chat_id):
            self.counts["unreachable"] += 1
            logger.info("member %s is not reachable on %s any more", member.id, platform.value)

    def _lease_left(self, lease_end: datetime) -> bool:
        # Keep a tenth of the lease in hand: past it another dispatcher may take over.
        return self.mp.clock.now() + self.lease / 10 < lease_end

    # --- recording the outcome ------------------------------------------------------------

    async def _record(self, group: Sequence[OutboxEntry], outcome: _Outcome) -> None:
        ids = [entry.id for entry in group]
        now = self.mp.clock.now()
        settled = self._settle(group, outcome)

        async def write(uow: AbstractUnitOfWork) -> None:
            match settled:
                case _Sent(channel=channel):
                    await uow.outbox.mark_sent(ids, now, channel)
                case _Wait(seconds=seconds, error=error, failed=failed):
                    at = now + timedelta(seconds=max(0.0, seconds))
                    await uow.outbox.retry(ids, at, error, failed=failed)
                case _Dead(error=error):
                    await uow.outbox.dead(ids, error)

        await self.mp.transaction(write)
        self.counts[settled.kind] += len(ids)
        if isinstance(settled, _Dead) or (isinstance(settled, _Wait) and settled.failed):
            head = group[0]
            log = logger.warning if isinstance(settled, _Dead) else logger.info
            verdict = "given up" if isinstance(settled, _Dead) else "will be retried"
            log("notice %s (%s) %s: %s", head.id, head.template.value, verdict, settled.error)

    def _settle(self, group: Sequence[OutboxEntry], outcome: _Outcome) -> _Sent | _Wait | _Dead:
        """A failure becomes a retry with backoff, or dead once attempts run out."""
        if not isinstance(outcome, _Failed):
            return outcome
        failures = max(entry.attempts for entry in group) + 1
        if outcome.final or failures >= self.max_attempts:
            return _Dead(outcome.error)
        delay = self.backoff.delay(failures, self.rng)
        return _Wait(delay, outcome.error, failed=True, kind="retried")


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
