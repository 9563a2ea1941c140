"""The incident state machine and its timeline.

``triggered -> acknowledged -> mitigated -> resolved``, plus reopen. Every change,
whoever made it (alert, person, rule, runbook), is written as a timeline event with
the actor, so MTTA/MTTR and the postmortem come from the record, not from memory.
Functions here take a session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.errors import Conflict
from store.models import Incident, IncidentStatus, TimelineEvent

S = IncidentStatus

# to-state -> the states it may be entered from
ALLOWED: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    S.acknowledged: frozenset({S.triggered}),
    S.mitigated: frozenset({S.triggered, S.acknowledged}),
    S.resolved: frozenset({S.triggered, S.acknowledged, S.mitigated}),
    S.triggered: frozenset({S.mitigated, S.resolved}),  # reopen
}

SEVERITIES = ("critical", "page", "high", "warning", "low", "info")


class IllegalTransition(Conflict):
    """A status change the state machine does not allow (e.g. ack a resolved incident)."""


def record(*, session: Session, incident_id: int, actor: str, kind: str, message: str,
           now: datetime, details: dict[str, Any] | None = None) -> TimelineEvent:
    """Append one timeline event; the single way anything is written to a timeline."""
    event = TimelineEvent(incident_id=incident_id, ts=now, actor=actor, kind=kind,
                          message=message, details=details or {})
    session.add(event)
    return event


def transition(*, session: Session, incident: Incident, to: IncidentStatus | str, actor: str,
               now: datetime, note: str | None = None) -> Incident:
    """Move ``incident`` to ``to``; raises :class:`IllegalTransition` if not allowed."""
    target = IncidentStatus(to)
    current = IncidentStatus(incident.status)
    if current not in ALLOWED[target]:
        verb = "reopen" if target is S.triggered else f"mark {target.value}"
        raise IllegalTransition(
            f"incident {incident.id} is {current.value}; cannot {verb} it "
            f"(allowed from: {', '.join(sorted(s.value for s in ALLOWED[target]))})")
    incident.status = target.value
    incident.updated_at = now
    if target is S.acknowledged:
        incident.acknowledged_at = now
    elif target is S.mitigated:
        incident.mitigated_at = now
        incident.acknowledged_at = incident.acknowledged_at or now
    elif target is S.resolved:
        incident.resolved_at = now
        incident.mitigated_at = incident.mitigated_at or now
        incident.acknowledged_at = incident.acknowledged_at or now
        incident.open_key = None  # a resolved incident takes no new alerts
        if note:
            incident.resolution = note
    elif target is S.triggered:
        incident.resolved_at = None
        incident.mitigated_at = None
    kind = "reopened" if target is S.triggered else target.value
    message = f"{kind} by {actor}" + (f": {note}" if note else "")
    record(session=session, incident_id=_id(incident), actor=actor, kind=kind, message=message,
           now=now, details={"from": current.value, "to": target.value, "note": note})
    session.add(incident)
    return incident


def new_incident(*, session: Session, service: str, title: str, severity: str, source: str,
                 actor: str, now: datetime, description: str | None = None,
                 group_key: str = "", open_key: str | None = None) -> Incident:
    """Insert a triggered incident with its ``opened`` timeline event (flushes for the id)."""
    incident = Incident(service=service, title=title[:500], severity=severity, source=source,
                        description=description, group_key=group_key, open_key=open_key,
                        created_at=now, updated_at=now, last_alert_at=None)
    session.add(incident)
    session.flush()
    record(session=session, incident_id=_id(incident), actor=actor, kind="opened",
           message=f"opened by {actor}: {title}"[:2000], now=now,
           details={"source": source, "severity": severity})
    return incident


def set_severity(*, session: Session, incident: Incident, severity: str, actor: str,
                 now: datetime) -> Incident:
    if severity not in SEVERITIES:
        raise Conflict(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")
    old = incident.severity
    incident.severity = severity
    incident.updated_at = now
    record(session=session, incident_id=_id(incident), actor=actor, kind="severity",
           message=f"severity {old} -> {severity}", now=now,
           details={"from": old, "to": severity})
    session.add(incident)
    return incident


ROLES = ("commander", "scribe", "liaison")


def assign_role(*, session: Session, incident: Incident, role: str, user: str, actor: str,
                now: datetime) -> Incident:
    if role not in ROLES:
        raise Conflict(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    incident.roles = {**incident.roles, role: user}
    incident.updated_at = now
    record(session=session, incident_id=_id(incident), actor=actor, kind="assign",
           message=f"{role} is now {user}", now=now, details={"role": role, "user": user})
    session.add(incident)
    return incident


def _id(incident: Incident) -> int:
    if incident.id is None:
        raise ValueError("incident has no id yet; flush the session first")
    return incident.id
