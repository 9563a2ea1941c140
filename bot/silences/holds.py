"""Holding incidents that open inside a change's maintenance window, and releasing them.

Intake asks :func:`windows_in_force` when it opens an incident; a held incident gets
``held_until`` and an ``incident.held`` follow-up (it is diagnosed, nobody is paged).
The leader's :func:`release_due` job looks at each held incident once its window has
ended: all alerts resolved means it settled as the change said it would, and it is
resolved quietly; otherwise it is released with the change as its suspect and the
``incident.opened`` follow-ups run (channel, owners, escalation), as if it had just
opened. The release is a compare-and-set on ``held_until``, so two leaders in a row
cannot release one incident twice, and it commits with its outbox rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from bot.core import outbox
from bot.core.services import Services
from bot.incidents import lifecycle
from bot.silences.maintenance import Window, release_message, settled_message, window_of
from store import queries
from store.db import session_scope
from store.models import ChangeEvent, Incident

log = logging.getLogger(__name__)

LONGEST_WINDOW = timedelta(hours=24)  # the exchange format caps maintenance_minutes


def windows_in_force(session: Session, services: Sequence[str], now: datetime) -> list[Window]:
    changes = queries.changes_declaring_windows(session=session, services=services,
                                                since=now - LONGEST_WINDOW, until=now)
    return [w for w in (window_of(change) for change in changes)
            if w is not None and w.starts_at <= now < w.ends_at]


def hold(session: Session, incident: Incident, window: Window, now: datetime) -> None:
    """Mark a just-opened incident as held by ``window`` (the caller commits)."""
    incident.held_until = window.ends_at
    session.add(incident)
    lifecycle.record(
        session=session, incident_id=incident.id or 0, actor="bot:maintenance", kind="held",
        now=now, message=f"held: {window.kind} change {window.ref} announced "
                         f"{window.minutes:g} min of maintenance; nobody is paged unless "
                         "this is still off when the window ends",
        details={"change_id": window.change_id, "until": window.ends_at.isoformat()})


def release_due(services: Services) -> list[int]:
    """Settle or release every held incident whose window has ended; returns released ids."""
    now = services.clock()
    with session_scope(services.engine) as session:
        due = [(i.id or 0, i.held_until) for i in queries.held_incidents_due(session=session,
                                                                          now=now)]
    released = []
    for incident_id, held_until in due:
        if _release_one(services, incident_id, held_until, now):
            released.append(incident_id)
    return released


def _release_one(services: Services, incident_id: int, held_until: datetime | None,
                 now: datetime) -> bool:
    with session_scope(services.engine) as session:
        claimed = session.execute(
            update(Incident).where(col(Incident.id) == incident_id)
            .where(col(Incident.held_until) == held_until)
            .values(held_until=None))
        if not getattr(claimed, "rowcount", 0):
            return False  # another leader got here first
        incident = session.get(Incident, incident_id)
        assert incident is not None
        window = _window_of_hold(session, incident_id)
        if incident.status != "triggered":  # someone took it up meanwhile: theirs now
            lifecycle.record(session=session, incident_id=incident_id, kind="hold_ended",
                             actor="bot:maintenance", now=now,
                             message="maintenance window ended; already being handled")
            return False
        if incident.alerts_firing == 0:
            lifecycle.transition(session=session, incident=incident, to="resolved",
                                 actor="bot:maintenance", now=now,
                                 note=settled_message(window) if window else "settled")
            return False
        message = release_message(window, now) if window else "maintenance window ended"
        lifecycle.record(session=session, incident_id=incident_id, actor="bot:maintenance",
                         kind="released", now=now, message=f"released: {message}",
                         details={"change_id": window.change_id if window else None})
        if window is not None:
            _suspect_first(incident, window, now)
            session.add(incident)
        ids = outbox.record(session, "incident.opened", now=now, incident_id=incident_id)
    outbox.kick(services, ids)
    return True


def _window_of_hold(session: Session, incident_id: int) -> Window | None:
    events = queries.timeline(session=session, incident_id=incident_id)
    held = next((e for e in reversed(events) if e.kind == "held"), None)
    change_id = (held.details or {}).get("change_id") if held else None
    change = session.get(ChangeEvent, change_id) if change_id else None
    return window_of(change) if change is not None else None


def _suspect_first(incident: Incident, window: Window, now: datetime) -> None:
    """Put the change at the head of the diagnosis' suspects, saying why."""
    diagnosis = dict(incident.diagnosis or {})
    suspects = [s for s in diagnosis.get("suspect_changes") or []
                if not (isinstance(s, dict) and s.get("id") == window.change_id)]
    minutes_before = (incident.created_at - window.starts_at).total_seconds() / 60
    suspects.insert(0, {"id": window.change_id, "kind": window.kind, "ref": window.ref,
                        "minutes_before_onset": round(minutes_before, 1), "score": 1.0,
                        "why": release_message(window, now)})
    diagnosis["suspect_changes"] = suspects
    incident.diagnosis = diagnosis
