"""SLO definitions as the catalog writes them, close to OpenSLO's vocabulary.

An objective names an indicator over the stored signals, a target, a window and a
budgeting method. Validation happens when the catalog loads, so a broken SLO
fails ``resilio check-config`` with its path (``services[0].slos[1].target``)
instead of silently reporting "no data" at 3 a.m.

Two indicator shapes cover the SLI kinds:

- a **ratio of events**: ``signal`` names a ratio signal (``error_rate``,
  ``fallback_rate``) whose value is the share of bad events (or of good ones,
  for names that are bad when they fall, like ``success_rate``) and whose
  ``count`` is the number of events; or ``good``/``bad`` with ``total`` name
  count signals (OpenSLO's ratioMetric).
- a **bound**: ``signal`` with ``op`` and ``threshold`` (``groundedness >= 0.85``,
  ``index_lag_seconds <= 300``, ``cost_per_1k_requests <= 2.5``). By timeslices a
  slice is good when the signal's mean over it meets the bound; by occurrences each
  observation's events (its ``count``, else one) are good or bad together.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

SLIKind = Literal["availability", "latency", "quality", "freshness", "fallback", "cost"]
Comparator = Literal["<", "<=", ">", ">="]
Budgeting = Literal["occurrences", "timeslices"]
CALENDAR_WINDOWS = ("calendar_week", "calendar_month")

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_DURATION = re.compile(r"^(\d+)(m|h|d|w)$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


def parse_duration(text: str) -> timedelta:
    """``5m``, ``6h``, ``30d``, ``1w`` as a timedelta; raises ``ValueError`` otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 5m, 6h, 28d or 1w")
    return timedelta(minutes=int(match.group(1)) * _UNIT_MINUTES[match.group(2)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Indicator(_Strict):
    """What is measured: one signal (a ratio, or a level against a bound) or count signals."""

    kind: SLIKind
    signal: str | None = Field(default=None, min_length=1, max_length=200)
    good: str | None = Field(default=None, min_length=1, max_length=200)
    bad: str | None = Field(default=None, min_length=1, max_length=200)
    total: str | None = Field(default=None, min_length=1, max_length=200)
    op: Comparator | None = None
    threshold: float | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Indicator:
        counted = self.good is not None or self.bad is not None
        if self.signal is None and not counted:
            raise ValueError("name a 'signal', or 'good' or 'bad' count signals with 'total'")
        if self.signal is not None and (counted or self.total is not None):
            raise ValueError("give either 'signal' or 'good'/'bad' with 'total', not both")
        if counted and (self.good is not None) == (self.bad is not None):
            raise ValueError("give one of 'good' or 'bad' with 'total', not both")
        if counted and self.total is None:
            raise ValueError("'good'/'bad' count signals need a 'total' signal")
        if (self.op is None) != (self.threshold is None):
            raise ValueError("'op' and 'threshold' go together (e.g. op: '<=', threshold: 0.08)")
        if self.threshold is not None and self.threshold != self.threshold:
            raise ValueError("threshold must be a number")
        return self

    @property
    def bounded(self) -> bool:
        return self.op is not None

    def meets(self, value: float) -> bool:
        """Whether a value satisfies the bound (only for bounded indicators)."""
        assert self.op is not None and self.threshold is not None
        return _COMPARE[self.op](value, self.threshold)

    def describe(self) -> str:
        if self.signal is not None and self.bounded:
            return f"{self.signal} {self.op} {self.threshold:g}"
        if self.signal is not None:
            return f"events of {self.signal}"
        return f"{self.good or self.bad} / {self.total}"


class SLO(_Strict):
    """One objective of a service."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    description: str = ""
    sli: Indicator
    target: float = Field(description="share of good units, e.g. 0.995")
    window: str = "30d"
    budgeting: Budgeting = "occurrences"
    timeslice: str = "1m"
    filter: dict[str, str] = Field(default_factory=dict)
    alerting: bool = True

    @field_validator("target")
    @classmethod
    def _fraction(cls, value: float) -> float:
        if 1.0 < value < 100.0:
            raise ValueError(f"target is a fraction: write {value / 100:g}, not {value:g}")
        if not 0.0 < value < 1.0:
            raise ValueError(f"target must lie strictly between 0 and 1, got {value:g}"
                             + (" (100% leaves no error budget)" if value == 1.0 else ""))
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if value in CALENDAR_WINDOWS:
            return value
        length = parse_duration(value)  # raises with the reason
        if length < timedelta(days=1):
            raise ValueError(f"window {value!r} is shorter than a day")
        return value

    @field_validator("timeslice")
    @classmethod
    def _timeslice(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _coherent(self) -> SLO:
        if self.budgeting == "timeslices" and not self.sli.bounded:
            raise ValueError("budgeting by timeslices needs a bound: set sli.op and "
                             "sli.threshold (a slice is good when the signal meets it)")
        if self.timeslice_length > timedelta(hours=1):
            raise ValueError(f"timeslice {self.timeslice!r} is longer than an hour")
        return self

    @property
    def timeslice_length(self) -> timedelta:
        return parse_duration(self.timeslice)

    @property
    def is_calendar(self) -> bool:
        return self.window in CALENDAR_WINDOWS

    def window_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """(start, end) of the budget window at ``now``: rolling, or the calendar period."""
        now = now.astimezone(UTC)
        if self.window == "calendar_week":
            start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0,
                                                                   microsecond=0)
            return start, start + timedelta(days=7)
        if self.window == "calendar_month":
            start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            following = (start + timedelta(days=32)).replace(day=1)
            return start, following
        return now - parse_duration(self.window), now

    def window_length(self, now: datetime) -> timedelta:
        start, end = self.window_bounds(now)
        return end - start


def _unique_names(slos: list[SLO]) -> list[SLO]:
    seen: set[str] = set()
    for index, slo in enumerate(slos):
        if slo.name in seen:
            raise ValueError(f"slos[{index}]: duplicate SLO name {slo.name!r}")
        seen.add(slo.name)
    return slos


SLOList = Annotated[list[SLO], AfterValidator(_unique_names)]
