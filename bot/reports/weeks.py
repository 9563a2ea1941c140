"""ISO weeks (``2026-W47``) as UTC time ranges: the unit a digest covers.

Weeks run Monday 00:00 to Monday 00:00 UTC for every team, so two teams' numbers
for the same week are about the same hours; a team's time zone only decides when
its digest is posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2026-W47``; raises ``ValueError`` naming the bad text."""
        match = _WEEK.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not an ISO week like 2026-W47")
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{text!r}: {year} has no week {week}") from None
        return cls(year, week)

    @classmethod
    def containing(cls, moment: datetime) -> IsoWeek:
        iso = moment.astimezone(UTC).isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, now: datetime) -> IsoWeek:
        """The latest week that has ended by ``now``: what a Monday digest reports."""
        return cls.containing(now).previous()

    @cached_property
    def start(self) -> datetime:
        day = date.fromisocalendar(self.year, self.week, 1)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    @cached_property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def previous(self, weeks: int = 1) -> IsoWeek:
        return IsoWeek.containing(self.start - timedelta(days=7 * weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def span(self) -> str:
        """``16–22 Nov 2026``, for headings."""
        last = self.end - timedelta(days=1)
        return f"{self.start:%d %b} – {last:%d %b %Y}"
