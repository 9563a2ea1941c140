"""Relabelling an incident from Slack: the classifier's feedback call, then the event.

``bot.diagnosis.feedback.relabel`` (the classifier part) records the label as
training feedback; until it is installed, the label is set on the incident and
written to the timeline here, so responders are never blocked by a missing part.
"""

from __future__ import annotations

import importlib
from typing import Any

from bot.core import outbox
from bot.core.errors import NotFound, UserError
from bot.incidents import lifecycle
from classifiers.vocabulary import LABELS
from store.db import session_scope
from store.models import Incident


def _feedback() -> Any:
    try:
        return importlib.import_module("bot.diagnosis.feedback")
    except ImportError:
        return None


def relabel_incident(services: Any, *, incident_id: int, label: str, actor: str) -> str | None:
    """Set the incident's label; returns the previous label. Emits ``incident.relabelled``."""
    if label not in LABELS:
        raise UserError(f"label: {label!r} is not one of {', '.join(LABELS)}")
    now = services.clock()
    feedback = _feedback()
    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"no incident with id {incident_id}")
        previous = incident.behavior
        if feedback is not None and hasattr(feedback, "relabel"):
            feedback.relabel(session=session, incident_id=incident_id, label=label, actor=actor,
                             now=now)
        else:
            incident.behavior = label
            incident.label_source = "responder"
            incident.updated_at = now
            session.add(incident)
            lifecycle.record(session=session, incident_id=incident_id, actor=actor,
                             kind="relabelled", message=f"relabelled {previous} -> {label}",
                             now=now, details={"from": previous, "to": label})
        # bot.core.outbox: the new owners' invitation and the summary commit with the label
        work = outbox.record(session, "incident.relabelled", now=now, incident_id=incident_id,
                             label=label, previous=previous)
    outbox.kick(services, work)
    return previous
