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

import gc
import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from operator import attrgetter
from typing import Any

import numpy as np

from bot.config.slo_spec import SLO
from bot.core.clock import to_utc
from bot.core.exchange_records import SignalRecord
from bot.reports.weeks import IsoWeek
from bot.slo.compute import budget_basis
from bot.slo.series import (
    Records,
    RecordsByName,
    SignalColumns,
    UnitSeries,
    series_of_columns,
    signal_names,
    slice_unit_series,
    unit_series,
)
from store.signal_queries import slice_key

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
        # Each record is read once, into columns; every SLO and the cost trend use those.
        with collector_paused():
            signals = [r for r in records
                       if type(r) is SignalRecord or isinstance(r, SignalRecord)]
            columns = SignalColumns.of(signals)
            slices = list(map(_SLICE, signals))
        is_sliced = np.array(list(map(bool, slices)), dtype=bool)
        plain: dict[str, list[SignalRecord]] = {}
        sliced: dict[str, list[SignalRecord]] = {}
        self._plain_columns: dict[str, SignalColumns] = {}
        self._sliced_columns: dict[str, tuple[SignalColumns, np.ndarray]] = {}
        for name in dict.fromkeys(columns.names.tolist()):  # in order of first appearance
            of_name = columns.names == name
            for wanted, lists in ((False, plain), (True, sliced)):
                where = np.flatnonzero(of_name & (is_sliced == wanted))
                if not where.size:
                    continue
                where = where[np.argsort(columns.seconds[where], kind="stable")]
                lists[name] = [signals[i] for i in where.tolist()]
                if wanted:
                    self._sliced_columns[name] = (columns.take(where),
                                                  _slice_keys([slices[i] for i in where]))
                else:
                    self._plain_columns[name] = columns.take(where)
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

    def plain_columns(self, names: Iterable[str]) -> SignalColumns:
        """The all-traffic records of ``names`` (in name order, each in time order) as
        columns: each record is read once per digest, whatever the SLOs that use it."""
        return SignalColumns.joined([self._plain_columns[name] for name in sorted(names)
                                     if name in self._plain_columns])

    def sliced_columns(self, names: Iterable[str]) -> tuple[SignalColumns, np.ndarray]:
        """The per-slice records of ``names`` as columns, and each one's slice key."""
        parts = [self._sliced_columns[name] for name in sorted(names)
                 if name in self._sliced_columns]
        keys = np.concatenate([k for _, k in parts]) if parts else np.array([], dtype=object)
        return SignalColumns.joined([c for c, _ in parts]), keys


def _ts(record: SignalRecord) -> datetime:
    return record.ts


_SLICE = attrgetter("slice")


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a month of records is read into columns.

    Reading allocates a tuple per record; each batch of allocations started a
    collection, and each full one walked every record the digest holds (a million
    objects and their fields) for nothing: that was half of the digest's content time.
    Memory is still freed by reference counting meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _slice_keys(slices: list[dict[str, Any]]) -> np.ndarray:
    """Each slice's key (``slice_key``), computed once per distinct slice."""
    known: dict[tuple[tuple[str, Any], ...], str] = {}
    keys = []
    for slice_ in slices:
        items = tuple(slice_.items())
        key = known.get(items)
        if key is None:
            key = known[items] = slice_key(slice_)
        keys.append(key)
    return np.array(keys, dtype=object)


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


def _within(columns: SignalColumns, start: datetime, end: datetime, *,
            end_included: bool) -> np.ndarray:
    seconds, start_s, end_s = columns.seconds, to_utc(start).timestamp(), to_utc(end).timestamp()
    last = seconds <= end_s if end_included else seconds < end_s
    return np.asarray((seconds >= start_s) & last, dtype=bool)


def _plain_series(slo: SLO, grouped: ServiceRecords, start: datetime,
                    end: datetime) -> UnitSeries:
    """``unit_series`` of an SLO without a filter, on the service's all-traffic columns."""
    columns = grouped.plain_columns(signal_names(slo))
    return series_of_columns(slo, columns.take(_within(columns, start, end, end_included=True)),
                             start, end)


def _worst_plain_slices(slo: SLO, grouped: ServiceRecords,
                        week: IsoWeek) -> tuple[SliceAttainment, ...]:
    """``_worst_slices`` of an SLO without a filter: each slice's records are its
    breakdown (``slice_unit_series``), here picked from the columns by slice key."""
    columns, keys = grouped.sliced_columns(signal_names(slo))
    inside = _within(columns, week.start, week.end, end_included=False)
    columns, keys = columns.take(inside), keys[inside]
    found = []
    for key in sorted(set(keys.tolist())):
        series = series_of_columns(slo, columns.take(keys == key), week.start, week.end)
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
    before = week.previous()
    moments = [before.start + i * BURN_STEP
               for i in range(int((week.end - before.start) / BURN_STEP) + 1)]
    first = min(min(slo.window_bounds(moment)[0] for moment in (moments[0], before.end,
                                                                week.end)), before.start)
    # Without a filter an SLO reads the all-traffic records and breaks down the sliced
    # ones, both from columns; with one, the records that match it.
    if slo.filter:
        series = unit_series(slo, grouped.everything, start=first, end=week.end)
        worst = _worst_slices(slo, between(grouped.everything, week.start, week.end), week)
    else:
        series = _plain_series(slo, grouped, first, week.end)
        worst = _worst_plain_slices(slo, grouped, week)
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
        worst_slices=worst,
        burn_times=tuple(moments), burn_left=tuple(left))


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
