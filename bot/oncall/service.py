"""Schedules as the bot uses them: the catalog's layers plus the overrides people set.

The catalog holds the rotations (reviewed like code); overrides set from Slack or the
API are rows, and each one is written on the timeline of the open incidents whose
owners name that schedule, so the record shows who held the pager when.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config.oncall_schedule import Override, PagePlan, Schedule, Shift, next_shift, on_call
from bot.core.errors import NotFound, UserError
from bot.core.services import Services
from bot.incidents import lifecycle
from bot.oncall.routing import page_plan
from store import oncall_queries, queries
from store.db import session_scope

MAX_OVERRIDE = timedelta(days=31)


def schedule_names(services: Services) -> list[str]:
    return [schedule.name for schedule in services.catalog.schedules]


def effective_schedule(services: Services, name: str) -> Schedule:
    """The catalog's schedule with the stored overrides that have not ended."""
    schedule = services.catalog.schedule(name)
    if schedule is None:
        known = ", ".join(schedule_names(services)) or "none"
        raise NotFound(f"no schedule {name!r} (known: {known})")
    after = services.clock() - timedelta(days=62)  # feeds and timelines look back 2 months
    with session_scope(services.engine) as session:
        rows = oncall_queries.overrides_for(session=session, schedule=name, after=after)
    for row in rows:
        schedule = schedule.with_override(Override(
            user=row.user, start=row.starts_at, end=row.ends_at, set_by=row.set_by,
            reason=row.reason))
    return schedule


def now_and_next(services: Services, name: str) -> tuple[Shift | None, Shift | None]:
    schedule = effective_schedule(services, name)
    now = services.clock()
    return on_call(schedule, now), next_shift(schedule, now)


def plan_for(services: Services, service_name: str, label: str | None) -> PagePlan | None:
    """Who to page for an incident of ``service_name`` labelled ``label``, right now."""
    service = services.catalog.service(service_name)
    if service is None:
        return None
    owners = service.owners_for(label)
    schedules = {name: effective_schedule(services, name) for name in owners.schedules}
    return page_plan(users=owners.users, groups=owners.groups, schedule_names=owners.schedules,
                     schedules=schedules, chain=service.escalation.chain, at=services.clock())


def add_override(services: Services, *, schedule: str, user: str, until: datetime,
                 set_by: str, reason: str = "", starts_at: datetime | None = None) -> Shift:
    """``user`` holds ``schedule``'s pager from now (or ``starts_at``) until ``until``."""
    effective_schedule(services, schedule)  # NotFound for an unknown name
    now = services.clock()
    start = starts_at or now
    if until <= start:
        raise UserError("the override ends before it starts")
    if until - start > MAX_OVERRIDE:
        raise UserError(f"an override lasts at most {MAX_OVERRIDE.days} days")
    Override(user=user, start=start, end=until)  # validates the user id
    with session_scope(services.engine) as session:
        oncall_queries.add_override(session=session, schedule=schedule, user=user,
                                    starts_at=start, ends_at=until, set_by=set_by,
                                    reason=reason, now=now)
        for incident in queries.open_incidents(session=session):
            if schedule in _schedules_of(services, incident.service, incident.behavior):
                lifecycle.record(
                    session=session, incident_id=incident.id or 0, actor=set_by,
                    kind="oncall_override", now=now,
                    message=f"{user} is on call for {schedule} until {until.isoformat()}"
                            f" (set by {set_by}){': ' + reason if reason else ''}",
                    details={"schedule": schedule, "user": user, "until": until.isoformat()})
    return Shift(user, start, until, "override")


def _schedules_of(services: Services, service_name: str, label: str | None) -> list[str]:
    service = services.catalog.service(service_name)
    return service.owners_for(label).schedules if service else []
