"""Pull the Prometheus-sourced signals of one service over one window.

Holds what outlives one call (a reader per server, the query cache, each signal's
last outcome for ``/healthz``) in :class:`SourceState`, kept on
one ``SourceState`` per running bot. A failing signal never fails the others:
its error becomes a message the caller can show next to the diagnosis.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from bot.config.source_spec import PrometheusServer, PrometheusSource, SignalSpec
from bot.core.clock import format_ts, to_utc, utcnow
from bot.sources.cache import QueryCache
from bot.sources.convert import (
    Converted,
    SourceRecord,
    distribution_records,
    signal_records,
    state_records,
)
from bot.sources.prometheus import (
    EmptyResult,
    PrometheusReader,
    PromSeries,
    SourceError,
    TooManyPoints,
    Unreachable,
)

if TYPE_CHECKING:
    from bot.config.catalog import Catalog
    from bot.core.services import Services

MAX_CHUNKS = 60  # range queries per signal and load: 60 x 11,000 steps is 7.6 days at 1 min


@dataclass(frozen=True)
class PullResult:
    """One signal's pull: its records, what came back, and what went wrong."""

    service: str
    spec: SignalSpec
    records: list[SourceRecord]
    series: int
    points: int
    latest: float | str | None
    error: str | None
    notes: tuple[str, ...] = ()
    at: datetime = field(default_factory=utcnow)

    @property
    def message(self) -> str | None:
        """The line for an incident's evidence: ``quality signal x unavailable: ...``."""
        if self.error is None:
            return None
        return f"{self.spec.layer} signal {self.spec.name} unavailable: {self.error}"


class SourceState:
    """Readers, cache and last outcomes shared by every caller of one bot."""

    def __init__(self, catalog: Catalog, cache: QueryCache | None = None) -> None:
        self.catalog = catalog
        self.cache = cache or QueryCache()
        self.last: dict[tuple[str, str], PullResult] = {}
        self._readers: dict[PrometheusServer, PrometheusReader] = {}
        self._lock = threading.Lock()

    def reader(self, server: PrometheusServer) -> PrometheusReader:
        with self._lock:
            if server not in self._readers:
                self._readers[server] = PrometheusReader(server)
            return self._readers[server]

    def server_for(self, source: PrometheusSource) -> PrometheusServer:
        server = source.server or self.catalog.prometheus
        assert server is not None, "the catalog validator requires a server"
        return server

    def close(self) -> None:
        with self._lock:
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()


_STATES: WeakKeyDictionary[Services, SourceState] = WeakKeyDictionary()


def source_state(services: Services) -> SourceState:
    """The bot's ``SourceState``, made on first use (never at import time)."""
    state = _STATES.get(services)
    if state is None or state.catalog is not services.catalog:
        state = _STATES[services] = SourceState(services.catalog)
    return state


def pulled_specs(catalog: Catalog, service: str,
                 layers: set[str] | None = None) -> list[SignalSpec]:
    entry = catalog.service(service)
    if entry is None:
        return []
    return [spec for spec in entry.signals
            if spec.pulled and (layers is None or spec.layer in layers)]


def aligned_range(start: float, end: float, step: float) -> tuple[float, float]:
    """Evaluation times on the step grid inside ``[start, end]``, so the cache can hit."""
    first = math.ceil(start / step - 1e-9) * step
    last = math.floor(end / step + 1e-9) * step
    return first, last


def chunks(start: float, end: float, step: float, max_points: int) -> list[tuple[float, float]]:
    """``[start, end]`` cut on a fixed grid into ranges of at most ``max_points`` steps.

    The grid is absolute (multiples of ``step * max_points``), so a 30-day SLO window
    read every minute asks again only for its newest piece; the older ones are cached.
    """
    span = step * max_points
    pieces = []
    first = start
    while first <= end + 1e-9:
        boundary = (math.floor(first / span + 1e-9) + 1) * span
        last = min(end, boundary - step)
        pieces.append((first, last))
        first = last + step
    return pieces


