"""The week's incidents: by failure class with MTTA and MTTR, the budget each one
consumed, where they came from, the runbooks run, and the changes suspected.

Pure: ``IncidentFact`` and ``RunFact`` lists in, plain numbers out. Times are
measured from when the incident was opened (``created_at``): MTTA to its
acknowledgement, MTTR to its resolution, as means over the incidents that got
there (an incident still open counts in ``count`` but not in the means).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.reports.inputs import UNCLASSIFIED, IncidentFact, RunFact
from bot.reports.weeks import IsoWeek
from classifiers.vocabulary import LABELS

CLASS_ORDER = (*LABELS, UNCLASSIFIED)
SOURCES = ("detector", "alert", "budget", "manual")
VERIFIED = "recovered"


def in_week(moment: datetime, week: IsoWeek) -> bool:
    return week.start <= moment < week.end


def _mean_minutes(spans: list[float]) -> float | None:
    return sum(spans) / len(spans) / 60.0 if spans else None


@dataclass(frozen=True)
class ResponseStats:
    """Count, MTTA and MTTR (minutes) of a group of incidents."""

    count: int
    acknowledged: int
    resolved: int
    mtta_minutes: float | None
    mttr_minutes: float | None

    @classmethod
    def of(cls, incidents: Sequence[IncidentFact]) -> ResponseStats:
        acks = [(i.acknowledged_at - i.created_at).total_seconds()
                for i in incidents if i.acknowledged_at is not None]
        fixes = [(i.resolved_at - i.created_at).total_seconds()
                 for i in incidents if i.resolved_at is not None]
        return cls(len(incidents), len(acks), len(fixes), _mean_minutes(acks),
                   _mean_minutes(fixes))


@dataclass(frozen=True)
class ClassRow:
    label: str
    this_week: ResponseStats
    previous_week: ResponseStats


def by_class(incidents: Sequence[IncidentFact], week: IsoWeek) -> tuple[ClassRow, ...]:
    """A row per failure class seen in either week, in the catalog's class order."""
    before = week.previous()
    rows = []
    for label in CLASS_ORDER:
        now = [i for i in incidents if i.label == label and in_week(i.created_at, week)]
        then = [i for i in incidents if i.label == label and in_week(i.created_at, before)]
        if now or then:
            rows.append(ClassRow(label, ResponseStats.of(now), ResponseStats.of(then)))
    return tuple(rows)


def totals(incidents: Sequence[IncidentFact], week: IsoWeek) -> ClassRow:
    return ClassRow("all", ResponseStats.of([i for i in incidents
                                             if in_week(i.created_at, week)]),
                    ResponseStats.of([i for i in incidents
                                      if in_week(i.created_at, week.previous())]))


@dataclass(frozen=True)
class IncidentBudget:
    """What one incident cost: each SLO's share of its window budget, largest first."""

    id: int
    service: str
    title: str
    label: str
    source: str
    spent: tuple[tuple[str, float], ...]

    @property
    def worst(self) -> tuple[str, float] | None:
        return self.spent[0] if self.spent else None


def budget_consumed(incidents: Sequence[IncidentFact], week: IsoWeek) -> tuple[IncidentBudget,
                                                                                ...]:
    """This week's incidents that spent budget, the most expensive first."""
    rows = []
    for incident in incidents:
        if not in_week(incident.created_at, week):
            continue
        slos = (incident.budget_impact or {}).get("slos") or {}
        spent = sorted(((name, float(value.get("share") or 0.0)) for name, value in slos.items()
                        if isinstance(value, dict) and (value.get("share") or 0.0) > 0),
                       key=lambda item: (-item[1], item[0]))
        if spent:
            rows.append(IncidentBudget(incident.id, incident.service, incident.title,
                                       incident.label, incident.source, tuple(spent)))
    rows.sort(key=lambda row: (-row.spent[0][1], row.id))
    return tuple(rows)


@dataclass(frozen=True)
class SourceCounts:
    """How incidents were found: ``detector`` ones are silent degradations no alert caught."""

    this_week: dict[str, int]
    previous_week: dict[str, int]

    @property
    def silent(self) -> int:
        return self.this_week.get("detector", 0)

    @property
    def alerted(self) -> int:
        return self.this_week.get("alert", 0)


def sources(incidents: Sequence[IncidentFact], week: IsoWeek) -> SourceCounts:
    def count(w: IsoWeek) -> dict[str, int]:
        found = Counter(i.source for i in incidents if in_week(i.created_at, w))
        return {source: found.get(source, 0) for source in (*SOURCES, *sorted(
            set(found) - set(SOURCES)))}
    return SourceCounts(count(week), count(week.previous()))


@dataclass(frozen=True)
class RunbookCounts:
    run: int
    succeeded: int
    verified: int  # a verify step judged the service recovered
    by_runbook: tuple[tuple[str, int, int, int], ...]  # (runbook, run, succeeded, verified)


def _runbook_counts(runs: Sequence[RunFact]) -> RunbookCounts:
    names = sorted({run.runbook for run in runs})
    per = tuple((name, sum(r.runbook == name for r in runs),
                 sum(r.runbook == name and r.status == "succeeded" for r in runs),
                 sum(r.runbook == name and r.verdict == VERIFIED for r in runs)) for name in names)
    return RunbookCounts(len(runs), sum(r.status == "succeeded" for r in runs),
                         sum(r.verdict == VERIFIED for r in runs), per)


def runbooks(runs: Sequence[RunFact], week: IsoWeek) -> tuple[RunbookCounts, RunbookCounts]:
    """(this week, the week before), by when each run was requested."""
    return (_runbook_counts([r for r in runs if in_week(r.created_at, week)]),
            _runbook_counts([r for r in runs if in_week(r.created_at, week.previous())]))


@dataclass(frozen=True)
class ChangeKindCount:
    kind: str
    this_week: int
    previous_week: int
    incidents: tuple[int, ...]  # this week's incidents it was the top suspect of

    @property
    def recurring(self) -> bool:
        """Suspected in more than one incident over the two weeks, one of them this week."""
        return self.this_week >= 1 and self.this_week + self.previous_week >= 2


def suspect_kinds(incidents: Sequence[IncidentFact], week: IsoWeek) -> tuple[ChangeKindCount,
                                                                              ...]:
    before = week.previous()
    now = [i for i in incidents if i.suspect_kind and in_week(i.created_at, week)]
    then = Counter(kind for i in incidents
                   if (kind := i.suspect_kind) and in_week(i.created_at, before))
    counts = Counter(kind for i in now if (kind := i.suspect_kind))
    rows = [ChangeKindCount(kind, counts.get(kind, 0), then.get(kind, 0),
                            tuple(i.id for i in now if i.suspect_kind == kind))
            for kind in set(counts) | set(then)]
    rows.sort(key=lambda row: (-row.this_week, -row.previous_week, row.kind))
    return tuple(rows)


def weekly_by_class(incidents: Sequence[IncidentFact], week: IsoWeek,
                    weeks: int) -> tuple[tuple[str, dict[str, int]], ...]:
    """Incident counts per class for the ``weeks`` weeks ending with ``week``, oldest first."""
    result = []
    for back in range(weeks - 1, -1, -1):
        w = week.previous(back) if back else week
        found = Counter(i.label for i in incidents if in_week(i.created_at, w))
        result.append((str(w), {label: found[label] for label in CLASS_ORDER if found[label]}))
    return tuple(result)
