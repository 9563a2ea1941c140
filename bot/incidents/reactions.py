"""The bot's own reactions to incident events: diagnose on open, price the budget impact.

Outbox handlers (``bot.core.outbox.FOLLOW_UPS``): the rows are written with the change
and run after the commit, so neither an alert's intake nor a Slack ack waits for the
classifier, and a crash in between does not lose them. Both are idempotent: a stored
diagnosis is not redone, and pricing recomputes the same figures.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Stages at which an incident's budget impact is (re)computed.
_PRICED_AT = {"mitigated", "resolved"}


def classify_on_open(*, services: Any, incident_id: int, **_: Any) -> None:
    from bot.diagnosis.incidents import classify_incident
    from store.db import session_scope
    from store.models import Incident

    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
        # The watch opens detector incidents with their diagnosis already attached.
        if incident is None or incident.behavior is not None:
            return
    classify_incident(services, incident_id)


def price_budget_impact(*, services: Any, incident_id: int, status: str | None = None,
                        **_: Any) -> None:
    if status not in _PRICED_AT:
        return
    from bot.slo.impact import update_budget_impact

    update_budget_impact(services, incident_id)
    services.emit("incident.changed", incident_id=incident_id)  # refresh the Slack summary
