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
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from store.models import ChangeEvent
from store.signal_models import DistributionSample, SignalPoint

PageKey = tuple[str, str, str, datetime, int]  # name, slice_key, layer, ts, id


def _window(table: type[SignalPoint] | type[DistributionSample], *, service: str,
            name: str | None, layer: str | None, since: datetime,
            until: datetime) -> list[ColumnElement[bool]]:
    clauses = [col(table.service) == service, col(table.ts) >= since, col(table.ts) <= until]
    if name:
        clauses.append(col(table.name) == name)
    if layer:
        clauses.append(col(table.layer) == layer)
    return clauses


def signal_page(*, session: Session, service: str, name: str | None, layer: str | None,
                since: datetime, until: datetime, after: PageKey | None,
                limit: int) -> list[tuple[Any, ...]]:
    """Up to ``limit`` signal points as (name, slice_key, layer, ts, id, slice json, value,
    count, kind, bad), in series order, after ``after``."""
    t = SignalPoint
    order = (col(t.name), col(t.slice_key), col(t.layer), col(t.ts), col(t.id))
    query = sa_select(*order, type_coerce(col(t.slice), Text), col(t.value), col(t.count),
                      col(t.kind), col(t.bad)).where(
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
    order = (col(t.name), col(t.slice_key), col(t.layer), col(t.ts), col(t.id))
    query = sa_select(*order, type_coerce(col(t.slice), Text), col(t.sketch),
                      col(t.sample_size), col(t.counts)).where(
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
        query = query.where(col(ChangeEvent.kind).in_(list(kinds)))
    if after is not None:
        ts, row_id = after
        query = query.where(or_(col(ChangeEvent.ts) > ts,
                                (col(ChangeEvent.ts) == ts) & (col(ChangeEvent.id) > row_id)))
    return list(session.exec(query.order_by(col(ChangeEvent.ts), col(ChangeEvent.id))
                             .limit(limit)))
