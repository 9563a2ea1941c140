"""Storing one OTLP export: stream state and records in one transaction.

The points' stream states are read (locked on PostgreSQL, behind the process's
write lock on SQLite), advanced point by point in time order, and written back
with the records they produced. A crash before the commit leaves both as they
were, so the exporter's retry is counted once; a restart of the bot continues
every stream from its stored state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.config.otel_rules import MetricMapper, OtelOptions
from bot.core.services import Services
from bot.otel import temporality
from bot.otel.convert import Interval, Point, assemble, unpack
from bot.otel.temporality import StreamState
from store.db import session_scope, write_lock
from store.otel_queries import StreamRow, load_streams, prune_streams, save_streams
from store.signal_queries import save_records

log = logging.getLogger(__name__)

_ATTEMPTS = 3
STREAM_RETENTION = timedelta(days=2)  # a stream silent this long is forgotten
_PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class IntakeResult:
    points: int  # data points in the request
    rejected: int
    message: str  # why points were rejected (names them), "" when none were
    records: int  # exchange records stored


# Per running bot: the compiled mapping rules, and when old streams were last pruned.
_MAPPERS: WeakKeyDictionary[Services, MetricMapper] = WeakKeyDictionary()
_PRUNED_AT: WeakKeyDictionary[Services, datetime] = WeakKeyDictionary()


def mapper(services: Services) -> MetricMapper:
    found = _MAPPERS.get(services)
    if found is None:
        found = _MAPPERS[services] = MetricMapper(services.catalog.otel)
    return found


def ingest(services: Services, request: ExportMetricsServiceRequest) -> IntakeResult:
    unpacked = unpack(request, services.catalog, mapper(services))
    stored = 0
    if unpacked.points:
        for attempt in range(_ATTEMPTS):
            try:
                with write_lock(services.engine), session_scope(services.engine) as session:
                    stored = _store(session, unpacked.points, services)
                break
            except IntegrityError:
                # Another replica inserted one of these streams first: run again, find it.
                if attempt == _ATTEMPTS - 1:
                    raise
                log.info("OTLP stream race; retrying the export (attempt %d)", attempt + 2)
    _prune(services)
    return IntakeResult(unpacked.total, unpacked.rejected, unpacked.message, stored)


def _store(session: Session, points: list[Point], services: Services) -> int:
    options: OtelOptions = services.catalog.otel
    first_max_age = int(options.first_point_max_age_seconds * 1e9)
    keys = {p.stream for p in points if p.temporality is not None}
    rows = load_streams(session=session, keys=keys) if keys else {}
    states = {key: StreamState.from_row(*row) for key, row in rows.items()}
    touched: dict[str, Point] = {}
    intervals: list[Interval] = []
    for point in sorted(points, key=lambda p: p.time_ns):
        # a gauge or summary has no stream state (sums and histograms always hold a value)
        if point.temporality is None or point.value is None:
            intervals.append(Interval(point, point.value))
            continue
        state = states.get(point.stream)
        if point.temporality == "cumulative":
            step = temporality.cumulative(state, start_ns=point.start_ns, time_ns=point.time_ns,
                                          value=point.value,
                                          first_max_age_ns=first_max_age)
        else:
            step = temporality.delta(state, start_ns=point.start_ns, time_ns=point.time_ns,
                                     value=point.value)
        if step.note:
            log.debug("OTLP %s %s: %s", point.service, point.metric, step.note)
        states[point.stream] = step.state
        touched[point.stream] = point
        intervals.append(Interval(point, step.amount))

    def row(state: StreamState) -> StreamRow:
        return (state.start_ns, state.last_ns, state.to_json())

    now = services.clock()
    save_streams(session=session,
                 new={k: (p.service, p.metric, row(states[k])) for k, p in touched.items()
                      if k not in rows},
                 changed={k: row(states[k]) for k in touched if k in rows}, now=now)
    stored, _ = save_records(session=session, records=assemble(intervals, services.catalog))
    return stored


def _prune(services: Services) -> None:
    now: datetime = services.clock()
    last = _PRUNED_AT.get(services)
    if last is not None and now - last < _PRUNE_EVERY:
        return
    _PRUNED_AT[services] = now
    with session_scope(services.engine) as session:
        removed = prune_streams(session=session, before=now - STREAM_RETENTION)
    if removed:
        log.info("forgot %d OTLP streams silent since %s", removed, now - STREAM_RETENTION)
