"""Read queries over the core tables. Keyword-only, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from store.db import matched_rows
from store.models import Alert, ChangeEvent, Incident, TimelineEvent, WriteProbe


def get_incident(*, session: Session, incident_id: int) -> Incident | None:
    return session.get(Incident, incident_id)


def list_incidents(*, session: Session, status: str | Sequence[str] | None = None,
                   service: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, limit: int = 200) -> list[Incident]:
    query = select(Incident)
    if isinstance(status, str):
        query = query.where(Incident.status == status)
    elif status:
        query = query.where(col(Incident.status).in_(list(status)))
    if service:
        query = query.where(Incident.service == service)
    if since:
        query = query.where(Incident.created_at >= since)
    if until:
        query = query.where(Incident.created_at < until)
    query = query.order_by(col(Incident.id).desc()).limit(limit)
    return list(session.exec(query))


def open_incidents(*, session: Session, service: str | None = None) -> list[Incident]:
    return list_incidents(session=session, service=service,
                          status=("triggered", "acknowledged", "mitigated"))


def incident_by_channel(*, session: Session, channel_id: str) -> Incident | None:
    return session.exec(select(Incident).where(Incident.slack_channel_id == channel_id)).first()


def timeline(*, session: Session, incident_id: int) -> list[TimelineEvent]:
    query = (select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
             .order_by(col(TimelineEvent.ts), col(TimelineEvent.id)))
    return list(session.exec(query))


def alerts_of(*, session: Session, incident_id: int, after_id: int = 0,
              limit: int | None = None) -> list[Alert]:
    """An incident's alerts in id order; ``after_id`` and ``limit`` read one page."""
    query = (select(Alert).where(Alert.incident_id == incident_id)
             .where(col(Alert.id) > after_id).order_by(col(Alert.id)))
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def count_alerts(*, session: Session, incident_id: int) -> int:
    query = select(func.count()).select_from(Alert).where(Alert.incident_id == incident_id)
    return int(session.exec(query).one())


def alerts_by_fingerprint(*, session: Session, fingerprints: Sequence[str],
                          source: str) -> dict[str, Alert]:
    """The stored alerts of one source by fingerprint (fingerprints are unique per source)."""
    if not fingerprints:
        return {}
    query = (select(Alert).where(Alert.source == source)
             .where(col(Alert.fingerprint).in_(list(fingerprints))))
    return {alert.fingerprint: alert for alert in session.exec(query)}


def incident_by_open_key(*, session: Session, open_key: str) -> Incident | None:
    return session.exec(select(Incident).where(Incident.open_key == open_key)).first()


def changes_between(*, session: Session, service: str, start: datetime,
                    end: datetime) -> list[ChangeEvent]:
    query = (select(ChangeEvent).where(ChangeEvent.service == service)
             .where(ChangeEvent.ts >= start).where(ChangeEvent.ts <= end)
             .order_by(col(ChangeEvent.ts)))
    return list(session.exec(query))


def count_rows(*, session: Session, table: type) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def changes_declaring_windows(*, session: Session, services: Sequence[str], since: datetime,
                              until: datetime) -> list[ChangeEvent]:
    """Change events of these services in ``[since, until]`` that declare a maintenance
    window (``maintenance_minutes``), oldest first."""
    if not services:
        return []
    query = (select(ChangeEvent).where(col(ChangeEvent.service).in_(list(services)))
             .where(col(ChangeEvent.maintenance_minutes).is_not(None))
             .where(ChangeEvent.ts >= since).where(ChangeEvent.ts <= until)
             .order_by(col(ChangeEvent.ts)))
    return list(session.exec(query))


def held_incidents_due(*, session: Session, now: datetime, limit: int = 100) -> list[Incident]:
    """Incidents held for a maintenance window that has ended, oldest first."""
    query = (select(Incident).where(col(Incident.held_until).is_not(None))
             .where(col(Incident.held_until) <= now).order_by(col(Incident.id)).limit(limit))
    return list(session.exec(query))


def touch_write_probe(*, session: Session, replica: str, now: datetime) -> None:
    """Rewrite this replica's probe row: a real write, as small as one can be."""
    probe = session.get(WriteProbe, replica)
    if probe is None:
        session.add(WriteProbe(replica=replica, probed_at=now))
    else:
        probe.probed_at = now
        session.add(probe)


def claim_escalation_step(*, session: Session, incident_id: int, level: int) -> bool:
    """Move a still-triggered incident from escalation ``level`` to the next, once.

    A compare-and-set: two timers firing for the same step both try, one matches.
    """
    claimed = session.execute(
        update(Incident)
        .where(col(Incident.id) == incident_id, col(Incident.escalation_level) == level,
               col(Incident.status) == "triggered")
        .values(escalation_level=level + 1))
    return matched_rows(claimed) > 0


def update_incident(*, session: Session, incident_id: int, **values: object) -> None:
    session.execute(update(Incident).where(col(Incident.id) == incident_id).values(**values))


def open_incident_of(*, session: Session, service: str) -> Incident | None:
    """The service's incident that is not resolved yet, if any."""
    return session.exec(select(Incident).where(col(Incident.service) == service,
                                               col(Incident.status) != "resolved")).first()
