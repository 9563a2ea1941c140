"""The digest's on-call section: who was paged, how often out of hours, what was silenced.

Out of hours means outside Monday to Friday, 09:00 to 18:00, in the team's digest time
zone: the pages that cost someone an evening or a night. Pure, like the rest of the
digest's content.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.reports.inputs import PageFact
from bot.reports.weeks import IsoWeek

WORKDAY_START, WORKDAY_END = 9, 18


def out_of_hours(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    return local.weekday() >= 5 or not WORKDAY_START <= local.hour < WORKDAY_END


@dataclass(frozen=True)
class PersonPages:
    user: str
    pages: int
    out_of_hours: int


@dataclass(frozen=True)
class OnCallWeek:
    people: tuple[PersonPages, ...]  # most paged first
    pages: int
    out_of_hours: int
    silenced: int                    # alerts a silence kept quiet this week
    silenced_by_service: tuple[tuple[str, int], ...]


def oncall_week(pages: Sequence[PageFact], silenced: Mapping[str, int], week: IsoWeek,
                timezone: str) -> OnCallWeek:
    zone = ZoneInfo(timezone)
    these = [p for p in pages if week.start <= p.at < week.end]
    total: Counter[str] = Counter(p.user for p in these)
    late: Counter[str] = Counter(p.user for p in these if out_of_hours(p.at, zone))
    people = tuple(PersonPages(user, count, late[user])
                   for user, count in sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))
    return OnCallWeek(people=people, pages=len(these), out_of_hours=sum(late.values()),
                      silenced=sum(silenced.values()),
                      silenced_by_service=tuple(sorted(silenced.items(),
                                                       key=lambda kv: (-kv[1], kv[0]))))
