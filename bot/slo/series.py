"""Exchange-format signal records to evenly spaced bad/total units for one SLO.

This is the only place that knows how a record becomes budget units, so the
store, a file or a Prometheus reader can feed the same computation as long as
they hand over ``SignalRecord`` objects.

- Occurrences: a ratio signal gives ``value * count`` bad events of ``count``
  (``(1 - value) * count`` for a share of good events); count signals give their
  sums; a bounded signal makes each record's events (its ``count``, else one)
  good or bad together.
- Timeslices: each bin is one slice; its signal value (the count-weighted mean,
  or the sum for ``count`` signals) meets the bound or it does not. Bins without
  data have total 0: they neither pass nor fail.

A record is used when its slice equals the SLO's filter exactly (no filter: the
all-traffic records), because per-slice records are breakdowns of the same
traffic and adding them up would count it twice. Records whose slice is the
filter plus more dimensions are the SLO's breakdowns (:func:`slice_unit_series`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

import numpy as np

from bot.config.slo_spec import SLO, Indicator
from bot.core.clock import to_utc
from bot.core.exchange_records import SignalRecord
from store.signal_queries import slice_key

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class UnitSeries:
    """Bad and total units per bin; bin ``i`` covers ``[start + i*step, start + (i+1)*step)``."""

    start: datetime
    step: timedelta
    bad: np.ndarray
    total: np.ndarray
    unit: str  # "events" or "timeslices"

    @property
    def bins(self) -> int:
        return int(self.total.size)

    @property
    def step_minutes(self) -> float:
        return self.step.total_seconds() / 60.0

    def between(self, start: datetime, end: datetime) -> UnitSeries:
        """The bins whose start lies in ``[start, end)``."""
        first = max(0, _ceil_div(to_utc(start) - self.start, self.step))
        last = min(self.bins, max(0, _ceil_div(to_utc(end) - self.start, self.step)))
        first = min(first, last)
        return UnitSeries(self.start + first * self.step, self.step, self.bad[first:last],
                          self.total[first:last], self.unit)


def _ceil_div(span: timedelta, step: timedelta) -> int:
    return -((-span) // step)


def bin_step(slo: SLO) -> timedelta:
    """Occurrences are binned by minute (burn windows need no finer); timeslices by slice."""
    return slo.timeslice_length if slo.budgeting == "timeslices" else timedelta(minutes=1)


def _grid(slo: SLO, start: datetime, end: datetime) -> tuple[datetime, timedelta, int]:
    step = bin_step(slo)
    start, end = to_utc(start), to_utc(end)
    aligned = _EPOCH + ((start - _EPOCH) // step) * step
    bins = max(0, (end - aligned) // step + 1) if end >= start else 0
    return aligned, step, int(bins)


def signal_names(slo: SLO) -> set[str]:
    """The signal names an SLO reads."""
    sli = slo.sli
    return {name for name in (sli.signal, sli.good, sli.bad, sli.total) if name}


class RecordsByName:
    """Signal records grouped by name, built once and shared by every SLO of a service."""

    def __init__(self, records: Iterable[Any]) -> None:
        self.by_name: dict[str, list[SignalRecord]] = defaultdict(list)
        for record in records:
            if isinstance(record, SignalRecord):
                self.by_name[record.name].append(record)

    @classmethod
    def of(cls, records: Iterable[Any] | RecordsByName) -> RecordsByName:
        return records if isinstance(records, RecordsByName) else cls(records)


Records = Iterable[Any] | RecordsByName


def _matching(slo: SLO, records: Records, start: datetime,
              end: datetime) -> list[SignalRecord]:
    grouped = RecordsByName.of(records)
    start, end = to_utc(start), to_utc(end)
    return [r for name in sorted(signal_names(slo)) for r in grouped.by_name.get(name, ())
            if start <= r.ts <= end]


@dataclass(frozen=True)
class SignalColumns:
    """The fields of signal records that units are computed from, one array each.

    A report over weeks of data for many services reads each record once into these
    columns and computes every SLO's units with numpy on them, instead of reading each
    record's attributes again for every SLO (the digest's content was mostly that).
    """

    names: np.ndarray  # str objects
    seconds: np.ndarray  # POSIX seconds of ``ts``
    values: np.ndarray
    counts: np.ndarray  # 0 where a record has no count
    has_count: np.ndarray  # bool
    kinds: np.ndarray  # str objects: "ratio", "gauge", "count", ...
    bad_down: np.ndarray  # bool: the signal is bad when low

    @classmethod
    def of(cls, records: list[SignalRecord]) -> SignalColumns:
        if not records:
            empty = np.array([], dtype=object)
            return cls(empty, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool),
                       empty, np.zeros(0, dtype=bool))
        # One C-level read of every field of each record (attrgetter), transposed by zip:
        # several times faster than a comprehension per field.
        names, times, values, counts, kinds, bads = zip(*map(_FIELDS, records), strict=True)
        has_count = np.array([count is not None for count in counts], dtype=bool)
        return cls(
            names=np.array(names, dtype=object),
            seconds=np.array(list(map(datetime.timestamp, times)), dtype=float),
            values=np.array(values, dtype=float),
            counts=np.where(has_count, np.array(counts, dtype=object), 0.0).astype(float),
            has_count=has_count, kinds=np.array(kinds, dtype=object),
            bad_down=np.asarray(np.array(bads, dtype=object) == "down", dtype=bool))

    @property
    def size(self) -> int:
        return int(self.seconds.size)

    def take(self, chosen: np.ndarray) -> SignalColumns:
        """The records picked by a boolean mask or an index array, in their order."""
        return SignalColumns(self.names[chosen], self.seconds[chosen], self.values[chosen],
                             self.counts[chosen], self.has_count[chosen], self.kinds[chosen],
                             self.bad_down[chosen])

    @classmethod
    def joined(cls, parts: list[SignalColumns]) -> SignalColumns:
        """The records of ``parts`` one after the other."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.of([])
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _COLUMN_FIELDS))


