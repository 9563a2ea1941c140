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
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from bot.reports.weeks import IsoWeek
from bot.slo.compute import budget_basis
from bot.slo.series import Records, RecordsByName, UnitSeries, slice_unit_series, unit_series
from bot.slo.spec import SLO

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
    bounds = [slo.window_bounds(moment) for moment in moments]
    starts = np.array([start.timestamp() for start, _ in bounds])
    ends = np.array([min(moment, end).timestamp() for moment, (_, end) in zip(moments, bounds,
                                                                                strict=True)])
    bad, total = sums.between(starts, ends)
    left: list[float | None] = []
    for moment, bad_units, total_units in zip(moments, bad, total, strict=True):
        basis = budget_basis(slo, moment)
        budget = (1.0 - slo.target) * (float(total_units) if basis is None else basis)
        if total_units <= 0 or budget <= 0:
            left.append(None)
        else:
            left.append(1.0 - float(bad_units) / budget)
    return left


def _worst_slices(slo: SLO, records: RecordsByName, week: IsoWeek) -> tuple[SliceAttainment,
                                                                            ...]:
    found = []
    for key, series in slice_unit_series(slo, records, start=week.start,
                                         end=week.end).items():
        part = series.between(week.start, week.end)
        bad, total = float(part.bad.sum()), float(part.total.sum())
        if total > 0 and bad > 0:
            found.append(SliceAttainment(key, 1.0 - bad / total, bad, total))
    found.sort(key=lambda item: (item.attainment, item.key))
    return tuple(found[:WORST_SLICES])


def slo_week(slo: SLO, records: Records, *, service: str, week: IsoWeek) -> SLOWeek:
    """One objective over ``week`` and the week before it."""
    records = RecordsByName.of(records)
    before = week.previous()
    moments = [before.start + i * BURN_STEP
               for i in range(int((week.end - before.start) / BURN_STEP) + 1)]
    first = min(min(slo.window_bounds(moment)[0] for moment in (moments[0], before.end,
                                                                week.end)), before.start)
    series = unit_series(slo, records, start=first, end=week.end)
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
        worst_slices=_worst_slices(slo, records, week),
        burn_times=tuple(moments), burn_left=tuple(left))


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
