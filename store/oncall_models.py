"""Tables of the on-call part: silences and schedule overrides.

The schedules themselves live in the catalog (reviewed like code); what people change
at 3 a.m. from Slack (an override, a silence) lives here, with who did it and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class SilenceRow(SQLModel, table=True):
    """Alerts matching ``matchers`` between ``starts_at`` and ``ends_at`` page nobody."""

    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    matchers: str = Field(max_length=4000)  # Alertmanager syntax, as parsed and re-printed
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_by: str = Field(max_length=200)
    comment: str = Field(default="", max_length=2000)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class OverrideRow(SQLModel, table=True):
    """Someone takes a schedule's pager for a while (``/oncall override``, ``/oncall swap``)."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_schedule", "schedule", "ends_at"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule: str = Field(max_length=80)
    user: str = Field(max_length=50)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    set_by: str = Field(max_length=50)
    reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