_FIELDS = attrgetter("name", "ts", "value", "count", "kind", "bad")
_COLUMN_FIELDS = ("names", "seconds", "values", "counts", "has_count", "kinds", "bad_down")


def _series(slo: SLO, records: list[SignalRecord], start: datetime, end: datetime) -> UnitSeries:
    return series_of_columns(slo, SignalColumns.of(records), start, end)


def series_of_columns(slo: SLO, columns: SignalColumns, start: datetime,
                      end: datetime) -> UnitSeries:
    """Bad and total units of ``slo`` on the grid from ``start`` to ``end``, from records
    already chosen for it (its names, its slice, within the span)."""
    aligned, step, bins = _grid(slo, start, end)
    unit = "timeslices" if slo.budgeting == "timeslices" else "events"
    if bins == 0:
        return UnitSeries(aligned, step, np.zeros(0), np.zeros(0), unit)
    index = np.floor((columns.seconds - aligned.timestamp())
                     / step.total_seconds()).astype(np.int64)
    if slo.sli.signal is not None:
        bad, total = _from_signal(slo, columns, index, bins)
    else:
        bad, total = _from_counts(slo, columns, index, bins)
    return UnitSeries(aligned, step, bad, total, unit)


_UFUNC = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def meets(sli: Indicator, values: np.ndarray) -> np.ndarray:
    """Element-wise ``Indicator.meets``."""
    assert sli.op is not None and sli.threshold is not None
    return np.asarray(_UFUNC[sli.op](values, sli.threshold), dtype=bool)


def _weights(columns: SignalColumns) -> np.ndarray:
    """A record's events: its count, else one (a count signal's count is its value)."""
    return np.where(columns.has_count & (columns.kinds != "count"), columns.counts, 1.0)


def _from_signal(slo: SLO, columns: SignalColumns, index: np.ndarray,
                 bins: int) -> tuple[np.ndarray, np.ndarray]:
    sli = slo.sli
    values = columns.values
    weights = _weights(columns)
    if slo.budgeting == "timeslices":
        summed = np.asarray(columns.kinds == "count", dtype=bool)
        level_weight = np.where(summed, 0.0, weights)
        weight_sum = np.bincount(index, weights=level_weight, minlength=bins)
        level_sum = np.bincount(index, weights=values * level_weight, minlength=bins)
        count_sum = np.bincount(index, weights=np.where(summed, values, 0.0), minlength=bins)
        seen = np.bincount(index, minlength=bins) > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            level = np.where(weight_sum > 0, level_sum / np.where(weight_sum > 0, weight_sum, 1),
                             0.0) + count_sum
        total = seen.astype(float)
        return np.where(seen, ~meets(sli, level), False).astype(float), total
    if sli.bounded:
        record_bad = (~meets(sli, values)).astype(float) * weights
        return (np.bincount(index, weights=record_bad, minlength=bins),
                np.bincount(index, weights=weights, minlength=bins))
    # A ratio of events: the value is the bad share (or the good share, for names bad when low).
    ratio = np.asarray(columns.kinds == "ratio", dtype=bool)
    bad_share = np.where(columns.bad_down, 1.0 - values, values)
    events = np.where(ratio, weights, 0.0)
    return (np.bincount(index, weights=bad_share * events, minlength=bins),
            np.bincount(index, weights=events, minlength=bins))


def _from_counts(slo: SLO, columns: SignalColumns, index: np.ndarray,
                 bins: int) -> tuple[np.ndarray, np.ndarray]:
    sli = slo.sli
    part_name = sli.good or sli.bad
    values = columns.values
    is_part = np.asarray(columns.names == part_name, dtype=bool)
    is_total = np.asarray(columns.names == sli.total, dtype=bool)
    part = np.bincount(index, weights=np.where(is_part, values, 0.0), minlength=bins)
    total = np.bincount(index, weights=np.where(is_total, values, 0.0), minlength=bins)
    total = np.clip(total, 0.0, None)
    part = np.clip(part, 0.0, total)
    bad = total - part if sli.good else part
    if slo.budgeting == "timeslices":
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, part / np.where(total > 0, total, 1.0), 0.0)
        seen = total > 0
        return np.where(seen, ~meets(sli, share), False).astype(float), seen.astype(float)
    return bad, total


def unit_series(slo: SLO, records: Records, *, start: datetime,
                end: datetime) -> UnitSeries:
    """Bad and total units of ``slo`` from ``start`` to ``end`` (inclusive), for its filter."""
    wanted = slo.filter
    chosen = [r for r in _matching(slo, records, start, end) if r.slice == wanted]
    return _series(slo, chosen, start, end)


def slice_unit_series(slo: SLO, records: Records, *, start: datetime,
                      end: datetime) -> dict[str, UnitSeries]:
    """Per breakdown (``tenant=acme``) of the SLO's traffic, its own unit series."""
    wanted = slo.filter
    groups: dict[str, list[SignalRecord]] = defaultdict(list)
    for record in _matching(slo, records, start, end):
        if record.slice == wanted:
            continue
        if all(record.slice.get(k) == v for k, v in wanted.items()):
            extra = {k: v for k, v in record.slice.items() if k not in wanted}
            groups[slice_key(extra)].append(record)
    return {key: _series(slo, group, start, end) for key, group in sorted(groups.items())}
