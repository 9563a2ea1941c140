"""Reading stored signals and changes back page by page, for the JSON API.

Pages are keyset pages: rows come in series order (name, slice, layer, time, id),
and a page ends with the key of its last row, from which the next page starts.
A page never skips or repeats a row while points keep arriving.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, or_, tuple_, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from store.models import ChangeEvent
from store.signal_models import DistributionSample, SignalPoint

PageKey = tuple[str, str, str, datetime, int]  # name, slice_key, layer, ts, id


def _window(table: Any, *, service: str, name: str | None, layer: str | None,
            since: datetime, until: datetime) -> list[Any]:
    clauses = [table.service == service, table.ts >= since, table.ts <= until]
    if name:
        clauses.append(table.name == name)
    if layer:
        clauses.append(table.layer == layer)
    return clauses


def signal_page(*, session: Session, service: str, name: str | None, layer: str | None,
                since: datetime, until: datetime, after: PageKey | None,
                limit: int) -> list[tuple[Any, ...]]:
    """Up to ``limit`` signal points as (name, slice_key, layer, ts, id, slice json, value,
    count, kind, bad), in series order, after ``after``."""
    t = SignalPoint
    order = (t.name, t.slice_key, t.layer, t.ts, t.id)
    query = sa_select(*order, type_coerce(t.slice, Text), t.value, t.count, t.kind, t.bad).where(
        *_window(t, service=service, name=name, layer=layer, since=since, until=until))
    if after is not None:
        query = query.where(tuple_(*order) > tuple_(*after))
    return list(session.execute(query.order_by(*order).limit(limit)))


def distribution_page(*, session: Session, service: str, name: str | None, layer: str | None,
                      since: datetime, until: datetime, after: PageKey | None,
                      limit: int) -> list[tuple[Any, ...]]:
    """Like :func:`signal_page`, for distribution samples: (…, slice json, sketch,
    sample_size, counts)."""
    t = DistributionSample
    order = (t.name, t.slice_key, t.layer, t.ts, t.id)
    query = sa_select(*order, type_coerce(t.slice, Text), t.sketch, t.sample_size,
                      t.counts).where(
        *_window(t, service=service, name=name, layer=layer, since=since, until=until))
    if after is not None:
        query = query.where(tuple_(*order) > tuple_(*after))
    return list(session.execute(query.order_by(*order).limit(limit)))


def change_page(*, session: Session, service: str | None, kinds: Sequence[str],
                since: datetime, until: datetime, after: tuple[datetime, int] | None,
                limit: int) -> list[ChangeEvent]:
    """Change events in time order (then id), after ``after``."""
    query = select(ChangeEvent).where(ChangeEvent.ts >= since, ChangeEvent.ts <= until)
    if service:
        query = query.where(ChangeEvent.service == service)
    if kinds:
        query = query.where(ChangeEvent.kind.in_(list(kinds)))  # type: ignore[attr-defined]
    if after is not None:
        ts, row_id = after
        query = query.where(or_(ChangeEvent.ts > ts,
                                (ChangeEvent.ts == ts) & (ChangeEvent.id > row_id)))  # type: ignore
    return list(session.exec(query.order_by(ChangeEvent.ts, ChangeEvent.id).limit(limit)))