def _fetch(state: SourceState, reader: PrometheusReader, query: str, start: float, end: float,
           step: float) -> list[PromSeries]:
    pieces = chunks(start, end, step, reader.server.max_points)
    if len(pieces) > MAX_CHUNKS:
        raise TooManyPoints(
            f"{(end - start) / 86400:.1f} days at step {step:g}s needs {len(pieces)} queries of "
            f"{reader.server.max_points} points, over the limit of {MAX_CHUNKS} (raise the step)")
    now = time.time()
    merged: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    empty: SourceError | None = None
    for first, last in pieces:
        # A piece that ended a while ago will not change: keep it for long.
        ttl = 3600.0 if last < now - 600 else min(max(step, 1.0), 300.0)
        key = (reader.server.url, query, first, last, step)
        try:
            answer = state.cache.get_or_fetch(
                key, partial(reader.query_range, query, start=first, end=last, step=step), ttl)
        except EmptyResult as error:  # one quiet piece is not an empty signal
            empty = error
            continue
        for series in answer:
            merged.setdefault(tuple(sorted(series.labels.items())), []).extend(series.points)
    if not merged:
        raise empty or EmptyResult(f"query returned no series: {query}")
    return [PromSeries(dict(labels), tuple(points)) for labels, points in merged.items()]


def _convert(spec: SignalSpec, service: str, values: list[PromSeries],
             counts: list[PromSeries] | None) -> Converted:
    if spec.record == "distribution":
        return distribution_records(spec, service, values)
    if spec.record == "state":
        return state_records(spec, service, values)
    return signal_records(spec, service, values, counts)


def _latest(records: list[Any]) -> float | str | None:
    if not records:
        return None
    last = max(records, key=lambda r: r.ts)
    if spec_value := getattr(last, "counts", None):
        return float(sum(spec_value.values()))
    return last.value


def pull_signal(state: SourceState, service: str, spec: SignalSpec, *, start: datetime,
                end: datetime, down: dict[str, str] | None = None) -> PullResult:
    """Query one signal (and its count) over ``[start, end]``; errors are returned, not raised.

    ``down`` maps server URLs already found unreachable in this load to their error,
    so a dead server costs one timeout, not one per signal.
    """
    source = spec.source
    assert isinstance(source, PrometheusSource)
    server = state.server_for(source)
    first, last = aligned_range(to_utc(start).timestamp(), to_utc(end).timestamp(), source.step)
    if down is not None and server.url in down:
        return _record(state, PullResult(service, spec, [], 0, 0, None, down[server.url]))
    if last < first:
        return _record(state, PullResult(service, spec, [], 0, 0, None, None,
                                         ("the window is shorter than one step",)))
    reader = state.reader(server)
    notes: list[str] = []
    try:
        values = _fetch(state, reader, source.query, first, last, source.step)
    except SourceError as error:
        if isinstance(error, Unreachable) and down is not None:
            down[server.url] = str(error)
        return _record(state, PullResult(service, spec, [], 0, 0, None, str(error)))
    counts: list[PromSeries] | None = None
    count_error: str | None = None
    if source.count_query:
        try:
            counts = _fetch(state, reader, source.count_query, first, last, source.step)
        except SourceError as error:
            count_error = f"count {error}"
            counts = []
    converted = _convert(spec, service, values, counts)
    notes.extend(converted.notes)
    points = sum(len(series.points) for series in values)
    return _record(state, PullResult(service, spec, converted.records, len(values), points,
                                     _latest(converted.records), count_error, tuple(notes)))


def signal_label(spec: SignalSpec) -> str:
    """A signal's name, with its slice labels when it has them (one name may come twice)."""
    source = spec.source
    if isinstance(source, PrometheusSource) and source.slice_labels:
        return f"{spec.name} by {','.join(source.slice_labels)}"
    return spec.name


def _record(state: SourceState, result: PullResult) -> PullResult:
    state.last[(result.service, signal_label(result.spec))] = result
    return result


def health(state: SourceState) -> dict[str, Any]:
    """What ``/healthz`` shows: each pulled signal's last outcome."""
    signals: dict[str, str] = {}
    for entry in state.catalog.services:
        for spec in entry.signals:
            if not spec.pulled:
                continue
            name = f"{entry.name}/{signal_label(spec)}"
            result = state.last.get((entry.name, signal_label(spec)))
            if result is None:
                signals[name] = "not queried yet"
            elif result.error:
                signals[name] = f"error at {format_ts(result.at)}: {result.error}"
            else:
                signals[name] = f"ok at {format_ts(result.at)}: {result.series} series"
    failing = sum(1 for text in signals.values() if text.startswith("error"))
    return {"status": "error" if failing else "ok", "failing": failing, "signals": signals,
            "cache": {"hits": state.cache.hits, "misses": state.cache.misses}}
