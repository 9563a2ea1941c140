"""Level changes in one series: gauges, rates with counts, and growing freshness lags.

Incidents look like a series that leaves its usual level at some moment and stays
away. Each detector here finds that moment (the onset; the scans are in
:mod:`classifiers.changepoint`), compares what came after with a baseline fitted on a
trailing window before it (:mod:`classifiers.baseline`, which also cuts out earlier
excursions that recovered) and returns a frozen
:class:`~classifiers.results.ShiftResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from classifiers import special
from classifiers._validation import rate_iv, shift_iv
from classifiers.arrays import Floats
from classifiers.baseline import (
    DAY,
    Baseline,
    drop_recovered,
    fit_baseline,
    on_original,
    seasonal_design,
)
from classifiers.changepoint import (
    accept_refined,
    cusum_onset,
    hinge_onset,
    mean_shift_scan,
    scan_corrected,
)
from classifiers.results import ShiftResult
from classifiers.robust import median, noise_sd, robust_sd

_WINSOR = 8.0  # residuals beyond this many baseline SDs are clipped: one spike is not a shift
_NULL = ShiftResult(statistic=0.0, p_value=1.0, effect=0.0, onset=-1)


def _tame(y: Floats) -> Floats:
    """Values near the float limit would overflow in squares; clip them to +-1e150."""
    return np.clip(y, -1e150, 1e150) if y.size and np.abs(y).max() > 1e150 else y


def _sd_floor(level: float, noise: float) -> float:
    return max(noise, 1e-3 * abs(level), 1e-9)


def _min_baseline(n: int, m: int) -> int:
    """Fewest baseline points before an onset: a level from three points is no baseline."""
    return max(m, min(30, n // 4))


def _lag1(r: Floats) -> float:
    """Lag-1 autocorrelation of residuals, held in 0..0.9 (it shrinks the sample sizes)."""
    if r.size < 4:
        return 0.0
    mean = r.mean()
    a, b = r[:-1] - mean, r[1:] - mean
    den = math.sqrt(float(a @ a) * float(b @ b))
    # min/max of a float, not np.clip's array machinery: the same value (NaN kept)
    return min(max(float(a @ b) / den, 0.0), 0.9) if den > 0 else 0.0


def _result(r_after: Floats, base: Baseline, sd: float, onset: int, n: int) -> ShiftResult:
    """The test at ``onset`` of a series of ``n`` points, its p-value scan-corrected."""
    rb = np.clip(base.residual, -_WINSOR * sd, _WINSOR * sd)
    ra = np.clip(r_after, -_WINSOR * sd, _WINSOR * sd)
    rho = _lag1(rb)
    shrink = (1 - rho) / (1 + rho)
    nb, na = max(rb.size * shrink, 1.0), max(ra.size * shrink, 1.0)
    shift = float(ra.mean() - rb.mean())
    z = shift / (sd * math.sqrt(1 / nb + 1 / na))
    p = scan_corrected(float(min(1.0, 2 * special.ndtr(-abs(z)))), n)
    typical = median(r_after) - base.residual_median
    effect = typical / sd
    relative = typical / abs(base.level) if abs(base.level) > 1e-9 else math.copysign(
        math.inf, typical) if typical else 0.0
    return ShiftResult(statistic=z, p_value=p, effect=effect, onset=onset,
                       relative=min(max(float(relative), -1e6), 1e6), before=base.level,
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
    y, t, m, direction = shift_iv(values, times, min_segment, direction)
    y = _tame(y)
    n = y.size
    if n < m + _min_baseline(n, m):
        return _NULL
    if t is None:
        t = np.arange(n, dtype=float) * 60.0
    if np.any(t[1:] < t[:-1]):
        order = np.argsort(t, kind="stable")
        y, t = y[order], t[order]
    cleaned = drop_recovered(y, m)
    if cleaned.keep.size < n:
        keep = cleaned.keep
        return on_original(_robust_core(y[keep], t[keep], m, direction, window, horizon),
                            cleaned, n)
    return _robust_core(y, t, m, direction, window, horizon, cleaned.running)


def _robust_core(y: Floats, t: Floats, m: int, direction: str, window: int,
                 horizon: int, running: Floats | None = None) -> ShiftResult:
    """:func:`robust_shift` on clean, time-ordered arrays (no recovered excursions).

    ``running``: ``y.cumsum()``, when the excursion cleaning took it.
    """
    n = y.size
    if n < m + _min_baseline(n, m):
        return _NULL
    lo = _min_baseline(n, m)
    k0 = mean_shift_scan(y, None, m, direction, lo, running)
    # The split lands mid-way into a ramp; fit the baseline with a guard gap before it
    # so the early part of the change does not bend the baseline, then let CUSUM walk
    # the onset back (by at most the gap) to where the series first left it.
    guard_end = max(lo, k0 - min(k0 - lo, window) // 3)
    design = seasonal_design(t) if t[-1] - t[0] >= 0.8 * DAY else None
    guarded = fit_baseline(t, y, guard_end, window, design)
    start = guarded.start
    sd = _sd_floor(guarded.level,
                   max(noise_sd(y[start:guard_end]), guarded.residual_sd * 0.5))
    z_all = (y - guarded.fit) / sd
    sign = 1.0 if direction == "up" else -1.0 if direction == "down" else float(
        np.sign(median(y[k0:]) - median(y[start:k0])) or 1.0)
    refined = cusum_onset(z_all, sign, guard_end, n, k=1.0)
    k = k0
    if refined is not None and accept_refined(z_all, sign, refined, k0, horizon):
        k = min(max(int(refined), lo), n - m)  # np.clip of ints, without its dispatch
    base = fit_baseline(t, y, k, window, design)
    sd = _sd_floor(base.level, max(noise_sd(y[base.start:k]), base.residual_sd))
    stop = min(n, k + horizon)
    return _result(y[k:stop] - base.fit[k:stop], base, sd, k, n)


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
    events, n, m, direction = rate_iv(rates, counts, min_segment, direction)
    if n.size >= m + _min_baseline(n.size, m):
        cleaned = drop_recovered(events / n, m)
        if cleaned.keep.size < n.size:
            keep = cleaned.keep
            return on_original(_rate_core(events[keep], n[keep], m, direction, window,
                                           horizon), cleaned, n.size)
    return _rate_core(events, n, m, direction, window, horizon)


def _rate_core(events: Floats, n: Floats, m: int, direction: str, window: int,
               horizon: int) -> ShiftResult:
    """:func:`rate_shift` on clean event counts and denominators."""
    size = n.size
    lo = _min_baseline(size, m)
    if size < m + lo:
        return ShiftResult(0.0, 1.0, 0.0, -1, detector="rate_test")
    k0 = mean_shift_scan(events / n, n, m, direction, lo)
    guard_end = max(lo, k0 - min(k0 - lo, window) // 3)
    start = max(0, guard_end - window)
    p0 = float(events[start:guard_end].sum() / n[start:guard_end].sum())
    var = np.maximum(n * max(p0 * (1 - p0), 1e-9), 1e-12)
    z_all = (events - n * p0) / np.sqrt(var)
    sign = 1.0 if direction == "up" else -1.0 if direction == "down" else float(
        np.sign(events[k0:].sum() / n[k0:].sum() - p0) or 1.0)
    refined = cusum_onset(z_all, sign, guard_end, size, k=1.0)
    k = k0
    if refined is not None and accept_refined(z_all, sign, refined, k0, horizon):
        k = min(max(int(refined), lo), size - m)
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
        p = _exact_two_sample(float(eb.sum()), float(nb.sum()), float(ea.sum()),
                              float(na.sum()))
    else:
        p = float(min(1.0, 2 * special.ndtr(-abs(z))))
    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))
    relative = (p1 - p0) / p0 if p0 > 0 else (math.inf if p1 > 0 else 0.0)
    return ShiftResult(statistic=float(z), p_value=scan_corrected(p, size), effect=float(h),
                       onset=k,
                       relative=float(min(relative, 1e6)), before=p0, after=p1,
                       detector="rate_test")


def _exact_two_sample(events_before: float, n_before: float, events_after: float,
                      n_after: float) -> float:
    """Exact p-value of the events after against those before, both sides counted.

    With few events expected, a one-sample binomial test against the baseline's rate
    takes that rate as known; read off a thin slice's handful of events (2 in 357
    requests, where the slice's rate is 2 %), it is itself a coin that fell low, and
    every later stretch looks like a rise. Given the events of both sides together,
    those after are binomial with the share of the requests that came after (the
    conditional test of two Poisson rates), which counts the baseline's own luck; on
    a baseline of many events it is the one-sample test.

    References
    ----------
    .. [1] J. Przyborowski and H. Wilenski, "Homogeneity of results in testing samples
       from Poisson series", Biometrika 31 (1940) 313-323.
    """
    total = int(round(events_before + events_after))
    if total <= 0 or n_before <= 0 or n_after <= 0:
        return 1.0
    share = n_after / (n_before + n_after)
    return special.binom_test(min(int(round(events_after)), total), total, share)


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
        ``statistic`` is the z score of the lag's growth after the onset (its slope
        over the slope's standard error), like every shift detector's, so that
        :func:`classifiers.onsets.onset_interval` reads how clearly the rise began; the
        growth per second of wall-clock time (1.0 means nothing is being refreshed at
        all) is ``(after - before)`` over the time since the onset. ``effect`` is the
        final lag above the baseline's 95th percentile, in baseline SDs.
    """
    y, t, m, _ = shift_iv(values, times, min_segment, "up")
    y = _tame(y)
    n = y.size
    if n < 2 * m:
        return ShiftResult(0.0, 1.0, 0.0, -1, detector="lag_growth")
    if t is None:
        t = np.arange(n, dtype=float) * 60.0
    cleaned = drop_recovered(y, m, rhythmic=True)
    if cleaned.keep.size < n:
        keep = cleaned.keep
        return on_original(_lag_core(y[keep], t[keep], m, window), cleaned, n)
    return _lag_core(y, t, m, window)


