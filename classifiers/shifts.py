"""Level changes in one series: gauges, rates with counts, and growing freshness lags.

Incidents look like a series that leaves its usual level at some moment and stays
away. Each detector here finds that moment (the onset), compares what came after
with a baseline fitted on a trailing window before it, and returns a frozen
:class:`~classifiers.results.ShiftResult`. The baseline follows a slow trend (a
daily cycle seen over a few hours) or, with a day of history, the daily cycle
itself, so the hour-of-day is not mistaken for an incident.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np
from scipy import special

from classifiers._validation import _rate_iv, _shift_iv
from classifiers.results import ShiftResult
from classifiers.robust import (
    MAD_TO_SD,
    center_spread,
    median,
    noise_sd,
    robust_sd,
    row_medians,
)

_MAD_TO_SD = MAD_TO_SD
_DAY = 86400.0
_WINSOR = 8.0  # residuals beyond this many baseline SDs are clipped: one spike is not a shift
_HELD_TO_RECOVER = 8  # points back at the baseline before an excursion counts as recovered
_NULL = ShiftResult(statistic=0.0, p_value=1.0, effect=0.0, onset=-1)


def _tame(y: np.ndarray) -> np.ndarray:
    """Values near the float limit would overflow in squares; clip them to +-1e150."""
    return np.clip(y, -1e150, 1e150) if y.size and np.max(np.abs(y)) > 1e150 else y


# The robust primitives live in classifiers.robust; these aliases keep the names the
# detectors below (and older callers) use.
_median = median
_row_medians = row_medians
_robust_sd = robust_sd
_center_spread = center_spread
_noise_sd = noise_sd


def _sd_floor(level: float, noise: float) -> float:
    return max(noise, 1e-3 * abs(level), 1e-9)


def _min_baseline(n: int, m: int) -> int:
    """Fewest baseline points before an onset: a level from three points is no baseline."""
    return max(m, min(30, n // 4))


def _scan(y: np.ndarray, w: np.ndarray | None, m: int, direction: str, lo: int) -> int:
    """Index that best splits ``y`` into two levels (weighted mean-shift statistic).

    The after-segment runs to the end, as in an incident that is still going on.
    ``w=None`` weighs every point 1 (gauges) without the bookkeeping of zero weights.
    """
    n = y.size
    if w is None:
        cy = np.cumsum(y)
        head = cy[lo - 1:n - m]  # cy[k - 1]
        sizes, factor = _split_sizes(n, lo, m)
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
        t = (ma - mb) * np.sqrt(wb * wa / (wb + wa))
        t = np.where(ok, t, 0.0)
    if direction == "up":
        score = t
    elif direction == "down":
        score = -t
    else:
        score = np.abs(t)
    return lo + int(np.argmax(score))


def _split_stat(y: np.ndarray, m: int) -> tuple[int, float]:
    """Best split of ``y`` into two levels (at least ``m`` points each) and its |t|."""
    n = y.size
    c = np.cumsum(y)
    head = c[m - 1:n - m]  # sums before each split k = m .. n - m
    sizes, factor = _split_sizes(n, m, m)
    t = np.abs((c[-1] - head) / (n - sizes) - head / sizes) * factor
    i = int(np.argmax(t))
    return m + i, float(t[i])


@functools.lru_cache(maxsize=64)
def _split_sizes(n: int, first: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Points before each split k = first .. n - m, and sqrt(k (n - k) / n).

    The split scans of one diagnosis run on series of a few lengths, many times
    (binary segmentation, onset scans, every signal and slice); the factors depend
    only on the length, so they are computed once per length.
    """
    sizes = np.arange(first, n - m + 1).astype(float)
    factor = np.sqrt(sizes * (n - sizes) / n)
    sizes.flags.writeable = False
    factor.flags.writeable = False
    return sizes, factor


