"""What an incident cost each SLO of its service, as a share of the window's budget.

For each objective: the bad units (events or timeslices) from the incident's
onset to its mitigation, minus what the baseline rate of the ``BASELINE`` before
the onset would have produced over the same units, divided by the budget of the
SLO window ending at the mitigation. Computed again (not accumulated) at
mitigation and at resolution, and per slice where the SLO's data has slices, so a
tenant-only regression shows where the budget went.

Stored on ``Incident.budget_impact``::

    {"computed_at": "...", "stage": "mitigated", "onset": "...", "until": "...",
     "baseline_start": "...",
     "slos": {"groundedness": {"kind": "quality", "objective": "groundedness >= 0.85",
                               "unit": "timeslices", "target": 0.99, "window": "30d",
                               "bad": 12.0, "total": 12.0, "baseline_ratio": 0.0069,
                               "expected_bad": 0.083, "excess_bad": 11.92,
                               "budget_total": 86.4, "share": 0.138,
                               "slices": {"tenant=acme": {...same keys, no "slices"}}}},
     "worst": {"slo": "groundedness", "share": 0.138},
     "summary": "budget impact (share of each SLO's window budget): groundedness 13.8%"}

``summary`` is the one line the incident summary shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config.slo_spec import SLO
from bot.core.clock import format_ts, to_utc
from bot.core.errors import NotFound
from bot.incidents import lifecycle
from bot.slo.compute import RecordLoader, budget_basis, store_loader
from bot.slo.series import Records, RecordsByName, UnitSeries, slice_unit_series, unit_series
from classifiers.budget import BudgetImpact, budget_impact
from store.db import session_scope
from store.models import Incident

if TYPE_CHECKING:
    from bot.core.services import Services

BASELINE = timedelta(hours=24)


def _impact(slo: SLO, series: UnitSeries, *, onset: datetime, until: datetime) -> BudgetImpact:
    during = series.between(onset, until)
    baseline = series.between(onset - BASELINE, onset)
    window = series.between(until - slo.window_length(until), until)
    basis = budget_basis(slo, until)
    budget_total = (1.0 - slo.target) * (float(window.total.sum()) if basis is None else basis)
    return budget_impact(during.bad, during.total, baseline.bad, baseline.total, budget_total)


def _as_dict(impact: BudgetImpact) -> dict[str, Any]:
    return {"bad": impact.bad, "total": impact.total, "baseline_ratio": impact.baseline_ratio,
            "expected_bad": impact.expected_bad, "excess_bad": impact.excess_bad,
            "budget_total": impact.budget_total, "share": impact.share}


def slo_impact(slo: SLO, records: Records, *, onset: datetime,
               until: datetime) -> dict[str, Any]:
    """One SLO's impact, overall and per slice, as stored on the incident."""
    onset, until = to_utc(onset), to_utc(until)
    start = min(onset - BASELINE, until - slo.window_length(until))
    overall = _impact(slo, unit_series(slo, records, start=start, end=until),
                      onset=onset, until=until)
    slices = {key: _as_dict(_impact(slo, series, onset=onset, until=until))
              for key, series in slice_unit_series(slo, records, start=start,
                                                   end=until).items()}
    return {"kind": slo.sli.kind, "objective": slo.sli.describe(),
            "unit": "timeslices" if slo.budgeting == "timeslices" else "events",
            "target": slo.target, "window": slo.window, **_as_dict(overall),
            "slices": {key: value for key, value in slices.items() if value["total"] > 0}}


def service_impact(slos: Sequence[SLO], records: Records, *, onset: datetime,
                   until: datetime, stage: str, now: datetime) -> dict[str, Any]:
    """Every SLO's impact for one incident: the value of ``Incident.budget_impact``."""
    records = RecordsByName.of(records)
    per_slo = {slo.name: slo_impact(slo, records, onset=onset, until=until) for slo in slos}
    shares = [(value["share"], name) for name, value in per_slo.items()
              if value["share"] is not None]
    worst = max(shares, default=None)
    impact = {"computed_at": format_ts(now), "stage": stage, "onset": format_ts(onset),
              "until": format_ts(until), "baseline_start": format_ts(onset - BASELINE),
              "slos": per_slo,
              "worst": {"slo": worst[1], "share": worst[0]} if worst else None}
    return {**impact, "summary": describe_impact(impact)}


def records_window(slos: Sequence[SLO], *, onset: datetime, until: datetime) -> datetime:
    return min([onset - BASELINE] + [until - slo.window_length(until) for slo in slos])


def update_budget_impact(services: Services, incident_id: int, *,
                         loader: RecordLoader | None = None) -> dict[str, Any]:
    """Recompute and store the budget impact of one incident; returns what was stored.

    The span runs from the incident's onset (else its creation) to its mitigation
    (else its resolution, else now, while it is ongoing).
    """

    now = to_utc(services.clock())
    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        service = incident.service
        onset = incident.onset or incident.created_at
        until = incident.mitigated_at or incident.resolved_at or now
        stage = ("mitigated" if incident.mitigated_at else
                 "resolved" if incident.resolved_at else "ongoing")
    entry = services.catalog.service(service)
    slos = list(entry.slos) if entry is not None else []
    if not slos:
        impact: dict[str, Any] = {"computed_at": format_ts(now), "stage": stage, "slos": {},
                                  "worst": None, "summary": "no SLOs defined for this service"}
    else:
        load = loader or store_loader(services)
        records = load(service, records_window(slos, onset=onset, until=until), until)
        impact = service_impact(slos, records, onset=onset, until=until, stage=stage, now=now)
    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        incident.budget_impact = impact
        session.add(incident)
        lifecycle.record(session=session, incident_id=incident_id, actor="rule:budget",
                         kind="budget_impact", message=impact["summary"], now=now,
                         details={"worst": impact.get("worst"), "stage": stage})
    return impact


def describe_impact(impact: dict[str, Any]) -> str:
    """One line for the timeline: each SLO that lost budget, largest share first."""
    spent = sorted(((value.get("share") or 0.0, name)
                    for name, value in impact.get("slos", {}).items()), reverse=True)
    parts = [f"{name} {share:.1%}" for share, name in spent[:6] if share > 0]
    if not parts:
        return "budget impact: no SLO budget spent beyond the baseline"
    return "budget impact (share of each SLO's window budget): " + ", ".join(parts)


# Stages at which an incident's budget impact is (re)computed.
_PRICED_AT = {"mitigated", "resolved"}


def price_budget_impact(*, services: Services, incident_id: int, status: str | None = None,
                        **_: Any) -> None:
    """Follow-up of a changed incident: price its budget impact once it is mitigated."""
    if status not in _PRICED_AT:
        return
    update_budget_impact(services, incident_id)
    services.emit("incident.changed", incident_id=incident_id)  # refresh the Slack summary
