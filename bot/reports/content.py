"""A team's digest for one ISO week: every section, and what got better and worse.

``build_digest`` is a pure function of ``DigestInputs``, so the same week always
gives the same digest and tests can compute it by hand.

What counts as a change (so noise does not fill the "better/worse" lists):

- an SLO's weekly attainment that moved by at least ``ATTAINMENT_STEP`` (0.01
  percentage points);
- the number of incidents, when it changed at all;
- MTTA, MTTR, cost per 1k requests and tokens per request that moved by more
  than ``RELATIVE_STEP`` (5 %) of last week's value; lower is better for all four.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.reports.cost import CostTrend, cost_trend
from bot.reports.incidents import (
    ChangeKindCount,
    ClassRow,
    IncidentBudget,
    RunbookCounts,
    SourceCounts,
    budget_consumed,
    by_class,
    runbooks,
    sources,
    suspect_kinds,
    totals,
    weekly_by_class,
)
from bot.reports.inputs import DigestInputs
from bot.reports.oncall import OnCallWeek, oncall_week
from bot.reports.slos import ServiceRecords, SLOWeek, between, slo_week
from bot.reports.weeks import IsoWeek

ATTAINMENT_STEP = 0.0001
RELATIVE_STEP = 0.05


@dataclass(frozen=True)
class Delta:
    """One figure that moved between the two weeks."""

    what: str
    before: float
    after: float
    unit: str  # "attainment", "incidents", "minutes", "dollars", "tokens"
    better: bool


@dataclass(frozen=True)
class Digest:
    team: str
    channel: str
    week: IsoWeek
    services: tuple[str, ...]
    slos: tuple[SLOWeek, ...]
    classes: tuple[ClassRow, ...]
    total: ClassRow
    budgets: tuple[IncidentBudget, ...]
    sources: SourceCounts
    runbooks: RunbookCounts
    previous_runbooks: RunbookCounts
    cost: CostTrend
    suspect_kinds: tuple[ChangeKindCount, ...]
    weekly_classes: tuple[tuple[str, dict[str, int]], ...]
    better: tuple[Delta, ...]
    worse: tuple[Delta, ...]
    oncall: OnCallWeek

    @property
    def previous_week(self) -> IsoWeek:
        return self.week.previous()

    @property
    def has_cost_data(self) -> bool:
        return bool(self.cost.services)

    @property
    def recurring_kinds(self) -> tuple[ChangeKindCount, ...]:
        return tuple(row for row in self.suspect_kinds if row.recurring)


def _relative(what: str, before: float | None, after: float | None, unit: str) -> list[Delta]:
    if before is None or after is None or before <= 0:
        return []
    if abs(after - before) <= RELATIVE_STEP * before:
        return []
    return [Delta(what, before, after, unit, better=after < before)]


def deltas(slos: tuple[SLOWeek, ...], total: ClassRow, cost: CostTrend) -> list[Delta]:
    found: list[Delta] = []
    for slo in slos:
        before, after = slo.previous_attainment, slo.attainment
        if before is not None and after is not None and \
                abs(after - before) >= ATTAINMENT_STEP - 1e-12:
            found.append(Delta(f"{slo.key} attainment", before, after, "attainment",
                               better=after > before))
    now, then = total.this_week, total.previous_week
    if now.count != then.count:
        found.append(Delta("incidents", then.count, now.count, "incidents",
                           better=now.count < then.count))
    found += _relative("MTTA", then.mtta_minutes, now.mtta_minutes, "minutes")
    found += _relative("MTTR", then.mttr_minutes, now.mttr_minutes, "minutes")
    rows = [cost.team] + (list(cost.services) if len(cost.services) > 1 else [])
    for row in rows:
        found += _relative(f"{row.service} cost per 1k requests", row.previous_cost_per_1k,
                           row.cost_per_1k, "dollars")
        found += _relative(f"{row.service} tokens per request",
                           row.previous_tokens_per_request, row.tokens_per_request, "tokens")
    return found


def build_digest(inputs: DigestInputs) -> Digest:
    week = inputs.week
    grouped = [(service, ServiceRecords(service.records)) for service in inputs.services]
    slos = tuple(slo_week(slo, records, service=service.name, week=week)
                 for service, records in grouped for slo in service.slos)
    total = totals(inputs.incidents, week)
    cost = cost_trend([(service.name, between(records.all_traffic, week.previous().start,
                                              week.end)) for service, records in grouped], week)
    this_runs, previous_runs = runbooks(inputs.runs, week)
    found = deltas(slos, total, cost)
    return Digest(
        team=inputs.team, channel=inputs.channel, week=week,
        services=tuple(service.name for service in inputs.services), slos=slos,
        classes=by_class(inputs.incidents, week), total=total,
        budgets=budget_consumed(inputs.incidents, week),
        sources=sources(inputs.incidents, week), runbooks=this_runs,
        previous_runbooks=previous_runs, cost=cost,
        suspect_kinds=suspect_kinds(inputs.incidents, week),
        weekly_classes=weekly_by_class(inputs.incidents, week, max(2, inputs.history_weeks)),
        better=tuple(d for d in found if d.better),
        worse=tuple(d for d in found if not d.better),
        oncall=oncall_week(inputs.pages, inputs.silenced, week, inputs.timezone))
