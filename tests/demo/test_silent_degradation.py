"""The demo's silent degradation is found by the watch, on each store, and not before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from bot.core.exchange import parse_objects
from bot.core.services import Services
from bot.demo.silent import DRIFT_MINUTES, DRIFTING, SERVICE, signals
from bot.diagnosis.watch import run_watch
from store.db import session_scope
from store.models import Incident
from store.signal_queries import save_records

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_the_watch_opens_a_detector_incident_naming_the_drifting_tenant(
        services: Services) -> None:
    batch = parse_objects(signals(NOW, np.random.default_rng(21)))
    assert not batch.errors
    with session_scope(services.engine) as session:
        save_records(session=session, records=batch.records)

    # Before the drift began the same watch finds nothing on this service.
    early = run_watch(services, now=NOW - timedelta(minutes=DRIFT_MINUTES + 5))
    assert early == []

    opened = run_watch(services, now=NOW)
    assert len(opened) == 1
    with session_scope(services.engine) as session:
        incident = session.get(Incident, opened[0])
        assert incident is not None
        assert incident.service == SERVICE and incident.source == "detector"
        assert incident.behavior not in (None, "none")
        slices = (incident.diagnosis or {}).get("slices") or []
        assert slices and (slices[0]["dimension"], slices[0]["value"]) == ("tenant", DRIFTING)
        onset = datetime.fromisoformat(incident.diagnosis["onset"].replace("Z", "+00:00"))
        assert NOW - timedelta(minutes=DRIFT_MINUTES + 10) <= onset <= NOW
