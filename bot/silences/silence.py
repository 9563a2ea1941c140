"""A silence: matchers, a time window, who set it and why.

Pure: the store keeps silences as rows; this module says whether one is in force and
whether it covers an alert's labels. A silence ends at ``ends_at`` or when someone ends
it early (``ended_at``); it never covers an alert outside its window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.silences.matchers import Matcher, matches_all


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    ended_at: datetime | None = None

    def active(self, at: datetime) -> bool:
        end = min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at
        return self.starts_at <= at < end

    def covers(self, labels: Mapping[str, str], at: datetime) -> bool:
        return self.active(at) and matches_all(self.matchers, labels)

    def state(self, at: datetime) -> str:
        """``pending``, ``active`` or ``expired``, as Alertmanager names them."""
        if self.active(at):
            return "active"
        return "pending" if at < self.starts_at else "expired"


def silencing(silences: Iterable[Silence], labels: Mapping[str, str],
              at: datetime) -> Silence | None:
    """The first silence in force at ``at`` that covers ``labels``, or None."""
    return next((s for s in silences if s.covers(labels, at)), None)
