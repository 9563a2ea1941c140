"""The core tables: alerts, incidents, their timeline, and change events.

Other domains keep their tables in sibling modules (``signal_models``,
``runbook_models``, ...); ``store.tables`` imports them all for alembic.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class IncidentStatus(StrEnum):
    triggered = "triggered"
    acknowledged = "acknowledged"
    mitigated = "mitigated"
    resolved = "resolved"


class IncidentSource(StrEnum):
    alert = "alert"
    detector = "detector"
    budget = "budget"
    manual = "manual"


def _ts(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"
    __table_args__ = (
        # While an incident takes new alerts its open_key is set; the unique index makes
        # two replicas racing on the same group end up on one incident.
        UniqueConstraint("open_key", name="uq_incidents_open_key"),
        Index("ix_incidents_service_status", "service", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    title: str = Field(max_length=500)
    severity: str = Field(default="warning", max_length=50)
    status: str = Field(default=IncidentStatus.triggered.value, max_length=20)
    source: str = Field(default=IncidentSource.alert.value, max_length=20)
    group_key: str = Field(default="", max_length=500)
    open_key: str | None = Field(default=None, max_length=800)
    description: str | None = None

    behavior: str | None = Field(default=None, max_length=30)
    confidence: float | None = None
    diagnosis: dict[str, Any] = _json(dict)
    label_source: str | None = Field(default=None, max_length=30)  # classifier | responder
    onset: datetime | None = _ts(nullable=True)
    budget_impact: dict[str, Any] = _json(dict)
    roles: dict[str, Any] = _json(dict)  # commander, scribe, liaison -> Slack user id
    followups: list[Any] = _json(list)
    resolution: str | None = None

    alerts_firing: int = 0
    # Opened inside a change's announced maintenance window: recorded and diagnosed,
    # paged only if it has not settled when the window ends.
    held_until: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    last_alert_at: datetime | None = _ts(nullable=True)
    acknowledged_at: datetime | None = _ts(nullable=True)
    mitigated_at: datetime | None = _ts(nullable=True)
    resolved_at: datetime | None = _ts(nullable=True)

    slack_channel_id: str | None = Field(default=None, max_length=50)
    slack_channel_name: str | None = Field(default=None, max_length=100)
    slack_summary_ts: str | None = Field(default=None, max_length=50)
    escalation_level: int = 0


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        # A fingerprint names an alert within its source: Alertmanager's and Grafana's
        # hashes are different namespaces, and one must never update the other's alert.
        UniqueConstraint("source", "fingerprint", name="uq_alerts_source_fingerprint"),
        # (incident, status): the intake counts each incident's firing alerts per batch.
        Index("ix_alerts_incident_status", "incident_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=200)
    source: str = Field(max_length=30)  # alertmanager | grafana | generic | budget
    service: str = Field(max_length=200)
    name: str = Field(max_length=300)
    severity: str = Field(default="warning", max_length=50)
    status: str = Field(default="firing", max_length=20)
    labels: dict[str, Any] = _json(dict)
    annotations: dict[str, Any] = _json(dict)
    starts_at: datetime | None = _ts(nullable=True)
    ends_at: datetime | None = _ts(nullable=True)
    first_seen: datetime = _ts(nullable=False)
    last_seen: datetime = _ts(nullable=False)
    receive_count: int = 1
    incident_id: int | None = Field(default=None, foreign_key="incidents.id")
    silenced_by: int | None = None  # the silence that kept this alert from paging


class TimelineEvent(SQLModel, table=True):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_incident_ts", "incident_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    ts: datetime = _ts(nullable=False)
    actor: str = Field(max_length=200)  # "alert:<source>", "slack:<user>", "rule:<name>", ...
    kind: str = Field(max_length=50)
    message: str = ""
    details: dict[str, Any] = _json(dict)


class ChangeEvent(SQLModel, table=True):
    __tablename__ = "change_events"
    __table_args__ = (
        # A change is known by what moved (subject) to what (ref) when: "version 3
        # created" and "alias production set to 3" are two changes, a retry of
        # either is not a third.
        UniqueConstraint("service", "ts", "kind", "ref", "subject",
                         name="uq_change_events_identity"),
        Index("ix_change_events_service_ts", "service", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=200)
    ts: datetime = _ts(nullable=False)
    kind: str = Field(max_length=30)
    ref: str = Field(max_length=200)
    # What in the source the change is about ("rag-llm@champion", "org/repo@production",
    # "flag:checkout-v2"); "" when the ref alone says it.
    subject: str = Field(default="", max_length=400,
                         sa_column_kwargs={"server_default": ""})
    previous: str | None = Field(default=None, max_length=200)
    author: str | None = Field(default=None, max_length=200)
    description: str | None = None
    slice: dict[str, Any] = _json(dict)
    maintenance_minutes: float | None = None  # expected impact window after ts
    affects: list[str] = _json(list)          # layers or signals it may move meanwhile


class WriteProbe(SQLModel, table=True):
    """One row per replica, rewritten by ``/healthz``: a database that cannot take this
    write cannot take an alert either, whatever ``SELECT 1`` says."""

    __tablename__ = "write_probes"

    replica: str = Field(primary_key=True, max_length=200)
    probed_at: datetime = _ts(nullable=False)
