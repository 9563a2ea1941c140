"""Queries over the outbox. Keyword-only, and none of them commits.

Claiming is one statement that moves due rows to ``running`` under a lease, so two
workers (threads, processes, replicas) never both take a row while its lease holds:
on PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED`` (workers
pass each other instead of queueing); on SQLite, which has one writer at a time,
``UPDATE ... WHERE <still due> RETURNING`` is the claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from store.db import matched_rows, table_of
from store.outbox_models import OutboxTask, TaskState

_table = table_of(OutboxTask)


@dataclass(frozen=True)
class ClaimedTask:
    """A row this worker now holds: what to run and for which attempt."""

    id: int
    event: str
    handler: str
    incident_id: int | None
    payload: dict[str, Any]
    attempts: int  # including this one


def add(*, session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert tasks; a row whose ``pending_key`` already waits is dropped. Returns new ids."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(_table).on_conflict_do_nothing()
                 .returning(_table.c.id))
    return [int(i) for i in session.execute(statement, rows).scalars()]


def _due(now: datetime, created_before: datetime | None) -> Any:
    waiting = and_(_table.c.state == TaskState.pending.value, _table.c.available_at <= now)
    abandoned = and_(_table.c.state == TaskState.running.value, _table.c.lease_until <= now)
    due = or_(waiting, abandoned)
    if created_before is not None:
        due = and_(due, _table.c.created_at <= created_before)
    return due


def claim(*, session: Session, worker: str, now: datetime, lease_until: datetime,
          limit: int = 50, ids: Iterable[int] | None = None,
          created_before: datetime | None = None) -> list[ClaimedTask]:
    """Take up to ``limit`` due rows (only among ``ids`` if given) for ``worker``."""
    due = _due(now, created_before)
    candidates = select(_table.c.id).where(due).order_by(_table.c.id).limit(limit)
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return []
        candidates = candidates.where(_table.c.id.in_(wanted))
    if session.get_bind().dialect.name == "postgresql":
        chosen = list(session.execute(candidates.with_for_update(skip_locked=True)).scalars())
        if not chosen:
            return []
        where: ColumnElement[bool] = _table.c.id.in_(chosen)
    else:
        where = and_(_table.c.id.in_(candidates.scalar_subquery()), due)
    statement = (update(_table).where(where)
                 .values(state=TaskState.running.value, claimed_by=worker,
                         lease_until=lease_until, attempts=_table.c.attempts + 1,
                         pending_key=None)
                 .returning(_table.c.id, _table.c.event, _table.c.handler,
                            _table.c.incident_id, _table.c.payload, _table.c.attempts))
    rows = session.execute(statement).all()
    return sorted((ClaimedTask(int(r.id), r.event, r.handler, r.incident_id, dict(r.payload or {}),
                               int(r.attempts)) for r in rows), key=lambda task: task.id)


def _held(task_id: int, worker: str) -> Any:
    return and_(_table.c.id == task_id, _table.c.claimed_by == worker,
                _table.c.state == TaskState.running.value)


def finish(*, session: Session, task_id: int, worker: str, now: datetime) -> bool:
    """Mark a held task done; False if the lease was lost and someone else holds it."""
    result = session.execute(update(_table).where(_held(task_id, worker))
                             .values(state=TaskState.done.value, finished_at=now,
                                     lease_until=None, last_error=None))
    return bool(matched_rows(result))


def fail(*, session: Session, task_id: int, worker: str, now: datetime, error: str,
         retry_at: datetime | None) -> bool:
    """Put a failed task back for ``retry_at``, or make it ``dead`` when that is None."""
    values: dict[str, Any] = {"last_error": error[:2000], "lease_until": None,
                              "claimed_by": None}
    if retry_at is None:
        values.update(state=TaskState.dead.value, finished_at=now)
    else:
        values.update(state=TaskState.pending.value, available_at=retry_at)
    result = session.execute(update(_table).where(_held(task_id, worker)).values(**values))
    return bool(matched_rows(result))


def claimants(*, session: Session, like: str) -> list[str]:
    """Distinct workers holding running rows, among those whose name matches ``like``."""
    statement = (select(_table.c.claimed_by).distinct()
                 .where(_table.c.state == TaskState.running.value,
                        _table.c.claimed_by.like(like)))
    return [str(name) for name in session.execute(statement).scalars() if name]


def expire_leases(*, session: Session, workers: list[str], now: datetime) -> int:
    """End the leases of workers known to be gone, so their rows are due at once."""
    if not workers:
        return 0
    result = session.execute(update(_table)
                             .where(_table.c.state == TaskState.running.value,
                                    _table.c.claimed_by.in_(workers))
                             .values(lease_until=now))
    return matched_rows(result)


def counts(*, session: Session) -> dict[str, int]:
    """Rows per state (every state present, zero when none)."""
    found = dict(session.execute(select(_table.c.state, func.count())
                                 .group_by(_table.c.state)).all())
    return {state.value: int(found.get(state.value, 0)) for state in TaskState}


def tasks_of(*, session: Session, incident_id: int) -> list[OutboxTask]:
    statement = (select(OutboxTask).where(col(OutboxTask.incident_id) == incident_id)
                 .order_by(col(OutboxTask.id)))
    return list(session.execute(statement).scalars())


def prune(*, session: Session, before: datetime) -> int:
    """Forget tasks done before ``before`` (dead ones stay until a person looks)."""
    result = session.execute(delete(_table).where(_table.c.state == TaskState.done.value,
                                                  _table.c.finished_at < before))
    return matched_rows(result)
