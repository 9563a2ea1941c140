"""What a person (Slack, the API, the CLI) does to an incident, one transaction each.

Each function opens its own session, calls the state machine in
:mod:`bot.incidents.lifecycle`, and records the event's follow-up work (Slack summary, budget
impact) in the same transaction (:func:`bot.core.outbox.record`); after the commit it
kicks that work off. Handlers never see uncommitted state, and a crash between the
commit and the work loses nothing: the rows are there for the next worker.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from bot.core import outbox
from bot.core.errors import NotFound, UserError
from bot.core.services import Services
from bot.core.slack_api import SlackCallFailed
from bot.incidents import lifecycle
from store import queries
from store.db import session_scope, write_lock
from store.models import Incident, IncidentSource, TimelineEvent

log = logging.getLogger(__name__)


def _load(session: Session, incident_id: int, *, for_update: bool = False) -> Incident:
    # for_update locks the row on PostgreSQL, so two people acknowledging at the same
    # moment are applied one after the other and the second sees the first's change.
    incident = session.get(Incident, incident_id, with_for_update=for_update or None)
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}")
    return incident


def get_incident(services: Services, incident_id: int) -> Incident:
    with session_scope(services.engine) as session:
        return _load(session, incident_id)


def find_by_channel(services: Services, channel_id: str) -> Incident | None:
    with session_scope(services.engine) as session:
        return queries.incident_by_channel(session=session, channel_id=channel_id)


def list_open(services: Services, service: str | None = None) -> list[Incident]:
    with session_scope(services.engine) as session:
        return queries.open_incidents(session=session, service=service)


def timeline(services: Services, incident_id: int) -> list[TimelineEvent]:
    with session_scope(services.engine) as session:
        _load(session, incident_id)
        return queries.timeline(session=session, incident_id=incident_id)


def declare_incident(services: Services, *, service: str, title: str, severity: str = "warning",
                     description: str | None = None, actor: str) -> Incident:
    if not title.strip():
        raise UserError("title: an incident needs a title")
    if services.catalog.service(service) is None:
        known = ", ".join(s.name for s in services.catalog.services) or "none"
        raise UserError(f"service: unknown service {service!r} (known: {known})")
    if severity not in lifecycle.SEVERITIES:
        raise UserError(f"severity: {severity!r} is not one of {', '.join(lifecycle.SEVERITIES)}")
    now = services.clock()
    with session_scope(services.engine) as session:
        incident = lifecycle.new_incident(
            session=session, service=service, title=title.strip(), severity=severity,
            source=IncidentSource.manual.value, actor=actor, now=now,
            description=description)
        work = outbox.record(session, "incident.opened", now=now, incident_id=incident.id)
    outbox.kick(services, work)
    return incident


def change_status(services: Services, *, incident_id: int, to: str, actor: str,
                  note: str | None = None) -> Incident:
    now = services.clock()
    with write_lock(services.engine), session_scope(services.engine) as session:
        incident = lifecycle.transition(
            session=session, incident=_load(session, incident_id, for_update=True), to=to,
            actor=actor, now=now, note=note)
        work = outbox.record(session, "incident.changed", now=now, incident_id=incident_id,
                             status=incident.status)
    outbox.kick(services, work)
    return incident


def set_severity(services: Services, *, incident_id: int, severity: str, actor: str) -> Incident:
    now = services.clock()
    with session_scope(services.engine) as session:
        incident = lifecycle.set_severity(session=session, incident=_load(session, incident_id),
                                          severity=severity, actor=actor, now=now)
        work = outbox.record(session, "incident.changed", now=now, incident_id=incident_id)
    outbox.kick(services, work)
    return incident


def assign_role(services: Services, *, incident_id: int, role: str, user: str,
                actor: str) -> Incident:
    now = services.clock()
    with session_scope(services.engine) as session:
        incident = lifecycle.assign_role(session=session, incident=_load(session, incident_id),
                                         role=role, user=user, actor=actor, now=now)
        work = outbox.record(session, "incident.changed", now=now, incident_id=incident_id)
    outbox.kick(services, work)
    return incident


def add_note(services: Services, *, incident_id: int, text: str, actor: str,
             kind: str = "note", details: dict[str, Any] | None = None) -> TimelineEvent:
    if not text.strip():
        raise UserError("note: the text is empty")
    with session_scope(services.engine) as session:
        _load(session, incident_id)
        event = lifecycle.record(session=session, incident_id=incident_id, actor=actor,
                                 kind=kind, message=text.strip()[:4000], now=services.clock(),
                                 details=details)
    return event


def add_followup(services: Services, *, incident_id: int, text: str, actor: str) -> Incident:
    if not text.strip():
        raise UserError("followup: the text is empty")
    now = services.clock()
    with session_scope(services.engine) as session:
        incident = _load(session, incident_id)
        incident.followups = [*incident.followups,
                              {"text": text.strip()[:2000], "by": actor, "ts": now.isoformat()}]
        incident.updated_at = now
        session.add(incident)
        lifecycle.record(session=session, incident_id=incident_id, actor=actor, kind="followup",
                         message=text.strip()[:2000], now=now)
    return incident


def record_failure(services: Services, incident_id: int, what: str, error: Exception) -> None:
    """Put a failed Slack side effect on the incident's timeline (and never raise).

    A channel that could not be created or an invite refused must leave a trace the
    responders can see, not a log line nobody reads.
    """
    code = error.code if isinstance(error, SlackCallFailed) else type(error).__name__
    log.warning("incident %s: %s failed: %s", incident_id, what, error)
    try:
        add_note(services, incident_id=incident_id, actor="bot:slack", kind="slack_error",
                 text=f"Slack: {what} failed ({code})")
    except Exception:
        log.exception("could not record the Slack failure of incident %s", incident_id)
