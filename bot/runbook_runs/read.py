"""Reading runs back for the API, the CLI and Slack."""

from __future__ import annotations

from typing import Any

from bot.core.services import Services
from bot.runbook_runs.context import load_run, safe_params
from bot.runbook_runs.library import get_runbook
from store import runbook_queries as runs_q
from store.db import session_scope


def run_view(services: Services, *, run_id: int) -> dict[str, Any]:
    """A run and its step records as plain data (API, Slack summary, demo summary.json)."""
    with session_scope(services.engine) as session:
        run = load_run(session, run_id)
        steps = runs_q.steps_for_run(session=session, run_id=run_id)
    return {"id": run.id, "incident_id": run.incident_id, "runbook": run.runbook,
            "status": run.status, "verdict": run.verdict, "error": run.error,
            "params": safe_params(get_runbook(services, run.runbook), run.params),
            "requested_by": run.requested_by, "decided_by": run.decided_by,
            "created_at": run.created_at.isoformat() if run.created_at else None,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "ended_at": run.ended_at.isoformat() if run.ended_at else None,
            "steps": [{"path": s.path, "step": s.step_id, "kind": s.kind, "status": s.status,
                       "attempts": s.attempts, "summary": s.summary, "error": s.error,
                       "duration_seconds": s.duration_seconds} for s in steps]}


def runs_of(services: Services, *, incident_id: int) -> list[dict[str, Any]]:
    with session_scope(services.engine) as session:
        ids = [run.id for run in runs_q.runs_for_incident(session=session,
                                                          incident_id=incident_id)]
    return [run_view(services, run_id=run_id) for run_id in ids if run_id is not None]
