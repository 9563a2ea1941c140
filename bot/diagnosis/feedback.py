"""Learning from responders: a relabel is stored with the incident's feature pattern and
counted into the service's and the global priors, so the classifier gets the same
pattern right next time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core import outbox
from bot.core.errors import NotFound, UserError
from bot.core.services import Services
from bot.diagnosis.incidents import write_timeline
from classifiers.vocabulary import LABELS
from store.db import session_scope
from store.models import Incident
from store.signal_queries import add_correction


def relabel(*, session: Session, incident_id: int, label: str, actor: str,
            now: datetime) -> Incident:
    """Set a responder's label on an incident and learn from it (does not commit)."""
    if label not in LABELS:
        raise UserError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    diagnosis = incident.diagnosis or {}
    pattern = str(diagnosis.get("pattern", ""))
    predicted = incident.behavior
    add_correction(session=session, incident_id=incident_id, service=incident.service, ts=now,
                   actor=actor, predicted=predicted, label=label, pattern=pattern,
                   features={"pattern": pattern, "scores": diagnosis.get("scores", {}),
                             "layers": [e.get("layer") for e in diagnosis.get("evidence", [])]})
    incident.behavior = label
    incident.label_source = "responder"
    incident.updated_at = now
    session.add(incident)
    write_timeline(session=session, incident_id=incident_id, actor=actor, kind="relabelled",
                   message=f"{actor} relabelled {predicted or 'unlabelled'} -> {label}",
                   now=now, details={"from": predicted, "to": label, "pattern": pattern})
    return incident


@dataclass(frozen=True)
class Relabelled:
    incident: Incident
    previous: str | None  # the label before (the classifier's, or an earlier responder's)


def relabel_incident(services: Services, *, incident_id: int, label: str,
                     actor: str) -> Relabelled:
    """:func:`relabel` in a transaction of its own, with its follow-up work.

    The work (the new owners invited, the summary refreshed: ``incident.relabelled``)
    is recorded in the same transaction (:mod:`bot.core.outbox`), so it survives a
    crash after the commit, and kicked off once the label is committed.
    """
    now = services.clock()
    with session_scope(services.engine) as session:
        current = session.get(Incident, incident_id)
        if current is None:
            raise NotFound(f"no incident with id {incident_id}")
        previous = current.behavior
        incident = relabel(session=session, incident_id=incident_id, label=label, actor=actor,
                           now=now)
        work = outbox.record(session, "incident.relabelled", now=now, incident_id=incident_id,
                             label=label, previous=previous)
    outbox.kick(services, work)
    return Relabelled(incident, previous)
