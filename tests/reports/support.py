"""Puts the fixture team's record into a real database: incidents, runs, signals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.config.settings import Settings
from bot.core.services import Services, build_services
from store.db import session_scope
from store.models import Incident
from store.runbook_models import RunbookRun
from store.signal_queries import save_records
from tests.reports import fixtures as fx


def seed(services: Services) -> None:
    with session_scope(services.engine) as session:
        for i, label, source, created, ack, resolved, shares, kind in fx.INCIDENT_ROWS:
            suspects = [{"kind": kind, "ref": f"ref-{i}", "ts": "2026-11-01T00:00:00Z"}] \
                if kind else []
            session.add(Incident(id=i, service="svc-a", title=f"incident {i}",
                                 status="resolved" if resolved else "triggered",
                                 source=source, behavior=label, created_at=created,
                                 updated_at=created, acknowledged_at=ack,
                                 mitigated_at=resolved, resolved_at=resolved,
                                 budget_impact=fx.budget(**shares) if shares else {},
                                 diagnosis={"suspect_changes": suspects}))
        session.flush()
        for n, (incident, runbook, status, verdict, at) in enumerate(fx.RUN_ROWS):
            session.add(RunbookRun(incident_id=incident, runbook=runbook, status=status,
                                   verdict=verdict, requested_by="slack:U0SRE0001",
                                   idempotency_key=f"run-{n}", created_at=at, updated_at=at))
        for records in fx.records().values():
            save_records(session=session, records=records)


@contextmanager
def team_services(db_url: str, **settings: Any) -> Iterator[Services]:
    values = {"DATABASE_URL": db_url, "RESILIO_WEBHOOK_TOKEN": "token",
              "RESILIO_RUN_SCHEDULER": "false", **settings}
    services = build_services(Settings(**values), fx.CATALOG)
    try:
        yield services
    finally:
        services.close()
