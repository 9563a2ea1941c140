"""The status of each SLO: attainment, budget, burn rate, alerts, from signal records.

Everything is recomputed from the records on each call (nothing is accumulated),
so a late or corrected signal changes the answer instead of drifting from it.
Records come through a ``RecordLoader`` (by default the store), so the same code
serves stored signals, a file, or a Prometheus reader.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.config.slo_spec import SLO
from bot.core.clock import format_ts, to_utc
from bot.core.errors import NotFound
from bot.slo.series import Records, RecordsByName, UnitSeries, bin_step, unit_series
from bot.sources import load_signals
from classifiers.budget import BudgetResult, error_budget, time_to_exhaustion
from classifiers.burn import (
    PAGE,
    TICKET,
    BurnEvaluation,
    default_rules,
    evaluate_burn,
    rolling_burn_rate,
)
from store.db import session_scope

if TYPE_CHECKING:
    from bot.core.services import Services

log = logging.getLogger(__name__)

RecordLoader = Callable[[str, datetime, datetime], Sequence[Any]]

NO_DATA = "no_data"
OK = "ok"
EXHAUSTED = "exhausted"
CURRENT_BURN = timedelta(hours=1)  # "current burn rate": the page pair's long window


def store_loader(services: Services) -> RecordLoader:
    """Signal records of one service and time range, from the store."""

    def load(service: str, start: datetime, end: datetime) -> Sequence[Any]:
        # bot.sources: pushed records plus those pulled from Prometheus (one seam for all).

        with session_scope(services.engine) as session:
            loaded = load_signals(services, session=session, service=service, start=start,
                                  end=end)
        for message in loaded.errors:  # also on /healthz; the budget uses what was read
            log.warning("SLOs of %s: %s", service, message)
        return loaded.records

    return load


@dataclass(frozen=True)
class BurnPairStatus:
    rule: str
    severity: str
    factor: float
    long_burn: float | None
    short_burn: float | None
    firing: bool


@dataclass(frozen=True)
class SLOStatus:
    """One objective of one service at one moment."""

    service: str
    slo: SLO
    computed_at: datetime
    window_start: datetime
    unit: str
    budget: BudgetResult
    burn_rate: float | None  # over the last hour
    time_to_exhaustion: timedelta | None
    alerts: tuple[str, ...]  # severities firing now, most urgent first
    pairs: tuple[BurnPairStatus, ...]

    @property
    def name(self) -> str:
        return self.slo.name

    @property
    def status(self) -> str:
        """``no_data``, ``page``, ``exhausted``, ``ticket`` or ``ok``, most urgent first."""
        if not self.budget.has_data:
            return NO_DATA
        if PAGE in self.alerts:
            return PAGE
        if self.budget.budget_remaining is not None and self.budget.budget_remaining <= 0:
            return EXHAUSTED
        if TICKET in self.alerts:
            return TICKET
        return OK

    def to_dict(self) -> dict[str, Any]:
        budget = self.budget
        tte = self.time_to_exhaustion
        return {
            "service": self.service, "slo": self.slo.name, "kind": self.slo.sli.kind,
            "objective": self.slo.sli.describe(), "target": self.slo.target,
            "window": self.slo.window, "budgeting": self.slo.budgeting, "unit": self.unit,
            "filter": dict(self.slo.filter), "status": self.status,
            "attainment": _finite(budget.attainment), "good": budget.good, "bad": budget.bad,
            "total": budget.total, "budget_total": budget.budget_total,
            "budget_consumed": _finite(budget.budget_consumed),
            "budget_remaining": _finite(budget.budget_remaining),
            "burn_rate": _finite(self.burn_rate),
            "time_to_exhaustion_seconds": None if tte is None else tte.total_seconds(),
            "alerts": list(self.alerts),
            "burn_windows": [
                {"rule": p.rule, "severity": p.severity, "factor": round(p.factor, 6),
                 "long_burn": _finite(p.long_burn), "short_burn": _finite(p.short_burn),
                 "firing": p.firing} for p in self.pairs],
            "window_start": format_ts(self.window_start),
            "computed_at": format_ts(self.computed_at),
        }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _last(values: np.ndarray) -> float | None:
    if values.size == 0 or not math.isfinite(float(values[-1])):
        return None
    return float(values[-1])


def budget_basis(slo: SLO, now: datetime) -> float | None:
    """Units the budget is a share of: timeslices in the whole window, else observed events."""
    if slo.budgeting != "timeslices":
        return None
    return slo.window_length(now) / slo.timeslice_length


def lookback(slo: SLO, now: datetime) -> timedelta:
    """How far back the burn-rate rules look: their longest window."""
    rules = default_rules(slo.window_length(now).total_seconds() / 60.0)
    return timedelta(minutes=max(rule.long_minutes for rule in rules))


def evaluate(slo: SLO, records: Records, *, now: datetime) -> tuple[BurnEvaluation,
                                                                          UnitSeries]:
    """Every burn rule of ``slo`` over the bins of its longest window, ending at ``now``."""
    now = to_utc(now)
    rules = default_rules(slo.window_length(now).total_seconds() / 60.0)
    series = unit_series(slo, records, start=now - lookback(slo, now), end=now)
    return evaluate_burn(series.bad, series.total, slo.target, rules,
                         bin_minutes=series.step_minutes), series


def slo_status(slo: SLO, records: Records, *, service: str,
               now: datetime) -> SLOStatus:
    """Attainment, budget, burn and alerts of one objective from its records."""
    now = to_utc(now)
    records = RecordsByName.of(records)
    window_start, _ = slo.window_bounds(now)
    series = unit_series(slo, records, start=window_start, end=now)
    budget = error_budget(series.bad, series.total, slo.target,
                          budget_basis=budget_basis(slo, now))
    evaluation, burn_series = evaluate(slo, records, now=now)
    hour_bins = max(1, math.ceil(CURRENT_BURN / bin_step(slo)))
    rate = (_last(rolling_burn_rate(burn_series.bad, burn_series.total, hour_bins, slo.target))
            if burn_series.bins else None)
    pairs = tuple(BurnPairStatus(p.rule.name, p.rule.severity, p.rule.factor,
                                 _last(p.long_burn), _last(p.short_burn), p.firing_now)
                  for p in evaluation.pairs)
    return SLOStatus(service=service, slo=slo, computed_at=now, window_start=window_start,
                     unit=series.unit, budget=budget, burn_rate=rate,
                     time_to_exhaustion=time_to_exhaustion(budget.budget_remaining, rate,
                                                           slo.window_length(now)),
                     alerts=evaluation.firing_now(), pairs=pairs)


def load_window(slo_list: Sequence[SLO], *, now: datetime) -> datetime:
    """The earliest time any of these SLOs needs records from."""
    starts = [min(slo.window_bounds(now)[0], now - lookback(slo, now)) for slo in slo_list]
    return min(starts) if starts else now


def service_status(services: Services, service: str, *, now: datetime | None = None,
                   loader: RecordLoader | None = None) -> list[SLOStatus]:
    """Every SLO of one catalog service; raises ``NotFound`` for an unknown service."""

    entry = services.catalog.service(service)
    if entry is None:
        raise NotFound(f"unknown service {service!r}")
    if not entry.slos:
        return []
    now = to_utc(now or services.clock())
    load = loader or store_loader(services)
    records = RecordsByName(load(service, load_window(entry.slos, now=now), now))
    return [slo_status(slo, records, service=service, now=now) for slo in entry.slos]


def all_statuses(services: Services, *, now: datetime | None = None,
                 loader: RecordLoader | None = None) -> list[SLOStatus]:
    """Every SLO of every service in the catalog, service by service."""
    now = to_utc(now or services.clock())
    statuses: list[SLOStatus] = []
    for entry in services.catalog.services:
        statuses.extend(service_status(services, entry.name, now=now, loader=loader))
    return statuses
