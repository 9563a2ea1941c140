"""Change-point scans: where a series splits best into levels, and how sure that is.

The detectors in :mod:`classifiers.shifts` place an onset in two steps, both here: a
two-level split scan (the mean-shift statistic at every split, from running sums)
and Page's CUSUM on residuals from a baseline, which walks the onset back to where a
ramp began. Binary segmentation (:func:`segments`) cuts a series into levels for the
excursion cleaning of :mod:`classifiers.baseline`; :func:`hinge_onset` finds where a
freshness lag stopped being reset. All of them are O(n) per series.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from classifiers.arrays import Floats


@functools.lru_cache(maxsize=64)
def split_sizes(n: int, first: int, m: int) -> tuple[Floats, Floats]:
    """Points before each split k = first .. n - m, and sqrt(k (n - k) / n).

    The split scans of one diagnosis run on series of a few lengths, many times
    (binary segmentation, onset scans, every signal and slice); the factors depend
    only on the length, so they are computed once per length (read-only arrays).
    """
    sizes = np.arange(first, n - m + 1).astype(np.float64)
    factor = np.sqrt(sizes * (n - sizes) / n)
    sizes.flags.writeable = False
    factor.flags.writeable = False
    return sizes, factor


def mean_shift_scan(y: Floats, w: Floats | None, m: int, direction: str, lo: int,
                    running: Floats | None = None) -> int:
    """Index that best splits ``y`` into two levels (weighted mean-shift statistic).

    The after-segment runs to the end, as in an incident that is still going on.
    ``w=None`` weighs every point 1 (gauges) without the bookkeeping of zero weights;
    then ``running`` is ``y.cumsum()`` when the caller has it (the excursion
    cleaning summed the same series).
    """
    n = y.size
    if w is None:
        # the method: np.cumsum's dispatch costs more than the sum here
        cy = y.cumsum() if running is None else running
        head = cy[lo - 1:n - m]  # cy[k - 1]
        sizes, factor = split_sizes(n, lo, m)
        t = ((cy[-1] - head) / (n - sizes) - head / sizes) * factor
    else:
        k = np.arange(lo, n - m + 1)
        cw = np.cumsum(w)
        cy = np.cumsum(w * y)
        wb, wa = cw[k - 1], cw[-1] - cw[k - 1]
        ok = (wb > 0) & (wa > 0)
        wb, wa = np.where(ok, wb, 1.0), np.where(ok, wa, 1.0)
        mb = cy[k - 1] / wb
        ma = (cy[-1] - cy[k - 1]) / wa
        t = np.where(ok, (ma - mb) * np.sqrt(wb * wa / (wb + wa)), 0.0)
    if direction == "up":
        score = t
    elif direction == "down":
        score = -t
    else:
        score = np.abs(t)
    return lo + int(score.argmax())


def best_split(y: Floats, m: int, running: Floats | None = None) -> tuple[int, float]:
    """Best split of ``y`` into two levels (at least ``m`` points each) and its |t|.

    ``running`` is ``y.cumsum()`` when the caller has it (a prefix of a longer
    segment's: running sums from the same first point are the same numbers).
    """
    n = y.size
    c = y.cumsum() if running is None else running
    head = c[m - 1:n - m]  # sums before each split k = m .. n - m
    sizes, factor = split_sizes(n, m, m)
    t = np.abs((c[-1] - head) / (n - sizes) - head / sizes) * factor
    i = int(t.argmax())
    return m + i, float(t[i])


def segments(y: Floats, m: int, threshold: float, most: int = 16,
             running: Floats | None = None) -> list[int]:
    """Binary segmentation into levels: split while the best split's |t| > threshold.

    ``running`` is ``y.cumsum()`` when the caller has it.

    References
    ----------
    .. [1] A. J. Scott and M. Knott, "A cluster analysis method for grouping means in
       the analysis of variance", Biometrics 30 (1974) 507-512.
    """
    cuts: list[int] = []
    # each pending segment with its running sums when known: a left part starts where
    # its parent did, so its running sums are the first ones of its parent's
    pending: list[tuple[int, int, Floats | None]] = [(0, y.size, running)]
    while pending and len(cuts) < most:
        a, b, running = pending.pop()
        if b - a < 2 * m:
            continue
        part = y[a:b]
        if running is None:
            running = part.cumsum()
        k, t = best_split(part, m, running)
        if t > threshold:
            cuts.append(a + k)
            pending += [(a, a + k, running[:k]), (a + k, b, None)]
    return sorted(cuts)


def cusum_onset(z: Floats, sign: float, start: int, stop: int, k: float = 0.5,
                h: float = 4.0) -> int | None:
    """Page's CUSUM on standardised residuals: the last reset before the first alarm.

    Uses S_i = X_i - min(0, min_{j<=i} X_j) with X the running sum of (z - k), the
    closed form of the recursion S_i = max(0, S_{i-1} + z_i - k). ``None`` when it
    never alarms.

    References
    ----------
    .. [1] E. S. Page, "Continuous inspection schemes", Biometrika 41 (1954) 100-115.
    """
    x = (sign * z[start:stop] - k).cumsum()
    s = x - np.minimum(np.minimum.accumulate(x), 0.0)
    alarm = (s > h).nonzero()[0]
    if alarm.size == 0:
        return None
    first = int(alarm[0])
    zeros = (s[: first + 1] <= 0.0).nonzero()[0]
    return start + (int(zeros[-1]) + 1 if zeros.size else 0)


def accept_refined(z: Floats, sign: float, refined: int, k0: int, horizon: int) -> bool:
    """Take CUSUM's earlier onset only if the points it adds already moved (a ramp-in).

    A clean step is placed well by the split alone; walking back over baseline noise
    would put the onset minutes early and spoil which layer moved first.
    """
    if refined >= k0:
        return False
    between = float((sign * z[refined:k0]).mean())
    after = float((sign * z[k0:k0 + horizon]).mean())
    return between >= max(1.5, 0.15 * after)


def scan_corrected(p: float, n: int) -> float:
    """The p-value at a *chosen* onset, corrected for having chosen it among n splits.

    The best of n split points of pure noise looks significant; multiplying by
    2 ln(n) (about the number of effectively independent splits of a CUSUM scan)
    keeps a healthy day quiet while changes of real incidents (p far below 1e-6)
    pass untouched. See Csorgo and Horvath, "Limit Theorems in Change-Point
    Analysis", Wiley (1997), ch. 1 (the log-log growth of the maximum).
    """
    return float(min(1.0, p * 2.0 * math.log(max(n, 3))))


def hinge_onset(y: Floats, t: Floats, m: int) -> int:
    """Where a hinge fits best: a constant before ``k``, a line rising from ``k``.

    Least squares over up to 200 candidate ``k``, all at once: the sums over the
    points after each ``k`` (of u = t - t_k, v = y - mean before, and their squares
    and products) come from running sums, so the scan is O(n), not O(n) per
    candidate. Values and times are centred first, which keeps the running sums of
    squares free of cancellation. The slope is held at >= 0 (a lag only grows
    when stalled); ties go to the earliest ``k``.
    """
    n = y.size
    k = np.unique(np.linspace(m, n - m, min(n - 2 * m + 1, 200)).astype(np.int64))
    y = y - y.mean()
    tau = (t - t.mean()) / 3600.0  # hours: squares of epoch seconds would lose digits

    def after(x: Floats) -> Floats:  # sum over i >= k of x_i, for every k
        c = np.cumsum(x[::-1])[::-1]
        return c[k]

    count = (n - k).astype(np.float64)
    s_t, s_tt = after(tau), after(tau * tau)
    s_y, s_yy, s_ty = after(y), after(y * y), after(tau * y)
    before_sum, before_sq = np.cumsum(y)[k - 1], np.cumsum(y * y)[k - 1]
    mean_b = before_sum / k
    sse_b = before_sq - k * mean_b * mean_b
    tk = tau[k]
    uu = s_tt - 2 * tk * s_t + count * tk * tk
    uv = s_ty - tk * s_y - mean_b * s_t + count * tk * mean_b
    vv = s_yy - 2 * mean_b * s_y + count * mean_b * mean_b
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(uu > 0, np.maximum(uv / np.where(uu > 0, uu, 1.0), 0.0), 0.0)
    sse = sse_b + vv - 2 * slope * uv + slope * slope * uu
    return int(k[int(np.argmin(sse))])
