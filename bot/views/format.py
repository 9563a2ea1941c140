"""Numbers, times and effects as a responder reads them at 3 a.m.

Pure functions from values to short strings. What they return is plain text
except :func:`moment`, which is a Slack date token: callers escape what came from
outside (names, slices) with :mod:`bot.views.markup`, never these.

- p-values: ``p < 1e-12`` where the computation bottomed out (the pipeline rounds to
  12 digits, so a stored 0 means "below 1e-12", never zero), else 2 significant digits;
- changes: signed percent first, then the levels (``+62 % cost per 1k requests
  (0.84 → 1.36)``); a share as percent (``thumbs down rate 5 % → 12 %``);
- times: a Slack date token, shown in each reader's zone, and the distance to an
  anchor in words (``12 min before the alert``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.views.markup import date

P_FLOOR = 1e-12
_RATIO_SUFFIXES = ("_rate", "_share", "_ratio", "_fraction")


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, without exponent for everyday sizes."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10 ** digits:
        return f"{value:,.0f}"
    if magnitude < 1e-3:
        return f"{value:.{max(digits - 1, 0)}e}"
    decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def p_value(p: Any) -> str:
    """``p < 1e-12``, ``p = 3.2e-05``, ``p = 0.031``; empty when there is none."""
    value = _finite(p)
    if value is None:
        return ""
    if value < P_FLOOR:
        return "p < 1e-12"
    if value < 1e-3:
        return f"p = {value:.1e}"
    return f"p = {significant(min(value, 1.0), 2)}"


def signed_percent(relative: Any) -> str:
    """0.62 -> ``+62 %``; -0.19 -> ``-19 %``; small changes keep a decimal (``+1.5 %``)."""
    value = _finite(relative)
    if value is None:
        return ""
    percent = 100.0 * value
    if abs(percent) >= 10:
        return f"{percent:+,.0f} %"
    return f"{percent:+.1f} %" if abs(percent) >= 0.05 else "±0 %"


def signal_name(name: Any) -> str:
    """``cost_per_1k_requests`` -> ``cost per 1k requests``: a metric name read as words."""
    return str(name or "?").replace("_", " ").strip()


def is_share(name: Any, *values: Any) -> bool:
    """A share of events (shown as percent): a ``_rate``/``_share``/``_ratio`` name in 0..1."""
    numbers = [_finite(v) for v in values]
    return (str(name or "").lower().endswith(_RATIO_SUFFIXES)
            and all(v is not None and 0.0 <= v <= 1.0 for v in numbers))


def level(value: Any, *, share: bool = False) -> str:
    """One level of a signal: a share as percent (``12 %``), else 3 significant digits."""
    number = _finite(value)
    if number is None:
        return "?"
    if share:
        return f"{significant(100.0 * number, 2)} %"
    return significant(number, 3)


def _shift(name: str, item: Mapping[str, Any]) -> str:
    before, after = _finite(item.get("before")), _finite(item.get("after"))
    relative = _finite(item.get("relative"))
    if relative is None and before not in (None, 0.0) and after is not None:
        relative = (after - before) / abs(before)
    words = signal_name(name)
    if before is not None and after is not None:
        share = is_share(name, before, after)
        levels = f"{level(before, share=share)} → {level(after, share=share)}"
        if relative is not None and abs(before) > 1e-9:
            return f"{signed_percent(relative)} {words} ({levels})"
        return f"{words} {levels}"
    if relative is not None:
        return f"{signed_percent(relative)} {words}"
    effect = _finite(item.get("effect"))
    direction = "up" if (effect or 0) > 0 else "down" if (effect or 0) < 0 else "moved"
    return f"{words} {direction}" + (f" ({significant(abs(effect), 2)} × usual spread)"
                                     if effect else "")


def effect(item: Mapping[str, Any]) -> str:
    """What moved and by how much, with units and direction, from one evidence item.

    Shifts read ``+62 % cost per 1k requests (0.84 → 1.36)`` or ``groundedness
    0.91 → 0.74`` when the levels are known, ``+62 % cost per 1k requests`` when only
    the relative change is; a distribution shift names its distance, a state mismatch
    the share of samples that were off, a lag its growth.
    """
    name = str(item.get("name") or "?")
    detector = str(item.get("detector") or "")
    statistic = _finite(item.get("statistic"))
    if detector in ("ks", "chi_square"):
        what = "KS distance" if detector == "ks" else "χ²"
        parts = [f"{what} {significant(statistic, 2)}"] if statistic is not None else []
        psi = _finite(item.get("relative"))
        if psi is not None and detector == "ks":
            parts.append(f"PSI {significant(psi, 2)}")
        return f"{signal_name(name)} distribution shifted" + (
            f" ({', '.join(parts)})" if parts else "")
    if detector in ("state_mismatch", "state_switch"):
        share = f"{significant(100.0 * statistic, 2)} %" if statistic is not None else "some"
        verb = "not the expected value" if detector == "state_mismatch" else "a new value"
        return f"{signal_name(name)}: {share} of samples {verb}"
    if detector == "lag_growth":
        growth = _finite(item.get("effect"))
        return f"{signal_name(name)} growing" + (
            f" ({significant(growth, 2)} × its usual range)" if growth else "")
    return _shift(name, item)


def detector_name(detector: Any) -> str:
    """``robust_shift`` -> ``robust shift``; the test that found it, in words."""
    return {"ks": "KS test", "chi_square": "χ² test"}.get(str(detector),
                                                          signal_name(detector or "test"))


# -- times -------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """A datetime from a stored value (datetime, RFC 3339 text), in UTC; None if it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def moment(value: Any, fmt: str = "{date_short_pretty} {time}") -> str:
    """A Slack date token for ``value`` (each reader sees their zone); ``?`` when unknown."""
    parsed = parse_time(value)
    return date(parsed, fmt) if parsed is not None else "?"


def span(minutes: float) -> str:
    """A length of time in words: ``40 s``, ``12 min``, ``2 h 5 min``, ``3 d 4 h``."""
    magnitude = abs(minutes)
    if magnitude < 1:
        return f"{magnitude * 60:.0f} s"
    if magnitude < 60:
        return f"{magnitude:.0f} min"
    hours, mins = divmod(round(magnitude), 60)
    if hours < 48:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def relative(value: Any, anchor: Any, what: str = "the alert") -> str:
    """Where ``value`` lies from ``anchor``: ``12 min before the alert``, ``at the alert``."""
    start, end = parse_time(value), parse_time(anchor)
    if start is None or end is None:
        return ""
    minutes = (end - start).total_seconds() / 60.0
    if abs(minutes) < 0.5:
        return f"at {what}"
    return f"{span(minutes)} {'before' if minutes > 0 else 'after'} {what}"


def minutes_before(minutes: Any, what: str = "the onset") -> str:
    """A stored ``minutes_before_onset`` in words: ``6 min before the onset``."""
    value = _finite(minutes)
    if value is None:
        return ""
    if abs(value) < 0.5:
        return f"at {what}"
    return f"{span(value)} {'before' if value > 0 else 'after'} {what}"
