"""Weekly digest jobs: one APScheduler cron job per catalog team.

Jobs live in the scheduler's SQLAlchemy job store (the project database, see
``bot.core.scheduler``), so a restart keeps them: a job whose schedule is unchanged is
left as it is, which keeps its stored next run time, and a digest that fell due
while the bot was down runs once at start (the scheduler coalesces, with no
misfire limit). A team whose schedule changed gets its job replaced; a team gone
from the catalog loses its job. The job itself is idempotent per team and week
(``bot.reports.publish``), so a second replica or a repeated run posts nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.core.scheduler import job_services
from bot.reports.publish import post_digest, render_digest, reports_dir, write_report
from bot.reports.weeks import IsoWeek

if TYPE_CHECKING:
    from bot.config.catalog import DigestSchedule
    from bot.core.services import Services

log = logging.getLogger(__name__)

JOB = "bot.reports.schedule:run_digest_job"
PREFIX = "digest:"


def job_id(team: str) -> str:
    return f"{PREFIX}{team}"


def trigger_for(schedule: DigestSchedule) -> CronTrigger:
    hour, minute = (int(part) for part in schedule.time.split(":"))
    return CronTrigger(day_of_week=schedule.weekday, hour=hour, minute=minute,
                       timezone=ZoneInfo(schedule.timezone))


def schedule_digests(scheduler: Any, services: Services) -> list[str]:
    """Make the scheduler's digest jobs match the catalog's teams; returns their ids."""
    wanted: list[str] = []
    for team in services.catalog.teams:
        ident = job_id(team.name)
        wanted.append(ident)
        trigger = trigger_for(team.digest)
        existing = scheduler.get_job(ident)
        if existing is not None and str(existing.trigger) == str(trigger) and \
                list(existing.args) == [team.name]:
            continue
        scheduler.add_job(JOB, trigger, args=[team.name], id=ident, replace_existing=True,
                          name=f"weekly digest for {team.name}")
        log.info("digest for %s scheduled: %s", team.name, trigger)
    for job in scheduler.get_jobs():
        if job.id.startswith(PREFIX) and job.id not in wanted:
            scheduler.remove_job(job.id)
            log.info("digest job %s removed: its team is not in the catalog", job.id)
    return wanted


def start_digest_schedules(services: Services) -> None:
    """Start hook (after ``bot.core.scheduler.start_scheduler``): schedule every team's digest."""
    scheduler = services.scheduler
    if scheduler is None:
        return
    schedule_digests(scheduler, services)


def run_digest_job(team: str) -> None:
    """The persistent job: post last week's digest (or only write it, without Slack)."""

    services = job_services()
    if services is None:
        log.warning("digest for %s: no scheduler services in this process", team)
        return
    try:
        if services.slack is None:
            week = IsoWeek.last_complete(services.clock())
            path = write_report(render_digest(services, team, week), reports_dir(services))
            log.info("digest for %s %s written to %s (no Slack token)", team, week, path)
            return
        outcome = post_digest(services, team)
        log.info("digest for %s %s: %s", team, outcome.week,
                 "posted" if outcome.posted else f"already {outcome.status}")
    except Exception:
        log.exception("digest for %s failed", team)
