"""Selection ranking: who a seller should pick first, and whom ``auto`` offers select.

The score (0–100, higher first) adds up five parts:

* **Experience** (up to 35): ``35 · min(1, ln(1 + completed) / ln(1 + 20))`` — grows fast for the
  first videos and is full at 20 completed videos.
* **Punctuality** (up to 25): ``25 · (on_time + 1) / (completed + 2)`` — the on-time rate with
  one imagined on-time and one imagined late video, so a newcomer starts at 12.5, not 0 or 25.
* **Quality** (up to 20): ``20 · (1 − (redo_orders + 0.5) / (completed + 2))`` — the share of
  completed orders that needed no redo, smoothed the same way.
* **Top Creator badge**: ``+10``.
* **Fairness** (down to −10): ``−10 · max(0, 1 − days_since_last_selection / fairness_days)`` —
  a creator selected today ranks up to 10 points lower; the penalty fades over
  ``fairness_days`` (30 by default) so the same few creators do not take every sample.

Ties are broken by the earlier application, then by the lower order id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.domain.members import CreatorProfile


@dataclass(frozen=True, slots=True)
class Score:
    total: float
    experience: float
    punctuality: float
    quality: float
    badge: float
    fairness: float


def score(profile: CreatorProfile, now: datetime, *, fairness_days: int = 30) -> Score:
    """The ranking score of one creator."""
    completed = max(0, profile.completed_videos)
    experience = 35.0 * min(1.0, math.log1p(completed) / math.log1p(20))
    punctuality = 25.0 * (profile.on_time_videos + 1) / (completed + 2)
    quality = 20.0 * (1.0 - (profile.redo_orders + 0.5) / (completed + 2))
    quality = max(0.0, quality)
    badge = 10.0 if profile.top_creator else 0.0
    fairness = 0.0
    if profile.last_selected_at is not None and fairness_days > 0:
        days = max(0.0, (now - profile.last_selected_at).total_seconds() / 86400)
        fairness = -10.0 * max(0.0, 1.0 - days / fairness_days)
    total = experience + punctuality + quality + badge + fairness
    return Score(round(total, 3), experience, punctuality, quality, badge, fairness)


@dataclass(frozen=True, slots=True)
class Applicant:
    """One application to rank: the order, when it was made, and the creator's profile."""

    order_id: int
    applied_at: datetime
    profile: CreatorProfile


def rank(
    applicants: Iterable[Applicant], now: datetime, *, fairness_days: int = 30
) -> Sequence[tuple[Applicant, Score]]:
    """Applicants best first, each with its score."""
    scored = [(a, score(a.profile, now, fairness_days=fairness_days)) for a in applicants]
    scored.sort(key=lambda pair: (-pair[1].total, pair[0].applied_at, pair[0].order_id))
    return scored
