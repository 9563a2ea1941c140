"""How far a watch sum strays on ordinary days: thresholds from its own history of sizes.

Each sum the watch tests (:mod:`classifiers.watch_test`) keeps decayed counts of its
sizes per side in geometric bins (``EDGES``). The threshold for a per-point risk
``q`` is read from those counts: the tail beyond the top 5 % extrapolated as a
generalised Pareto (peaks over threshold, by moments, never lighter than an
exponential), never below the Gaussian quantile, from a heavy-tailed (Laplace)
prior that the series' own sums replace as they come.

Pure: numpy arrays in, floats out.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from classifiers import special
from classifiers.arrays import Floats

PRIOR_POINTS = 100.0          # weight of the prior (heavy-tailed) calibration
TAIL = 0.05                   # the tail starts where 5 % of the sums lie beyond
EDGES = np.concatenate([[0.0], 0.5 * 1.25 ** np.arange(28)])  # |sum| bins, to ~200
_MIDS = np.concatenate([(EDGES[:-1] + EDGES[1:]) / 2, [EDGES[-1] * 1.1]])
WEEK = 7 * 86400.0


def _laplace_prior() -> Floats:
    """``PRIOR_POINTS`` sums as a unit-SD Laplace would spread them, per side.

    Before a series has shown its own tails it is assumed heavy-tailed (a Laplace
    tail, the widest of one mean absolute deviation), not Gaussian: real metrics
    burst, and a new series should earn trust. The prior fades as the series' own
    sums arrive, at the calibration's rate of forgetting.
    """
    beyond = 0.5 * np.exp(-math.sqrt(2.0) * EDGES)   # P(sum >= edge) on this side
    mass = np.append(beyond[:-1] - beyond[1:], beyond[-1])
    mass[0] += 0.5                                    # the other side's sums, at 0
    return PRIOR_POINTS * mass


PRIOR = _laplace_prior()

@lru_cache(maxsize=4096)
def point_risk(false_alarms_per_week: float, step: float, sides: int, scales: int) -> float:
    """Per-point, per-sum, per-side probability that spends the weekly budget.

    Alarms come in runs (a shift trips many points in a row), so spreading the
    budget as if every point were a separate alarm is conservative. Remembered:
    the watch asks at every point of every series, nearly always with the same
    budget and step.
    """
    points_per_week = WEEK / max(step, 1e-3)
    return float(min(0.01, false_alarms_per_week / (points_per_week * scales * sides)))


def tail_threshold(counts: Floats, risk: float) -> float:
    """The size a sum passes with probability ``risk``, from its calibration counts.

    Never below the Gaussian quantile: a series is never trusted to be calmer
    than white noise.
    """
    gauss = float(-special.ndtri(risk))
    total = float(counts.sum())
    if total <= 0:
        return gauss
    beyond = np.cumsum(counts[::-1])[::-1]  # points at or above each edge
    k = int(np.searchsorted(-beyond, -TAIL * total, side="left"))  # beyond[k] <= 5 %
    while k > 0 and (k >= beyond.size or beyond[k] < 3.0):
        k -= 1
    n_u = float(beyond[k])
    if n_u <= 0:
        return gauss
    u = float(EDGES[k])
    over = _MIDS[k:] - u
    mean = float(np.dot(counts[k:], over)) / n_u
    if share_ok := n_u / total > risk:
        share = n_u / total
        variance = float(np.dot(counts[k:], (over - mean) ** 2)) / n_u
        # generalised Pareto by moments: shape from the excesses' spread against their
        # mean (0 for an exponential tail), never lighter than exponential, at most 0.45
        shape = min(0.45, max(0.0, 0.5 * (1.0 - mean * mean / variance))) if variance > 0 else 0.0
        scale = 0.5 * mean * (mean * mean / variance + 1.0) if variance > 0 else mean
        if shape > 1e-6:
            threshold = u + scale / shape * (math.pow(share / risk, shape) - 1.0)
        else:
            threshold = u + max(mean, 0.0) * math.log(share / risk)
    else:
        threshold = u
    del share_ok
    return max(gauss, threshold)


@lru_cache(maxsize=4096)
def _gauss(risk: float) -> float:
    """The Gaussian quantile a threshold never goes below (the same few risks recur)."""
    return float(-special.ndtri(risk))


def sum_thresholds(calibration: Floats, risk: float) -> Floats:
    """:func:`tail_threshold` of every row of ``calibration`` (``[scale, side, bin]``) at once.

    The watch refreshes its eight thresholds together every few dozen points of
    every series; one pass over the ``[8, bins]`` block costs a fraction of eight
    readings of a row. Same arithmetic as :func:`tail_threshold`; the tail's start
    is read by counting, as the counts beyond each edge never increase along a row.
    """
    rows = calibration.reshape(-1, calibration.shape[-1])
    size = rows.shape[1]
    gauss = _gauss(risk)
    totals = rows.sum(axis=1)
    beyond = np.cumsum(rows[:, ::-1], axis=1)[:, ::-1]  # points at or above each edge
    first = (beyond > (TAIL * totals)[:, None]).sum(axis=1)  # the first edge with <= 5 %
    solid = (beyond >= 3.0).sum(axis=1)                     # edges with 3 points beyond
    k = np.maximum(0, np.minimum(np.minimum(first, size - 1), solid - 1))
    n_u = beyond[np.arange(rows.shape[0]), k]
    u = EDGES[k]
    tail_counts = rows * (np.arange(size) >= k[:, None])
    over = _MIDS - u[:, None]
    # rows without a tail: their NaNs are not taken (``errstate``: a seventh of the cost
    # of ``seterr`` and back, once a series every few dozen points)
    with np.errstate(all="ignore"):
        mean = (tail_counts * over).sum(axis=1) / n_u
        variance = (tail_counts * (over - mean[:, None]) ** 2).sum(axis=1) / n_u
        share = n_u / totals
        ratio = mean * mean / variance
        moved = variance > 0
        shape = np.where(moved, np.minimum(0.45, np.maximum(0.0, 0.5 * (1.0 - ratio))), 0.0)
        scale = np.where(moved, 0.5 * mean * (ratio + 1.0), mean)
        pareto = u + scale / shape * ((share / risk) ** shape - 1.0)
        exponential = u + np.maximum(mean, 0.0) * np.log(share / risk)
        threshold = np.where(share > risk, np.where(shape > 1e-6, pareto, exponential), u)
    out = np.where((totals > 0) & (n_u > 0), np.maximum(gauss, threshold), gauss)
    return out.reshape(calibration.shape[:-1])
