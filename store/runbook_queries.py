"""Queries over runbook runs. Keyword-only, and none of them commits.

:func:`transition` is the one way a run changes state: an ``UPDATE ... WHERE
status IN (...)`` that reports whether it won, so two workers (or two replicas)
racing to start or approve the same run cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.db import matched_rows
from store.runbook_models import RunbookRun, RunbookStepRecord, RunStatus


def get_run(*, session: Session, run_id: int) -> RunbookRun | None:
    return session.get(RunbookRun, run_id)


def run_by_key(*, session: Session, idempotency_key: str) -> RunbookRun | None:
    statement = select(RunbookRun).where(RunbookRun.idempotency_key == idempotency_key)
    return session.exec(statement).first()


def active_run(*, session: Session, active_key: str) -> RunbookRun | None:
    statement = select(RunbookRun).where(RunbookRun.active_key == active_key)
    return session.exec(statement).first()


def runs_for_incident(*, session: Session, incident_id: int) -> list[RunbookRun]:
    statement = (select(RunbookRun).where(RunbookRun.incident_id == incident_id)
                 .order_by(col(RunbookRun.id)))
    return list(session.exec(statement))


def runs_in_status(*, session: Session, statuses: Iterable[str]) -> list[RunbookRun]:
    statement = (select(RunbookRun).where(col(RunbookRun.status).in_(list(statuses)))
                 .order_by(col(RunbookRun.id)))
    return list(session.exec(statement))


def steps_for_run(*, session: Session, run_id: int) -> list[RunbookStepRecord]:
    statement = (select(RunbookStepRecord).where(RunbookStepRecord.run_id == run_id)
                 .order_by(col(RunbookStepRecord.id)))
    return list(session.exec(statement))


def open_step(*, session: Session, run_id: int, path: str) -> RunbookStepRecord | None:
    """The latest record of ``path`` in this run that has not finished."""
    statement = (select(RunbookStepRecord)
                 .where(RunbookStepRecord.run_id == run_id, RunbookStepRecord.path == path,
                        RunbookStepRecord.status == "running")
                 .order_by(col(RunbookStepRecord.id).desc()))
    return session.exec(statement).first()


def transition(*, session: Session, run_id: int, from_statuses: Iterable[str], to_status: str,
               held_by: str | None = None, **fields: Any) -> bool:
    """Move a run to ``to_status`` only if it is in one of ``from_statuses`` (and, with
    ``held_by``, only while that runner holds it); True if it moved."""
    statement = update(RunbookRun).where(col(RunbookRun.id) == run_id,
                                         col(RunbookRun.status).in_(list(from_statuses)))
    if held_by is not None:
        statement = statement.where(col(RunbookRun.runner) == held_by)
    statement = (statement.values(status=to_status, **fields)
                 .execution_options(synchronize_session=False))
    moved = matched_rows(session.execute(statement)) == 1
    if moved:
        run = session.get(RunbookRun, run_id)
        if run is not None:
            session.refresh(run)
    return moved


def beat(*, session: Session, run_id: int, runner: str, now: datetime) -> bool:
    """Refresh a running run's heartbeat, if this runner still holds it."""
    result = session.execute(update(RunbookRun)
                             .where(col(RunbookRun.id) == run_id,
                                    col(RunbookRun.status) == RunStatus.running.value,
                                    col(RunbookRun.runner) == runner)
                             .values(updated_at=now))
    return matched_rows(result) > 0
