"""Error budgets: attainment, budget consumed and left, time to exhaustion, incident impact.

An SLO promises that at most ``1 - target`` of its units (events, or timeslices)
are bad. The budget is that allowance; everything here is recomputed from the
per-bin counts of bad and total units, never accumulated, so it cannot drift from
the signals it was computed from.

Units are whatever the caller counts: request events weighted by their counts
(budgeting by occurrences), or timeslices that met or missed a bound (budgeting
by timeslices). The arithmetic is the same; only the caller knows which it is.

An empty window is "no data": ``attainment`` and the budget shares are ``None``,
never a division error.

References
----------
.. [1] Beyer et al., "The Site Reliability Workbook", ch. 2 "Implementing SLOs"
       and ch. 5 "Alerting on SLOs", O'Reilly, 2018.
.. [2] OpenSLO specification v1, "budgetingMethod: Occurrences | Timeslices".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class BudgetResult:
    """The state of one objective's budget over one window.

    Attributes
    ----------
    target : float
        The promised share of good units, in (0, 1).
    good, bad, total : float
        Units observed in the window; ``good + bad == total``.
    attainment : float or None
        ``good / total``; None when the window holds no data.
    budget_total : float
        Bad units the window may spend: ``(1 - target) * budget_basis``.
    budget_consumed : float or None
        ``bad / budget_total``, a share (above 1 when overspent); None without data.
    budget_remaining : float or None
        ``1 - budget_consumed`` (negative when overspent); None without data.
    """

    target: float
    good: float
    bad: float
    total: float
    attainment: float | None
    budget_total: float
    budget_consumed: float | None
    budget_remaining: float | None

    @property
    def has_data(self) -> bool:
        return self.attainment is not None


@dataclass(frozen=True)
class BudgetImpact:
    """What one incident cost an objective, beyond what its baseline would have cost.

    Attributes
    ----------
    bad, total : float
        Units between the incident's onset and its mitigation.
    baseline_ratio : float or None
        Bad share of the units before the onset; None without baseline data
        (then nothing is subtracted: every bad unit counts against the incident).
    expected_bad : float
        ``baseline_ratio * total``: what the baseline rate would have produced.
    excess_bad : float
        ``max(bad - expected_bad, 0)``.
    budget_total : float
        The window's budget in the same units.
    share : float or None
        ``excess_bad / budget_total``; None when the budget is zero or unknown.
    """

    bad: float
    total: float
    baseline_ratio: float | None
    expected_bad: float
    excess_bad: float
    budget_total: float
    share: float | None


def _target_iv(target: float) -> float:
    target = float(target)
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must lie strictly between 0 and 1, got {target!r}")
    return target


def _counts_iv(bad: ArrayLike, total: ArrayLike) -> tuple[float, float]:
    bad_sum = float(np.sum(np.asarray(bad, dtype=float)))
    total_sum = float(np.sum(np.asarray(total, dtype=float)))
    if not (math.isfinite(bad_sum) and math.isfinite(total_sum)):
        raise ValueError("bad and total counts must be finite")
    if bad_sum < 0 or total_sum < 0:
        raise ValueError(f"counts must not be negative, got bad={bad_sum}, total={total_sum}")
    if bad_sum > total_sum * (1 + 1e-12) + 1e-9:
        raise ValueError(f"bad ({bad_sum}) exceeds total ({total_sum})")
    return min(bad_sum, total_sum), total_sum


def error_budget(bad: ArrayLike, total: ArrayLike, target: float, *,
                 budget_basis: float | None = None) -> BudgetResult:
    """Attainment and budget of one window from per-bin bad and total counts.

    Parameters
    ----------
    bad, total : array_like
        Bad and total units per bin (or scalars); summed over the window.
    target : float
        The objective, e.g. ``0.995``.
    budget_basis : float, optional
        Units the budget is a share of. By default the observed ``total``
        (occurrences: the budget grows with traffic). For timeslices pass the
        number of timeslices in the whole window, so each bad slice costs a fixed
        share whether or not the others had data.

    Returns
    -------
    BudgetResult

    Examples
    --------
    >>> r = error_budget([1, 3], [500, 500], 0.995)   # 4 bad of 1000, 5 allowed
    >>> r.attainment, r.budget_total, r.budget_consumed
    (0.996, 5.0..., 0.8...)
    """
    target = _target_iv(target)
    bad_sum, total_sum = _counts_iv(bad, total)
    basis = total_sum if budget_basis is None else float(budget_basis)
    if not math.isfinite(basis) or basis < 0:
        raise ValueError(f"budget_basis must be a finite number >= 0, got {budget_basis!r}")
    budget_total = (1.0 - target) * basis
    if total_sum <= 0:
        return BudgetResult(target, 0.0, 0.0, 0.0, None, budget_total, None, None)
    attainment = min(max((total_sum - bad_sum) / total_sum, 0.0), 1.0)
    consumed = bad_sum / budget_total if budget_total > 0 else math.inf
    return BudgetResult(target, total_sum - bad_sum, bad_sum, total_sum, attainment,
                        budget_total, consumed, 1.0 - consumed)


def burn_rate(bad: ArrayLike, total: ArrayLike, target: float) -> float | None:
    """How fast the budget burns: the bad share divided by the allowed bad share.

    A burn rate of 1 spends exactly the budget over the SLO window; 14.4 spends a
    30-day budget in 50 hours. None when there is no data.
    """
    target = _target_iv(target)
    bad_sum, total_sum = _counts_iv(bad, total)
    if total_sum <= 0:
        return None
    return (bad_sum / total_sum) / (1.0 - target)


def time_to_exhaustion(budget_remaining: float | None, rate: float | None,
                       window: timedelta) -> timedelta | None:
    """How long the budget left lasts at the current burn rate.

    Burning at rate ``b`` spends ``b / window`` of the budget per unit of time, so
    a remaining share ``r`` lasts ``r * window / b``. Zero when already spent;
    None when nothing burns (or nothing is known).
    """
    if budget_remaining is None:
        return None
    if budget_remaining <= 0:
        return timedelta(0)
    if rate is None or rate <= 0:
        return None
    if not math.isfinite(rate):
        return timedelta(0)
    return window * (budget_remaining / rate)


def budget_impact(bad: ArrayLike, total: ArrayLike, baseline_bad: ArrayLike,
                  baseline_total: ArrayLike, budget_total: float) -> BudgetImpact:
    """The budget one incident spent beyond its baseline.

    Parameters
    ----------
    bad, total : array_like
        Units from the onset to the mitigation.
    baseline_bad, baseline_total : array_like
        Units from a period before the onset; their ratio is the rate the service
        would have kept without the incident.
    budget_total : float
        The window's budget in the same units (``BudgetResult.budget_total``).

    Returns
    -------
    BudgetImpact
        ``share = max(bad - baseline_ratio * total, 0) / budget_total``.
    """
    bad_sum, total_sum = _counts_iv(bad, total)
    base_bad, base_total = _counts_iv(baseline_bad, baseline_total)
    budget_total = float(budget_total)
    if not math.isfinite(budget_total) or budget_total < 0:
        raise ValueError(f"budget_total must be a finite number >= 0, got {budget_total!r}")
    ratio = base_bad / base_total if base_total > 0 else None
    expected = (ratio or 0.0) * total_sum
    excess = max(bad_sum - expected, 0.0)
    share = excess / budget_total if budget_total > 0 else None
    return BudgetImpact(bad_sum, total_sum, ratio, expected, excess, budget_total, share)
