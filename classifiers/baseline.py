"""The baseline a shift is measured against: excursions cleaned out, a trend or daily cycle fitted.

A change in force is judged against what the series did before it. Two things would
spoil that comparison, and both are handled here: earlier excursions that came back
(a deploy an hour ago that was rolled back) are cut out of the series first
(:func:`drop_recovered`), and the baseline follows a slow trend or, with a day of
history, the daily cycle (:func:`fit_baseline`), so the hour of the day is not
mistaken for an incident.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from classifiers.arrays import Floats, Indices
from classifiers.changepoint import segments
from classifiers.results import ShiftResult
from classifiers.robust import center_spread, median, noise_sd, robust_sd

DAY = 86400.0
HELD_TO_RECOVER = 8  # points back at the baseline before an excursion counts as recovered


class Cleaned(NamedTuple):
    """What :func:`drop_recovered` keeps of a series, and what it cut."""

    keep: Indices                            # indices kept
    recovered: int                           # where the last cut excursion recovered, or -1
    excursions: list[tuple[int, float]]      # (points, signed peak from baseline) of each
    # ``y.cumsum()`` of the series given, when the segmentation summed it (else None):
    # the onset scan of an uncut series reads the same running sums
    running: Floats | None = None


class _Excursion(NamedTuple):
    last: int      # index of the excursion's last segment
    span: int      # points in it
    peak: float    # signed largest deviation of its segment levels from its neighbours


def _excursion_at(levels: list[float], bounds: list[int], j: int, sd: float, m: int,
                  min_effect: float) -> _Excursion | None:
    """The excursion of up to six segments that starts at segment ``j``, if there is one.

    Clear means a practical step per point (``min_effect`` point SDs) or, for noisy
    rates, a step of six standard errors of the segment means; the neighbours must
    agree within a third of it and the level after it must have held.
    """
    for last in range(j, min(j + 6, len(levels) - 1)):
        left, right = levels[j - 1], levels[last + 1]
        devs = np.array(levels[j:last + 1]) - 0.5 * (left + right)
        same_side = bool((devs > 0).all() or (devs < 0).all())
        smallest = float(np.abs(devs).min())
        held = bounds[last + 2] - bounds[last + 1]
        span = bounds[last + 1] - bounds[j]
        clear = smallest >= min_effect * sd or smallest >= 6.0 * sd * math.sqrt(
            1.0 / span + 1.0 / min(held, bounds[j] - bounds[j - 1]))
        if (same_side and clear and abs(left - right) <= smallest / 3.0
                and held >= max(m, HELD_TO_RECOVER) and span >= m):
            return _Excursion(last, span, float(devs[int(np.abs(devs).argmax())]))
    return None


def drop_recovered(y: Floats, m: int, min_effect: float = 3.0, *,
                   rhythmic: bool = False) -> Cleaned:
    """Indices to keep once earlier excursions that returned to baseline are removed.

    An incident is explained by the shift in force at the end of the series; a bad
    deploy an hour ago that was rolled back is history. Left in, such an excursion
    draws the best two-level split to itself (after it the series is mostly
    shifted) or bends the baseline the current shift is measured against. So the
    series is cut into levels (binary segmentation on the mean, splits above 5 point
    SDs), and a run of up to six segments (a ramp is a staircase) is an excursion when
    it is clear of its neighbours (:func:`_excursion_at`). Excursions are cut out; the
    final segment never is (it is the episode in force). A trend or a slow daily
    cycle makes a staircase, not an excursion. With ``rhythmic`` (freshness lags,
    which saw-tooth when healthy), two or more excursions are the series' rhythm, not
    episodes, and nothing is cut: cutting the teeth of a saw-tooth would leave a
    baseline below every peak, and the last tooth would look like a stall. Returns the
    kept indices, where the last cut excursion had recovered (-1 if none), and the
    excursions found.
    """
    n = y.size
    keep = np.arange(n)
    sd = noise_sd(y)
    if n < 4 * m or sd <= 0:
        return Cleaned(keep, -1, [])
    running = y.cumsum()
    cuts = segments(y, m, 5.0 * sd, running=running)
    if len(cuts) < 2:
        return Cleaned(keep, -1, [], running)
    bounds = [0, *cuts, n]
    levels = [median(y[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    drop = np.zeros(n, dtype=bool)
    recovered, excursions = -1, []
    j = 1
    while j < len(levels) - 1:
        found = _excursion_at(levels, bounds, j, sd, m, min_effect)
        if found is None:
            j += 1
            continue
        drop[bounds[j]:bounds[found.last + 1]] = True
        recovered = bounds[found.last + 1]
        excursions.append((found.span, found.peak))
        j = found.last + 2
    if not drop.any() or (rhythmic and len(excursions) >= 2):
        return Cleaned(keep, -1, excursions, running)
    return Cleaned(keep[~drop], recovered, excursions, running)


def recurring(result: ShiftResult, excursions: list[tuple[int, float]], since: int) -> bool:
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
            and since <= 1.5 * max(points for points, _ in alike) + HELD_TO_RECOVER)


def on_original(result: ShiftResult, cleaned: Cleaned, n: int) -> ShiftResult:
    """A result found on the cleaned series, told in the indices of the original one."""
    if result.onset < 0:
        return replace(result, onset=-1, recovered=cleaned.recovered)
    onset = int(cleaned.keep[result.onset])
    return replace(result, onset=onset, recovered=cleaned.recovered,
                   recurring=recurring(result, cleaned.excursions, n - onset))


def seasonal_design(t: Floats) -> Floats:
    """Design columns of the daily-cycle fit for all points of ``t`` (read-only).

    Intercept, hours since ``t[0]`` and two daily harmonics. Both baseline fits of
    a series (guarded, then at the refined onset) use rows of it, and so does every
    other series on the same timestamps (all signals and slices of a service report
    each minute); the trigonometry over a day of points costs about as much as a
    fit, so the matrix is built once per distinct time axis.
    """
    return _seasonal_design_of(np.ascontiguousarray(t, dtype=np.float64).tobytes())


@functools.lru_cache(maxsize=8)
def _seasonal_design_of(raw: bytes) -> Floats:
    t = np.frombuffer(raw, dtype=np.float64)
    phase = 2 * np.pi * (t % DAY) / DAY
    design = np.column_stack([np.ones_like(t), (t - t[0]) / 3600.0, np.sin(phase),
                              np.cos(phase), np.sin(2 * phase), np.cos(2 * phase)])
    design.flags.writeable = False
    return design


def _line_design(t: Floats, origin: float) -> Floats:
    return np.column_stack([np.ones_like(t), (t - origin) / 3600.0])


class Baseline(NamedTuple):
    """The fitted baseline before an onset, over every point of the series."""

    fit: Floats            # fitted values for all points
    residual: Floats       # baseline points minus the fit
    start: int             # index where the baseline starts
    level: float           # median of the baseline points
    residual_median: float
    residual_sd: float     # robust SD of ``residual``


def _solve(x: Floats, yb: Floats) -> tuple[Floats, float]:
    """Least-squares coefficients and the unit standard error of the slope (column 1).

    Solves the normal equations (a few columns, well conditioned: hours and unit
    waves), since their inverse is needed for the slope's standard error anyway; a
    singular system falls back to ``lstsq`` with an infinite standard error.
    """
    try:
        inverse = np.linalg.inv(x.T @ x)
    except np.linalg.LinAlgError:
        coef = np.asarray(np.linalg.lstsq(x, yb, rcond=None)[0], dtype=np.float64)
        return coef, math.inf
    return inverse @ (x.T @ yb), math.sqrt(max(float(inverse[1, 1]), 0.0))


_GRAM_INVERSES: dict[tuple[int, int, int], tuple[Floats, Floats | None]] = {}
_GRAM_KEPT = 256  # entries: a diagnosis fits a few distinct (axis, start, onset) triples


def _seasonal_inverse(full: Floats, start: int, k: int) -> Floats | None:
    """``inv(x.T @ x)`` of the design rows ``start:k`` of a read-only daily-cycle design.

    Slices of one signal share their time axis (so their design, cached by
    :func:`seasonal_design`) and mostly their onset, so the guarded and the final fit
    of each slice invert the same normal matrix; it is computed once, by the same
    operations, so the coefficients are the same to the bit. ``None`` when singular.
    Keyed by the design's identity, which the entry keeps alive (the id cannot be
    reused while the entry holds the array); writable designs are not cached.
    """
    key = (id(full), start, k)
    hit = _GRAM_INVERSES.get(key)
    if hit is not None and hit[0] is full:
        return hit[1]
    x = full[start:k]
    try:
        inverse: Floats | None = np.asarray(np.linalg.inv(x.T @ x), dtype=np.float64)
    except np.linalg.LinAlgError:
        inverse = None
    if not full.flags.writeable:
        if len(_GRAM_INVERSES) >= _GRAM_KEPT:
            _GRAM_INVERSES.clear()
        _GRAM_INVERSES[key] = (full, inverse)
    return inverse


def _seasonal_fit(full: Floats, start: int, k: int, yb: Floats) -> Floats:
    """Fitted values over all points of the daily-cycle least squares on ``start:k``.

    The same arithmetic as :func:`_solve` (the normal equations, ``lstsq`` when they
    are singular), with the inverse shared through :func:`_seasonal_inverse`.
    """
    x = full[start:k]
    inverse = _seasonal_inverse(full, start, k)
    if inverse is None:
        coef = np.asarray(np.linalg.lstsq(x, yb, rcond=None)[0], dtype=np.float64)
    else:
        coef = inverse @ (x.T @ yb)
    return np.asarray(full @ coef, dtype=np.float64)


def fit_baseline(t: Floats, y: Floats, k: int, window: int,
                 design: Floats | None = None) -> Baseline:
    """The fit of the baseline before ``k``, for all points, and its spread.

    With a day of history before ``k`` the fit is a daily cycle (two harmonics) plus
    a trend over all of it; otherwise a straight line on the trailing ``window``
    points, kept only if its slope is clearly there (t > 3), else a flat median.
    ``design`` is :func:`seasonal_design` of ``t`` when the caller already has it.
    """
    seasonal = (t[k - 1] - t[0]) >= 0.8 * DAY and k >= 60
    start = 0 if seasonal else max(0, k - window)
    tb, yb = t[start:k], y[start:k]
    level = median(yb)
    fit = None
    if yb.size >= 60 and tb[-1] > tb[0]:
        if seasonal:
            full = seasonal_design(t) if design is None else design
            fit = _seasonal_fit(full, start, k, yb)
        else:
            x = _line_design(tb, float(tb[-1]))
            coef, unit_se = _solve(x, yb)
            sd = max(robust_sd(yb - x @ coef), 1e-12)
            if abs(coef[1]) > 3 * sd * unit_se:
                fit = _line_design(t, float(tb[-1])) @ coef
    if fit is None:
        fit = np.full(t.size, level)
    residual = yb - fit[start:k]
    return Baseline(fit, residual, start, level, *center_spread(residual))
