"""From exchange records to numpy arrays: one series per (layer, name, slice).

The detectors want clean arrays in time order; the exchange format gives records
in any order, with slices as maps, duplicates within a timestamp, and sometimes a
signal only per slice and never for all traffic. This module does that bookkeeping
once, so the pipeline reads like the statistics it runs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

import numpy as np

from bot.core.exchange_columns import ColumnBatch, SliceKey, slice_key

Key = tuple[str, str, SliceKey]
__all__ = ["Assembled", "Distribution", "Series", "SliceKey", "States", "assemble",
           "assemble_columns", "slice_key", "slice_text"]


def slice_text(key: SliceKey) -> str:
    return ",".join(f"{k}={v}" for k, v in key)


@dataclass
class Series:
    """A numeric signal: times (epoch seconds), values and counts (NaN when unknown)."""

    layer: str
    name: str
    slice: SliceKey
    kind: str
    bad: str
    times: np.ndarray
    values: np.ndarray
    counts: np.ndarray

    @property
    def has_counts(self) -> bool:
        """Every point has a positive finite count (its rate can be weighted by it).

        Read many times per diagnosis; a gauge's counts are NaN from the first point,
        so that point, read as a float, answers most series without two array passes.
        """
        counts = self.counts
        if counts.size and not 0.0 < float(counts[0]) < math.inf:
            return False
        return bool(np.all(np.isfinite(counts)) and np.all(counts > 0))


@dataclass
class Distribution:
    """Samples (numeric) or category counts per timestamp.

    ``block``: when every record holds the same number of values (the usual case: a
    fixed sample per record), the samples as the rows of one array (``samples`` are
    then its rows), so the detectors thin, pool and sort them in single calls.
    """

    layer: str
    name: str
    slice: SliceKey
    times: list[float] = field(default_factory=list)
    samples: list[np.ndarray] = field(default_factory=list)
    categories: list[dict[str, float]] = field(default_factory=list)
    block: np.ndarray | None = None


@dataclass
class States:
    layer: str
    name: str
    slice: SliceKey
    times: list[float] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    expected: list[str | None] = field(default_factory=list)


@dataclass
class Assembled:
    series: dict[tuple[str, str, SliceKey], Series]
    distributions: dict[tuple[str, str, SliceKey], Distribution]
    states: dict[tuple[str, str, SliceKey], States]
    start: float | None
    end: float | None
    service: str | None = None  # set by assemble_columns (records carry their own)


def _merge(times: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray,
           counts: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort by time; records at one timestamp are merged (count-weighted mean)."""
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    c = np.asarray(counts, dtype=float)
    order = np.argsort(t, kind="stable")
    t, v, c = t[order], v[order], c[order]
    if t.size > 1 and np.any(np.diff(t) == 0):
        unique, inverse = np.unique(t, return_inverse=True)
        w = np.where(np.isfinite(c) & (c > 0), c, 1.0)
        sums = np.bincount(inverse, weights=v * w)
        weights = np.bincount(inverse, weights=w)
        known = np.bincount(inverse, weights=np.where(np.isfinite(c), c, 0.0))
        has = np.bincount(inverse, weights=np.isfinite(c).astype(float))
        t, v = unique, sums / weights
        c = np.where(has == np.bincount(inverse), known, np.nan)
    return t, v, c


def _synthesise_totals(series: dict[tuple[str, str, SliceKey], Series]) -> None:
    """All-traffic series for signals that only come per slice (count-weighted by time)."""
    by_signal: dict[tuple[str, str], list[Series]] = defaultdict(list)
    for (layer, name, _key), item in series.items():
        by_signal[(layer, name)].append(item)
    for (layer, name), items in by_signal.items():
        if any(not item.slice for item in items):
            continue
        dims: dict[tuple[str, ...], list[Series]] = defaultdict(list)
        for item in items:
            dims[tuple(k for k, _ in item.slice)].append(item)
        group = max(dims.values(), key=lambda g: (len(g), sum(i.times.size for i in g)))
        times = np.concatenate([i.times for i in group])
        values = np.concatenate([i.values for i in group])
        counts = np.concatenate([i.counts for i in group])
        t, v, c = _merge(times, values, counts)
        first = group[0]
        series[(layer, name, ())] = Series(layer, name, (), first.kind, first.bad, t, v, c)


_SIGNAL_FIELDS = attrgetter("ts", "value", "count")
_GROUP_FIELDS = attrgetter("layer", "name", "slice")


def _epochs(stamps: Sequence[datetime], cache: dict[datetime, float]) -> np.ndarray:
    """Epoch seconds of datetimes, each distinct instant converted once.

    A service's signals share their timestamps (every signal and slice reports each
    minute), so converting the few thousand distinct instants and looking the rest
    up is several times cheaper than ``timestamp()`` on every record.
    """
    for ts in set(stamps).difference(cache):
        cache[ts] = ts.timestamp()
    return np.fromiter(map(cache.__getitem__, stamps), dtype=float, count=len(stamps))


