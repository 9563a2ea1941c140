"""The ``.ics`` round trip, and a calendar written by hand the way other tools write it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config.oncall_schedule import Layer, Override, Restriction, Rotation, Schedule, shifts
from bot.oncall.ical import CalendarError, from_ics, to_ics

STAMP = datetime(2026, 12, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_export_then_import_gives_the_same_shifts() -> None:
    schedule = Schedule(name="ml-primary", timezone="Europe/Berlin", layers=[
        Layer(name="base", rotation=Rotation(members=["UALICE01", "UBOB0002", "UCAROL03"],
                                             start=datetime(2026, 10, 19, 9), length="1w")),
        Layer(name="day", rotation=Rotation(members=["UDAVE004"], start=datetime(2026, 1, 5)),
              restrictions=[Restriction(weekdays=["sat"], hours="10:00-14:00")]),
    ], overrides=[Override(user="UERIN005", start=utc(2026, 10, 28, 3),
                           end=utc(2026, 10, 28, 9))])
    window = (utc(2026, 10, 19, 7), utc(2026, 11, 16, 8))  # four weeks, across the DST change
    original = shifts(schedule, *window)
    text = to_ics(schedule, original, STAMP)

    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    imported = from_ics(text, name="ml-primary", timezone_name="Europe/Berlin")
    again = shifts(imported, *window)
    assert [(s.user, s.start, s.end) for s in again] == \
        [(s.user, s.start, s.end) for s in original]
    assert len(original) > 6  # base turns, Saturday windows and the override all show


# Written by hand from RFC 5545 (sections 3.1 folding, 3.3.5 TZID, 3.3.6 DURATION,
# 3.3.11 escaping), shaped like a PagerDuty export: attendees by e-mail.
OTHER_TOOL = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Example Corp//Rota Export 4.2//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:shift-1@example.com\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=America/New_York:20261031T080000\r\n"
    "DTEND;TZID=America/New_York:20261101T080000\r\n"
    "SUMMARY:On Call - Alice Example - ML Primary\\, week 44\r\n"
    "ATTENDEE;CN=\"Alice Example\";ROLE=REQ-PARTICIPANT:mailto:alice@example.com\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:shift-2@example.com\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20261101T130000Z\r\n"
    "DURATION:P1DT2H\r\n"
    "SUMMARY:On Call - Bob Example - ML Primary with a very long summary that is\r\n"
    "  folded onto a second line as RFC 5545 allows\r\n"
    "ATTENDEE:mailto:bob@example.com\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:shift-3@example.com\r\n"
    "DTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20261102T150000\r\n"
    "DTEND:20261102T230000\r\n"
    "SUMMARY:Cover by U0CAROL03\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_a_calendar_from_another_tool_imports() -> None:
    schedule = from_ics(OTHER_TOOL, name="ml-primary", timezone_name="America/New_York",
                        users={"alice@example.com": "UALICE01", "Bob Example": "UBOB0002"})
    timeline = shifts(schedule, utc(2026, 10, 30), utc(2026, 11, 5))
    assert [(s.user, s.start, s.end) for s in timeline] == [
        # 08:00 EDT, then 08:00 EST the next day (DST ended in between): 25 hours
        ("UALICE01", utc(2026, 10, 31, 12), utc(2026, 11, 1, 13)),
        ("UBOB0002", utc(2026, 11, 1, 13), utc(2026, 11, 2, 15)),   # P1DT2H
        ("U0CAROL03", utc(2026, 11, 2, 20), utc(2026, 11, 3, 4)),   # floating: the default zone
    ]


@pytest.mark.parametrize(("text", "says"), [
    ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "no events"),
    ("BEGIN:VEVENT\r\nDTSTART:20261101T000000Z\r\nDTEND:20261102T000000Z\r\n"
     "SUMMARY:U0ALICE01\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n", "RRULE"),
    ("BEGIN:VEVENT\r\nDTSTART:tomorrow\r\nEND:VEVENT\r\n", "line 2: DTSTART 'tomorrow'"),
    ("BEGIN:VEVENT\r\nDTSTART:20261101T000000Z\r\nDTEND:20261102T000000Z\r\n"
     "SUMMARY:someone\r\nEND:VEVENT\r\n", "no Slack user"),
    ("BEGIN:VEVENT\r\nDTSTART:20261101T000000Z\r\n", "never closed"),
    ("BEGIN:VEVENT\r\nDTSTART;TZID=Nowhere/City:20261101T000000\r\n"
     "DURATION:PT1H\r\nEND:VEVENT\r\n", "unknown time zone"),
])
def test_unreadable_calendars_say_where(text: str, says: str) -> None:
    with pytest.raises(CalendarError, match=says):
        from_ics(text, name="x")
