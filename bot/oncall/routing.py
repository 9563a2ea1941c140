"""Who is paged for an incident, in which order: the page plan.

Owners of a failure class may name schedules as well as users and groups. When they
do, only the person on call now on the first schedule is invited and mentioned; the
other owners are listed, not paged. Escalation then walks: the on-call person of each
further schedule (the secondary), then the class's groups, then the service's
escalation chain. Owners with no schedule keep the old behaviour: everyone named is
invited at once, and escalation walks the chain.

Pure: the catalog's owners and schedules and a time in, a plan out. Expanding a group
into its members needs Slack and happens in the Slack part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.config.oncall_schedule import PagePlan, Schedule, Target, on_call


def page_plan(*, users: Sequence[str], groups: Sequence[str], schedule_names: Sequence[str],
              schedules: Mapping[str, Schedule], chain: Sequence[str],
              at: datetime) -> PagePlan:
    if not schedule_names:
        first = (*(Target("user", u, "owner") for u in users),
                 *(Target("group", g, "owner group") for g in groups))
        steps = tuple(Target("user", u, "escalation chain") for u in chain)
        return PagePlan(first=_distinct(first), listed=(), steps=steps)
    on_duty: list[Target] = []
    for rank, name in enumerate(schedule_names):
        shift = on_call(schedules[name], at)
        if shift is not None:
            role = "on call" if rank == 0 else "secondary"
            on_duty.append(Target("user", shift.user, f"{role} ({name})"))
    first = tuple(on_duty[:1])
    steps = (*on_duty[1:], *(Target("group", g, "owner group") for g in groups),
             *(Target("user", u, "escalation chain") for u in chain))
    paged = {t.id for t in first}
    listed = tuple(u for u in dict.fromkeys(users) if u not in paged)
    if not first and steps:  # nobody on call right now: the next step answers at once
        first, steps = steps[:1], steps[1:]
    return PagePlan(first=_distinct(first), listed=listed,
                    steps=tuple(t for t in _distinct(steps) if t not in first))


def _distinct(targets: Sequence[Target]) -> tuple[Target, ...]:
    seen: set[str] = set()
    kept = []
    for target in targets:
        if target.id not in seen:
            seen.add(target.id)
            kept.append(target)
    return tuple(kept)
