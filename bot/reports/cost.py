"""The cost trend: dollars per 1,000 requests and tokens per request, week over week.

Both are levels reported per interval with ``count`` = the requests they cover,
so a week's (or a day's, or a team's) figure is the request-weighted mean: the
real cost per 1k of all those requests, not the mean of the intervals. A record
without a count weighs one. Only all-traffic records (empty slice) are used; the
per-slice ones break the same traffic down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from bot.reports.weeks import IsoWeek
from bot.slo.series import RecordsByName

COST = "cost_per_1k_requests"
TOKENS = "tokens_per_request"
DAY = 86_400.0


@dataclass(frozen=True)
class Daily:
    """Weighted sums per day over the two weeks (14 days, the previous week first)."""

    weighted: np.ndarray
    weight: np.ndarray

    @classmethod
    def empty(cls) -> Daily:
        return cls(np.zeros(14), np.zeros(14))

    def __add__(self, other: Daily) -> Daily:
        return Daily(self.weighted + other.weighted, self.weight + other.weight)

    def mean(self, first: int, last: int) -> float | None:
        weight = float(self.weight[first:last].sum())
        return float(self.weighted[first:last].sum()) / weight if weight > 0 else None

    def means(self) -> tuple[float | None, ...]:
        return tuple(self.mean(day, day + 1) for day in range(14))


def daily(records: Any, name: str, week: IsoWeek) -> Daily:
    start = week.previous().start.timestamp()
    chosen = [r for r in RecordsByName.of(records).by_name.get(name, ()) if not r.slice]
    if not chosen:
        return Daily.empty()
    seconds = np.array([r.ts.timestamp() for r in chosen])
    values = np.array([r.value for r in chosen], dtype=float)
    weights = np.array([r.count if r.count is not None else 1.0 for r in chosen], dtype=float)
    day = np.floor((seconds - start) / DAY).astype(np.int64)
    keep = (day >= 0) & (day < 14) & np.isfinite(values)
    return Daily(np.bincount(day[keep], weights=(values * weights)[keep], minlength=14),
                 np.bincount(day[keep], weights=weights[keep], minlength=14))


@dataclass(frozen=True)
class CostRow:
    service: str
    cost_per_1k: float | None
    previous_cost_per_1k: float | None
    tokens_per_request: float | None
    previous_tokens_per_request: float | None
    daily_cost: tuple[float | None, ...]
    daily_tokens: tuple[float | None, ...]

    @property
    def has_data(self) -> bool:
        return any(v is not None for v in (*self.daily_cost, *self.daily_tokens))


@dataclass(frozen=True)
class CostTrend:
    days: tuple[date, ...]
    team: CostRow  # all the team's requests together
    services: tuple[CostRow, ...]  # services that report cost, the dearest first


def _row(service: str, cost: Daily, tokens: Daily) -> CostRow:
    return CostRow(service, cost.mean(7, 14), cost.mean(0, 7), tokens.mean(7, 14),
                   tokens.mean(0, 7), cost.means(), tokens.means())


def cost_trend(services: Sequence[tuple[str, Any]], week: IsoWeek) -> CostTrend:
    """``services`` is ``(name, records)`` pairs."""
    team_cost, team_tokens = Daily.empty(), Daily.empty()
    rows = []
    for name, records in services:
        grouped = RecordsByName.of(records)
        cost, tokens = daily(grouped, COST, week), daily(grouped, TOKENS, week)
        team_cost, team_tokens = team_cost + cost, team_tokens + tokens
        row = _row(name, cost, tokens)
        if row.has_data:
            rows.append(row)
    rows.sort(key=lambda row: (-(row.cost_per_1k or 0.0), row.service))
    first = week.previous().start.date()
    return CostTrend(tuple(first + timedelta(days=i) for i in range(14)),
                     _row("all services", team_cost, team_tokens), tuple(rows))
