"""Prometheus series to exchange records, so everything downstream reads one format.

Pure: series and a :class:`SignalSpec` in, records and notes out. A point that
cannot be a valid record (NaN from ``0/0``, a ratio outside 0..1) is dropped and
counted in a note rather than failing the whole signal; a histogram's cumulative
``_bucket`` series become counts per bucket; an info-style metric's labels become
served and expected values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.config.source_spec import PrometheusSource, SignalSpec
from bot.core.exchange_records import DistributionRecord, SignalRecord, StateRecord
from bot.sources.prometheus import PromSeries

SliceKey = tuple[tuple[str, str], ...]
# What a source of signals gives, pushed or pulled: the three signal kinds of the exchange.
SourceRecord = SignalRecord | DistributionRecord | StateRecord
_RATIO_SLACK = 1e-9  # float noise around 0 and 1 in a ratio of rates


@dataclass
class Converted:
    records: list[SourceRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def slice_of(labels: dict[str, str], mapping: dict[str, str]) -> dict[str, str]:
    """The slice a series belongs to: its mapped labels that are present and non-empty."""
    return {dimension: labels[label] for label, dimension in mapping.items()
            if labels.get(label)}


def _key(slice_: dict[str, str]) -> SliceKey:
    return tuple(sorted(slice_.items()))


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def signal_records(spec: SignalSpec, service: str, values: list[PromSeries],
                   counts: list[PromSeries] | None) -> Converted:
    """One ``SignalRecord`` per series and step; ``count`` from the matching count series."""
    source = spec.source
    assert isinstance(source, PrometheusSource)
    out = Converted()
    count_at: dict[tuple[SliceKey, float], float] = {}
    for series in counts or []:
        key = _key(slice_of(series.labels, source.slice_labels))
        for ts, value in series.points:
            if math.isfinite(value) and value >= 0:
                count_at[(key, ts)] = value
    dropped, unmatched, seen = 0, 0, set()
    duplicated = False
    for series in values:
        slice_ = slice_of(series.labels, source.slice_labels)
        key = _key(slice_)
        duplicated = duplicated or key in seen
        seen.add(key)
        for ts, value in series.points:
            if not math.isfinite(value):
                dropped += 1
                continue
            if spec.kind == "ratio":
                if -_RATIO_SLACK <= value < 0 or 1 < value <= 1 + _RATIO_SLACK:
                    value = min(1.0, max(0.0, value))
                elif not 0 <= value <= 1:
                    dropped += 1
                    continue
            count = count_at.get((key, ts))
            if counts is not None and count is None:
                unmatched += 1
            out.records.append(SignalRecord(
                type="signal", ts=_ts(ts), service=service, layer=spec.layer, name=spec.name,
                value=value, count=count, kind=spec.kind, bad=spec.bad, slice=slice_))
    if dropped:
        what = "NaN/Inf or outside 0..1" if spec.kind == "ratio" else "NaN or Inf"
        out.notes.append(f"{dropped} points dropped ({what})")
    if unmatched:
        out.notes.append(f"{unmatched} points without a count (count_query has no series with "
                         "the same slice labels at that time)")
    if duplicated:
        out.notes.append("several series map to one slice: aggregate the query "
                         f"`by ({', '.join(source.slice_labels) or ''})`")
    return out


def _bound(le: str) -> float:
    try:
        return float(le)
    except ValueError:
        return math.inf


def distribution_records(spec: SignalSpec, service: str,
                         buckets: list[PromSeries]) -> Converted:
    """Cumulative ``le`` buckets per slice and step into counts per bucket."""
    source = spec.source
    assert isinstance(source, PrometheusSource)
    out = Converted()
    grouped: dict[SliceKey, dict[str, dict[float, float]]] = defaultdict(dict)
    without_le = 0
    for series in buckets:
        le = series.labels.get("le")
        if le is None:
            without_le += 1
            continue
        key = _key(slice_of(series.labels, source.slice_labels))
        grouped[key][le] = dict(series.points)
    if without_le:
        out.notes.append(f"{without_le} series without an `le` label ignored (query the "
                         "histogram's _bucket series, aggregated `by (le, ...)`)")
    for key, by_le in grouped.items():
        bounds = sorted(by_le, key=_bound)
        times = sorted({ts for points in by_le.values() for ts in points})
        for ts in times:
            counts: dict[str, float] = {}
            below = 0.0
            for le in bounds:
                cumulative = by_le[le].get(ts)
                if cumulative is None or not math.isfinite(cumulative):
                    continue
                counts[le] = max(0.0, cumulative - below)  # rate noise can dip a bucket below
                below = max(below, cumulative)
            if counts and sum(counts.values()) > 0:
                out.records.append(DistributionRecord(
                    type="distribution", ts=_ts(ts), service=service, layer=spec.layer,
                    name=spec.name, counts=counts, slice=dict(key)))
    return out


def state_records(spec: SignalSpec, service: str, series_list: list[PromSeries]) -> Converted:
    """Info-style series (value 1 while current) into served and expected values."""
    source = spec.source
    assert isinstance(source, PrometheusSource) and source.value_label
    out = Converted()
    unlabeled = 0
    for series in series_list:
        served = series.labels.get(source.value_label)
        if served is None:
            unlabeled += 1
            continue
        expected = (series.labels.get(source.expected_label) if source.expected_label
                    else source.expected)
        slice_ = slice_of(series.labels, source.slice_labels)
        for ts, value in series.points:
            if math.isfinite(value) and value != 0:
                out.records.append(StateRecord(
                    type="state", ts=_ts(ts), service=service, layer=spec.layer,
                    name=spec.name, value=served, expected=expected, slice=slice_))
    if unlabeled:
        out.notes.append(f"{unlabeled} series without the label {source.value_label!r} ignored")
    return out
