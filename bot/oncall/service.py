"""Schedules as the bot uses them: the catalog's layers plus the overrides people set.

The catalog holds the rotations (reviewed like code); overrides set from Slack or the
API are rows, and each one is written on the timeline of the open incidents whose
owners name that schedule, so the record shows who held the pager when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.oncall_schedule import (
    Override,
    PagePlan,
    Schedule,
    Shift,
    next_shift,
    on_call,
    shifts,
)
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


def schedules_for(services: Services, target: str | None) -> list[str]:
    """A schedule's own name, the schedules named by a failure class's owners, or all."""
    names = schedule_names(services)
    if target is None:
        return names
    if target in names:
        return [target]
    named = [name for svc in services.catalog.services if target in svc.owners
             for name in svc.owners_for(target).schedules]
    if not named:
        raise UserError(f"no schedule or failure class {target!r} with a schedule "
                        f"(schedules: {', '.join(names) or 'none'})")
    return list(dict.fromkeys(named))


@dataclass(frozen=True)
class Swap:
    """A swap as made: the named person holds the pager until ``current`` ends, and
    ``current``'s holder takes ``theirs`` (the named person's next shift) if they have one."""

    current: Shift
    theirs: Shift | None


def swap(services: Services, *, schedule: str, user: str, set_by: str) -> Swap:
    """``user`` covers the rest of the current shift; its holder covers ``user``'s next
    shift (within 60 days) in return. Two overrides, each on the affected timelines."""
    current, _ = now_and_next(services, schedule)
    if current is None:
        raise UserError(f"nobody is on call for {schedule} now: use `/oncall override`")
    if current.user == user:
        # a mention, as the runbook refusals name people: Slack shows it, error() keeps it
        raise UserError(f"<@{user}> is already on call for {schedule}")
    now = services.clock()
    theirs = next((s for s in shifts(effective_schedule(services, schedule),
                                     current.end, current.end + timedelta(days=60))
                   if s.user == user), None)
    add_override(services, schedule=schedule, user=user, until=current.end, set_by=set_by,
                 reason=f"swap with {current.user}")
    if theirs is not None:
        add_override(services, schedule=schedule, user=current.user, until=theirs.end,
                     starts_at=max(theirs.start, now), set_by=set_by,
                     reason=f"swap with {user}")
    return Swap(current, theirs)
