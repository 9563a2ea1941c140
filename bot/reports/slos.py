"""Each SLO's week: attainment, budget left, worst slices and the budget burn-down.

Pure: SLO definitions and signal records in, numbers out. Units come from
``bot.slo.series`` (the one place that turns records into bad/total units), so
the digest and ``/slo`` never disagree about what a bad minute is.

- *attainment* is the share of good units in the week itself;
- *budget left* is the SLO's own budget (over its window, e.g. the 30 days)
  at the end of the week, as ``1 - bad / budget``;
- the *burn-down* is that budget left hour by hour over this week and the one
  before, so the chart shows where it went.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np

from bot.config.slo_spec import SLO
from bot.core.exchange_records import SignalRecord
from bot.reports.weeks import IsoWeek
from bot.slo.compute import budget_basis
from bot.slo.series import Records, RecordsByName, UnitSeries, slice_unit_series, unit_series

BURN_STEP = timedelta(hours=1)
WORST_SLICES = 3


@dataclass(frozen=True)
class SliceAttainment:
    key: str  # "tenant=acme"
    attainment: float
    bad: float
    total: float


@dataclass(frozen=True)
class SLOWeek:
    service: str
    name: str
    objective: str
    target: float
    window: str
    unit: str
    attainment: float | None
    previous_attainment: float | None
    budget_left: float | None  # at the end of the week; negative when overspent
    previous_budget_left: float | None
    worst_slices: tuple[SliceAttainment, ...]
    burn_times: tuple[datetime, ...]  # hourly, from the previous week's start to this week's end
    burn_left: tuple[float | None, ...]

    @property
    def key(self) -> str:
        return f"{self.service}/{self.name}"

    @property
    def met(self) -> bool | None:
        return None if self.attainment is None else self.attainment >= self.target


class ServiceRecords:
    """One service's signal records grouped once by name, and split into all-traffic
    records (empty slice) and per-slice breakdowns, so each SLO scans only what it uses."""

    def __init__(self, records: Iterable[Any]) -> None:
        plain: dict[str, list[SignalRecord]] = defaultdict(list)
        sliced: dict[str, list[SignalRecord]] = defaultdict(list)
        for record in records:
            if type(record) is not SignalRecord and not isinstance(record, SignalRecord):
                continue
            (sliced if record.slice else plain)[record.name].append(record)
        for lists in (plain, sliced):  # the store gives time order; sorting it again is O(n)
            for items in lists.values():
                items.sort(key=_ts)
        self.all_traffic = _grouped(plain)
        self.sliced = _grouped(sliced)

    @cached_property
    def everything(self) -> RecordsByName:
        """All records by name (for SLOs with a slice filter), in time order."""
        names = set(self.all_traffic.by_name) | set(self.sliced.by_name)
        return _grouped({name: sorted([*self.all_traffic.by_name.get(name, ()),
                                       *self.sliced.by_name.get(name, ())],
                                      key=lambda r: r.ts) for name in names})

    @classmethod
    def of(cls, records: Any) -> ServiceRecords:
        return records if isinstance(records, ServiceRecords) else cls(records)


def _ts(record: SignalRecord) -> datetime:
    return record.ts


def _grouped(by_name: dict[str, list[SignalRecord]]) -> RecordsByName:
    grouped = RecordsByName(())
    grouped.by_name = by_name
    return grouped


def between(records: RecordsByName, start: datetime, end: datetime) -> RecordsByName:
    """The records with ``start <= ts < end``, for time-ordered lists (``ServiceRecords``)."""
    return _grouped({name: items[bisect_left(items, start, key=_ts):
                                 bisect_left(items, end, key=_ts)]
                     for name, items in records.by_name.items()})


class _Sums:
    """Bad and total units between any two times in O(1), from running sums."""

    def __init__(self, series: UnitSeries) -> None:
        self.start = series.start.timestamp()
        self.step = series.step.total_seconds()
        self.size = series.bins
        self.bad = np.concatenate(([0.0], np.cumsum(series.bad)))
        self.total = np.concatenate(([0.0], np.cumsum(series.total)))

    def index(self, moments: np.ndarray) -> np.ndarray:
        """The number of bins that start before each moment (``UnitSeries.between``)."""
        raw = np.ceil((moments - self.start) / self.step)
        return np.clip(raw, 0, self.size).astype(np.int64)

    def between(self, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first, last = self.index(start), self.index(end)
        last = np.maximum(first, last)
        return self.bad[last] - self.bad[first], self.total[last] - self.total[first]


def _attainment(bad: float, total: float) -> float | None:
    return None if total <= 0 else 1.0 - bad / total


def budget_left_at(slo: SLO, sums: _Sums, moments: list[datetime]) -> list[float | None]:
    """The SLO's budget left at each moment, over the window that ends there."""
    seconds = np.array([moment.timestamp() for moment in moments])
    if slo.is_calendar:
        bounds = [slo.window_bounds(moment) for moment in moments]
        starts = np.array([start.timestamp() for start, _ in bounds])
        ends = np.minimum(seconds, np.array([end.timestamp() for _, end in bounds]))
        bases = [budget_basis(slo, moment) for moment in moments]
    else:  # rolling: the same length everywhere, computed once
        length = slo.window_length(moments[0]) if moments else None
        starts = seconds - (length.total_seconds() if length else 0.0)
        ends = seconds
        bases = [budget_basis(slo, moments[0]) if moments else None] * len(moments)
    bad, total = sums.between(starts, ends)
    left: list[float | None] = []
    for basis, bad_units, total_units in zip(bases, bad, total, strict=True):
        budget = (1.0 - slo.target) * (float(total_units) if basis is None else basis)
        if total_units <= 0 or budget <= 0:
            left.append(None)
        else:
            left.append(1.0 - float(bad_units) / budget)
    return left


