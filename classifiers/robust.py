"""Robust primitives every detector shares: fast medians, scaled MAD, point-to-point noise.

One home for them so the detectors (:mod:`classifiers.shifts`) and the diagnosis that
contrasts slices and screens series (``bot.diagnosis``) use the same estimates and
the same MAD-to-SD factor, instead of each repeating ``1.4826``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from classifiers.arrays import Floats, Ints

MAD_TO_SD = 1.4826  # the MAD of a normal sample times this is its SD


def median(x: Floats) -> float:
    """``np.median`` of finite 1-D values, without its generic bookkeeping.

    One diagnosis takes thousands of medians of a few hundred points; at that size
    ``np.median``'s axis and NaN handling costs more than the partition itself, and
    so does ``np.partition``'s wrapper: the copy is partitioned in place by the
    array's own method. The value is the same (the mean of the two middle values
    for even sizes). Callers pass finite values (the validators drop NaN and inf).
    """
    if x.size == 0:
        return math.nan
    return _median_in_place(x.copy())


def median_of(values: Sequence[float] | Floats) -> float:
    """``np.median`` of any 1-D values, NaN included (then NaN, as ``np.median`` gives).

    For the few medians of short lists (per-slice effects): ``np.median``'s first call
    imports ``numpy.ma`` (~20 ms of ``resilio classify``), this never does.
    """
    part = np.array(values, dtype=float)
    if part.size == 0 or np.isnan(part).any():
        return math.nan
    return _median_in_place(part)


def _median_in_place(part: Floats) -> float:
    """:func:`median` of a scratch array of at least one value, reordering it."""
    n = part.size
    h = n // 2
    if n % 2:
        part.partition(h)
        return float(part[h])
    part.partition((h - 1, h))
    return float((part[h - 1] + part[h]) / 2)


def row_medians(a: Floats) -> Floats:
    """Median of each row of a finite 2-D array: ``np.median(a, axis=1)``, faster.

    Screening hundreds of series at once needs a median per row; one partition
    along the rows is several times cheaper than ``np.median``'s general path.
    """
    n = a.shape[1]
    if n == 0:
        return np.full(a.shape[0], np.nan)
    h = n // 2
    if n % 2:
        return np.partition(a, h, axis=1)[:, h].copy()
    part = np.partition(a, (h - 1, h), axis=1)
    return (part[:, h - 1] + part[:, h]) / 2


def center_spread(x: Floats) -> tuple[float, float]:
    """Median and robust SD (scaled MAD) of ``x``: the MAD needs the median anyway."""
    center = median(x)
    if x.size < 2:
        return center, 0.0
    deviations = x - center
    np.abs(deviations, out=deviations)
    return center, float(MAD_TO_SD * _median_in_place(deviations))


def robust_sd(x: Floats) -> float:
    """Scaled MAD of ``x``: an SD that one outlier cannot inflate."""
    return center_spread(x)[1]


def row_robust_sd(a: Floats, *, scratch: bool = False) -> Floats:
    """Scaled MAD of each row of a finite 2-D array.

    The deviations are a scratch array of ours: taken in place and partitioned in
    place (no copy for the second median); the values are :func:`row_medians`'.
    With ``scratch`` the caller's array (its own, needed no more) is partitioned in
    place for the medians and then holds the deviations: each row keeps its values
    until then, so the deviations and their median are the same.
    """
    return MAD_TO_SD * _row_medians_in_place(row_deviations(a, scratch=scratch))


def row_deviations(a: Floats, *, scratch: bool = False) -> Floats:
    """``|a - row median|`` of each row of a finite 2-D array: the values whose row
    medians are the rows' MADs (unscaled), as :func:`row_robust_sd` takes them.

    With ``scratch`` the caller's array is partitioned in place and then holds them.
    """
    centers = _row_medians_in_place(a) if scratch else row_medians(a)
    deviations = np.subtract(a, centers[:, None], out=a if scratch else None)
    np.abs(deviations, out=deviations)
    return deviations


def row_median_side(a: Floats, low: Floats, high: Floats) -> Ints:
    """Where each row's median lies: -1 at most ``low``, +1 above ``high``, 0 unknown.

    A screen asks only whether a median (of absolute deviations: a MAD) is below a
    threshold, and counting the values at most a bound answers that exactly without
    the partition a median needs: with ``n`` values and ``h = n // 2``, the median
    of an odd row is at most ``x`` when at least ``h + 1`` values are; that of an even
    row (the mean of the middle two) when the upper middle value is, and above ``x``
    when the lower one is. So odd rows are always told apart (for ``low == high``);
    an even row whose middle values straddle the bounds gives 0, as does a row whose
    bounds are not finite or so large that the middle values' sum could overflow.
    """
    n = a.shape[1]
    h = n // 2
    at_most_low = np.count_nonzero(a <= low[:, None], axis=1)
    at_most_high = at_most_low if high is low else np.count_nonzero(
        a <= high[:, None], axis=1)
    below = at_most_low >= h + 1
    above = at_most_high <= (h if n % 2 else h - 1)
    usable = np.isfinite(low) & np.isfinite(high) & (np.abs(high) < 1e300) & (n > 0)
    return np.where(usable & below, -1, np.where(usable & above & ~below, 1, 0))


def _row_medians_in_place(part: Floats) -> Floats:
    """:func:`row_medians` of a scratch 2-D array, reordering it."""
    n = part.shape[1]
    if n == 0:
        return np.full(part.shape[0], np.nan)
    h = n // 2
    if n % 2:
        part.partition(h, axis=1)
        return part[:, h].copy()
    part.partition((h - 1, h), axis=1)
    return (part[:, h - 1] + part[:, h]) / 2


def noise_sd(y: Floats, *, flat_fallback: bool = True) -> float:
    """Point-to-point noise from first differences: blind to trends and to one step.

    Where the differences' MAD is 0 (a flat or quantised series) or there are fewer than
    3 points, their plain SD stands in; ``flat_fallback=False`` answers 0 there instead,
    for a caller that reads "no measurable scatter" as keeping its verdict."""
    if y.size < 3:
        return float(np.std(y)) if y.size and flat_fallback else 0.0
    d = y[1:] - y[:-1]  # np.diff's values, without its wrapper; a scratch array of ours
    center = _median_in_place(d)
    np.subtract(d, center, out=d)
    np.abs(d, out=d)
    sd = MAD_TO_SD * _median_in_place(d) / math.sqrt(2.0)
    if sd == 0.0 and flat_fallback:  # the differences again, in order (np.std's sum depends on it)
        sd = float(np.std(y[1:] - y[:-1])) / math.sqrt(2.0)
    return sd
