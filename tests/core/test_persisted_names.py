"""Work stored before the restructure still runs after it (migration 0008_names).

Outbox rows named their handler by code path and APScheduler keeps each job's
function as ``module:function``; both paths moved. The migration renames them, and
the names every current row and job uses resolve to a function.
"""

from __future__ import annotations

import importlib
import pickle
from datetime import UTC, datetime

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import text

from bot.core.outbox import FOLLOW_UPS, HANDLER_NAMES
from bot.oncall import escalation
from bot.reports import schedule as digest_schedule
from bot.scheduling import follow_ups, jobs
from store.db import make_engine, upgrade
from tests.conftest import make_services


def _old_timer(store: SQLAlchemyJobStore, scheduler: BackgroundScheduler) -> None:
    """Store a timer the way the bot stored it before the move."""
    job = Job(scheduler, id="escalate-7-0", func=escalation.check_acknowledged,
              args=[7, 0], kwargs={},
              trigger=DateTrigger(datetime(2030, 1, 1, tzinfo=UTC)), executor="default",
              misfire_grace_time=None, coalesce=True, max_instances=1,
              next_run_time=datetime(2030, 1, 1, tzinfo=UTC))
    state = job.__getstate__()
    state["func"] = "bot.escalation:check_acknowledged"
    with store.engine.begin() as connection:
        connection.execute(store.jobs_t.insert().values(
            id=job.id, next_run_time=datetime(2030, 1, 1, tzinfo=UTC).timestamp(),
            job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))


def test_rows_and_timers_stored_before_the_move_still_run(fresh_url: str) -> None:
    upgrade(fresh_url, "0008_checks")
    engine = make_engine(fresh_url)
    now = datetime(2026, 12, 1, 9, 0)
    with engine.begin() as connection:
        for handler in ("bot.reactions:classify_on_open", "bot.slack_channels:on_opened",
                        "bot.escalation:on_escalated"):
            connection.execute(text(
                "INSERT INTO outbox (event, handler, payload, state, attempts, available_at, "
                "created_at) VALUES ('incident.opened', :h, '{}', 'pending', 0, :t, :t)"),
                {"h": handler, "t": now})
    scheduler = BackgroundScheduler(timezone="UTC")
    store = SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")
    store.start(scheduler, "default")
    _old_timer(store, scheduler)

    upgrade(fresh_url)

    with engine.begin() as connection:
        handlers = sorted(connection.execute(text("SELECT handler FROM outbox")).scalars())
    assert handlers == ["diagnose", "open-channel", "page-escalation"]
    [timer] = store.get_all_jobs()
    assert timer.func is escalation.check_acknowledged and list(timer.args) == [7, 0]
    engine.dispose()


def test_every_follow_up_name_has_its_handler() -> None:
    assert set(follow_ups.HANDLERS) == HANDLER_NAMES
    assert {f.handler for fs in FOLLOW_UPS.values() for f in fs} == HANDLER_NAMES


def test_persisted_job_functions_are_where_their_names_say(sqlite_url: str) -> None:
    """The ``module:function`` texts the scheduler stores (a contract with stored jobs)."""
    services = make_services(sqlite_url)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        jobs.register_periodic_jobs(scheduler, services)
        stored = sorted(job.func_ref for job in scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)
        services.close()
    assert "bot.scheduling.jobs:watch_job" in stored
    assert "bot.scheduling.jobs:recover_runs_job" in stored
    assert all(ref.startswith("bot.scheduling.jobs:") for ref in stored)
    assert escalation.JOB == "bot.oncall.escalation:check_acknowledged"
    assert digest_schedule.JOB == "bot.reports.schedule:run_digest_job"
    for ref in [*stored, escalation.JOB, digest_schedule.JOB]:
        module, _, name = ref.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), ref
