"""Saving and loading stored signals as exchange-format records. Never commits.

Everything downstream (classifier, watch, SLOs, runbook verify) works on the
exchange records of ``bot.exchange``, so the store hands them back in that shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from store.models import ChangeEvent
from store.signal_models import SAMPLE_CAP, DistributionSample, SignalPoint, StatePoint


def slice_key(slice_: dict[str, Any]) -> str:
    """Canonical text of a slice: ``dim=value`` pairs sorted by dimension."""
    return ",".join(f"{key}={slice_[key]}" for key in sorted(slice_))


def _sample(values: list[float]) -> list[float]:
    if len(values) <= SAMPLE_CAP:
        return list(values)
    rng = np.random.default_rng(len(values))  # deterministic: same input, same sample
    return [float(v) for v in rng.choice(np.asarray(values, dtype=float), SAMPLE_CAP,
                                         replace=False)]


def _insert_ignoring_duplicates(session: Session, table: Any, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    # RETURNING counts what was really inserted; executemany rowcounts differ by driver.
    statement = module.insert(table).on_conflict_do_nothing().returning(table.c.id)
    return len(session.execute(statement, rows).all())


def save_records(*, session: Session, records: Iterable[Any]) -> int:
    """Store signal, distribution, state and change records; returns how many were new.

    Alert records are not stored here (they go through the alert intake); callers
    pick them out first. A record identical in service, layer, name, slice and time to
    a stored one is skipped.
    """
    points, samples, states, changes = [], [], [], []
    for record in records:
        kind = record.type
        if kind == "signal":
            points.append({"service": record.service, "ts": record.ts, "layer": record.layer,
                           "name": record.name, "value": float(record.value),
                           "count": record.count, "kind": record.kind, "bad": record.bad,
                           "slice": dict(record.slice), "slice_key": slice_key(record.slice)})
        elif kind == "distribution":
            values = _sample(record.values) if record.values is not None else None
            total = len(record.values) if record.values is not None else int(
                sum((record.counts or {}).values()))
            samples.append({"service": record.service, "ts": record.ts, "layer": record.layer,
                            "name": record.name, "values": values, "counts": record.counts,
                            "total": total, "slice": dict(record.slice),
                            "slice_key": slice_key(record.slice)})
        elif kind == "state":
            states.append({"service": record.service, "ts": record.ts, "layer": record.layer,
                           "name": record.name, "value": record.value,
                           "expected": record.expected, "slice": dict(record.slice),
                           "slice_key": slice_key(record.slice)})
        elif kind == "change":
            changes.append({"service": record.service, "ts": record.ts, "kind": record.kind,
                            "ref": record.ref, "previous": record.previous,
                            "author": record.author, "description": record.description,
                            "slice": dict(record.slice)})
    stored = _insert_ignoring_duplicates(session, SignalPoint.__table__, points)
    stored += _insert_ignoring_duplicates(session, DistributionSample.__table__, samples)
    stored += _insert_ignoring_duplicates(session, StatePoint.__table__, states)
    stored += _insert_ignoring_duplicates(session, ChangeEvent.__table__, changes)
    return stored


def load_records(*, session: Session, service: str, start: datetime, end: datetime,
                 layers: Sequence[str] | None = None) -> list[Any]:
    """Signal, distribution and state records of ``service`` with start <= ts <= end."""
    from bot.exchange import DistributionRecord, SignalRecord, StateRecord

    out: list[tuple[datetime, int, Any]] = []

    def rows(table: Any) -> Any:
        query = (select(table).where(table.c.service == service)
                 .where(table.c.ts >= start).where(table.c.ts <= end))
        if layers:
            query = query.where(table.c.layer.in_(list(layers)))
        return session.execute(query).mappings()

    # model_construct skips validation: these rows were validated on the way in.
    for row in rows(SignalPoint.__table__):
        out.append((row["ts"], 0, SignalRecord.model_construct(
            type="signal", ts=row["ts"], service=service, layer=row["layer"], name=row["name"],
            value=row["value"], count=row["count"], kind=row["kind"], bad=row["bad"],
            slice=row["slice"] or {})))
    for row in rows(DistributionSample.__table__):
        out.append((row["ts"], 1, DistributionRecord.model_construct(
            type="distribution", ts=row["ts"], service=service, layer=row["layer"],
            name=row["name"], values=row["values"], counts=row["counts"],
            slice=row["slice"] or {})))
    for row in rows(StatePoint.__table__):
        out.append((row["ts"], 2, StateRecord.model_construct(
            type="state", ts=row["ts"], service=service, layer=row["layer"], name=row["name"],
            value=row["value"], expected=row["expected"], slice=row["slice"] or {})))
    out.sort(key=lambda item: (item[0], item[1]))
    return [record for _, _, record in out]


def load_changes(*, session: Session, service: str, start: datetime,
                 end: datetime) -> list[Any]:
    """Change events of ``service`` in the window, as exchange ``change`` records."""
    from bot.exchange import ChangeRecord

    table = ChangeEvent.__table__
    query = (select(table).where(table.c.service == service).where(table.c.ts >= start)
             .where(table.c.ts <= end).order_by(table.c.ts))
    return [ChangeRecord.model_construct(
        type="change", ts=row["ts"], service=service, kind=row["kind"], ref=row["ref"],
        previous=row["previous"], author=row["author"], description=row["description"],
        slice=row["slice"] or {}) for row in session.execute(query).mappings()]


def services_with_signals(*, session: Session, since: datetime) -> list[str]:
    table = SignalPoint.__table__
    query = select(table.c.service).where(table.c.ts >= since).distinct()
    return sorted(session.execute(query).scalars())


def prune(*, session: Session, before: datetime) -> int:
    """Delete stored signal rows older than ``before`` (the retention setting)."""
    removed = 0
    for table in (SignalPoint.__table__, DistributionSample.__table__, StatePoint.__table__):
        result = session.execute(delete(table).where(table.c.ts < before))
        removed += int(result.rowcount or 0)
    return removed
