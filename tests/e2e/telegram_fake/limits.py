"""Flood control and forced failures: the 429s and errors a bot must survive."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from .errors import ApiError

# Flood control counts what puts a new message into a chat.
SENDING_METHODS = frozenset({"sendMessage", "sendPhoto", "sendVideo", "sendDocument"})


def _wait(sent: deque[float], limit: float, window: float, now: float) -> float | None:
    while sent and sent[0] <= now - window:
        sent.popleft()
    if len(sent) >= limit:
        return sent[0] + window - now
    return None


@dataclass
class FloodControl:
    """Telegram's sending limits; each is off while None."""

    per_chat_per_second: float | None = None
    global_per_second: float | None = None
    group_per_minute: float | None = None
    retry_after: int | None = None  # answer with this instead of the real wait
    _all: deque[float] = field(default_factory=deque)
    _by_chat: defaultdict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def wait_for(self, chat_id: int | None, now: float) -> int | None:
        """Seconds to tell the bot to wait before this send, or None when it may go."""
        waits = []
        if self.global_per_second:
            waits.append(_wait(self._all, self.global_per_second, 1.0, now))
        if chat_id is not None:
            is_group = chat_id < 0
            limit = self.group_per_minute if is_group else self.per_chat_per_second
            if limit:
                window = 60.0 if is_group else 1.0
                waits.append(_wait(self._by_chat[chat_id], limit, window, now))
        longest = max((wait for wait in waits if wait is not None), default=None)
        if longest is None:
            return None
        return self.retry_after or max(1, math.ceil(longest))

    def record(self, chat_id: int | None, now: float) -> None:
        self._all.append(now)
        if chat_id is not None:
            self._by_chat[chat_id].append(now)


@dataclass
class _Fault:
    code: int
    description: str
    retry_after: int | None
    remaining: int


class Faults:
    """Errors a test asks for: the next N calls of a method fail with them."""

    def __init__(self) -> None:
        self._by_method: dict[str, list[_Fault]] = defaultdict(list)

    def add(
        self, method: str, code: int, description: str, times: int, retry_after: int | None
    ) -> None:
        self._by_method[method.lower()].append(_Fault(code, description, retry_after, times))

    def take(self, method: str) -> ApiError | None:
        faults = self._by_method.get(method.lower())
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        return ApiError(fault.code, fault.description, retry_after=fault.retry_after)
