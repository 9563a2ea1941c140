"""The periodic work the leader runs: the watch, burn-rate alerts, runbook recovery.

Jobs are importable functions without arguments (the job store keeps only their
names); they find the running bot through ``bot.core.scheduler.job_services``.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.scheduler import job_services, start_scheduler
from bot.diagnosis.watch import run_watch
from bot.runbook_runs import recover_interrupted
from bot.silences.holds import release_due
from bot.slo.alerts import evaluate_burn_alerts
from store import outbox_queries, signal_queries
from store.db import session_scope

log = logging.getLogger(__name__)


def watch_job() -> None:
    services = job_services()
    if services is None:
        return

    opened = run_watch(services)
    if opened:
        log.info("silent-degradation watch opened incidents %s", opened)


def burn_alerts_job() -> None:
    services = job_services()
    if services is None:
        return

    evaluate_burn_alerts(services)


def recover_runs_job() -> None:
    """Runbook runs whose replica died (no heartbeat) are resumed or marked interrupted."""
    services = job_services()
    if services is None:
        return

    recover_interrupted(services)


def prune_signals_job() -> None:
    """Drop stored signals past the retention setting, so the store stays bounded."""
    services = job_services()
    if services is None:
        return
    from datetime import timedelta


    cutoff = services.clock() - timedelta(days=services.settings.signal_retention_days)
    with session_scope(services.engine) as session:
        removed = signal_queries.prune(session=session, before=cutoff)
    log.info("pruned %d stored signal rows older than %s", removed, cutoff)


def prune_outbox_job() -> None:
    """Forget follow-up work done more than a day ago; dead rows stay for a person."""
    services = job_services()
    if services is None:
        return
    from datetime import timedelta


    with session_scope(services.engine) as session:
        removed = outbox_queries.prune(session=session, before=services.clock() - timedelta(days=1))
    log.info("pruned %d finished follow-up tasks", removed)


def release_holds_job() -> None:
    """Incidents held for a change's maintenance window: settle or page them when it ends."""
    services = job_services()
    if services is None:
        return

    released = release_due(services)
    if released:
        log.info("maintenance windows ended with incidents still off: paged %s", released)


def register_periodic_jobs(scheduler: Any, services: Any) -> None:
    """Add (or replace) the fixed jobs; ids are stable so replicas never duplicate them."""
    watch = services.catalog.watch
    if watch.enabled:
        scheduler.add_job("bot.scheduling.jobs:watch_job", "interval",
                          seconds=watch.interval_seconds, id="watch", replace_existing=True)
    scheduler.add_job("bot.scheduling.jobs:prune_signals_job", "interval", hours=24,
                      id="prune-signals", replace_existing=True)
    scheduler.add_job("bot.scheduling.jobs:recover_runs_job", "interval",
                      seconds=min(10.0, services.settings.runbook_stale_seconds / 2),
                      id="recover-runs", replace_existing=True)
    scheduler.add_job("bot.scheduling.jobs:prune_outbox_job", "interval", hours=1,
                      id="prune-outbox", replace_existing=True)
    scheduler.add_job("bot.scheduling.jobs:release_holds_job", "interval", seconds=30,
                      id="release-holds", replace_existing=True)
    if any(entry.slos for entry in services.catalog.services):
        scheduler.add_job("bot.scheduling.jobs:burn_alerts_job", "interval", seconds=60,
                          id="burn-alerts", replace_existing=True)


def start_scheduling(services: Any) -> None:
    """Start hook: the scheduler, with the fixed jobs above added whenever this replica leads."""
    start_scheduler(services, periodic=register_periodic_jobs)
