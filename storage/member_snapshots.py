"""Members just read, kept for a moment so the next event of the same person reads none.

Every inbound event starts by finding the member behind the chat account, and most events
come from people who wrote a moment ago: that lookup was a third of the SQL statements of
an update. Read-only units of work of one :class:`~storage.unit_of_work.Database` share
these snapshots for ``ttl`` seconds; units of work that change data never use them.

- Read your writes, in one process: a committed change to a member drops its snapshot, and a
  read that was under way while it happened does not store what it read.
- Across processes (several web processes behind one webhook URL, the CLI) a snapshot may
  be up to ``ttl`` seconds behind. Only screens read them: every change re-reads the member
  inside its own transaction, so a suspended member, say, can look at offers for at most
  that long and cannot claim one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

from core.domain.common import Platform
from core.domain.members import Member

SNAPSHOT_SECONDS = 1.0
"""How long a member read by one event is used by the next ones, by default."""
MAX_SNAPSHOTS = 10_000


class MemberSnapshots:
    """Copies of members read lately, by id and by chat identity."""

    def __init__(
        self,
        ttl: float = SNAPSHOT_SECONDS,
        *,
        limit: int = MAX_SNAPSHOTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._limit = limit
        self._clock = clock
        self._by_id: dict[int, tuple[float, Member]] = {}
        self._by_identity: dict[tuple[Platform, str], int] = {}
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """Changes with every :meth:`forget`: take it before reading, give it to :meth:`keep`."""
        return self._epoch

    def get(self, member_id: int) -> Member | None:
        """A copy of the member, if read less than ``ttl`` seconds ago."""
        entry = self._by_id.get(member_id)
        if entry is None:
            return None
        taken, member = entry
        if self._clock() - taken >= self.ttl:
            self._drop(member_id)
            return None
        return _copy(member)

    def by_identity(self, platform: Platform, user_id: str) -> Member | None:
        member_id = self._by_identity.get((platform, user_id))
        return None if member_id is None else self.get(member_id)

    def keep(self, member: Member, epoch: int) -> None:
        """Keep a copy of ``member``, read after :attr:`epoch` was ``epoch`` — unless a member
        changed since, as the read may have missed that change."""
        if member.id is None or epoch != self._epoch or self.ttl <= 0:
            return
        if member.id not in self._by_id and len(self._by_id) >= self._limit:
            self._drop(next(iter(self._by_id)))  # the oldest
        self._drop(member.id)
        self._by_id[member.id] = (self._clock(), _copy(member))
        for identity in member.identities:
            self._by_identity[(identity.platform, identity.user_id)] = member.id

    def forget(self, member_ids: Iterable[int]) -> None:
        """These members changed: drop them, and what reads under way would keep."""
        self._epoch += 1
        for member_id in member_ids:
            self._drop(member_id)

    def _drop(self, member_id: int) -> None:
        entry = self._by_id.pop(member_id, None)
        if entry is None:
            return
        for identity in entry[1].identities:
            key = (identity.platform, identity.user_id)
            if self._by_identity.get(key) == member_id:
                del self._by_identity[key]


def _copy(member: Member) -> Member:
    """A copy nobody else holds: its identities and profile are its own (their other fields
    are immutable)."""
    return dataclasses.replace(
        member,
        identities=[dataclasses.replace(i) for i in member.identities],
        creator=dataclasses.replace(member.creator) if member.creator is not None else None,
    )
