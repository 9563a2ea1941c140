"""Change-aware maintenance: a change that says what it will move, and for how long.

A change event may declare ``maintenance_minutes`` and ``affects`` (layers or signal
names; empty means anything of its service). An incident that opens inside such a
window, about what the change said it would move, is *held*: recorded and diagnosed,
but nobody is paged. When the window ends, a held incident whose alerts have all
resolved settled as expected; one still firing is released and paged, with the change
as its suspect: "expected to settle in 20 min; still off after 35".

Pure: stored changes and an incident's facts in, a decision out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.models import ChangeEvent


@dataclass(frozen=True)
class Window:
    change_id: int
    service: str
    kind: str
    ref: str
    starts_at: datetime
    ends_at: datetime
    affects: frozenset[str]

    @property
    def minutes(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 60

    def covers(self, service: str, moved: Iterable[str], at: datetime) -> bool:
        """Whether an incident of ``service`` about ``moved`` at ``at`` is this window's."""
        if service != self.service or not self.starts_at <= at < self.ends_at:
            return False
        return not self.affects or bool(self.affects & set(moved))


def window_of(change: ChangeEvent) -> Window | None:
    """The maintenance window a stored change declares, if any."""
    if not change.maintenance_minutes:
        return None
    return Window(change_id=change.id or 0, service=change.service, kind=change.kind,
                  ref=change.ref, starts_at=change.ts,
                  ends_at=change.ts + timedelta(minutes=change.maintenance_minutes),
                  affects=frozenset(change.affects or ()))


def what_an_alert_moves(name: str, labels: Mapping[str, str]) -> set[str]:
    """The layer and signal an alert speaks of: its ``layer``/``signal`` labels and name."""
    return {value for value in (name, labels.get("layer"), labels.get("signal"),
                                labels.get("alertname")) if value}


def holding(windows: Iterable[Window], service: str, moved: Iterable[str],
            at: datetime) -> Window | None:
    """The window that holds an incident opening now, the one ending last if several."""
    moved = set(moved)
    found = [w for w in windows if w.covers(service, moved, at)]
    return max(found, key=lambda w: w.ends_at) if found else None


def release_message(window: Window, now: datetime) -> str:
    after = (now - window.starts_at).total_seconds() / 60
    return (f"{window.kind} change {window.ref} was expected to settle in "
            f"{window.minutes:g} min; still off after {after:.0f}")


def settled_message(window: Window) -> str:
    return (f"settled within the {window.minutes:g}-minute maintenance window of "
            f"{window.kind} change {window.ref}")
