"""Load and save the watch's per-series models. Keyword-only; never commit.

The watch reads and writes every model of every service each run (thousands of
rows of a few kilobytes a minute), so both are Core statements that build no ORM
objects: one SELECT of the models, one SELECT of the row ids and an executemany
UPDATE (and an INSERT for series first seen) per service. A model's bucket ring
(``history``, three quarters of its bytes, changed once a half-hour) is read only
for the models the caller does not hold already, and written only when it changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session

from store.db import table_of
from store.watch_models import WatchModel

SeriesKey = tuple[str, str, str]  # layer, name, slice key


@dataclass(frozen=True)
class ModelWrite:
    """One series' model to store; ``history`` is written when new or ``history_changed``."""

    model: bytes
    history: bytes
    history_changed: bool
    last_point: datetime    # the newest point the model has seen


def load_watch_models(*, session: Session, service: str) -> dict[SeriesKey, bytes]:
    """Every stored model of ``service``, by series (without the bucket rings)."""
    table = table_of(WatchModel)
    rows = session.execute(sa_select(table.c.layer, table.c.name, table.c.slice_key,
                                     table.c.model).where(table.c.service == service))
    return {(layer, name, key): bytes(model) for layer, name, key, model in rows}


def load_watch_histories(*, session: Session, service: str, keys: Collection[SeriesKey]
                         ) -> dict[SeriesKey, bytes | None]:
    """The stored bucket rings of these series of ``service`` (None: kept in the model)."""
    if not keys:
        return {}
    wanted = set(keys)
    table = table_of(WatchModel)
    rows = session.execute(sa_select(table.c.layer, table.c.name, table.c.slice_key,
                                     table.c.history).where(table.c.service == service))
    return {(layer, name, key): None if history is None else bytes(history)
            for layer, name, key, history in rows if (layer, name, key) in wanted}


def save_watch_models(*, session: Session, service: str, models: Mapping[SeriesKey, ModelWrite],
                      now: datetime) -> None:
    """Insert or replace the models of ``service``.

    A series another replica inserted a moment ago raises ``IntegrityError`` (the
    unique series constraint); the run rolls back and the next one finds it.
    """
    if not models:
        return
    table = table_of(WatchModel)
    ids = {(layer, name, key): row_id for row_id, layer, name, key in session.execute(
        sa_select(table.c.id, table.c.layer, table.c.name, table.c.slice_key).where(
            table.c.service == service))}
    ordered = sorted(models.items())
    known = [(ids[key], m) for key, m in ordered if key in ids]
    new = [{"service": service, "layer": key[0], "name": key[1], "slice_key": key[2],
            "model": m.model, "history": m.history, "last_point": m.last_point,
            "updated_at": now} for key, m in ordered if key not in ids]
    values: dict[str, Any] = {"model": bindparam("model"),
                              "last_point": bindparam("last_point"),
                              "updated_at": bindparam("updated_at")}
    by_id = update(table).where(table.c.id == bindparam("_id"))
    with_ring = [{"_id": i, "model": m.model, "history": m.history, "last_point": m.last_point,
                  "updated_at": now} for i, m in known if m.history_changed]
    without = [{"_id": i, "model": m.model, "last_point": m.last_point, "updated_at": now}
               for i, m in known if not m.history_changed]
    if with_ring:
        session.execute(by_id.values(**values, history=bindparam("history")), with_ring)
    if without:
        session.execute(by_id.values(**values), without)
    if new:
        session.execute(insert(table), new)