def _lag_core(y: Floats, t: Floats, m: int, window: int) -> ShiftResult:
    """:func:`lag_growth` on clean arrays (no recovered stalls)."""
    n = y.size
    if n < 2 * m:
        return ShiftResult(0.0, 1.0, 0.0, -1, detector="lag_growth")
    k = hinge_onset(y, t, m)
    start = max(0, k - window)
    base = y[start:k]
    level = median(base)
    sd = _sd_floor(level, max(robust_sd(base), noise_sd(base)))
    u, v = t[k:] - t[k], y[k:]
    slope = float(np.polyfit(u, v, 1)[0]) if u[-1] > 0 and u.size >= 3 else 0.0
    top = float(np.quantile(base, 0.95))
    excess = (float(y[-1]) - top) / sd
    peaks = tooth_peaks(y[max(0, k - TOOTH_HISTORY * window):k])
    if peaks is not None:  # a saw-tooth: the overdue refresh, in units of the peaks' spread
        peak = median(peaks)
        spread = max(robust_sd(peaks), TOOTH_PEAK_FLOOR * abs(peak), 1e-9)
        excess = max(excess, (float(y[-1]) - max(top, peak)) / spread)
    resid = v - (np.polyval(np.polyfit(u, v, 1), u) if u.size >= 3 else v.mean())
    se = max(robust_sd(resid), sd * 0.1) / max(float(np.std(u)) * math.sqrt(u.size), 1e-9)
    z = slope / se if se > 0 else 0.0
    p = float(min(1.0, special.ndtr(-z))) if excess > 0 else 1.0
    relative = (float(y[-1]) - level) / abs(level) if abs(level) > 1e-9 else 0.0
    return ShiftResult(statistic=float(z), p_value=p, effect=float(excess), onset=k,
                       relative=float(min(relative, 1e6)), before=level, after=float(y[-1]),
                       detector="lag_growth")


