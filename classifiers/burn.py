"""Multi-window, multi-burn-rate alerting on an error budget.

A single window either pages too late (long window) or too often and for too long
(short window). The SRE workbook's answer [1]_ is pairs of windows: a pair fires
when the burn rate over *both* its long and its short window exceeds the pair's
factor. The long window proves the burn is significant, the short one that it is
still happening, so the alert also resets within one short window of the burn
stopping.

The factors come from the share of the budget a pair tolerates spending within
its long window, as Sloth [2]_ computes them, so they scale with the SLO window:
``factor = budget_share * slo_window / long_window``. For a 30-day window that
gives the workbook's 14.4 (2% in 1 h), 6 (5% in 6 h), 3 and 1 (10% in 1 d and in
3 d); for 28 days 13.44, 5.6, 2.8 and 0.933.

Everything works on evenly spaced bins of bad and total units (minutes of
request events, or timeslices).

References
----------
.. [1] Beyer et al., "The Site Reliability Workbook", ch. 5 "Alerting on SLOs",
       section 6 "Multiwindow, Multi-Burn-Rate Alerts", O'Reilly, 2018.
.. [2] Sloth, "SLO based alerts", https://sloth.dev/introduction/#alerts
       (windows and error-budget percentages of the default 30-day period).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from classifiers.arrays import Bools, Floats

PAGE = "page"
TICKET = "ticket"


@dataclass(frozen=True)
class BurnRule:
    """One window pair: fires when both windows burn faster than ``factor``.

    Attributes
    ----------
    severity : str
        ``page`` or ``ticket``.
    long_minutes, short_minutes : int
        The two window lengths.
    budget_share : float
        Share of the whole window's budget spent within ``long_minutes`` at ``factor``.
    factor : float
        The burn-rate threshold, ``budget_share * slo_minutes / long_minutes``.
    """

    severity: str
    long_minutes: int
    short_minutes: int
    budget_share: float
    factor: float

    @property
    def name(self) -> str:
        return f"{self.severity}:{_duration(self.long_minutes)}/{_duration(self.short_minutes)}"


@dataclass(frozen=True)
class PairEvaluation:
    """One rule over a series of bins.

    Attributes
    ----------
    rule : BurnRule
    long_burn, short_burn : numpy.ndarray
        Burn rate over each window ending at each bin; NaN where a window has no data.
    firing : numpy.ndarray of bool
        Both burn rates above ``rule.factor``.
    episodes : tuple of (int, int or None)
        Index of each bin where the alert fires, and of the first bin where it no
        longer does (None while it is still firing at the last bin).
    """

    rule: BurnRule
    long_burn: Floats
    short_burn: Floats
    firing: Bools
    episodes: tuple[tuple[int, int | None], ...]

    @property
    def firing_now(self) -> bool:
        return bool(self.firing.size and self.firing[-1])


@dataclass(frozen=True)
class BurnEvaluation:
    """All rules of an objective; ``firing`` ORs the pairs of each severity."""

    pairs: tuple[PairEvaluation, ...]
    firing: dict[str, Bools]

    def firing_now(self) -> tuple[str, ...]:
        """Severities firing at the last bin, most urgent first."""
        return tuple(s for s in (PAGE, TICKET)
                     if s in self.firing and self.firing[s].size and self.firing[s][-1])


# (severity, long window, short window, budget share) of the workbook and Sloth defaults.
_DEFAULT_PAIRS = (
    (PAGE, 60, 5, 0.02),
    (PAGE, 6 * 60, 30, 0.05),
    (TICKET, 24 * 60, 2 * 60, 0.10),
    (TICKET, 3 * 24 * 60, 6 * 60, 0.10),
)


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def default_rules(slo_minutes: float) -> tuple[BurnRule, ...]:
    """The four workbook window pairs, factors scaled to an SLO window of ``slo_minutes``."""
    if not math.isfinite(slo_minutes) or slo_minutes <= 0:
        raise ValueError(f"slo_minutes must be a positive number, got {slo_minutes!r}")
    return tuple(BurnRule(severity, long, short, share, share * slo_minutes / long)
                 for severity, long, short, share in _DEFAULT_PAIRS)


def rolling_burn_rate(bad: ArrayLike, total: ArrayLike, window_bins: int,
                      target: float) -> Floats:
    """Burn rate over the ``window_bins`` bins ending at each bin (inclusive).

    Sums are taken from cumulative sums, so one pass serves every window length.
    Early bins use what exists; bins whose window holds no data are NaN.
    """
    bad_arr, total_arr = _series_iv(bad, total)
    if window_bins < 1:
        raise ValueError(f"window_bins must be >= 1, got {window_bins!r}")
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must lie strictly between 0 and 1, got {target!r}")
    bad_cum = np.concatenate(([0.0], np.cumsum(bad_arr)))
    total_cum = np.concatenate(([0.0], np.cumsum(total_arr)))
    ends = np.arange(1, bad_arr.size + 1)
    starts = np.maximum(ends - window_bins, 0)
    bad_sum = bad_cum[ends] - bad_cum[starts]
    total_sum = total_cum[ends] - total_cum[starts]
    # Cumulative sums leave rounding dust where a window is empty: treat it as empty.
    has_data = total_sum > 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(has_data, np.clip(bad_sum, 0.0, None) / np.where(has_data, total_sum, 1.0),
                         np.nan)
    return ratio / (1.0 - target)


def _series_iv(bad: ArrayLike, total: ArrayLike) -> tuple[Floats, Floats]:
    bad_arr = np.asarray(bad, dtype=float).ravel()
    total_arr = np.asarray(total, dtype=float).ravel()
    if bad_arr.shape != total_arr.shape:
        raise ValueError(f"bad and total differ in length: {bad_arr.size} != {total_arr.size}")
    if not (np.all(np.isfinite(bad_arr)) and np.all(np.isfinite(total_arr))):
        raise ValueError("bad and total must be finite")
    if np.any(bad_arr < 0) or np.any(total_arr < 0):
        raise ValueError("bad and total must not be negative")
    return bad_arr, total_arr


def episodes(firing: ArrayLike) -> tuple[tuple[int, int | None], ...]:
    """(first firing bin, first bin after it that does not fire) for each run of firing."""
    flags = np.asarray(firing, dtype=bool).ravel()
    if flags.size == 0:
        return ()
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return tuple((int(a), int(b) if b < flags.size else None) for a, b in zip(starts, stops,
                                                                              strict=True))


def evaluate_burn(bad: ArrayLike, total: ArrayLike, target: float,
                  rules: tuple[BurnRule, ...], *, bin_minutes: float = 1.0) -> BurnEvaluation:
    """Evaluate every rule at every bin of a series.

    Parameters
    ----------
    bad, total : array_like
        Bad and total units per bin, oldest first.
    target : float
        The objective.
    rules : tuple of BurnRule
        Usually ``default_rules(slo_minutes)``.
    bin_minutes : float
        Length of one bin; a window covers ``ceil(minutes / bin_minutes)`` bins
        (at least one), so a 5-minute window over 5-minute timeslices is one slice.

    Returns
    -------
    BurnEvaluation
        A pair fires at a bin when both of its burn rates are strictly above its
        factor, as in the workbook's ``>`` comparisons.
    """
    bad_arr, total_arr = _series_iv(bad, total)
    if not bin_minutes > 0:
        raise ValueError(f"bin_minutes must be positive, got {bin_minutes!r}")
    pairs = []
    firing: dict[str, Bools] = {}
    for rule in rules:
        long_bins = max(1, math.ceil(rule.long_minutes / bin_minutes - 1e-9))
        short_bins = max(1, math.ceil(rule.short_minutes / bin_minutes - 1e-9))
        long_burn = rolling_burn_rate(bad_arr, total_arr, long_bins, target)
        short_burn = rolling_burn_rate(bad_arr, total_arr, short_bins, target)
        with np.errstate(invalid="ignore"):
            fires = (long_burn > rule.factor) & (short_burn > rule.factor)
        pairs.append(PairEvaluation(rule, long_burn, short_burn, fires, episodes(fires)))
        previous = firing.get(rule.severity)
        firing[rule.severity] = fires if previous is None else previous | fires
    return BurnEvaluation(tuple(pairs), firing)
