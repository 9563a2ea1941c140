"""Queries of the OTLP stream state. Keyword-only, never commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from store.db import matched_rows, table_of
from store.otel_models import OtelStream

StreamRow = tuple[int, int, dict[str, Any]]  # start_ns, last_ns, state


def load_streams(*, session: Session, keys: Iterable[str]) -> dict[str, StreamRow]:
    """The stored state of these streams, locked for this transaction on PostgreSQL."""
    wanted = sorted(set(keys))
    found: dict[str, StreamRow] = {}
    table = table_of(OtelStream)
    for start in range(0, len(wanted), 500):
        query = sa_select(table.c.key, table.c.start_ns, table.c.last_ns, table.c.state).where(
            table.c.key.in_(wanted[start:start + 500]))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        for key, start_ns, last_ns, state in session.execute(query):
            found[key] = (int(start_ns), int(last_ns), dict(state or {}))
    return found


def save_streams(*, session: Session, new: Mapping[str, tuple[str, str, StreamRow]],
                 changed: Mapping[str, StreamRow], now: datetime) -> None:
    """Insert the streams first seen (key -> service, metric, row) and update the others.

    A stream another replica inserted a moment ago raises ``IntegrityError``; the
    caller runs the request again, and then finds it.
    """
    if new:
        session.execute(insert(OtelStream), [
            {"key": key, "service": service[:200], "metric": metric[:300], "start_ns": row[0],
             "last_ns": row[1], "state": row[2], "updated_at": now}
            for key, (service, metric, row) in sorted(new.items())])
    if changed:
        table = table_of(OtelStream)
        session.execute(
            update(table).where(table.c.key == bindparam("_key")).values(
                start_ns=bindparam("start_ns"), last_ns=bindparam("last_ns"),
                state=bindparam("state"), updated_at=bindparam("updated_at")),
            [{"_key": key, "start_ns": row[0], "last_ns": row[1], "state": row[2],
              "updated_at": now} for key, row in sorted(changed.items())])


def prune_streams(*, session: Session, before: datetime) -> int:
    """Forget streams not heard from since ``before`` (their exporters are gone)."""
    result = session.execute(delete(OtelStream).where(col(OtelStream.updated_at) < before))
    return matched_rows(result)
