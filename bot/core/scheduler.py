"""The APScheduler that runs timed work (escalations, digests), with jobs kept in the
project database so they survive a restart.

Persistent jobs must be importable functions with plain arguments, so they cannot
hold ``Services``; ``job_services()`` hands them the services of the scheduler that
runs in this process. Every replica starts one, paused; the leader (``bot.core.leader``)
resumes it, so each job runs on one replica only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from bot.core.leader import LeaderElection
from bot.core.services import Services
from store.db import normalise_url

log = logging.getLogger(__name__)

PeriodicJobs = Callable[[BackgroundScheduler, Services], None]

_RUNNING: dict[str, Services] = {}
# Advisory-lock key under which replicas take turns creating the job store's table.
_JOBSTORE_LOCK_KEY = 0x5E511111


def build_scheduler(services: Services) -> BackgroundScheduler:
    store = SQLAlchemyJobStore(url=normalise_url(services.settings.database_url),
                               tablename="apscheduler_jobs")
    return BackgroundScheduler(jobstores={"default": store}, timezone="UTC",
                               job_defaults={"coalesce": True, "misfire_grace_time": None,
                                             "max_instances": 1})


def start_scheduler(services: Services, periodic: PeriodicJobs | None = None
                    ) -> BackgroundScheduler | None:
    """Build, remember and start the scheduler (unless switched off).

    ``periodic`` adds the fixed jobs each time this replica is elected leader; the
    start hook ``bot.scheduling.jobs.start_scheduling`` passes them, so this module
    never names the parts whose work it runs.
    """
    if not services.settings.run_scheduler:
        return None
    if services.scheduler is not None:
        return services.scheduler
    scheduler = services.scheduler = build_scheduler(services)
    _RUNNING["services"] = services
    # Every replica starts paused, so it can add timers to the shared job store; only
    # the elected leader resumes and runs them.
    _start_paused(scheduler, services)
    def elected() -> None:
        services.metrics.is_leader.set(1)
        if periodic is not None:
            periodic(scheduler, services)
        scheduler.resume()

    def lost() -> None:
        services.metrics.is_leader.set(0)
        scheduler.pause()

    election = LeaderElection(services.engine, on_elected=elected, on_lost=lost,
                              poll_seconds=services.settings.leader_poll_seconds)
    services.leader = election
    election.start()
    return scheduler


def _start_paused(scheduler: BackgroundScheduler, services: Services) -> None:
    """Start the scheduler paused; on PostgreSQL, one replica at a time.

    Starting creates the job store's table if it is missing. Two replicas starting
    together on a new database both try, and PostgreSQL fails the second ('type
    "apscheduler_jobs" already exists'), which stopped that replica at startup. A
    transaction-level advisory lock makes them take turns: the second finds the table.
    """
    if services.engine.dialect.name != "postgresql":
        scheduler.start(paused=True)
        return
    with services.engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": _JOBSTORE_LOCK_KEY})
        scheduler.start(paused=True)


def stop_scheduler(services: Services) -> None:
    """Shutdown hook: stop running jobs here; the stored jobs stay for the next start."""
    election, services.leader = services.leader, None
    if election is not None:
        election.stop()
    scheduler, services.scheduler = services.scheduler, None
    if scheduler is not None:
        # APScheduler's loop runs one last round after shutdown wakes it; with the stores
        # detached first, that round cannot take a due job whose executor is already gone.
        scheduler.pause()
        for alias in ("default",):
            scheduler.remove_jobstore(alias)
        scheduler.shutdown(wait=False)
    if _RUNNING.get("services") is services:
        _RUNNING.pop("services")


def job_services() -> Services | None:
    """The services of this process's scheduler, for persistent jobs to use."""
    return _RUNNING.get("services")


def schedule_once(services: Services, job_id: str, function: str, run_at: Any,
                  args: list[Any]) -> bool:
    """Add a one-off job ``module:function(*args)`` unless one with this id is pending
    (a repeated event must not push a timer back); False without a scheduler."""
    scheduler = services.scheduler
    if scheduler is None:
        return False
    if scheduler.get_job(job_id) is not None:
        return True
    scheduler.add_job(function, "date", run_date=run_at, args=args, id=job_id,
                      replace_existing=True)
    return True
