"""Classify an incident on arrival: stored signals around it in, diagnosis on the incident out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.changes.history import load_changes
from bot.core import outbox
from bot.core.clock import to_utc
from bot.core.errors import NotFound
from bot.core.services import Services
from bot.diagnosis.pipeline import Diagnosis, diagnose
from bot.diagnosis.priors import learned_priors
from bot.incidents.lifecycle import record
from bot.sources import load_signals, with_unavailable
from store.db import session_scope
from store.models import Incident

DEFAULT_WINDOW_MINUTES = 180.0
CHANGE_LOOKBACK = timedelta(hours=24)


def write_timeline(*, session: Session, incident_id: int, actor: str, kind: str, message: str,
                   now: datetime, details: dict[str, Any] | None = None) -> None:
    """Through ``bot.incidents.lifecycle.record`` (the one writer of timelines)."""
    record(session=session, incident_id=incident_id, actor=actor, kind=kind, message=message,
           now=now, details=details or {})


def store_diagnosis(*, session: Session, incident: Incident, diagnosis: Diagnosis,
                    now: datetime) -> None:
    incident.behavior = diagnosis.behavior
    incident.confidence = diagnosis.confidence
    incident.diagnosis = diagnosis.to_json()
    incident.onset = to_utc(_parse(diagnosis.onset)) if diagnosis.onset else None
    incident.label_source = "classifier"
    incident.updated_at = now
    session.add(incident)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def classify_on_open(*, services: Services, incident_id: int, **_: Any) -> None:
    """Follow-up of an opened incident: diagnose it, unless it came with its diagnosis.

    The row is written with the incident and run after the commit, so an alert's
    intake never waits for the classifier and a crash in between does not lose it.
    """
    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
        # The watch opens detector incidents with their diagnosis already attached.
        if incident is None or incident.behavior is not None:
            return
    classify_incident(services, incident_id)


def classify_incident(services: Services, incident_id: int) -> None:
    """Diagnose the incident's service over the watch window up to its creation and store it.

    Writes behavior, confidence, diagnosis, onset and ``label_source="classifier"``, a
    timeline event (actor ``classifier``, kind ``diagnosis``) and the follow-up work of
    ``incident.classified`` (bot.core.outbox), in one commit.
    """
    window = timedelta(minutes=float(getattr(services.catalog.watch, "window_minutes",
                                             DEFAULT_WINDOW_MINUTES)))
    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} does not exist")
        end = to_utc(incident.created_at)
        # bot.sources: pushed records plus those pulled from Prometheus; a source that
        # fails comes back as a message in ``load.errors`` for the evidence, never raises.
        load = load_signals(services, session=session, service=incident.service,
                            start=end - window, end=end)
        records = load.records
        changes = load_changes(session=session, service=incident.service,
                               start=end - window - CHANGE_LOOKBACK, end=end)
        priors = learned_priors(session=session, service=incident.service)
        diagnosis = diagnose(records, changes, at=end,
                             catalog_service=services.catalog.service(incident.service),
                             priors=priors)
        now = services.clock()
        store_diagnosis(session=session, incident=incident, diagnosis=diagnosis, now=now)
        details = with_unavailable(diagnosis.to_json(), load.errors)  # bot.sources
        incident.diagnosis = details
        write_timeline(session=session, incident_id=incident_id, actor="classifier",
                       kind="diagnosis", message=diagnosis.explanation[:2000], now=now,
                       details=details)
        work = outbox.record(session, "incident.classified", now=now, incident_id=incident_id)
    outbox.kick(services, work)
