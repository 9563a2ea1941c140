"""Load and save the watch's per-series models. Keyword-only; never commit.

The watch reads and writes every model of every service each run (thousands of
rows of a few kilobytes a minute), so both are Core statements that build no ORM
objects: one SELECT of the blobs, one SELECT of the row ids and one executemany
UPDATE (and an INSERT for series first seen) per service.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session

from store.db import table_of
from store.watch_models import WatchModel

SeriesKey = tuple[str, str, str]  # layer, name, slice key


def load_watch_models(*, session: Session, service: str) -> dict[SeriesKey, bytes]:
    """Every stored model of ``service``, by series."""
    table = table_of(WatchModel)
    rows = session.execute(sa_select(table.c.layer, table.c.name, table.c.slice_key,
                                     table.c.model).where(table.c.service == service))
    return {(layer, name, key): bytes(model) for layer, name, key, model in rows}


def save_watch_models(*, session: Session, service: str,
                      models: Mapping[SeriesKey, tuple[bytes, datetime]], now: datetime) -> None:
    """Insert or replace the models of ``service`` (``key -> (bytes, newest point)``).

    A series another replica inserted a moment ago raises ``IntegrityError`` (the
    unique series constraint); the run rolls back and the next one finds it.
    """
    if not models:
        return
    table = table_of(WatchModel)
    ids = {(layer, name, key): row_id for row_id, layer, name, key in session.execute(
        sa_select(table.c.id, table.c.layer, table.c.name, table.c.slice_key).where(
            table.c.service == service))}
    changed = [{"_id": ids[key], "model": blob, "last_point": last_point, "updated_at": now}
               for key, (blob, last_point) in sorted(models.items()) if key in ids]
    new = [{"service": service, "layer": key[0], "name": key[1], "slice_key": key[2],
            "model": blob, "last_point": last_point, "updated_at": now}
           for key, (blob, last_point) in sorted(models.items()) if key not in ids]
    if changed:
        session.execute(update(table).where(table.c.id == bindparam("_id")).values(
            model=bindparam("model"), last_point=bindparam("last_point"),
            updated_at=bindparam("updated_at")), changed)
    if new:
        session.execute(insert(table), new)
