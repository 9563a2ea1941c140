"""From exchange records to numpy arrays: one series per (layer, name, slice).

The detectors want clean arrays in time order; the exchange format gives records
in any order, with slices as maps, duplicates within a timestamp, and sometimes a
signal only per slice and never for all traffic. This module does that bookkeeping
once, so the pipeline reads like the statistics it runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from bot.exchange import DistributionRecord, SignalRecord, StateRecord

SliceKey = tuple[tuple[str, str], ...]


def slice_key(slice_: dict[str, str]) -> SliceKey:
    return tuple(sorted((str(k), str(v)) for k, v in slice_.items()))


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
        return bool(np.all(np.isfinite(self.counts)) and np.all(self.counts > 0))


@dataclass
class Distribution:
    """Samples (numeric) or category counts per timestamp."""

    layer: str
    name: str
    slice: SliceKey
    times: list[float] = field(default_factory=list)
    samples: list[np.ndarray] = field(default_factory=list)
    categories: list[dict[str, float]] = field(default_factory=list)


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


def _epoch(ts: datetime) -> float:
    return ts.timestamp()


def _merge(times: list[float], values: list[float], counts: list[float]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        t, v, c = _merge(list(times), list(values), list(counts))
        first = group[0]
        series[(layer, name, ())] = Series(layer, name, (), first.kind, first.bad, t, v, c)


def assemble(records: Iterable[Any]) -> Assembled:
    """Group signal, distribution and state records into arrays; other types are ignored."""
    raw: dict[tuple[str, str, SliceKey], tuple[list[float], list[float], list[float]]] = {}
    meta: dict[tuple[str, str, SliceKey], tuple[str, str]] = {}
    distributions: dict[tuple[str, str, SliceKey], Distribution] = {}
    states: dict[tuple[str, str, SliceKey], States] = {}
    start = end = None
    for record in records:
        if not isinstance(record, SignalRecord | DistributionRecord | StateRecord):
            continue
        ts = _epoch(record.ts)
        start = ts if start is None or ts < start else start
        end = ts if end is None or ts > end else end
        key = (record.layer, record.name, slice_key(record.slice))
        if isinstance(record, SignalRecord):
            bucket = raw.setdefault(key, ([], [], []))
            bucket[0].append(ts)
            bucket[1].append(record.value)
            bucket[2].append(record.count if record.count is not None else np.nan)
            meta.setdefault(key, (record.kind or "gauge", record.bad or "both"))
        elif isinstance(record, DistributionRecord):
            dist = distributions.setdefault(key, Distribution(*key))
            dist.times.append(ts)
            if record.values is not None:
                dist.samples.append(np.asarray(record.values, dtype=float))
            else:
                dist.categories.append(dict(record.counts or {}))
        else:
            state = states.setdefault(key, States(*key))
            state.times.append(ts)
            state.served.append(record.value)
            state.expected.append(record.expected)
    series = {}
    for key, (times, values, counts) in raw.items():
        t, v, c = _merge(times, values, counts)
        kind, bad = meta[key]
        series[key] = Series(key[0], key[1], key[2], kind, bad, t, v, c)
    _synthesise_totals(series)
    for state in states.values():
        order = np.argsort(state.times, kind="stable")
        state.times = [state.times[i] for i in order]
        state.served = [state.served[i] for i in order]
        state.expected = [state.expected[i] for i in order]
    for dist in distributions.values():
        order = np.argsort(dist.times, kind="stable")
        dist.times = [dist.times[i] for i in order]
        if dist.samples and len(dist.samples) == len(order):
            dist.samples = [dist.samples[i] for i in order]
        if dist.categories and len(dist.categories) == len(order):
            dist.categories = [dist.categories[i] for i in order]
    return Assembled(series, distributions, states, start, end)
