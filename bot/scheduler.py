"""The APScheduler that runs timed work (escalations, digests), with jobs kept in the
project database so they survive a restart.

Persistent jobs must be importable functions with plain arguments, so they cannot
hold ``Services``; ``job_services()`` hands them the services of the scheduler that
runs in this process. Only one replica should run it (``RESILIO_RUN_SCHEDULER``).
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.services import Services
from store.db import normalise_url

log = logging.getLogger(__name__)

_RUNNING: dict[str, Services] = {}


def build_scheduler(services: Services) -> BackgroundScheduler:
    store = SQLAlchemyJobStore(url=normalise_url(services.settings.database_url),
                               tablename="apscheduler_jobs")
    return BackgroundScheduler(jobstores={"default": store}, timezone="UTC",
                               job_defaults={"coalesce": True, "misfire_grace_time": None,
                                             "max_instances": 1})


def start_scheduler(services: Services) -> BackgroundScheduler | None:
    """Start hook: build, remember and start the scheduler (unless switched off)."""
    if not services.settings.run_scheduler:
        return None
    existing = services.extras.get("scheduler")
    if existing is not None:
        return existing
    scheduler = build_scheduler(services)
    services.extras["scheduler"] = scheduler
    _RUNNING["services"] = services
    scheduler.start()
    return scheduler


def stop_scheduler(services: Services) -> None:
    """Shutdown hook: stop running jobs here; the stored jobs stay for the next start."""
    scheduler = services.extras.pop("scheduler", None)
    if scheduler is not None:
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
    scheduler = services.extras.get("scheduler")
    if scheduler is None:
        return False
    if scheduler.get_job(job_id) is not None:
        return True
    scheduler.add_job(function, "date", run_date=run_at, args=args, id=job_id,
                      replace_existing=True)
    return True
