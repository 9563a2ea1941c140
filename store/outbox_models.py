"""The outbox: follow-up work recorded in the transaction that made it necessary.

When an incident opens or changes, what must happen next (diagnose it, open its
channel, set its escalation timer, refresh its summary, price its budget) is
written here as one row per handler, in the same commit as the change. Workers on
every replica claim due rows with a lease and run them at least once; a process
that dies mid-task leaves a row whose lease runs out, and someone else finishes it.

``pending_key`` coalesces repeats while a row waits (ten "incident changed" in a
burst need one summary refresh): it is unique, and cleared when the row is
claimed, so a change after the claim gets a row of its own.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class TaskState(StrEnum):
    pending = "pending"  # waiting for its time (``available_at``)
    running = "running"  # claimed by ``claimed_by`` until ``lease_until``
    done = "done"
    dead = "dead"  # failed ``max_attempts`` times: left for a person, shown in /healthz


def _ts(nullable: bool) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class OutboxTask(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("pending_key", name="uq_outbox_pending_key"),
        Index("ix_outbox_due", "state", "available_at"),
        Index("ix_outbox_incident", "incident_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(max_length=60)  # "incident.opened", ...
    handler: str = Field(max_length=200)  # "module:function", run as handler(services=, **payload)
    incident_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pending_key: str | None = Field(default=None, max_length=64)
    state: str = Field(default=TaskState.pending.value, max_length=20)
    attempts: int = 0
    available_at: datetime = _ts(nullable=False)
    lease_until: datetime | None = _ts(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=200)  # host:pid
    last_error: str | None = None
    created_at: datetime = _ts(nullable=False)
    finished_at: datetime | None = _ts(nullable=True)
