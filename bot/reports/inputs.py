"""The plain data a digest is computed from, so tests and benchmarks build it by hand.

``gather`` fills these from the store; nothing here reads the store or Slack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config.slo_spec import SLO
from bot.reports.weeks import IsoWeek
from store.models import Incident

UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class IncidentFact:
    """What a digest needs of one incident."""

    id: int
    service: str
    title: str
    created_at: datetime
    behavior: str | None = None
    source: str = "alert"  # alert | detector | budget | manual
    severity: str = "warning"
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    budget_impact: dict[str, Any] = field(default_factory=dict)
    suspect_kind: str | None = None  # the kind of the top suspect change

    @property
    def label(self) -> str:
        return self.behavior or UNCLASSIFIED

    @classmethod
    def of(cls, incident: Incident) -> IncidentFact:
        """From a stored incident."""
        assert incident.id is not None  # read from the store: it has its id
        suspects = (incident.diagnosis or {}).get("suspect_changes") or []
        top = suspects[0] if suspects and isinstance(suspects[0], dict) else {}
        return cls(id=incident.id, service=incident.service, title=incident.title,
                   created_at=incident.created_at, behavior=incident.behavior,
                   source=incident.source, severity=incident.severity,
                   acknowledged_at=incident.acknowledged_at,
                   mitigated_at=incident.mitigated_at, resolved_at=incident.resolved_at,
                   budget_impact=dict(incident.budget_impact or {}),
                   suspect_kind=top.get("kind"))


@dataclass(frozen=True)
class RunFact:
    """One runbook run: ``verdict`` is its last verify step's (``recovered`` = verified)."""

    incident_id: int
    runbook: str
    status: str
    created_at: datetime
    verdict: str | None = None

    @classmethod
    def of(cls, run: Any) -> RunFact:
        return cls(incident_id=run.incident_id, runbook=run.runbook, status=run.status,
                   created_at=run.created_at, verdict=run.verdict)


@dataclass(frozen=True)
class PageFact:
    """Someone was paged for an incident (invited as on call, or escalated to)."""

    incident_id: int
    user: str
    at: datetime


@dataclass(frozen=True)
class ServiceData:
    """One service of the team: its SLOs and its signal records (exchange ``SignalRecord``)."""

    name: str
    slos: Sequence[SLO] = ()
    records: Sequence[Any] = ()


@dataclass(frozen=True)
class DigestInputs:
    team: str
    channel: str
    week: IsoWeek
    services: Sequence[ServiceData] = ()
    incidents: Sequence[IncidentFact] = ()  # created in the history weeks (at least two)
    runs: Sequence[RunFact] = ()
    history_weeks: int = 6  # how many weeks the incidents-by-class chart shows
    pages: Sequence[PageFact] = ()
    silenced: Mapping[str, int] = field(default_factory=dict)  # service -> alerts this week
    timezone: str = "UTC"  # the team's digest zone: what "out of hours" is measured in