def _worst_slices(slo: SLO, records: Records, week: IsoWeek) -> tuple[SliceAttainment, ...]:
    found = []
    for key, series in slice_unit_series(slo, records, start=week.start,
                                         end=week.end).items():
        part = series.between(week.start, week.end)
        bad, total = float(part.bad.sum()), float(part.total.sum())
        if total > 0 and bad > 0:
            found.append(SliceAttainment(key, 1.0 - bad / total, bad, total))
    found.sort(key=lambda item: (item.attainment, item.key))
    return tuple(found[:WORST_SLICES])


def slo_week(slo: SLO, records: Records | ServiceRecords, *, service: str,
             week: IsoWeek) -> SLOWeek:
    """One objective over ``week`` and the week before it."""
    grouped = ServiceRecords.of(records)
    # Without a filter an SLO reads the all-traffic records and breaks down the sliced ones.
    own = grouped.everything if slo.filter else grouped.all_traffic
    breakdowns = grouped.everything if slo.filter else grouped.sliced
    before = week.previous()
    moments = [before.start + i * BURN_STEP
               for i in range(int((week.end - before.start) / BURN_STEP) + 1)]
    first = min(min(slo.window_bounds(moment)[0] for moment in (moments[0], before.end,
                                                                week.end)), before.start)
    series = unit_series(slo, own, start=first, end=week.end)
    sums = _Sums(series)
    left = budget_left_at(slo, sums, moments)
    edges = np.array([before.start.timestamp(), before.end.timestamp(), week.end.timestamp()])
    bad, total = sums.between(edges[:-1], edges[1:])
    by_moment = dict(zip(moments, left, strict=True))
    return SLOWeek(
        service=service, name=slo.name, objective=slo.sli.describe(), target=slo.target,
        window=slo.window, unit=series.unit,
        attainment=_attainment(float(bad[1]), float(total[1])),
        previous_attainment=_attainment(float(bad[0]), float(total[0])),
        budget_left=by_moment[week.end], previous_budget_left=by_moment[before.end],
        worst_slices=_worst_slices(slo, between(breakdowns, week.start, week.end), week),
        burn_times=tuple(moments), burn_left=tuple(left))


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
