"""The intake's batch SQL: a whole batch of alerts read and written in a few statements.

Alert rows go through SQLAlchemy Core in ``executemany`` statements, not the ORM: at
thousands of alerts a second the ORM's per-object bookkeeping cost more than the
database did. Keyword-only, never commit (the intake's batch is one transaction).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from store.db import table_of
from store.models import Alert, Incident

# What a repeat of a stored alert rewrites (``receive_count`` and ``starts_at`` apart).
REPEAT_COLUMNS = ("status", "severity", "labels", "annotations", "ends_at", "last_seen",
                  "incident_id", "silenced_by")


def known_alerts(*, session: Session,
                 fingerprints: Collection[str]) -> dict[tuple[str, str], Row[Any]]:
    """The stored alerts with these fingerprints, by (source, fingerprint): what a
    batch needs to deduplicate (id, incident, status, start, receive count)."""
    table = table_of(Alert)
    rows = session.execute(
        select(table.c.id, table.c.source, table.c.fingerprint, table.c.incident_id,
               table.c.status, table.c.starts_at, table.c.receive_count)
        .where(table.c.fingerprint.in_(list(fingerprints))))
    return {(row.source, row.fingerprint): row for row in rows}


def incidents_by_id(*, session: Session, ids: Collection[int]) -> dict[int, Incident]:
    """The incidents with these ids, in one query."""
    if not ids:
        return {}
    column = table_of(Incident).c.id
    return {incident.id: incident
            for incident in session.scalars(select(Incident).where(column.in_(list(ids))))
            if incident.id is not None}


def incidents_by_open_key(*, session: Session, keys: Collection[str]) -> dict[str, Incident]:
    """The open incidents of these group keys (``Incident.open_key``), in one query."""
    if not keys:
        return {}
    column = table_of(Incident).c.open_key
    return {incident.open_key: incident
            for incident in session.scalars(select(Incident).where(column.in_(list(keys))))
            if incident.open_key is not None}


def insert_alerts(*, session: Session, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert new alert rows, skipping any a concurrent writer stored first; returns the
    (source, fingerprint) of the rows this call inserted."""
    table = table_of(Alert)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing().returning(
        table.c.source, table.c.fingerprint)
    return {(row.source, row.fingerprint) for row in session.execute(statement, list(rows))}


def update_alerts_by_identity(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite stored alerts found by (source, fingerprint) with these rows' values and
    count one more receipt each (the rows another writer inserted a moment before)."""
    table = table_of(Alert)
    session.execute(
        update(table).where(table.c.source == bindparam("_source"),
                            table.c.fingerprint == bindparam("_fingerprint"))
        .values({**{name: bindparam(name) for name in REPEAT_COLUMNS},
                 "receive_count": table.c.receive_count + 1}),
        [{**{name: row[name] for name in REPEAT_COLUMNS}, "_source": row["source"],
          "_fingerprint": row["fingerprint"]} for row in rows])


def update_alerts_by_id(*, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite stored alerts by id (``_id``): the repeats of a batch, in one statement."""
    table = table_of(Alert)
    columns = (*REPEAT_COLUMNS, "starts_at", "receive_count")
    session.execute(update(table).where(table.c.id == bindparam("_id"))
                    .values({name: bindparam(name) for name in columns}), list(rows))


def firing_counts(*, session: Session, incident_ids: Collection[int]) -> dict[int, int]:
    """How many firing alerts each incident has (``ix_alerts_incident_status`` answers it)."""
    if not incident_ids:
        return {}
    table = table_of(Alert)
    rows = session.execute(
        select(table.c.incident_id, func.count()).where(table.c.status == "firing")
        .where(table.c.incident_id.in_(list(incident_ids))).group_by(table.c.incident_id))
    return {int(incident_id): int(count) for incident_id, count in rows}
