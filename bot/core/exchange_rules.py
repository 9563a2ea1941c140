"""The exchange format's limits and text rules that every reader shares, without pydantic.

The pydantic models of :mod:`bot.core.exchange_records` and the explicit readers
(:mod:`bot.core.exchange_fast` for signals, :mod:`bot.core.exchange_plain` for
changes and alerts) apply the same limits; they live here so that ``resilio
classify``, which needs only the explicit readers, never imports pydantic (~0.1 s
of its start-up, and ~0.07 s more to build a validator for one change record).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.core.clock import FIRST_YEAR, LAST_YEAR

# The width of the stored slice key (``dim=value,...``) in the signal tables.
SLICE_KEY_WIDTH = 500

RFC3339 = re.compile(  # ASCII digits only: ``\d`` would take any script's digits
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")  # offsets as pydantic reads them


def encodable(text: str) -> bool:
    """False for strings with lone surrogates (the model refuses some of them)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plain_text(text: str) -> bool:
    """Text the models keep as it is: no NUL, valid Unicode."""
    return "\x00" not in text and (text.isascii() or encodable(text))


def plain_time(text: str) -> datetime | None:
    """The UTC instant of an RFC 3339 time with an offset, as the models read it;
    ``None`` for any other spelling, or a year the models refuse (they say why)."""
    if not RFC3339.fullmatch(text):
        return None
    try:
        parsed = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed if FIRST_YEAR <= parsed.year <= LAST_YEAR else None


def plain_slice(slice_: Any) -> bool:
    """A slice map the models take as it is: string names to plain string values,
    no wider than the stored key (``dim=value,...``)."""
    return type(slice_) is dict and all(
        type(k) is str and type(v) is str and plain_text(k) and plain_text(v)
        for k, v in slice_.items()) and \
        sum(len(k) + len(v) + 2 for k, v in slice_.items()) - 1 <= SLICE_KEY_WIDTH
