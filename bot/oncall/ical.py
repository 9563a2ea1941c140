"""On-call schedules as iCalendar (RFC 5545): an ``.ics`` feed out, a calendar in.

Export writes one ``VEVENT`` per resolved shift, in UTC, with the Slack user id in
``X-RESILIO-USER`` (and in the summary, for people). Import reads what PagerDuty,
Opsgenie or another calendar exports: one event per shift, times in UTC, with a
``TZID`` or floating, ``DTEND`` or ``DURATION``; the person is found in
``X-RESILIO-USER``, else through ``users`` (an e-mail address or a name mapped to a
Slack id) from the ``ATTENDEE`` or the summary, else a Slack id written in the summary.
Recurring events (``RRULE``) are refused by name rather than read wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.oncall_schedule import FixedShift, Layer, Schedule, Shift, local_to_utc

_STAMP = "%Y%m%dT%H%M%SZ"
_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$")
_SLACK_ID = re.compile(r"\b([UW][A-Z0-9]{6,})\b")


class CalendarError(ValueError):
    """The calendar cannot be read; ``str()`` says which line or event and why."""


# -- export ----------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, start = [], 0
    limit = 75
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # keep UTF-8 whole
            end -= 1
        parts.append(encoded[start:end].decode())
        start, limit = end, 74  # continuation lines begin with one space
    return "\r\n ".join(parts)


def to_ics(schedule: Schedule, timeline: Sequence[Shift], stamp: datetime) -> str:
    """The shifts as an iCalendar document (CRLF line ends, folded lines)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Resilio//On-call schedule//EN",
             "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{_escape(schedule.name)} on call",
             f"X-WR-TIMEZONE:{schedule.timezone}"]
    for shift in timeline:
        start = shift.start.astimezone(UTC).strftime(_STAMP)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{schedule.name}-{start}-{shift.user}@resilio",
            f"DTSTAMP:{stamp.astimezone(UTC).strftime(_STAMP)}",
            f"DTSTART:{start}",
            f"DTEND:{shift.end.astimezone(UTC).strftime(_STAMP)}",
            f"SUMMARY:{_escape(f'On call: {shift.user} ({schedule.name})')}",
            f"X-RESILIO-USER:{shift.user}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


# -- import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Property:
    name: str
    params: dict[str, str]
    value: str
    line: int


def _unfold(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        elif raw.strip():
            lines.append((number, raw))
    return lines


def _property(number: int, line: str) -> _Property:
    head, sep, value = _split_unquoted(line, ":")
    if not sep:
        raise CalendarError(f"line {number}: no ':' in {line[:60]!r}")
    name, *raw_params = _split_all_unquoted(head, ";")
    params = {}
    for raw in raw_params:
        key, _, val = raw.partition("=")
        params[key.upper()] = val.strip('"')
    return _Property(name.upper(), params, value, number)


def _split_unquoted(text: str, sep: str) -> tuple[str, str, str]:
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            return text[:index], sep, text[index + 1:]
    return text, "", ""


def _split_all_unquoted(text: str, sep: str) -> list[str]:
    parts = []
    while True:
        head, found, text = _split_unquoted(text, sep)
        parts.append(head)
        if not found:
            return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


def _instant(prop: _Property, default_zone: ZoneInfo) -> datetime:
    value = prop.value.strip()
    try:
        if prop.params.get("VALUE") == "DATE" or re.fullmatch(r"\d{8}", value):
            local = datetime.strptime(value, "%Y%m%d")
        elif value.endswith("Z"):
            return datetime.strptime(value, _STAMP).replace(tzinfo=UTC)
        else:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S")
    except ValueError:
        raise CalendarError(f"line {prop.line}: {prop.name} {value!r} is not a date-time"
                            ) from None
    zone = default_zone
    if "TZID" in prop.params:
        try:
            zone = ZoneInfo(prop.params["TZID"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(
                f"line {prop.line}: unknown time zone {prop.params['TZID']!r}") from None
    return local_to_utc(local, zone)


def _duration(prop: _Property) -> timedelta:
    match = _DURATION.match(prop.value.strip())
    if not match or prop.value.strip() in ("P", "PT"):
        raise CalendarError(f"line {prop.line}: DURATION {prop.value!r} is not a duration")
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "sign"}
    length = timedelta(**parts)
    return -length if match["sign"] == "-" else length


def _who(event: dict[str, _Property], users: Mapping[str, str], line: int) -> str:
    if "X-RESILIO-USER" in event:
        return event["X-RESILIO-USER"].value.strip()
    summary = _unescape(event["SUMMARY"].value) if "SUMMARY" in event else ""
    attendee = event.get("ATTENDEE")
    keys = []
    if attendee is not None:
        keys += [attendee.value.removeprefix("mailto:").removeprefix("MAILTO:"),
                 attendee.params.get("CN", "")]
    keys.append(summary)
    for key in keys:
        if key and key in users:
            return users[key]
    for name, user in users.items():
        if name and name in summary:
            return user
    found = _SLACK_ID.search(summary)
    if found:
        return found[1]
    raise CalendarError(f"line {line}: no Slack user for event {summary!r} "
                        "(give X-RESILIO-USER, or map its attendee or name in users)")


def from_ics(text: str, name: str, timezone_name: str = "UTC",
             users: Mapping[str, str] | None = None) -> Schedule:
    """A schedule of one fixed-shift layer from an iCalendar document."""
    try:
        default_zone = ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown time zone {timezone_name!r}") from None
    users = users or {}
    shifts: list[FixedShift] = []
    event: dict[str, _Property] | None = None
    begun = 0
    for number, line in _unfold(text):
        prop = _property(number, line)
        if prop.name == "BEGIN" and prop.value.upper() == "VEVENT":
            event, begun = {}, number
        elif prop.name == "END" and prop.value.upper() == "VEVENT":
            if event is None:
                raise CalendarError(f"line {number}: END:VEVENT without BEGIN:VEVENT")
            shifts.append(_shift(event, default_zone, users, begun))
            event = None
        elif event is not None:
            event.setdefault(prop.name, prop)
    if event is not None:
        raise CalendarError(f"line {begun}: VEVENT is never closed")
    if not shifts:
        raise CalendarError("the calendar has no events")
    shifts.sort(key=lambda s: s.start)
    return Schedule(name=name, timezone=timezone_name,
                    layers=[Layer(name="imported", shifts=shifts)])


def _shift(event: dict[str, _Property], zone: ZoneInfo, users: Mapping[str, str],
           line: int) -> FixedShift:
    if "RRULE" in event:
        raise CalendarError(f"line {event['RRULE'].line}: recurring events (RRULE) are not "
                            "read; export the schedule as single events")
    if "DTSTART" not in event:
        raise CalendarError(f"line {line}: VEVENT without DTSTART")
    start = _instant(event["DTSTART"], zone)
    if "DTEND" in event:
        end = _instant(event["DTEND"], zone)
    elif "DURATION" in event:
        end = start + _duration(event["DURATION"])
    else:
        raise CalendarError(f"line {line}: VEVENT without DTEND or DURATION")
    try:
        return FixedShift(user=_who(event, users, line), start=start, end=end)
    except ValueError as error:
        raise CalendarError(f"line {line}: {error}") from None
