"""OTLP metrics as exchange-format records: unpack the points, then assemble the signals.

:func:`unpack` walks an ``ExportMetricsServiceRequest`` into typed
:class:`Point` objects (service, signal mapping, stream identity, slice, value),
refusing the points that break the data model with the reason and where they
were. The caller turns stream points into per-interval amounts
(``bot.otel.temporality``), then :func:`assemble` groups the amounts of one
signal, time and slice into records:

- gauges (and cumulative up-down counters) -> ``gauge`` signals (several streams
  in one slice: their mean);
- monotonic sums -> ``count`` signals (amounts add), and with the catalog's
  ``otel.ratios`` a ``ratio`` signal (numerator / denominator, ``count`` =
  denominator) for the two sums of one export;
- histograms and exponential histograms -> a ``distribution`` of quantile
  samples plus ``<name>_p50``, ``_p95``, ``_p99`` and ``_mean`` gauges;
- summaries -> a gauge per reported quantile (``<name>_p99``).

Each record exists for all traffic (empty slice) and for each slice dimension
the points carry, the way the simulator and Prometheus pulls report them.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from bot.config.catalog import Catalog, Service
from bot.config.otel_rules import Mapped, MetricMapper
from bot.core.exchange_records import DistributionRecord, SignalRecord
from bot.otel import buckets
from bot.otel.amounts import Amount, ExplicitHistogram, ExponentialHistogram
from classifiers.vocabulary import Direction, Layer, SignalKind, default_direction

DELTA = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
NO_RECORDED_VALUE = metrics_pb2.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
DEFAULT_SLICES = tuple(Service.model_fields["slices"].get_default(call_default_factory=True,
                                                                  validated_data={}))
QUANTILE_GAUGES = ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))
MAX_REASONS = 20
LAST_NS = 2**63  # signed 64-bit nanoseconds, as the store keeps them: April 2262

PointKind = Literal["gauge", "sum", "histogram", "summary"]


@dataclass(frozen=True)
class Point:
    """One accepted data point, before temporality."""

    service: str
    metric: str  # the OTLP name (ratio rules refer to it)
    mapped: Mapped
    kind: PointKind
    temporality: Literal["cumulative", "delta"] | None  # None: a gauge (no stream state)
    stream: str  # identity of the stream: resource, scope, metric, attributes
    start_ns: int
    time_ns: int
    value: Amount | None
    slice: dict[str, str]
    quantiles: tuple[tuple[float, float], ...] = ()


@dataclass
class Unpacked:
    points: list[Point] = field(default_factory=list)
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    total: int = 0

    def refuse(self, where: str, reason: str, count: int = 1) -> None:
        self.rejected += count
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(f"{where}: {reason}")

    @property
    def message(self) -> str:
        if not self.rejected:
            return ""
        more = self.rejected - len(self.reasons)
        tail = f"; and {more} more" if more > 0 else ""
        return (f"{self.rejected} of {self.total} data points rejected: "
                + "; ".join(self.reasons) + tail)


def any_value(value: AnyValue) -> str:
    """An attribute value as text (slice values are strings)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "int_value":
        return str(value.int_value)
    if which == "double_value":
        return repr(value.double_value)
    if which == "bytes_value":
        return value.bytes_value.hex()
    if which == "array_value":
        return "[" + ",".join(any_value(v) for v in value.array_value.values) + "]"
    if which == "kvlist_value":
        return "{" + ",".join(f"{kv.key}={any_value(kv.value)}"
                              for kv in value.kvlist_value.values) + "}"
    return ""


def attributes(items: Iterable[KeyValue]) -> dict[str, str]:
    return {kv.key: any_value(kv.value) for kv in items}


