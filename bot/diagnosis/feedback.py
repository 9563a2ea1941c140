"""Learning from responders: a relabel is stored with the incident's feature pattern and
counted into the service's and the global priors, so the classifier gets the same
pattern right next time."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.errors import NotFound, UserError
from bot.diagnosis.incidents import write_timeline
from classifiers.behaviour import LABELS
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
