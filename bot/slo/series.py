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


def _names(slo: SLO) -> set[str]:
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
    return [r for name in sorted(_names(slo)) for r in grouped.by_name.get(name, ())
            if start <= r.ts <= end]


def _series(slo: SLO, records: list[SignalRecord], start: datetime, end: datetime) -> UnitSeries:
    aligned, step, bins = _grid(slo, start, end)
    unit = "timeslices" if slo.budgeting == "timeslices" else "events"
    if bins == 0:
        return UnitSeries(aligned, step, np.zeros(0), np.zeros(0), unit)
    seconds = np.array([r.ts.timestamp() for r in records], dtype=float)
    index = np.floor((seconds - aligned.timestamp()) / step.total_seconds()).astype(np.int64)
    if slo.sli.signal is not None:
        bad, total = _from_signal(slo, records, index, bins)
    else:
        bad, total = _from_counts(slo, records, index, bins)
    return UnitSeries(aligned, step, bad, total, unit)


_UFUNC = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def meets(sli: Indicator, values: np.ndarray) -> np.ndarray:
    """Element-wise ``Indicator.meets``."""
    assert sli.op is not None and sli.threshold is not None
    return np.asarray(_UFUNC[sli.op](values, sli.threshold), dtype=bool)


def _weights(records: list[SignalRecord]) -> np.ndarray:
    return np.array([r.count if r.count is not None and r.kind != "count" else 1.0
                     for r in records], dtype=float)


def _from_signal(slo: SLO, records: list[SignalRecord], index: np.ndarray,
                 bins: int) -> tuple[np.ndarray, np.ndarray]:
    sli = slo.sli
    values = np.array([r.value for r in records], dtype=float)
    weights = _weights(records)
    if slo.budgeting == "timeslices":
        summed = np.array([r.kind == "count" for r in records], dtype=bool)
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
    ratio = np.array([r.kind == "ratio" for r in records], dtype=bool)
    bad_share = np.array([1.0 - r.value if r.bad == "down" else r.value for r in records])
    events = np.where(ratio, weights, 0.0)
    return (np.bincount(index, weights=bad_share * events, minlength=bins),
            np.bincount(index, weights=events, minlength=bins))


def _from_counts(slo: SLO, records: list[SignalRecord], index: np.ndarray,
                 bins: int) -> tuple[np.ndarray, np.ndarray]:
    sli = slo.sli
    part_name = sli.good or sli.bad
    values = np.array([r.value for r in records], dtype=float)
    is_part = np.array([r.name == part_name for r in records], dtype=bool)
    is_total = np.array([r.name == sli.total for r in records], dtype=bool)
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
