"""On-call schedules against hand-computed handoffs.

Offsets used (from the IANA database): Europe/Berlin leaves summer time on
2026-10-25 (03:00 CEST → 02:00 CET) and enters it on 2026-03-29; America/New_York
leaves it on 2026-11-01 (02:00 EDT → 01:00 EST) and enters it on 2026-03-08
(02:00 EST → 03:00 EDT).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.config.oncall_schedule import (
    Layer,
    Override,
    Restriction,
    Rotation,
    Schedule,
    next_shift,
    on_call,
    shifts,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekly_berlin() -> Schedule:
    return Schedule(name="ml", timezone="Europe/Berlin", layers=[Layer(
        name="primary",
        rotation=Rotation(members=["UALICE01", "UBOB0002"], start=datetime(2026, 10, 19, 9),
                          length="1w"))])


def test_weekly_handoff_keeps_local_time_across_the_autumn_change_in_berlin() -> None:
    timeline = shifts(weekly_berlin(), utc(2026, 10, 19, 7), utc(2026, 11, 2, 8))
    assert [(s.user, s.start, s.end) for s in timeline] == [
        # 09:00 CEST is 07:00Z; 09:00 CET a week later is 08:00Z: a 169-hour week.
        ("UALICE01", utc(2026, 10, 19, 7), utc(2026, 10, 26, 8)),
        ("UBOB0002", utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)),
    ]
    assert timeline[0].end - timeline[0].start == timedelta(hours=169)


def test_daily_handoff_in_new_york_across_the_autumn_change() -> None:
    schedule = Schedule(name="data", timezone="America/New_York", layers=[Layer(
        name="primary", rotation=Rotation(members=["UAAAAAA1", "UBBBBBB2", "UCCCCCC3"],
                                          start=datetime(2026, 10, 30, 8), length="1d"))])
    timeline = shifts(schedule, utc(2026, 10, 30, 12), utc(2026, 11, 2, 13))
    assert [(s.user, s.start, s.end) for s in timeline] == [
        ("UAAAAAA1", utc(2026, 10, 30, 12), utc(2026, 10, 31, 12)),  # 08:00 EDT
        ("UBBBBBB2", utc(2026, 10, 31, 12), utc(2026, 11, 1, 13)),   # 25 h: 08:00 EST
        ("UCCCCCC3", utc(2026, 11, 1, 13), utc(2026, 11, 2, 13)),
    ]


def test_a_handoff_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    schedule = Schedule(name="night", timezone="America/New_York", layers=[Layer(
        name="primary", rotation=Rotation(members=["UAAAAAA1", "UBBBBBB2"],
                                          start=datetime(2026, 3, 7, 2, 30), length="1d"))])
    timeline = shifts(schedule, utc(2026, 3, 7, 7, 30), utc(2026, 3, 9, 6, 30))
    assert [(s.user, s.start, s.end) for s in timeline] == [
        ("UAAAAAA1", utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30)),  # 02:30 EST; 03:30 EDT
        ("UBBBBBB2", utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)),  # 02:30 EDT
    ]


def test_hour_based_rotation_is_absolute_time() -> None:
    schedule = Schedule(name="sre", timezone="Europe/Berlin", layers=[Layer(
        name="primary", rotation=Rotation(members=["UAAAAAA1", "UBBBBBB2"],
                                          start=datetime(2026, 10, 24, 20), length="12h"))])
    timeline = shifts(schedule, utc(2026, 10, 24, 18), utc(2026, 10, 25, 18))
    # 20:00 CEST is 18:00Z; then every 12 h of real time, whatever the clock says.
    assert [(s.user, s.start) for s in timeline] == [
        ("UAAAAAA1", utc(2026, 10, 24, 18)), ("UBBBBBB2", utc(2026, 10, 25, 6))]


def test_a_time_before_the_rotation_start_counts_turns_backwards() -> None:
    shift = on_call(weekly_berlin(), utc(2026, 10, 14, 12))
    assert shift is not None and shift.user == "UBOB0002"
    assert shift.start == utc(2026, 10, 12, 7)


def layered() -> Schedule:
    """Base weekly rotation in UTC; business hours in Berlin on top; a night layer on top."""
    return Schedule(name="ml", timezone="Europe/Berlin", layers=[
        Layer(name="base", rotation=Rotation(members=["UBASE001"], start=datetime(2026, 1, 5),
                                             length="1w")),
        Layer(name="day", rotation=Rotation(members=["UDAY0001", "UDAY0002"],
                                            start=datetime(2026, 11, 30, 9), length="1d"),
              restrictions=[Restriction(weekdays=["mon", "tue", "wed", "thu", "fri"],
                                        hours="09:00-17:00")]),
        Layer(name="night", rotation=Rotation(members=["UNIGHT01"], start=datetime(2026, 1, 5),
                                              length="1w"),
              restrictions=[Restriction(weekdays=["fri"], hours="22:00-06:00")]),
    ])


@pytest.mark.parametrize(("at", "user", "source"), [
    (utc(2026, 12, 2, 9), "UDAY0001", "day"),        # Wed 10:00 CET: Wed is day 2 → index 2
    (utc(2026, 12, 1, 9), "UDAY0002", "day"),        # Tue 10:00 CET
    (utc(2026, 12, 2, 16, 30), "UBASE001", "base"),  # Wed 17:30 CET: after hours
    (utc(2026, 12, 5, 9), "UBASE001", "base"),       # Saturday 10:00
    (utc(2026, 12, 4, 23), "UNIGHT01", "night"),     # Sat 00:00 CET: Friday's night shift
    (utc(2026, 12, 5, 5), "UBASE001", "base"),       # Sat 06:00 CET: the night has ended
])
def test_layers_with_restrictions(at: datetime, user: str, source: str) -> None:
    shift = on_call(layered(), at)
    assert shift is not None and (shift.user, shift.source) == (user, source)


def test_day_layer_hands_over_at_its_window_edges() -> None:
    timeline = shifts(layered(), utc(2026, 12, 2, 0), utc(2026, 12, 3, 0))
    assert [(s.user, s.start, s.end) for s in timeline] == [
        ("UBASE001", utc(2026, 12, 2, 0), utc(2026, 12, 2, 8)),
        ("UDAY0001", utc(2026, 12, 2, 8), utc(2026, 12, 2, 16)),
        ("UBASE001", utc(2026, 12, 2, 16), utc(2026, 12, 3, 0)),
    ]


def test_an_override_beats_every_layer_and_splits_the_shift() -> None:
    schedule = weekly_berlin().with_override(Override(
        user="UCAROL03", start=utc(2026, 10, 20, 18), end=utc(2026, 10, 21, 6),
        set_by="UALICE01", reason="dentist"))
    timeline = shifts(schedule, utc(2026, 10, 19, 7), utc(2026, 10, 26, 8))
    assert [(s.user, s.start, s.end, s.source) for s in timeline] == [
        ("UALICE01", utc(2026, 10, 19, 7), utc(2026, 10, 20, 18), "primary"),
        ("UCAROL03", utc(2026, 10, 20, 18), utc(2026, 10, 21, 6), "override"),
        ("UALICE01", utc(2026, 10, 21, 6), utc(2026, 10, 26, 8), "primary"),
    ]
    now = on_call(schedule, utc(2026, 10, 20, 23))
    assert now is not None and now.user == "UCAROL03"


def test_next_shift_is_the_next_person() -> None:
    upcoming = next_shift(weekly_berlin(), utc(2026, 10, 21, 12))
    assert upcoming is not None
    assert (upcoming.user, upcoming.start) == ("UBOB0002", utc(2026, 10, 26, 8))


def test_gaps_have_nobody() -> None:
    schedule = Schedule(name="biz", timezone="UTC", layers=[Layer(
        name="day", rotation=Rotation(members=["UDAY0001"], start=datetime(2026, 1, 5)),
        restrictions=[Restriction(hours="09:00-17:00")])])
    assert on_call(schedule, utc(2026, 12, 2, 20)) is None
    assert on_call(schedule, utc(2026, 12, 2, 10)) is not None


@pytest.mark.parametrize(("field", "value", "says"), [
    ("timezone", "Mars/Olympus", "unknown time zone"),
    ("length", "0d", "not a length"),
    ("members", ["bob"], "not a Slack user id"),
    ("hours", "9-17", "not an hour range"),
    ("start", datetime(2026, 1, 5, tzinfo=UTC), "drop the offset"),
])
def test_bad_schedules_say_what_is_wrong(field: str, value: object, says: str) -> None:
    rotation = {"members": ["UAAAAAA1"], "start": datetime(2026, 1, 5), "length": "1w"}
    layer: dict[str, object] = {"name": "primary"}
    top: dict[str, object] = {"name": "s"}
    if field in rotation:
        rotation[field] = value
    elif field == "hours":
        layer["restrictions"] = [{"hours": value}]
    else:
        top[field] = value
    with pytest.raises(ValidationError, match=says):
        Schedule.model_validate({**top, "layers": [{**layer, "rotation": rotation}]})
