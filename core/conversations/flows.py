"""Multi-step flows (onboarding, the offer wizard, tracking entry, redo reasons) remember
where a person is in the key-value store, per member, with an expiry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from core.ports.kv import KeyValueStore

FLOW_TTL = timedelta(hours=24)


@dataclass(slots=True)
class Flow:
    """Where a member is in a multi-step flow, and what they answered so far.

    ``data`` holds ids, codes and what the person typed for this flow — never another
    person's data. Addresses typed during onboarding stay here only until the flow saves them.
    """

    name: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Flow({self.name!r}, step={self.step!r})"


class FlowStore:
    def __init__(self, store: KeyValueStore, ttl: timedelta = FLOW_TTL) -> None:
        self._store = store
        self._ttl = ttl

    @staticmethod
    def _key(member_id: int) -> str:
        return f"flow:{member_id}"

    async def get(self, member_id: int) -> Flow | None:
        raw = await self._store.get(self._key(member_id))
        if raw is None:
            return None
        try:
            loaded = json.loads(raw)
            return Flow(str(loaded["name"]), str(loaded["step"]), dict(loaded["data"]))
        except (ValueError, KeyError, TypeError):
            await self.clear(member_id)
            return None

    async def put(self, member_id: int, flow: Flow) -> None:
        raw = json.dumps({"name": flow.name, "step": flow.step, "data": flow.data})
        await self._store.set(self._key(member_id), raw, ttl=self._ttl)

    async def clear(self, member_id: int) -> None:
        await self._store.delete(self._key(member_id))