def _group(records: Iterable[Any]) -> tuple[dict[Key, list[Any]], ...]:
    """Records of each kind grouped by (layer, name, slice key), in first-seen order.

    One pass that only reads the grouping fields; the arrays are then built per
    group, column by column. Slice maps are keyed by their items, so the sorting
    of :func:`slice_key` runs once per distinct slice, not once per record.
    """
    groups: tuple[dict[Key, list[Any]], ...] = ({}, {}, {})
    # by the record's type tag, not its class: the models' records and any reader's
    # plain ones alike (and no pydantic import here)
    which: dict[Any, dict[Key, list[Any]]] = {
        "signal": groups[0], "distribution": groups[1], "state": groups[2]}
    keys: dict[tuple[tuple[Any, Any], ...], SliceKey] = {}
    for record in records:
        target = which.get(getattr(record, "type", None))
        if target is None:
            continue
        layer, name, slice_ = _GROUP_FIELDS(record)
        if slice_:
            try:
                items = tuple(slice_.items())
                sk = keys.get(items)
                if sk is None:
                    sk = keys[items] = slice_key(slice_)
            except TypeError:  # unhashable slice values (unvalidated records)
                sk = slice_key(slice_)
        else:
            sk = ()
        key = (layer, name, sk)
        bucket = target.get(key)
        if bucket is None:
            target[key] = [record]
        else:
            bucket.append(record)
    return groups


def _as_block(dist: Distribution) -> None:
    """Samples of one size, in time order, into :attr:`Distribution.block` (and its rows)."""
    samples = dist.samples
    if (len(samples) == len(dist.times) and samples and samples[0].ndim == 1
            and samples[0].size and len({x.shape for x in samples}) == 1):
        dist.block = np.vstack(samples)
        dist.samples = list(dist.block)


def assemble(records: Iterable[Any]) -> Assembled:
    """Group signal, distribution and state records into arrays; other types are ignored.

    Columnar: records are grouped once, then each group's times, values and counts
    are read out in one sweep into arrays (the per-record work is a dictionary
    append), since assembly from Python objects dominates a diagnosis end to end.
    """
    signal_groups, dist_groups, state_groups = _group(records)
    cache: dict[datetime, float] = {}
    bounds: list[float] = []
    series = {}
    for key, recs in signal_groups.items():
        stamps, values, counts = zip(*map(_SIGNAL_FIELDS, recs), strict=True)
        times = _epochs(stamps, cache)
        bounds += [float(times.min()), float(times.max())]
        # None counts become NaN in a float array
        t, v, c = _merge(times, np.array(values, dtype=float), np.array(counts, dtype=float))
        first = recs[0]
        series[key] = Series(key[0], key[1], key[2], first.kind or "gauge",
                             first.bad or "both", t, v, c)
    _synthesise_totals(series)
    distributions: dict[Key, Distribution] = {}
    for key, recs in dist_groups.items():
        times = _epochs([r.ts for r in recs], cache)
        bounds += [float(times.min()), float(times.max())]
        dist = distributions[key] = Distribution(*key)
        order = np.argsort(times, kind="stable")
        dist.times = [float(times[i]) for i in order]
        samples = [np.asarray(r.values, dtype=float) for r in recs if r.values is not None]
        categories = [dict(r.counts or {}) for r in recs if r.values is None]
        dist.samples = [samples[i] for i in order] if len(samples) == len(order) else samples
        _as_block(dist)
        dist.categories = ([categories[i] for i in order] if len(categories) == len(order)
                           else categories)
    states: dict[Key, States] = {}
    for key, recs in state_groups.items():
        times = _epochs([r.ts for r in recs], cache)
        bounds += [float(times.min()), float(times.max())]
        order = np.argsort(times, kind="stable")
        states[key] = States(*key, times=[float(times[i]) for i in order],
                             served=[recs[i].value for i in order],
                             expected=[recs[i].expected for i in order])
    start = min(bounds) if bounds else None
    end = max(bounds) if bounds else None
    return Assembled(series, distributions, states, start, end)


def assemble_columns(batch: ColumnBatch, service: str | None,
                     at: datetime | None = None) -> Assembled:
    """One service's data from a columnar batch: the same :class:`Assembled` as
    :func:`assemble` of its records (those up to ``at``), without a record per signal.

    Signals go from their columns to arrays directly; the batch's distribution and
    state records (few) go through :func:`assemble`. Series keep the order of their
    first line, as grouping records in line order gives.
    """
    limit = at.timestamp() if at is not None else None
    chosen = []
    for (owner, layer, name, sk), column in batch.signals.items():
        if owner != service:
            continue
        times = np.array(column.times, dtype=float)
        values = np.array(column.values, dtype=float)
        counts = np.array(column.counts, dtype=float)  # None counts become NaN
        first = 0
        if limit is not None:
            keep = times <= limit
            if not keep.all():
                if not keep.any():
                    continue
                first = int(np.argmax(keep))
                times, values, counts = times[keep], values[keep], counts[keep]
        chosen.append((column.lines[first], (layer, name, sk), column.kind_at(first),
                       times, values, counts))
    chosen.sort(key=lambda item: item[0])
    series: dict[Key, Series] = {}
    bounds: list[float] = []
    for _line, key, (kind, bad), times, values, counts in chosen:
        bounds += [float(times.min()), float(times.max())]
        t, v, c = _merge(times, values, counts)
        series[key] = Series(key[0], key[1], key[2], kind, bad, t, v, c)
    _synthesise_totals(series)
    rest = assemble(r for r in batch.others.records
                    if r.type in ("distribution", "state") and r.service == service
                    and (at is None or not r.ts > at))
    bounds += [b for b in (rest.start, rest.end) if b is not None]
    return Assembled(series, rest.distributions, rest.states,
                     min(bounds) if bounds else None, max(bounds) if bounds else None,
                     service if bounds else None)  # as records: no data, no service
