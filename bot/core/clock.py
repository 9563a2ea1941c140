"""Time as the bot reads and writes it: UTC throughout, RFC 3339 with a ``Z`` out.

Every timestamp that comes from outside (exchange records, query parameters, CLI
arguments) passes :func:`checked_utc`, so a year out of range is a clear refusal,
never an ``OverflowError`` deep inside a conversion; the bot's own times use
:func:`to_utc`, and :func:`format_ts` is the one way a time is written. The pydantic
field type of an outside time is :mod:`bot.core.timestamp_field` (no pydantic here).
"""

from __future__ import annotations

from datetime import UTC, datetime

# The years a timestamp may fall in: a wider range is a typo or an attack, and near
# year 1 or 9999 the conversion to UTC itself overflows.
FIRST_YEAR, LAST_YEAR = 1970, 2200


def to_utc(ts: datetime) -> datetime:
    """Naive timestamps are taken as UTC; aware ones are converted to it.

    For the bot's own times (window starts, "30 days before"), which may lie anywhere;
    a time that came from outside goes through :func:`checked_utc` instead.
    """
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def checked_utc(ts: datetime) -> datetime:
    """A time from outside, in UTC: ``ValueError`` (never ``OverflowError``) unless it
    falls in the years 1970-2200."""
    if not FIRST_YEAR - 1 <= ts.year <= LAST_YEAR + 1:  # an offset moves a day at most
        raise ValueError(f"timestamp {ts.isoformat()} is outside the years "
                         f"{FIRST_YEAR}-{LAST_YEAR}")
    converted = to_utc(ts)
    if not FIRST_YEAR <= converted.year <= LAST_YEAR:
        raise ValueError(f"timestamp {ts.isoformat()} is outside the years "
                         f"{FIRST_YEAR}-{LAST_YEAR}")
    return converted


def format_ts(ts: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the way every output of the bot writes time."""
    return to_utc(ts).isoformat().replace("+00:00", "Z")


def utcnow() -> datetime:
    """The current time, aware, in UTC (never a naive ``datetime.now()``)."""
    return datetime.now(UTC)