TOOTH_HISTORY = 4      # the peaks are read over this many baseline windows before the onset
TOOTH_MIN_PEAKS = 3    # fewer resets than this are no rhythm
TOOTH_PEAK_FLOOR = 0.1  # a refresh 30 % overdue (3 of these) is the least that counts


def tooth_peaks(y: Floats) -> Floats | None:
    """The peaks of a healthy saw-tooth (the values just before each reset), or None.

    A lag that a periodic refresh resets climbs from near zero to about the same peak
    every cycle. Its spread over the whole cycle is the tooth's height, not noise: a
    stalled refresh would have to pass the usual peak by three tooth heights before
    that spread called it unusual, and an index refreshed every half hour would be
    two hours stale first. The peaks are what a healthy cycle repeats, so what is
    overdue is measured against them. A reset is a drop of more than half the
    series' 5-95 % range in one step; fewer than ``TOOTH_MIN_PEAKS`` of them are no
    rhythm (None).
    """
    if y.size < 2 * TOOTH_MIN_PEAKS:
        return None
    lo, hi = np.quantile(y, [0.05, 0.95])
    if not hi > lo:
        return None
    drops = np.flatnonzero(np.diff(y) < -0.5 * (hi - lo))
    if drops.size < TOOTH_MIN_PEAKS:
        return None
    return y[drops]


GROWN_TAIL = (3, 10)  # the end of a ramp: a quarter of the points after its onset, 3 to 10


@dataclass(frozen=True)
class RateEnd:
    """A rate's size at the end of its window: Cohen's h and the relative change from
    the level before, and the level it got to."""

    effect: float
    relative: float
    level: float


def rate_at_end(values: Floats, counts: Floats, onset: int, before: float | None,
                after: float | None, *, min_events: float) -> RateEnd | None:
    """The rate at the end of the window, when it kept moving past the level a test
    averaged after ``onset`` (``after``), away from ``before``; else None.

    A slow ramp (a concept drift over two hours, chargebacks that build up) averages
    half its final size over a test's horizon, so a move that is clear by the end fails
    a practical threshold on its mean. Only the size is read at the end, from the last
    quarter of the points after the onset (3 to 10 of them) holding at least
    ``min_events`` events when it rose; the significance stays the test's.
    """
    if before is None or after is None or not 0.0 < before < 1.0 or after == before:
        return None
    n_after = values.size - onset
    lo, hi = GROWN_TAIL
    if n_after < 2 * lo:
        return None
    k = int(min(hi, max(lo, n_after // 4)))
    events = float((values[-k:] * counts[-k:]).sum())
    level = events / float(counts[-k:].sum())
    if (level - after) * (after - before) <= 0:
        return None
    if level > before and events < min_events:
        return None
    h = 2 * math.asin(math.sqrt(min(max(level, 0.0), 1.0))) - 2 * math.asin(math.sqrt(before))
    return RateEnd(h, (level - before) / before, level)
