"""Where a resource's slow climb into a failure began: the onset of a leak's ramp.

A slow leak shows nothing for hours: the working set grows a few GB an hour until
it reaches the container's limit, and only then does anything fail (the kubelet
kills the pod, the restart counter steps, 5xx burst while it is down). The step
detectors place the failure at the kill, hours after the change that started the
leak, so a change made in between (a config tweak forty minutes before the kill,
after which nothing moved) looks fresher than the one that started the climb.

The climb itself dates the leak. Before a kill at ``end`` the series is flat, then
rises linearly: a hinge ``y = a + b * max(t - tau, 0)`` fitted by least squares
over the points before ``end``, with ``tau`` chosen from the sample times
(:func:`ramp_onset`). It counts as the leak's ramp only when the hinge explains
the series (its residuals are no larger than the series' own point-to-point
noise allows, so a saw-tooth with an earlier kill inside the span does not fit),
its rise is many noise SDs, the flat stretch before it holds points and fits
clearly better than one straight line (the climb did not begin before the
window), and the series falls back soon after ``end`` (the kill reset it): a
daily cycle's morning climb has no reset at the failure's onset. The onset's
interval is the profile-likelihood one: every ``tau`` whose fit is within
``PROFILE_CHI2`` noise variances of the best [1]_.

References
----------
.. [1] D. V. Hinkley, "Inference about the intersection in two-phase regression",
   Biometrika 56 (1969), pp. 495-504.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classifiers.arrays import Floats
from classifiers.robust import median, noise_sd

MAX_POINTS = 240       # the series is thinned evenly to this many points before the fit
MIN_POINTS = 12        # fewer points before the kill than this: no ramp is estimated
MIN_FLAT = 3           # points before the knee, at least: the climb began in the window
MIN_CLIMB = 6          # points on the climb, at least: a slow climb, not a step
MIN_RISE_SD = 10.0     # the climb's rise over the noise's SD, at least
FIT_SLACK = 2.0        # the hinge's residual SD may be this many noise SDs, at most
RESET_SHARE = 0.5      # after the kill the series is back below this share of the rise
RESET_POINTS = 3       # samples after the kill in which the reset must come, at least
RESET_SECONDS = 600.0  # or this long (the pod is down a few minutes before it restarts)
PROFILE_CHI2 = 4.0     # the onset's interval: fits within this many noise variances
LINE_CHI2 = 25.0       # the knee beats one straight line by this many noise variances


@dataclass(frozen=True)
class RampOnset:
    """When a climb into a kill began (epoch seconds): ``low <= onset``, the earliest
    it may have begun; ``rise`` is the climb in noise SDs; ``resolution`` the
    sampling interval (seconds)."""

    onset: float
    low: float
    rise: float
    resolution: float


def _hinge_sse(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(residual sum of squares, slope) of the hinge with its knee at each sample time.

    For knee ``t[k]`` the regressor is ``x = max(t - t[k], 0)``; the least-squares fit
    of ``y = a + b x`` has ``SSE = Syy - Sxy^2 / Sxx`` with centred sums (``Sxx = 0``,
    a knee at the last point, fits nothing).
    """
    x = np.clip(t[None, :] - t[:, None], 0.0, None)   # row k: the regressor of knee k
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean()
    sxx = np.einsum("ij,ij->i", xc, xc)
    sxy = xc @ yc
    syy = float(yc @ yc)
    safe = np.where(sxx > 0, sxx, 1.0)
    sse = np.where(sxx > 0, syy - sxy * sxy / safe, syy)
    return np.maximum(sse, 0.0), np.where(sxx > 0, sxy / safe, 0.0)


def ramp_onset(values: Floats, times: Floats, end: float) -> RampOnset | None:
    """The onset of the climb that ended at ``end`` (epoch seconds), or ``None``.

    Parameters
    ----------
    values, times : numpy.ndarray
        A resource series whose bad direction is up (a working set, a queue), its
        times in epoch seconds, increasing.
    end : float
        When the failure began (the first kill): the climb is read before it and
        the reset after it.

    Returns
    -------
    RampOnset or None
        ``None`` unless a flat stretch, then a steady climb of at least
        ``MIN_RISE_SD`` noise SDs up to ``end``, then a fall back within
        ``RESET_SECONDS`` (or ``RESET_POINTS`` samples) after it.
    """
    v = np.asarray(values, dtype=float)
    t = np.asarray(times, dtype=float)
    ok = np.isfinite(v) & np.isfinite(t)
    v, t = v[ok], t[ok]
    before = t < end
    n = int(np.count_nonzero(before))
    if n < MIN_POINTS:
        return None
    tb, yb = t[before], v[before]
    step = median(np.diff(tb))
    after = v[(t >= end) & (t <= end + max(RESET_SECONDS, RESET_POINTS * step))]
    if after.size == 0:
        return None
    sd = noise_sd(yb)
    # the cheap necessary conditions first (most series at most findings fail them):
    # the end well above the start, and the series back near the start after the kill
    start, peak = median(yb[:MIN_FLAT]), median(yb[-MIN_FLAT:])
    if (sd <= 0 or peak - start < MIN_RISE_SD * sd
            or float(np.min(after)) - start > RESET_SHARE * (peak - start)):
        return None
    if n > MAX_POINTS:
        picks = np.linspace(0, n - 1, MAX_POINTS).astype(np.int64)
        tb, yb = tb[picks], yb[picks]
    resolution = median(np.diff(tb))  # the knee is placed on the thinned points' grid
    sse, slope = _hinge_sse(tb, yb)
    usable = np.zeros(tb.size, dtype=bool)
    usable[MIN_FLAT:tb.size - MIN_CLIMB] = True
    usable &= slope > 0
    if not usable.any():
        return None
    k = int(np.argmin(np.where(usable, sse, np.inf)))
    rise = slope[k] * (tb[-1] - tb[k])
    residual = float(np.sqrt(sse[k] / max(tb.size - 3, 1)))
    base = median(yb[:k + 1])
    # a knee that fits no better than a straight line from the window's start (or sits
    # at the first knee allowed) is a climb that began before the window
    if (k == MIN_FLAT or sse[0] - sse[k] < LINE_CHI2 * sd * sd
            or rise < MIN_RISE_SD * sd or residual > FIT_SLACK * sd
            or float(np.min(after)) - base > RESET_SHARE * rise):
        return None
    inside = usable & (sse - sse[k] <= PROFILE_CHI2 * sd * sd)
    low = float(tb[np.flatnonzero(inside)[0]])
    return RampOnset(float(tb[k]), min(low, float(tb[k])), float(rise / sd), resolution)
