"""Runs a dead process left ``running``: resumed if every step left is idempotent."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.runner_identity import RUNNER, gone
from bot.core.services import Services
from bot.incidents import lifecycle
from bot.runbook_runs.context import post_progress
from bot.runbook_runs.execute import execute, stale_after
from bot.runbook_runs.library import library
from store import runbook_queries as runs_q
from store.db import session_scope
from store.runbook_models import (
    RunbookRun,
    RunStatus,
)

log = logging.getLogger(__name__)


def recover_interrupted(services: Services, *,
                        stale: timedelta | None = None) -> list[tuple[int, str]]:
    """Resume or mark every run a dead process left behind; never forget one.

    ``running`` runs resume when every step from the one that was running onwards
    is idempotent, else they become ``interrupted`` with a timeline event and a
    progress message. ``approved`` runs nobody started within the stale period are
    started. A running run is left behind only when its runner is another process
    and either its heartbeat is older than the stale period (on SQLite as on
    PostgreSQL: a ``resilio runbook run`` in a terminal heartbeats like a replica)
    or its runner is a process of this host that has exited (a restart takes its
    own dead runs over at once). Runs at start and, on the leader, twice per period.
    """
    cutoff = services.clock() - (stale_after(services) if stale is None else stale)
    outcomes: list[tuple[int, str]] = []
    with session_scope(services.engine) as session:
        orphans = [run for run in runs_q.runs_in_status(
            session=session, statuses=[RunStatus.running.value, RunStatus.approved.value])
            if run.runner != RUNNER and (run.updated_at <= cutoff or gone(run.runner))]
    for run in orphans:
        try:
            outcomes.append((run.id or 0, _recover_one(services, run)))
        except Exception:  # one bad run must not stop the others from being recovered
            log.exception("could not recover runbook run %s", run.id)
    return outcomes


def _recover_one(services: Services, run: RunbookRun) -> str:
    if run.status == RunStatus.approved.value:
        services.submit(execute, services, run.id)
        return "started"
    runbook = library(services).get(run.runbook)
    remaining = runbook.steps[run.next_step:] if runbook else []
    blocking = next((s for s in remaining if not s.idempotent), None)
    resumable = runbook is not None and blocking is None
    now = services.clock()
    with session_scope(services.engine) as session:
        if resumable:
            moved = runs_q.transition(session=session, run_id=run.id or 0,
                                      from_statuses=[RunStatus.running.value],
                                      to_status=RunStatus.approved.value, runner=None,
                                      updated_at=now)
            text = (f"{run.runbook} (run {run.id}) was interrupted by a restart at step "
                    f"{run.next_step + 1}; every remaining step is idempotent, so it resumes.")
            kind = "runbook.resumed"
        else:
            moved = runs_q.transition(session=session, run_id=run.id or 0,
                                      from_statuses=[RunStatus.running.value],
                                      to_status=RunStatus.interrupted.value, active_key=None,
                                      ended_at=now, updated_at=now,
                                      error="interrupted by a restart")
            why = (f"step {blocking.id} is not idempotent" if blocking is not None
                   else f"runbook {run.runbook} no longer exists")
            text = (f"{run.runbook} (run {run.id}) was interrupted by a restart at step "
                    f"{run.next_step + 1} and was not resumed ({why}). Check the system "
                    f"before running it again.")
            kind = "runbook.interrupted"
        if not moved:
            return "skipped"  # another replica recovered it first
        for record in runs_q.steps_for_run(session=session, run_id=run.id or 0):
            if record.status == "running":
                record.status, record.ended_at = "interrupted", now
                record.error = "the process running it stopped"
                session.add(record)
        lifecycle.record(session=session, incident_id=run.incident_id,
                         actor=f"runbook:{run.runbook}", kind=kind, now=now, message=text,
                         details={"run_id": run.id, "next_step": run.next_step})
    post_progress(services, run, text)
    if resumable:
        services.submit(execute, services, run.id)
        return "resumed"
    return "interrupted"