def _segments(y: np.ndarray, m: int, threshold: float, most: int = 16) -> list[int]:
    """Binary segmentation into levels: split while the best split's |t| > threshold."""
    cuts: list[int] = []
    pending = [(0, y.size)]
    while pending and len(cuts) < most:
        a, b = pending.pop()
        if b - a < 2 * m:
            continue
        k, t = _split_stat(y[a:b], m)
        if t > threshold:
            cuts.append(a + k)
            pending += [(a, a + k), (a + k, b)]
    return sorted(cuts)


class _Cleaned(NamedTuple):
    keep: np.ndarray                         # indices kept
    recovered: int                           # where the last cut excursion recovered, or -1
    excursions: list[tuple[int, float]]      # (points, signed peak from baseline) of each


def _drop_recovered(y: np.ndarray, m: int, min_effect: float = 3.0, *,
                    rhythmic: bool = False) -> _Cleaned:
    """Indices to keep once earlier excursions that returned to baseline are removed.

    An incident is explained by the shift in force at the end of the series; a bad
    deploy an hour ago that was rolled back is history. Left in, such an excursion
    draws the best two-level split to itself (after it the series is mostly
    shifted) or bends the baseline the current shift is measured against. So the
    series is cut into levels (binary segmentation on the mean, splits above 5 point
    SDs), and a run of up to six segments (a ramp is a staircase) is an
    excursion when all of it lies clearly (``min_effect`` point SDs, or six standard
    errors of the segment means) on one side of its neighbours, the neighbours agree
    with each other (within a third of the excursion) and the level after it held
    for at least ``max(m, _HELD_TO_RECOVER)`` points. Excursions are cut out; the
    final segment never is (it is the episode in force). A trend or a slow daily
    cycle makes a staircase, not an excursion. With ``rhythmic`` (freshness lags,
    which saw-tooth when healthy), two or more excursions are the series' rhythm, not
    episodes, and nothing is cut: cutting the teeth of a saw-tooth would leave a
    baseline below every peak, and the last tooth would look like a stall. Returns the
    kept indices, where the last cut excursion had recovered (-1 if none), and the
    excursions found.

    References
    ----------
    .. [1] A. J. Scott and M. Knott, "A cluster analysis method for grouping means in
       the analysis of variance", Biometrics 30 (1974) 507-512 (binary segmentation).
    """
    n = y.size
    keep = np.arange(n)
    sd = _noise_sd(y)
    if n < 4 * m or sd <= 0:
        return _Cleaned(keep, -1, [])
    cuts = _segments(y, m, 5.0 * sd)
    if len(cuts) < 2:
        return _Cleaned(keep, -1, [])
    bounds = [0, *cuts, n]
    levels = [_median(y[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    count = len(levels)
    drop = np.zeros(n, dtype=bool)
    recovered, excursions = -1, []
    j = 1
    while j < count - 1:
        found = False
        for last in range(j, min(j + 6, count - 1)):
            left, right = levels[j - 1], levels[last + 1]
            ref = 0.5 * (left + right)
            devs = np.array(levels[j:last + 1]) - ref
            same_side = bool(np.all(devs > 0) or np.all(devs < 0))
            smallest = float(np.min(np.abs(devs)))
            held = bounds[last + 2] - bounds[last + 1]
            # clear: a practical step per point, or (noisy rates) a step well beyond
            # the error of the segment means
            span = bounds[last + 1] - bounds[j]
            clear = smallest >= min_effect * sd or smallest >= 6.0 * sd * math.sqrt(
                1.0 / span + 1.0 / min(held, bounds[j] - bounds[j - 1]))
            if (same_side and clear
                    and abs(left - right) <= smallest / 3.0 and held >= max(m, _HELD_TO_RECOVER)
                    and bounds[last + 1] - bounds[j] >= m):
                drop[bounds[j]:bounds[last + 1]] = True
                recovered = bounds[last + 1]
                excursions.append((span, float(devs[int(np.argmax(np.abs(devs)))])))
                j = last + 2
                found = True
                break
        if not found:
            j += 1
    if not drop.any() or (rhythmic and len(excursions) >= 2):
        return _Cleaned(keep, -1, excursions)
    return _Cleaned(keep[~drop], recovered, excursions)


def _recurring(result: ShiftResult, excursions: list[tuple[int, float]], since: int) -> bool:
    """Whether the change in force is one more of the series' recurring excursions.

    At least two earlier excursions on its side, each at least half its size, and it
    is no more than half again larger than the largest of them and has lasted no
    longer than half again the longest, plus the points an excursion needs before it
    counts as recovered: a batch job's half-hourly spike, not an incident. Once it
    outlasts or outgrows them, it is a change again.
    """
    shift = result.after - result.before
    alike = [(points, peak) for points, peak in excursions
             if peak * shift > 0 and abs(peak) >= 0.5 * abs(shift)]
    return (len(alike) >= 2
            and abs(shift) <= 1.5 * max(abs(peak) for _, peak in alike)
            and since <= 1.5 * max(points for points, _ in alike) + _HELD_TO_RECOVER)


def _on_original(result: ShiftResult, cleaned: _Cleaned, n: int) -> ShiftResult:
    """A result found on the cleaned series, told in the indices of the original one."""
    if result.onset < 0:
        return replace(result, onset=-1, recovered=cleaned.recovered)
    onset = int(cleaned.keep[result.onset])
    return replace(result, onset=onset, recovered=cleaned.recovered,
                   recurring=_recurring(result, cleaned.excursions, n - onset))


def _seasonal_design(t: np.ndarray) -> np.ndarray:
    """Design columns of the daily-cycle fit for all points of ``t`` (read-only).

    Intercept, hours since ``t[0]`` and two daily harmonics. Both baseline fits of
    a series (guarded, then at the refined onset) use rows of it, and so does every
    other series on the same timestamps (all signals and slices of a service report
    each minute); the trigonometry over a day of points costs about as much as a
    fit, so the matrix is built once per distinct time axis.
    """
    return _seasonal_design_of(t.tobytes())


@functools.lru_cache(maxsize=8)
def _seasonal_design_of(raw: bytes) -> np.ndarray:
    t = np.frombuffer(raw, dtype=float)
    phase = 2 * np.pi * (t % _DAY) / _DAY
    design = np.column_stack([np.ones_like(t), (t - t[0]) / 3600.0, np.sin(phase),
                              np.cos(phase), np.sin(2 * phase), np.cos(2 * phase)])
    design.flags.writeable = False
    return design


def _line_design(t: np.ndarray, origin: float) -> np.ndarray:
    return np.column_stack([np.ones_like(t), (t - origin) / 3600.0])


class _Baseline(NamedTuple):
    fit: np.ndarray        # fitted values for all points
    residual: np.ndarray   # baseline points minus the fit
    start: int             # index where the baseline starts
    level: float           # median of the baseline points
    residual_median: float
    residual_sd: float     # robust SD of ``residual``


def _baseline(t: np.ndarray, y: np.ndarray, k: int, window: int,
              seasonal_design: np.ndarray | None = None) -> _Baseline:
    """The fit of the baseline before ``k``, for all points, and its spread.

    With a day of history before ``k`` the fit is a daily cycle (two harmonics) plus
    a trend over all of it; otherwise a straight line on the trailing ``window``
    points, kept only if its slope is clearly there. ``seasonal_design`` is
    :func:`_seasonal_design` of ``t`` when the caller already has it. The fit solves
    the normal equations (a few columns, well conditioned: hours and unit waves),
    since their inverse is needed for the slope's standard error anyway.
    """
    seasonal = (t[k - 1] - t[0]) >= 0.8 * _DAY and k >= 60
    start = 0 if seasonal else max(0, k - window)
    tb, yb = t[start:k], y[start:k]
    level = _median(yb)
    fit = None
    if yb.size >= 60 and tb[-1] > tb[0]:
        if seasonal:
            full = _seasonal_design(t) if seasonal_design is None else seasonal_design
            x = full[start:k]
        else:
            x = _line_design(tb, tb[-1])
        xtx = x.T @ x
        try:
            inverse = np.linalg.inv(xtx)
            coef = inverse @ (x.T @ yb)
            unit_se = math.sqrt(max(float(inverse[1, 1]), 0.0))
        except np.linalg.LinAlgError:
            coef, *_ = np.linalg.lstsq(x, yb, rcond=None)
            unit_se = math.inf
        if seasonal:
            fit = full @ coef
        else:
            # keep the trend only when it beats the noise (t > 3), else a flat median
            sd = max(_robust_sd(yb - x @ coef), 1e-12)
            if abs(coef[1]) > 3 * sd * unit_se:
                fit = _line_design(t, tb[-1]) @ coef
    if fit is None:
        fit = np.full(t.size, level)
    residual = yb - fit[start:k]
    return _Baseline(fit, residual, start, level, *_center_spread(residual))


def _lag1(r: np.ndarray) -> float:
    if r.size < 4:
        return 0.0
    mean = r.mean()
    a, b = r[:-1] - mean, r[1:] - mean
    den = math.sqrt(float(a @ a) * float(b @ b))
    return float(np.clip((a @ b) / den, 0.0, 0.9)) if den > 0 else 0.0


def _cusum_onset(z: np.ndarray, sign: float, start: int, stop: int, k: float = 0.5,
                 h: float = 4.0) -> int | None:
    """Page's CUSUM on standardised residuals: the last reset before the first alarm.

    Uses S_i = X_i - min(0, min_{j<=i} X_j) with X the running sum of (z - k), the
    closed form of the recursion S_i = max(0, S_{i-1} + z_i - k).
    """
    x = np.cumsum(sign * z[start:stop] - k)
    s = x - np.minimum(np.minimum.accumulate(x), 0.0)
    alarm = np.flatnonzero(s > h)
    if alarm.size == 0:
        return None
    first = int(alarm[0])
    zeros = np.flatnonzero(s[: first + 1] <= 0.0)
    return start + (int(zeros[-1]) + 1 if zeros.size else 0)


def _scan_corrected(p: float, n: int) -> float:
    """The p-value at a *chosen* onset, corrected for having chosen it among n splits.

    The best of n split points of pure noise looks significant; multiplying by
    2 ln(n) (about the number of effectively independent splits of a CUSUM scan)
    keeps a healthy day quiet while changes of real incidents (p far below 1e-6)
    pass untouched. See Csorgo and Horvath, "Limit Theorems in Change-Point
    Analysis", Wiley (1997), ch. 1 (the log-log growth of the maximum).
    """
    return float(min(1.0, p * 2.0 * math.log(max(n, 3))))


def _accept_refined(z: np.ndarray, sign: float, refined: int | None, k0: int,
                    horizon: int) -> bool:
    """Take CUSUM's earlier onset only if the points it adds already moved (a ramp-in).

    A clean step is placed well by the split alone; walking back over baseline noise
    would put the onset minutes early and spoil which layer moved first.
    """
    if refined is None or refined >= k0:
        return False
    between = float(np.mean(sign * z[refined:k0]))
    after = float(np.mean(sign * z[k0:k0 + horizon]))
    return between >= max(1.5, 0.15 * after)


def _result(r_after: np.ndarray, base: _Baseline, sd: float, onset: int) -> ShiftResult:
    rb = np.clip(base.residual, -_WINSOR * sd, _WINSOR * sd)
    ra = np.clip(r_after, -_WINSOR * sd, _WINSOR * sd)
    rho = _lag1(rb)
    shrink = (1 - rho) / (1 + rho)
    nb, na = max(rb.size * shrink, 1.0), max(ra.size * shrink, 1.0)
    shift = float(np.mean(ra) - np.mean(rb))
    z = shift / (sd * math.sqrt(1 / nb + 1 / na))
    p = float(min(1.0, 2 * special.ndtr(-abs(z))))
    typical = _median(r_after) - base.residual_median
    effect = typical / sd
    relative = typical / abs(base.level) if abs(base.level) > 1e-9 else math.copysign(
        math.inf, typical) if typical else 0.0
    return ShiftResult(statistic=z, p_value=p, effect=effect, onset=onset,
                       relative=float(np.clip(relative, -1e6, 1e6)), before=base.level,
                       after=base.level + typical, detector="robust_shift")


def robust_shift(values: object, times: object = None, *, direction: str = "both",
                 min_segment: int = 5, window: int = 120, horizon: int = 60) -> ShiftResult:
    """Find and test a lasting level change in a gauge series.

    The onset is first placed by the best two-level split of the series, then refined
    with Page's CUSUM on residuals from a robust baseline (median and MAD, or a
    trend/daily-cycle fit) of the trailing ``window`` points before it. The test
    compares up to ``horizon`` points after the onset with the baseline, with the
    sample sizes shrunk for lag-1 autocorrelation.

    Parameters
    ----------
    values : array_like
        The series, in time order. NaN and inf are dropped.
    times : array_like, optional
        Seconds (epoch) of each value; needed to follow a daily cycle. Defaults to
        one-minute steps.
    direction : {'up', 'down', 'both'}
        Which side of a change to look for.
    min_segment : int
        Fewest points on either side of the onset.
    window, horizon : int
        Baseline points before the onset and test points after it.

    Returns
    -------
    ShiftResult
        ``onset`` indexes the cleaned input; ``p_value`` is 1 when there are fewer than
        ``2 * min_segment`` points.

    References
    ----------
    .. [1] E. S. Page, "Continuous inspection schemes", Biometrika 41 (1954) 100-115.
    .. [2] P. J. Rousseeuw and C. Croux, "Alternatives to the median absolute
       deviation", J. Am. Stat. Assoc. 88 (1993) 1273-1283.
    """
    y, t, m, direction = _shift_iv(values, times, min_segment, direction)
    y = _tame(y)
    n = y.size
    if n < m + _min_baseline(n, m):
        return _NULL
    if t is None:
        t = np.arange(n, dtype=float) * 60.0
    if np.any(t[1:] < t[:-1]):
        order = np.argsort(t, kind="stable")
        y, t = y[order], t[order]
    cleaned = _drop_recovered(y, m)
    if cleaned.keep.size < n:
        keep = cleaned.keep
        return _on_original(_robust_core(y[keep], t[keep], m, direction, window, horizon),
                            cleaned, n)
    return _robust_core(y, t, m, direction, window, horizon)


def _robust_core(y: np.ndarray, t: np.ndarray, m: int, direction: str, window: int,
                 horizon: int) -> ShiftResult:
    """:func:`robust_shift` on clean, time-ordered arrays (no recovered excursions)."""
    n = y.size
    if n < m + _min_baseline(n, m):
        return _NULL
    lo = _min_baseline(n, m)
    k0 = _scan(y, None, m, direction, lo)
    # The split lands mid-way into a ramp; fit the baseline with a guard gap before it
    # so the early part of the change does not bend the baseline, then let CUSUM walk
    # the onset back (by at most the gap) to where the series first left it.
    guard_end = max(lo, k0 - min(k0 - lo, window) // 3)
    design = _seasonal_design(t) if t[-1] - t[0] >= 0.8 * _DAY else None
    guarded = _baseline(t, y, guard_end, window, design)
    start = guarded.start
    sd = _sd_floor(guarded.level,
                   max(_noise_sd(y[start:guard_end]), guarded.residual_sd * 0.5))
    z_all = (y - guarded.fit) / sd
    sign = 1.0 if direction == "up" else -1.0 if direction == "down" else float(
        np.sign(_median(y[k0:]) - _median(y[start:k0])) or 1.0)
    refined = _cusum_onset(z_all, sign, guard_end, n, k=1.0)
    k = int(np.clip(refined, lo, n - m)) if _accept_refined(
        z_all, sign, refined, k0, horizon) else k0
    base = _baseline(t, y, k, window, design)
    sd = _sd_floor(base.level, max(_noise_sd(y[base.start:k]), base.residual_sd))
    stop = min(n, k + horizon)
    r = _result(y[k:stop] - base.fit[k:stop], base, sd, k)
    return replace(r, p_value=_scan_corrected(r.p_value, n))


def rate_shift(rates: object, counts: object, *, direction: str = "both",
               min_segment: int = 5, window: int = 120, horizon: int = 60) -> ShiftResult:
    """Find and test a lasting change in a rate whose denominators are known.

    Points are weighted by their counts, so a rate over 5 requests is weak evidence
    and one over 5,000 strong. The onset comes from the count-weighted two-level
    split refined by CUSUM; the test is exact (binomial, against the baseline rate)
    when few events are expected after the onset, else a two-proportion z test
    inflated by the baseline's over-dispersion (quasi-binomial), since real rates
    vary more than coin flips.

    Parameters
    ----------
    rates : array_like
        Rates in 0..1, in time order.
    counts : array_like
        Their denominators (requests, sessions ...). Points with count 0 are dropped.
    direction, min_segment, window, horizon
        As in :func:`robust_shift`.

    Returns
    -------
    ShiftResult
        ``effect`` is Cohen's h, ``before``/``after`` the pooled rates.

    References
    ----------
    .. [1] A. Agresti, "Categorical Data Analysis", 3rd ed., Wiley (2013), sec. 1.4
       and 4.7 (over-dispersion).
    .. [2] J. Cohen, "Statistical Power Analysis for the Behavioral Sciences", 2nd ed.
       (1988), ch. 6 (the effect size h).
    """
    events, n, m, direction = _rate_iv(rates, counts, min_segment, direction)
    if n.size >= m + _min_baseline(n.size, m):
        cleaned = _drop_recovered(events / n, m)
        if cleaned.keep.size < n.size:
            keep = cleaned.keep
            return _on_original(_rate_core(events[keep], n[keep], m, direction, window,
                                           horizon), cleaned, n.size)
    return _rate_core(events, n, m, direction, window, horizon)


def _rate_core(events: np.ndarray, n: np.ndarray, m: int, direction: str, window: int,
               horizon: int) -> ShiftResult:
    """:func:`rate_shift` on clean event counts and denominators."""
    size = n.size
    lo = _min_baseline(size, m)
    if size < m + lo:
        return ShiftResult(0.0, 1.0, 0.0, -1, detector="rate_test")
    k0 = _scan(events / n, n, m, direction, lo)
    guard_end = max(lo, k0 - min(k0 - lo, window) // 3)
    start = max(0, guard_end - window)
    p0 = float(events[start:guard_end].sum() / n[start:guard_end].sum())
    var = np.maximum(n * max(p0 * (1 - p0), 1e-9), 1e-12)
    z_all = (events - n * p0) / np.sqrt(var)
    sign = 1.0 if direction == "up" else -1.0 if direction == "down" else float(
        np.sign(events[k0:].sum() / n[k0:].sum() - p0) or 1.0)
    refined = _cusum_onset(z_all, sign, guard_end, size, k=1.0)
    k = int(np.clip(refined, lo, size - m)) if _accept_refined(
        z_all, sign, refined, k0, horizon) else k0
    start = max(0, k - window)
    stop = min(size, k + horizon)
    eb, nb = events[start:k], n[start:k]
    ea, na = events[k:stop], n[k:stop]
    p0 = float(eb.sum() / nb.sum())
    p1 = float(ea.sum() / na.sum())
    expected = nb * p0
    pearson = (eb - expected) ** 2 / np.maximum(expected * (1 - p0), 1e-12)
    dispersion = float(max(1.0, pearson.sum() / max(eb.size - 1, 1))) if p0 > 0 else 1.0
    dispersion = min(dispersion, 1e4)
    pooled = float((eb.sum() + ea.sum()) / (nb.sum() + na.sum()))
    se = math.sqrt(max(dispersion * pooled * (1 - pooled)
                       * (1 / nb.sum() + 1 / na.sum()), 1e-18))
    z = (p1 - p0) / se
    if na.sum() * max(p0, 1e-12) < 10 and dispersion < 2 and 0 < p0 < 1:
        k_after = int(round(float(ea.sum())))
        trials = int(round(float(na.sum())))
        from scipy import stats  # here, not at the top: scipy.stats costs ~1 s at start-up

        p = float(stats.binomtest(min(k_after, trials), trials, p0).pvalue) if trials else 1.0
    else:
        p = float(min(1.0, 2 * special.ndtr(-abs(z))))
    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))
    relative = (p1 - p0) / p0 if p0 > 0 else (math.inf if p1 > 0 else 0.0)
    return ShiftResult(statistic=float(z), p_value=_scan_corrected(p, size), effect=float(h),
                       onset=k,
                       relative=float(min(relative, 1e6)), before=p0, after=p1,
                       detector="rate_test")


def lag_growth(values: object, times: object = None, *, min_segment: int = 5,
               window: int = 120) -> ShiftResult:
    """A freshness lag that keeps growing: a stalled pipeline.

    A healthy lag saw-tooths (it grows until the next refresh resets it); a stalled
    one grows with the wall clock and passes everything seen in the baseline. The
    onset is where a hinge (flat, then a straight rise) fits best; the test is the
    rise of the lag after the onset against the baseline's usual lag and its spread.

    Parameters
    ----------
    values : array_like
        Lag or age in seconds, in time order.
    times : array_like, optional
        Seconds (epoch) of each value; defaults to one-minute steps.
    min_segment, window
        As in :func:`robust_shift`.

    Returns
    -------
    ShiftResult
        ``statistic`` is the growth of the lag per second of wall-clock time after the
        onset (1.0 means nothing is being refreshed at all); ``effect`` is the final
        lag above the baseline's 95th percentile, in baseline SDs.
    """
    y, t, m, _ = _shift_iv(values, times, min_segment, "up")
    y = _tame(y)
    n = y.size
    if n < 2 * m:
        return ShiftResult(0.0, 1.0, 0.0, -1, detector="lag_growth")
    if t is None:
        t = np.arange(n, dtype=float) * 60.0
    cleaned = _drop_recovered(y, m, rhythmic=True)
    if cleaned.keep.size < n:
        keep = cleaned.keep
        return _on_original(_lag_core(y[keep], t[keep], m, window), cleaned, n)
    return _lag_core(y, t, m, window)


def _hinge_onset(y: np.ndarray, t: np.ndarray, m: int) -> int:
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

    def after(x: np.ndarray) -> np.ndarray:  # sum over i >= k of x_i, for every k
        c = np.cumsum(x[::-1])[::-1]
        return c[k]

    count = (n - k).astype(float)
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


def _lag_core(y: np.ndarray, t: np.ndarray, m: int, window: int) -> ShiftResult:
    """:func:`lag_growth` on clean arrays (no recovered stalls)."""
    n = y.size
    if n < 2 * m:
        return ShiftResult(0.0, 1.0, 0.0, -1, detector="lag_growth")
    k = _hinge_onset(y, t, m)
    start = max(0, k - window)
    base = y[start:k]
    level = _median(base)
    sd = _sd_floor(level, max(_robust_sd(base), _noise_sd(base)))
    u, v = t[k:] - t[k], y[k:]
    slope = float(np.polyfit(u, v, 1)[0]) if u[-1] > 0 and u.size >= 3 else 0.0
    top = float(np.quantile(base, 0.95))
    excess = (float(y[-1]) - top) / sd
    resid = v - (np.polyval(np.polyfit(u, v, 1), u) if u.size >= 3 else v.mean())
    se = max(_robust_sd(resid), sd * 0.1) / max(float(np.std(u)) * math.sqrt(u.size), 1e-9)
    z = slope / se if se > 0 else 0.0
    p = float(min(1.0, special.ndtr(-z))) if excess > 0 else 1.0
    relative = (float(y[-1]) - level) / abs(level) if abs(level) > 1e-9 else 0.0
    return ShiftResult(statistic=slope, p_value=p, effect=float(excess), onset=k,
                       relative=float(min(relative, 1e6)), before=level, after=float(y[-1]),
                       detector="lag_growth")
