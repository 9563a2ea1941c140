"""Digest cron jobs per catalog team, kept in the project database across restarts."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config.catalog import parse_catalog
from bot.core.scheduler import build_scheduler
from bot.reports.schedule import job_id, schedule_digests
from tests.reports.fixtures import CATALOG
from tests.reports.support import team_services


def test_jobs_follow_the_catalog_and_survive_a_restart(db_url: str) -> None:
    with team_services(db_url) as services:
        scheduler = build_scheduler(services)
        scheduler.start(paused=True)
        try:
            assert schedule_digests(scheduler, services) == ["digest:core", "digest:quiet"]
            core = scheduler.get_job(job_id("core"))
            # Monday 09:00 Europe/Berlin is 08:00 UTC in November (CET, UTC+1).
            assert core.trigger.fields[4].expressions[0].first == 0  # day_of_week: mon
            first_run = core.trigger.get_next_fire_time(None, datetime(2026, 11, 18,
                                                                       tzinfo=UTC))
            assert first_run.astimezone(UTC) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
            quiet = scheduler.get_job(job_id("quiet"))
            # Friday 16:30 America/New_York is 21:30 UTC in November (EST, UTC-5).
            assert quiet.trigger.get_next_fire_time(None, datetime(2026, 11, 18, tzinfo=UTC)
                                                    ).astimezone(UTC) == \
                datetime(2026, 11, 20, 21, 30, tzinfo=UTC)
            stored_next = core.next_run_time
        finally:
            scheduler.shutdown(wait=False)

        restarted = build_scheduler(services)  # a new process: the jobs come from the DB
        restarted.start(paused=True)
        try:
            assert sorted(job.id for job in restarted.get_jobs()) == ["digest:core",
                                                                     "digest:quiet"]
            schedule_digests(restarted, services)  # unchanged: the stored job is kept as is
            assert restarted.get_job("digest:core").next_run_time == stored_next
            data = CATALOG.model_dump()
            data["teams"] = [dict(data["teams"][0], digest={"weekday": "tue", "time": "07:15",
                                                             "timezone": "UTC"})]
            services.catalog = parse_catalog(data)
            assert schedule_digests(restarted, services) == ["digest:core"]
            assert [job.id for job in restarted.get_jobs()] == ["digest:core"]
            moved = restarted.get_job("digest:core").trigger.get_next_fire_time(
                None, datetime(2026, 11, 18, tzinfo=UTC))
            assert moved == datetime(2026, 11, 24, 7, 15, tzinfo=UTC)
        finally:
            restarted.shutdown(wait=False)
