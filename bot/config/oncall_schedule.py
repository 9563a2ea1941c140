"""On-call schedules: who answers the page now, and who next.

A schedule is a stack of layers in one time zone, plus overrides. A layer is either a
rotation (members taking turns, each for ``length``, handing off at a local wall-clock
time) or a list of fixed shifts (what an imported ``.ics`` gives). A layer may be
restricted to weekdays and hours; outside them it covers nobody, and a layer below it
answers. Like PagerDuty's layers, the *last* layer that covers an instant wins, and an
override beats every layer.

Handoffs are wall-clock times in the schedule's zone: a weekly rotation that hands off
on Monday 09:00 in Berlin does so at 09:00 on both sides of a DST change, so the shift
across the change is an hour shorter or longer. Rotations measured in hours are
absolute instead (a 12 h shift is 12 h of real time). A local time that does not exist
(the spring-forward gap) moves forward by the gap; one that happens twice (the
fall-back hour) is taken at its first occurrence.

Everything here is pure: models validated by pydantic, resolution by plain functions
of a ``datetime`` in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_LENGTH = re.compile(r"^(\d+)\s*([hdw])$")
_HOURS = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _user_id(value: str) -> str:
    if not _USER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (like U012ABCDEF)")
    return value


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; give one (e.g. Z)")
    return value.astimezone(UTC)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Restriction(_Strict):
    """When a layer covers: ``weekdays`` (default all) and local ``hours`` ("09:00-17:00").

    An ``hours`` range that ends before it starts ("22:00-06:00") runs over midnight and
    belongs to the weekday it starts on.
    """

    weekdays: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    hours: str = "00:00-24:00"

    @field_validator("weekdays")
    @classmethod
    def _known_days(cls, value: list[str]) -> list[str]:
        for day in value:
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday ({', '.join(WEEKDAYS)})")
        return value

    @field_validator("hours")
    @classmethod
    def _hour_range(cls, value: str) -> str:
        match = _HOURS.match(value)
        if not match or any(int(match[i]) == 24 and int(match[i + 1]) for i in (1, 3)):
            raise ValueError(f"{value!r} is not an hour range like 09:00-17:00")
        if value[:5] == value[6:]:
            raise ValueError(f"{value!r} is an empty hour range")
        return value

    def minutes(self) -> tuple[int, int]:
        """Start and end as minutes after local midnight (end may be ≤ start: overnight)."""
        start = int(self.hours[:2]) * 60 + int(self.hours[3:5])
        end = int(self.hours[6:8]) * 60 + int(self.hours[9:11])
        return start, end


class Rotation(_Strict):
    """Members take turns, each for ``length`` ("12h", "1d", "1w"), from ``start``.

    ``start`` is a local wall-clock time in the schedule's zone (no offset): the first
    member's shift begins then; a time before it is covered by the turn it would have
    had, counting backwards.
    """

    members: list[str] = Field(min_length=1)
    start: datetime
    length: str = "1w"

    @field_validator("members")
    @classmethod
    def _member_ids(cls, value: list[str]) -> list[str]:
        return [_user_id(member) for member in value]

    @field_validator("start")
    @classmethod
    def _local(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("start is a local time in the schedule's zone: drop the offset")
        return value

    @field_validator("length")
    @classmethod
    def _length(cls, value: str) -> str:
        match = _LENGTH.match(value.strip())
        if not match or int(match[1]) == 0:
            raise ValueError(f"{value!r} is not a length like 12h, 1d or 1w")
        return value.strip()

    def step(self) -> tuple[int, int]:
        """The length as (hours, days): exactly one of them is non-zero."""
        match = _LENGTH.match(self.length)
        assert match is not None  # validated
        count, unit = int(match[1]), match[2]
        return (count, 0) if unit == "h" else (0, count * (7 if unit == "w" else 1))


class FixedShift(_Strict):
    """One explicit shift, in UTC (an imported calendar's events)."""

    user: str
    start: datetime
    end: datetime

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        return _user_id(value)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware_utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> FixedShift:
        if self.end <= self.start:
            raise ValueError(f"the shift of {self.user} ends before it starts")
        return self


class Layer(_Strict):
    """A rotation or fixed shifts, optionally restricted to weekdays and hours."""

    name: str = Field(min_length=1)
    rotation: Rotation | None = None
    shifts: list[FixedShift] = Field(default_factory=list)
    restrictions: list[Restriction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> Layer:
        if (self.rotation is None) == (not self.shifts):
            raise ValueError(f"layer {self.name!r} needs either a rotation or shifts")
        return self


class Override(FixedShift):
    """Someone takes the pager from ``start`` to ``end`` (UTC), set by ``set_by``."""

    set_by: str | None = None
    reason: str = ""


class Schedule(_Strict):
    """A named on-call schedule: layers (last covering wins) and overrides (win always)."""

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    timezone: str = "UTC"
    layers: list[Layer] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_override(self, override: Override) -> Schedule:
        return self.model_copy(update={"overrides": [*self.overrides, override]})


@dataclass(frozen=True)
class Shift:
    """Who is on call from ``start`` to ``end`` (UTC), and which layer (or override) says so."""

    user: str
    start: datetime
    end: datetime
    source: str


# -- local wall-clock time to UTC --------------------------------------------------------


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time in ``zone`` as UTC (PEP 495 ``fold=0``).

    An ambiguous time (the fall-back hour) is its first occurrence; a time in the
    spring-forward gap moves forward by the gap (02:30 becomes 03:30).
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


# -- one layer's coverage ------------------------------------------------------------------


def _rotation_turns(rotation: Rotation, zone: ZoneInfo, start: datetime,
                    end: datetime) -> Iterator[Shift]:
    """The rotation's turns that overlap [start, end), in order."""
    hours, days = rotation.step()
    members = rotation.members
    if hours:
        origin = local_to_utc(rotation.start, zone)
        length = timedelta(hours=hours)
        index = (start - origin) // length
        while True:
            turn_start = origin + index * length
            if turn_start >= end:
                return
            yield Shift(members[index % len(members)], turn_start, turn_start + length, "")
            index += 1
    # Day-based: handoffs at the same local wall-clock time.
    anchor_date, anchor_time = rotation.start.date(), rotation.start.time()
    local_start = start.astimezone(zone).replace(tzinfo=None)
    index = (local_start.date() - anchor_date).days // days - 1
    while True:
        turn_start = _handoff(anchor_date, anchor_time, index * days, zone)
        turn_end = _handoff(anchor_date, anchor_time, (index + 1) * days, zone)
        if turn_start >= end:
            return
        if turn_end > start:
            yield Shift(members[index % len(members)], turn_start, turn_end, "")
        index += 1


def _handoff(anchor_date: date, anchor_time: time, day_offset: int, zone: ZoneInfo) -> datetime:
    return local_to_utc(datetime.combine(anchor_date + timedelta(days=day_offset), anchor_time),
                        zone)


def _restriction_windows(restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime,
                         end: datetime) -> list[tuple[datetime, datetime]]:
    """The UTC intervals within [start, end) that the restrictions allow, merged."""
    if not restrictions:
        return [(start, end)]
    windows: list[tuple[datetime, datetime]] = []
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    day = first_day
    while day <= last_day:
        for restriction in restrictions:
            if WEEKDAYS[day.weekday()] not in restriction.weekdays:
                continue
            begin, finish = restriction.minutes()
            local_begin = datetime.combine(day, time()) + timedelta(minutes=begin)
            finish_day = day if finish > begin else day + timedelta(days=1)
            local_end = datetime.combine(finish_day, time()) + timedelta(minutes=finish)
            lo = max(local_to_utc(local_begin, zone), start)
            hi = min(local_to_utc(local_end, zone), end)
            if lo < hi:
                windows.append((lo, hi))
        day += timedelta(days=1)
    return _merge(windows)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def layer_coverage(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """Who this layer puts on call within [start, end), restrictions applied."""
    if layer.rotation is not None:
        turns = list(_rotation_turns(layer.rotation, zone, start, end))
    else:
        turns = [Shift(s.user, s.start, s.end, "") for s in layer.shifts
                 if s.end > start and s.start < end]
    windows = _restriction_windows(layer.restrictions, zone, start, end)
    covered: list[Shift] = []
    for turn in turns:
        for lo, hi in windows:
            a, b = max(turn.start, lo, start), min(turn.end, hi, end)
            if a < b:
                covered.append(Shift(turn.user, a, b, layer.name))
    return covered


# -- the whole schedule ----------------------------------------------------------------------


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final on-call timeline over [start, end): consecutive equal turns joined.

    Gaps (no layer covers, no override) are left out: nobody is on call then.
    """
    start, end = _aware_utc(start), _aware_utc(end)
    candidates: list[list[Shift]] = [
        layer_coverage(layer, schedule.zone, start, end) for layer in schedule.layers]
    candidates.append([Shift(o.user, max(o.start, start), min(o.end, end), "override")
                       for o in schedule.overrides if o.end > start and o.start < end])
    cuts = sorted({start, end, *(t for level in candidates for s in level
                                 for t in (s.start, s.end))})
    timeline: list[Shift] = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        winner = None
        for level in reversed(candidates):  # overrides first, then the top layer down
            winner = next((s for s in level if s.start <= lo and s.end >= hi), None)
            if winner:
                break
        if winner is None:
            continue
        if timeline and timeline[-1].user == winner.user and timeline[-1].end == lo \
                and timeline[-1].source == winner.source:
            timeline[-1] = Shift(winner.user, timeline[-1].start, hi, winner.source)
        else:
            timeline.append(Shift(winner.user, lo, hi, winner.source))
    return timeline


def on_call(schedule: Schedule, at: datetime) -> Shift | None:
    """The shift in force at ``at`` (its full extent within a week either side), or None."""
    at = _aware_utc(at)
    for shift in shifts(schedule, at - timedelta(days=7), at + timedelta(days=7)):
        if shift.start <= at < shift.end:
            return shift
    return None


def next_shift(schedule: Schedule, at: datetime, horizon: timedelta = timedelta(days=60)
               ) -> Shift | None:
    """The first shift that starts after ``at`` with someone other than who is on now."""
    at = _aware_utc(at)
    now = on_call(schedule, at)
    for shift in shifts(schedule, at, at + horizon):
        if shift.start > at and (now is None or shift.user != now.user):
            return shift
    return None


@dataclass(frozen=True)
class Target:
    """One step of the plan: a user, or a user group to expand; ``why`` is for people."""

    kind: Literal["user", "group"]
    id: str
    why: str


@dataclass(frozen=True)
class PagePlan:
    first: tuple[Target, ...]     # invited and mentioned when the incident opens
    listed: tuple[str, ...]       # other owners, shown but not paged
    steps: tuple[Target, ...]     # paged one by one while nobody acknowledges
