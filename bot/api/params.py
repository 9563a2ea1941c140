"""Path and query parameter types shared by the routes, refused with 422 when out of range.

Row ids are 32-bit integers on PostgreSQL (``INTEGER``) and 64-bit on SQLite; an id
beyond the smaller range is no row on either, and sent to PostgreSQL it would be a
driver error (500) instead of an answer. Timestamps in a query are RFC 3339 (the
exchange format's) within the years 1970-2200: ``since=0`` is not a time, and near
year 1 or 9999 the conversion to UTC would overflow.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from bot.core.clock import checked_utc

ID_MAX = 2**31 - 1

IncidentId = Annotated[int, Path(ge=1, le=ID_MAX, description="incident id")]
RunId = Annotated[int, Path(ge=1, le=ID_MAX, description="runbook run id")]

# RFC 3339 date-time (section 5.6), years 1970-2200; what the documented schema says.
# Each month with its days; February 29 in leap years only (2100 is none).
_YEAR = r"(19[7-9][0-9]|2[01][0-9][0-9]|2200)"
_LEAP = r"(19(7[26]|8[048]|9[26])|20([02468][048]|[13579][26])|21(0[48]|[2468][048]|[13579][26]))"
_DAY = r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
RFC3339_PATTERN = (rf"^({_YEAR}-{_DAY}|{_LEAP}-02-29)"
                   r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
                   r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


def _rfc3339(value: Any) -> Any:
    if not isinstance(value, str) or not re.match(RFC3339_PATTERN, value):
        raise ValueError("expected an RFC 3339 timestamp within the years 1970-2200, like "
                         "2026-11-26T10:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """In UTC, and still within the years the bot takes (``checked_utc``): the pattern
    bounds the years as written, and an offset can move 1970-01-01 into 1969."""
    return checked_utc(value)


QueryTime = Annotated[
    datetime, BeforeValidator(_rfc3339), AfterValidator(_in_utc),
    WithJsonSchema({"type": "string", "pattern": RFC3339_PATTERN,
                    "description": "RFC 3339, e.g. 2026-11-26T10:00:00Z"}),
]
