"""Queries of the signals domain. Keyword-only, never commit (the caller owns the unit of work).

``load_records`` hands back exchange-format records (``bot.core.exchange``), so the
classifier, the SLO engine and runbook verification all read stored signals the
same way they read a file or an HTTP batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Text, delete, insert, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from store.models import ChangeEvent
from store.signal_models import (
    SKETCH_SIZE,
    DistributionSample,
    LearnedPrior,
    RelabelCorrection,
    SignalPoint,
    StateSample,
)

GLOBAL_SCOPE = "*"


def slice_key(slice_: dict[str, Any]) -> str:
    """The normalised key of a slice map: ``dim=value`` pairs sorted by dimension."""
    return ",".join(f"{k}={slice_[k]}" for k in sorted(slice_))


def sketch(values: Sequence[float], size: int = SKETCH_SIZE) -> list[float]:
    """At most ``size`` evenly spaced order statistics (rank error <= 1/size)."""
    array = np.sort(np.asarray(values, dtype=float))
    if array.size <= size:
        return [float(v) for v in array]
    index = np.linspace(0, array.size - 1, size).round().astype(np.int64)
    return [float(v) for v in array[index]]


def save_records(*, session: Session, records: Iterable[Any]) -> tuple[int, list[Any]]:
    """Store signal, distribution, state and change records.

    Changes go to ``change_events`` and are deduplicated on (service, ts, kind, ref).
    Returns (records stored, alert records left for the caller to handle).
    """
    from bot.core.exchange import (
        AlertRecord,
        ChangeRecord,
        DistributionRecord,
        SignalRecord,
        StateRecord,
    )

    stored, alerts = 0, []
    rows: list[Any] = []
    points: list[dict[str, Any]] = []  # signal points: the bulk, inserted as plain rows
    changes: dict[tuple, ChangeRecord] = {}
    for r in records:
        if isinstance(r, SignalRecord):
            points.append({"service": r.service, "ts": r.ts, "layer": r.layer, "name": r.name,
                           "slice": dict(r.slice), "slice_key": slice_key(r.slice),
                           "value": r.value, "count": r.count, "kind": r.kind or "gauge",
                           "bad": r.bad or "both"})
        elif isinstance(r, DistributionRecord):
            rows.append(DistributionSample(
                service=r.service, ts=r.ts, layer=r.layer, name=r.name, slice=dict(r.slice),
                slice_key=slice_key(r.slice),
                sketch=sketch(r.values) if r.values is not None else None,
                sample_size=len(r.values) if r.values is not None else int(
                    sum((r.counts or {}).values())),
                counts=dict(r.counts) if r.counts is not None else None))
        elif isinstance(r, StateRecord):
            rows.append(StateSample(service=r.service, ts=r.ts, layer=r.layer, name=r.name,
                                    slice=dict(r.slice), slice_key=slice_key(r.slice),
                                    value=r.value, expected=r.expected))
        elif isinstance(r, ChangeRecord):
            changes[(r.service, r.ts, r.kind, r.ref)] = r
            continue
        elif isinstance(r, AlertRecord):
            alerts.append(r)
            continue
        else:
            continue
        stored += 1
    if points:
        # one executemany, no ORM object per point (a minute of a big service is
        # hundreds of points; a backfill, hundreds of thousands)
        session.execute(insert(SignalPoint), points)
    session.add_all(rows)
    for (service, ts, kind, ref), r in changes.items():
        exists = session.exec(select(ChangeEvent.id).where(
            ChangeEvent.service == service, ChangeEvent.ts == ts, ChangeEvent.kind == kind,
            ChangeEvent.ref == ref)).first()
        if exists is None:
            session.add(ChangeEvent(service=service, ts=ts, kind=kind, ref=ref,
                                    previous=r.previous, author=r.author,
                                    description=r.description, slice=dict(r.slice)))
        stored += 1
    session.flush()
    return stored, alerts


def load_records(*, session: Session, service: str, start: datetime, end: datetime,
                 layers: Sequence[str] | None = None) -> list[Any]:
    """Signal, distribution and state records of ``service`` with start <= ts <= end,
    as exchange records in time order."""
    from bot.core.exchange import DistributionRecord, SignalRecord, StateRecord

    # Signal points are the bulk (every signal and slice, every minute): they are read as
    # plain columns, not ORM objects, with the slice's JSON parsed once per distinct
    # slice, and become records without a second validation (they were validated on
    # the way in). This reads a service's window about twice as fast.
    columns = (SignalPoint.ts, SignalPoint.layer, SignalPoint.name, SignalPoint.value,
               SignalPoint.count, SignalPoint.kind, SignalPoint.bad,
               type_coerce(SignalPoint.slice, Text))
    query = sa_select(*columns).where(SignalPoint.service == service, SignalPoint.ts >= start,
                                      SignalPoint.ts <= end)
    if layers:
        query = query.where(SignalPoint.layer.in_(list(layers)))  # type: ignore[attr-defined]
    read_slice = _slice_reader()
    record = SignalRecord.model_construct
    out: list[Any] = [
        record(type="signal", ts=ts, service=service, layer=layer, name=name, value=value,
               count=count, kind=kind, bad=bad, slice=read_slice(raw))
        for ts, layer, name, value, count, kind, bad, raw in session.execute(query)]
    query_d = select(DistributionSample).where(
        DistributionSample.service == service, DistributionSample.ts >= start,
        DistributionSample.ts <= end)
    if layers:
        query_d = query_d.where(DistributionSample.layer.in_(list(layers)))  # type: ignore
    for d in session.exec(query_d):
        out.append(DistributionRecord(type="distribution", ts=d.ts, service=d.service,
                                      layer=d.layer, name=d.name, values=d.sketch,
                                      counts=d.counts, slice=d.slice))
    query_s = select(StateSample).where(StateSample.service == service, StateSample.ts >= start,
                                        StateSample.ts <= end)
    if layers:
        query_s = query_s.where(StateSample.layer.in_(list(layers)))  # type: ignore
    for s in session.exec(query_s):
        out.append(StateRecord(type="state", ts=s.ts, service=s.service, layer=s.layer,
                               name=s.name, value=s.value, expected=s.expected, slice=s.slice))
    out.sort(key=lambda r: r.ts)
    return out


def _slice_reader() -> Callable[[Any], dict[str, str]]:
    """Slice maps from their stored JSON, each distinct text parsed once (a fresh copy
    per record, so no two records share a map). PostgreSQL's driver may hand back the
    map already parsed."""
    parsed: dict[str, dict[str, str]] = {}

    def read(raw: Any) -> dict[str, str]:
        if not isinstance(raw, str):
            return dict(raw or {})
        found = parsed.get(raw)
        if found is None:
            found = parsed[raw] = json.loads(raw)
        return dict(found)

    return read


def load_changes(*, session: Session, service: str, start: datetime, end: datetime
                 ) -> list[Any]:
    """Change events of ``service`` in [start, end] as exchange change records."""
    from bot.core.exchange import ChangeRecord

    rows = session.exec(select(ChangeEvent).where(
        ChangeEvent.service == service, ChangeEvent.ts >= start, ChangeEvent.ts <= end)
        .order_by(ChangeEvent.ts))
    return [ChangeRecord(type="change", ts=c.ts, service=c.service, kind=c.kind, ref=c.ref,
                         previous=c.previous, author=c.author, description=c.description,
                         slice=c.slice or {}) for c in rows]


def services_with_signals(*, session: Session, since: datetime) -> list[str]:
    rows = session.exec(select(SignalPoint.service).where(SignalPoint.ts >= since).distinct())
    return sorted(rows)


def prune(*, session: Session, before: datetime) -> int:
    """Delete stored samples older than ``before`` (the retention setting); returns rows."""
    removed = 0
    for table in (SignalPoint, DistributionSample, StateSample):
        result = session.execute(delete(table).where(table.ts < before))  # type: ignore
        removed += int(result.rowcount or 0)
    return removed


def add_correction(*, session: Session, incident_id: int, service: str, ts: datetime,
                   actor: str, predicted: str | None, label: str, pattern: str,
                   features: dict[str, Any]) -> RelabelCorrection:
    """Store one correction and count it into the service's and the global priors."""
    row = RelabelCorrection(incident_id=incident_id, service=service, ts=ts, actor=actor,
                            predicted=predicted, label=label, pattern=pattern, features=features)
    session.add(row)
    for scope in (service, GLOBAL_SCOPE):
        for key in ("", pattern):
            prior = session.exec(select(LearnedPrior).where(
                LearnedPrior.scope == scope, LearnedPrior.pattern == key,
                LearnedPrior.label == label)).first()
            if prior is None:
                prior = LearnedPrior(scope=scope, pattern=key, label=label, count=0.0)
            prior.count += 1.0
            session.add(prior)
    session.flush()
    return row


def load_priors(*, session: Session, service: str | None) -> tuple[dict[str, float],
                                                                   dict[str, dict[str, float]]]:
    """(label counts, pattern -> label counts): the service's counts plus half the global
    ones (which include the service's own, so they weigh 1.5 there: local first)."""
    labels: dict[str, float] = {}
    patterns: dict[str, dict[str, float]] = {}
    scopes = [GLOBAL_SCOPE] + ([service] if service else [])
    for prior in session.exec(select(LearnedPrior).where(
            LearnedPrior.scope.in_(scopes))):  # type: ignore[attr-defined]
        weight = 1.0 if prior.scope == service else 0.5
        if not prior.pattern:
            labels[prior.label] = labels.get(prior.label, 0.0) + weight * prior.count
        else:
            bucket = patterns.setdefault(prior.pattern, {})
            bucket[prior.label] = bucket.get(prior.label, 0.0) + weight * prior.count
    return labels, patterns

