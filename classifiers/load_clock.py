"""A change's distance before a failure that follows the load, counted in minutes of
like load rather than on the wall clock.

A pool capped too low (a lower max-replica setting, a GPU node lost from a capped
pool) hurts only while the load needs more replicas than the cap allows: a cap
lowered at 07:00 shows nothing until the morning's load passes it at 11:00, and
then queue, latency and timeouts grow and recede with the daily load, worst at the
peak. On the wall clock such a change is four hours stale, and a change of another
kind at 10:30 that moved nothing looks fresher. What speaks against a change is calm
*under the load that now hurts*: the minutes since it during which the traffic was
at least ``LOAD_SHARE`` of the onset's. Before that the failure could not show.

This holds only for harm that tracks the load (:func:`tracks_load`: its series and
the traffic rise and fall together after the onset); a failure that does not follow
the traffic keeps the wall clock, and so does every change when the traffic was as
high as at the onset all along (a flat day: the two clocks agree).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifiers.arrays import Floats

LOAD_SHARE = 0.9        # traffic this close to the onset's counts as the same load
LOAD_CORRELATION = 0.3  # harm and traffic after the onset correlate this much, at least
FOLLOW_CORRELATION = 0.6  # a series this correlated with the traffic follows the day
LOW_SHARE = 0.8         # under this share the load was clearly lower: the climb began
LOAD_STEP = 600.0       # seconds over which the traffic rate is read (Poisson noise)
LOAD_MIN_POINTS = 6     # harm points after the onset the correlation needs


def traffic_rate(request_times: Floats, request_counts: Floats, start: float, end: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(middle of each ``LOAD_STEP`` interval from ``start`` to ``end``, requests a
    second over it), from the cumulative count read at the interval's ends; empty
    where the counts do not reach."""
    ok = np.isfinite(request_counts) & (request_counts >= 0)
    if np.count_nonzero(ok) < 3 or end - start < 2 * LOAD_STEP:
        return np.zeros(0), np.zeros(0)
    edges = np.arange(start, end + 1.0, LOAD_STEP)
    served = np.interp(edges, request_times[ok], np.cumsum(request_counts[ok]))
    rate = np.diff(served) / LOAD_STEP
    mids = (edges[1:] + edges[:-1]) / 2
    inside = (edges[:-1] >= request_times[ok][0]) & (edges[1:] <= request_times[ok][-1])
    return mids[inside], rate[inside]


def tracks_load(values: Floats, times: Floats, onset: float, mids: np.ndarray,
                rate: np.ndarray) -> bool:
    """Whether the harm after ``onset`` rose and fell with the traffic (Pearson
    correlation of its values with the traffic rate at their times)."""
    if mids.size < 2:
        return False
    after = (times >= onset) & np.isfinite(values)
    return _load_correlation(values, times, after, mids, rate) >= LOAD_CORRELATION


def follows_load(values: Floats, times: Floats, mids: np.ndarray, rate: np.ndarray) -> bool:
    """Whether a series rose and fell with the traffic over the whole window (Pearson
    correlation at least ``FOLLOW_CORRELATION``): the daily cycle, not an excursion."""
    if mids.size == 0:
        return False
    inside = np.isfinite(values) & (times >= mids[0]) & (times <= mids[-1])
    return _load_correlation(values, times, inside, mids, rate) >= FOLLOW_CORRELATION


def _load_correlation(values: Floats, times: Floats, keep: np.ndarray, mids: np.ndarray,
                      rate: np.ndarray) -> float:
    """Pearson correlation of the kept values with the traffic rate at their times;
    -inf (below any threshold) with too few points or a flat side."""
    if np.count_nonzero(keep) < LOAD_MIN_POINTS:
        return -np.inf
    load = np.interp(times[keep], mids, rate)
    kept = values[keep]
    if float(np.std(load)) <= 0 or float(np.std(kept)) <= 0:
        return -np.inf
    return float(np.corrcoef(kept, load)[0, 1])


def in_order(changes: Sequence[float], clock: Sequence[float]) -> list[float]:
    """The load clock's times of ``changes`` (epoch seconds, any order) made to keep
    their order: no change reads as older than one made before it.

    :func:`load_minutes` counts none of the last climb's minutes for a change made
    before the climb, but all of them for one made during it: a node-pool change an
    hour before an OOM failure read fresher than the one seven minutes before it
    that caused it, only because the first came before the morning's climb. A
    change made during the climb was tested by no more of the load that hurts than
    one made before it, so it reads at least as recent (its reading is lifted to
    the latest reading of those made before it); and of two that then read alike,
    the later reads a second more recent, so that timing prefers the change right
    before the failure and the kind decides only between changes that timing
    cannot tell apart.
    """
    order = sorted(range(len(changes)), key=lambda i: changes[i])
    out = [float(x) for x in clock]
    latest = -np.inf
    for i in order:  # no change reads older than an earlier one
        out[i] = max(out[i], latest)
        latest = out[i]
    later = np.inf
    for i in reversed(order):  # and of two alike, the earlier a second older
        out[i] = min(out[i], later - 1.0)
        later = out[i]
    return out


def load_minutes(change: float, onset: float, mids: np.ndarray, rate: np.ndarray) -> float:
    """Minutes from ``change`` to ``onset`` (epoch seconds) as a load-driven failure
    reads them. The load's last climb to the onset's level (from the last interval
    clearly lower, under ``LOW_SHARE`` of the onset's rate) is when such a failure could first
    show: a change before it was tested only by lower loads, so of its time before
    the climb only the minutes at like load (``LOAD_SHARE``) count (an earlier peak since the change
    that did no harm), and none of the climb's. A change made during the climb, after
    the onset or outside the traffic's span keeps the wall clock's minutes."""
    wall = (onset - change) / 60.0
    if wall <= 0 or mids.size == 0 or change < mids[0] - LOAD_STEP / 2:
        return wall
    at_onset = float(np.interp(onset - LOAD_STEP / 2, mids, rate))
    like = rate >= LOAD_SHARE * at_onset
    lower = (mids < onset) & (rate < LOW_SHARE * at_onset)
    climb = float(mids[lower][-1]) + LOAD_STEP / 2 if lower.any() else float(mids[0])
    if change >= climb:
        return wall
    earlier = np.count_nonzero(like & (mids >= change) & (mids < climb))
    return min(float(earlier) * LOAD_STEP / 60.0, wall)
