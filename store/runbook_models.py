"""Runbook runs and their step records.

A run's ``idempotency_key`` is unique, so a double click or a Slack retry that
carries the same key finds the first run instead of starting a second. While a
run is active (``pending_approval``, ``approved`` or ``running``) its
``active_key`` is ``"<incident>/<runbook>"``, and that column is unique too: the
database itself refuses a second active run of one runbook on one incident, even
from two replicas at once. Terminal states clear it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class RunStatus(StrEnum):
    pending_approval = "pending_approval"
    approved = "approved"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    interrupted = "interrupted"


ACTIVE_STATUSES = (RunStatus.pending_approval, RunStatus.approved, RunStatus.running)
TERMINAL_STATUSES = (RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled,
                     RunStatus.interrupted)


def active_key(incident_id: int, runbook: str) -> str:
    return f"{incident_id}/{runbook}"


def _ts(nullable: bool) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class RunbookRun(SQLModel, table=True):
    __tablename__ = "runbook_runs"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_runbook_runs_idempotency_key"),
        UniqueConstraint("active_key", name="uq_runbook_runs_active_key"),
        Index("ix_runbook_runs_incident", "incident_id"),
        Index("ix_runbook_runs_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    runbook: str = Field(max_length=100)
    status: str = Field(default=RunStatus.pending_approval.value, max_length=30)
    params: dict[str, Any] = _json(dict)  # secret parameters are stored as "***"
    requested_by: str = Field(max_length=200)
    decided_by: str | None = Field(default=None, max_length=200)  # approver or rejecter
    reason: str | None = None
    idempotency_key: str = Field(max_length=200)
    active_key: str | None = Field(default=None, max_length=300)
    cancel_requested: bool = False
    next_step: int = 0  # the first top-level step not yet finished
    verdict: str | None = Field(default=None, max_length=30)
    error: str | None = None
    runner: str | None = Field(default=None, max_length=200)  # host:pid executing it
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    started_at: datetime | None = _ts(nullable=True)
    ended_at: datetime | None = _ts(nullable=True)


class RunbookStepRecord(SQLModel, table=True):
    __tablename__ = "runbook_steps"
    __table_args__ = (Index("ix_runbook_steps_run", "run_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runbook_runs.id")
    path: str = Field(max_length=300)  # "steps[1]", "steps[1].compensate[0]", ...
    index: int  # the top-level step it belongs to
    step_id: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    status: str = Field(default="running", max_length=20)
    attempts: int = 0
    summary: str = ""
    output: dict[str, Any] = _json(dict)
    error: str | None = None
    started_at: datetime = _ts(nullable=False)
    ended_at: datetime | None = _ts(nullable=True)
    duration_seconds: float | None = None