def _identity(*parts: Any) -> str:
    text = "\x1f".join(repr(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


class _Context:
    """Per request: the catalog's slices, the mapper, and the refusals so far."""

    def __init__(self, catalog: Catalog, mapper: MetricMapper, out: Unpacked) -> None:
        self.catalog, self.mapper, self.out = catalog, mapper, out
        self.options = catalog.otel
        self._dims: dict[str, frozenset[str]] = {}

    def dims(self, service: str) -> frozenset[str]:
        found = self._dims.get(service)
        if found is None:
            entry = self.catalog.service(service)
            found = self._dims[service] = frozenset(entry.slices if entry else DEFAULT_SLICES)
        return found

    def slice_of(self, service: str, attrs: dict[str, str]) -> dict[str, str]:
        dims, rename = self.dims(service), self.options.attributes
        out: dict[str, str] = {}
        for key, value in attrs.items():
            dim = rename.get(key, key)
            if dim in dims and value != "":
                out[dim] = value[:200]
        return out


def unpack(request: ExportMetricsServiceRequest, catalog: Catalog,
           mapper: MetricMapper) -> Unpacked:
    out = Unpacked()
    context = _Context(catalog, mapper, out)
    for r_index, resource_metrics in enumerate(request.resource_metrics):
        resource = attributes(resource_metrics.resource.attributes)
        service = (resource.get(context.options.service_attribute) or "unknown_service")[:200]
        resource_id = tuple(sorted(resource.items()))
        for s_index, scope_metrics in enumerate(resource_metrics.scope_metrics):
            scope = (scope_metrics.scope.name, scope_metrics.scope.version)
            for m_index, metric in enumerate(scope_metrics.metrics):
                where = (f"resourceMetrics[{r_index}].scopeMetrics[{s_index}].metrics[{m_index}]"
                         f" ({metric.name or 'no name'!r}, service {service!r})")
                _metric(context, metric, service, (resource_id, scope), where)
    return out


def _metric(context: _Context, metric: metrics_pb2.Metric, service: str, stream_base: Any,
            where: str) -> None:
    out = context.out
    which = metric.WhichOneof("data")
    points: Sequence[Any] = getattr(metric, which).data_points if which else ()
    out.total += len(points)
    if not metric.name:
        out.refuse(where, "the metric has no name", len(points))
        return
    if which is None:
        return  # no data: nothing to take, nothing refused
    mapped = context.mapper.map(metric.name)
    temporality: Literal["cumulative", "delta"] | None = None
    kind: PointKind
    if which == "gauge":
        kind = "gauge"
    elif which == "summary":
        kind = "summary"
    else:
        data = getattr(metric, which)
        if data.aggregation_temporality not in (DELTA, CUMULATIVE):
            out.refuse(where, "aggregation_temporality is unspecified", len(points))
            return
        temporality = "delta" if data.aggregation_temporality == DELTA else "cumulative"
        if which == "sum":
            kind = "sum"
            if not data.is_monotonic:
                if temporality == "delta":
                    out.refuse(where, "a delta non-monotonic sum (UpDownCounter) has no level "
                                      "to report; export it with cumulative temporality",
                               len(points))
                    return
                kind, temporality = "gauge", None  # an up-down counter's value is a level
        else:
            kind = "histogram"
    for p_index, point in enumerate(points):
        at = f"{where}.dataPoints[{p_index}]"
        if point.flags & NO_RECORDED_VALUE:
            continue  # an explicit gap (staleness marker), not a value
        if not point.time_unix_nano:
            out.refuse(at, "time_unix_nano is 0")
            continue
        if point.time_unix_nano >= LAST_NS or point.start_time_unix_nano >= LAST_NS:
            out.refuse(at, "time_unix_nano or start_time_unix_nano lies past the year 2262 "
                           "(not nanoseconds since 1970)")
            continue
        try:
            value, quantiles = _value(which, point)
        except ValueError as error:
            out.refuse(at, str(error))
            continue
        attrs = attributes(point.attributes)
        stream = _identity(stream_base, metric.name, which, tuple(sorted(attrs.items())))
        out.points.append(Point(
            service=service, metric=metric.name, mapped=mapped, kind=kind,
            temporality=temporality, stream=stream, start_ns=int(point.start_time_unix_nano),
            time_ns=int(point.time_unix_nano), value=value,
            slice=context.slice_of(service, attrs), quantiles=quantiles))


def _finite(number: float, what: str) -> float:
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{what} is {number}")
    return float(number)


def _value(which: str, point: Any) -> tuple[Amount | None, tuple[tuple[float, float], ...]]:
    if which in ("gauge", "sum"):
        kind = point.WhichOneof("value")
        if kind is None:
            raise ValueError("the point has no value (as_double or as_int)")
        return _finite(float(getattr(point, kind)), "the value"), ()
    if which == "summary":
        pairs = tuple((_finite(q.quantile, "a quantile"), _finite(q.value, "a quantile value"))
                      for q in point.quantile_values)
        if any(not 0.0 <= q <= 1.0 for q, _ in pairs):
            raise ValueError("a summary quantile lies outside 0..1")
        return None, pairs
    minimum = point.min if point.HasField("min") else None
    maximum = point.max if point.HasField("max") else None
    total = point.sum if point.HasField("sum") else None
    if which == "histogram":
        bounds = tuple(float(b) for b in point.explicit_bounds)
        counts = tuple(float(c) for c in point.bucket_counts)
        if counts and len(counts) != len(bounds) + 1:
            raise ValueError(f"{len(counts)} bucket_counts for {len(bounds)} explicit_bounds "
                             "(there must be one more count than bounds)")
        if any(not math.isfinite(b) for b in bounds):
            raise ValueError("explicit_bounds must be finite")
        if any(later <= earlier for earlier, later in zip(bounds, bounds[1:], strict=False)):
            raise ValueError("explicit_bounds are not strictly increasing")
        if counts and sum(counts) != point.count:
            raise ValueError(f"bucket_counts add up to {sum(counts):g}, count says "
                             f"{point.count}")
        return ExplicitHistogram(bounds, counts, float(point.count), total, minimum,
                                 maximum), ()
    positive = {point.positive.offset + i: float(c)
                for i, c in enumerate(point.positive.bucket_counts) if c}
    negative = {point.negative.offset + i: float(c)
                for i, c in enumerate(point.negative.bucket_counts) if c}
    if not -10 <= point.scale <= 20:
        raise ValueError(f"scale {point.scale} is outside -10..20")
    return ExponentialHistogram(int(point.scale), positive, negative, float(point.zero_count),
                                float(point.count), float(point.zero_threshold), total,
                                minimum, maximum), ()


# -- assembling records from per-interval amounts ------------------------------------


@dataclass(frozen=True)
class Interval:
    """A point after temporality: what it adds to its signal at its time."""

    point: Point
    amount: Amount | None


def _ts(time_ns: int) -> datetime:
    return datetime.fromtimestamp(time_ns // 1000 / 1e6, tz=UTC)


def _groups(slice_: dict[str, str]) -> list[tuple[tuple[str, str], ...]]:
    """All traffic, and one breakdown per slice dimension the point carries."""
    return [(), *(((dim, value),) for dim, value in sorted(slice_.items()))]


# A group of amounts: (service, metric, time in ms, slice group).
GroupKey = tuple[str, str, int, tuple[tuple[str, str], ...]]


@dataclass
class _Grouped:
    """The amounts of one export gathered per signal, time and slice group."""

    gauges: dict[GroupKey, list[float]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[GroupKey, float] = field(default_factory=lambda: defaultdict(float))
    histograms: dict[GroupKey, list[buckets.Buckets]] = field(
        default_factory=lambda: defaultdict(list))
    mapped_of: dict[tuple[str, str], Mapped] = field(default_factory=dict)


def _gather(intervals: Iterable[Interval]) -> _Grouped:
    grouped = _Grouped()
    gauges, counts, histograms = grouped.gauges, grouped.counts, grouped.histograms
    mapped_of = grouped.mapped_of
    for item in intervals:
        point = item.point
        mapped_of[(point.service, point.metric)] = point.mapped
        ts = point.time_ns // 1_000_000  # group at millisecond precision
        for group in _groups(point.slice):
            key = (point.service, point.metric, ts, group)
            if point.kind == "gauge" and isinstance(item.amount, float):
                gauges[key].append(item.amount)
            elif point.kind == "sum" and isinstance(item.amount, float):
                counts[key] += item.amount
            elif point.kind == "histogram" and isinstance(
                    item.amount, ExplicitHistogram | ExponentialHistogram):
                histograms[key].append(item.amount.to_buckets())
            elif point.kind == "summary":
                for quantile, value in point.quantiles:
                    gauges[(point.service, f"{point.metric}\x00{_label(quantile)}", ts,
                            group)].append(value)
                    mapped_of[(point.service, f"{point.metric}\x00{_label(quantile)}")] = \
                        point.mapped
    return grouped


def _signal(service: str, mapped: Mapped, name: str, ts_ms: int,
            group: tuple[tuple[str, str], ...], value: float, kind: SignalKind,
            count: float | None = None, bad: Direction | None = None,
            layer: Layer | None = None) -> SignalRecord:
    return SignalRecord(
        type="signal", ts=_ts(ts_ms * 1_000_000), service=service,
        layer=layer or mapped.layer, name=name[:200], value=value, count=count,
        kind=kind, bad=bad or (mapped.bad if name == mapped.name
                               else default_direction(name)), slice=dict(group))


def _gauge_and_count_records(grouped: _Grouped) -> list[SignalRecord]:
    records = []
    for (service, metric, ts, group), values in grouped.gauges.items():
        _, _, suffix = metric.partition("\x00")
        mapped = grouped.mapped_of[(service, metric)]
        name = f"{mapped.name}_{suffix}" if suffix else mapped.name
        records.append(_signal(service, mapped, name, ts, group, sum(values) / len(values),
                               "gauge", bad=mapped.bad if not suffix else None))
    for (service, metric, ts, group), amount in grouped.counts.items():
        mapped = grouped.mapped_of[(service, metric)]
        records.append(_signal(service, mapped, mapped.name, ts, group, amount, "count"))
    return records


def _ratio_records(grouped: _Grouped, catalog: Catalog) -> list[SignalRecord]:
    """The catalog's ratios: numerator / denominator of two sums of one export."""
    records = []
    counts = grouped.counts
    for rule in catalog.otel.ratios:
        for (service, metric, ts, group), numerator in counts.items():
            if metric != rule.numerator:
                continue
            denominator = counts.get((service, rule.denominator, ts, group))
            if not denominator or numerator > denominator:
                continue  # no total in this export, or an inconsistent pair
            mapped = grouped.mapped_of[(service, metric)]
            records.append(_signal(service, mapped, rule.name, ts, group,
                                   numerator / denominator, "ratio", count=denominator,
                                   bad=rule.bad or default_direction(rule.name),
                                   layer=rule.layer or mapped.layer))
    return records


def _histogram_records(grouped: _Grouped) -> list[SignalRecord | DistributionRecord]:
    """A distribution of quantile samples, quantile gauges and the mean per histogram."""
    records: list[SignalRecord | DistributionRecord] = []
    for (service, metric, ts, group), parts in grouped.histograms.items():
        merged = buckets.merge(parts)
        total = merged.total
        if total <= 0:
            continue
        mapped = grouped.mapped_of[(service, metric)]
        values = buckets.samples(merged)
        records.append(DistributionRecord(
            type="distribution", ts=_ts(ts * 1_000_000), service=service, layer=mapped.layer,
            name=mapped.name, values=values, slice=dict(group)))
        levels = buckets.quantiles(merged, [q for q, _ in QUANTILE_GAUGES])
        for (_, label), value in zip(QUANTILE_GAUGES, levels, strict=True):
            records.append(_signal(service, mapped, f"{mapped.name}_{label}", ts, group,
                                   float(value), "gauge", count=total, bad=mapped.bad))
        if merged.sum is not None:
            records.append(_signal(service, mapped, f"{mapped.name}_mean", ts, group,
                                   merged.sum / total, "gauge", count=total, bad=mapped.bad))
    return records


def assemble(intervals: Iterable[Interval],
             catalog: Catalog) -> list[SignalRecord | DistributionRecord]:
    """The records of one export's amounts: gauges, counts, the catalog's ratios, then
    each histogram's distribution and quantile gauges (in that order)."""
    grouped = _gather(intervals)
    records: list[SignalRecord | DistributionRecord] = []
    records += _gauge_and_count_records(grouped)
    records += _ratio_records(grouped, catalog)
    records += _histogram_records(grouped)
    return records


def _label(quantile: float) -> str:
    """0.99 -> p99, 0.5 -> p50, 0.999 -> p99.9."""
    text = f"{quantile * 100:.4f}".rstrip("0").rstrip(".")
    return f"p{text}"
