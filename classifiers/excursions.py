"""Whether a moved signal says "degraded now": still moved at the end, and not a daily habit.

A detector answers "did this series leave its level at some moment?". The label
needs two more answers about the same move, because many things that leave their
level are not failures: a latency spike that came back before anyone looked (a
recovered transient), and a nightly batch job that lifts the queue at the same hour
every day. Both are read off the series that set the layer's onset, with the
levels its shift test already measured, so they cost a median of a few points and
a pair of masked means (no new scans). A third answer, whether the move is larger
than the scatter the series shows since it moved (:func:`within_own_noise`), tells a
low-traffic night or a canary's new mix of cells from a level that really moved.
"""

from __future__ import annotations

import math

import numpy as np

from classifiers.arrays import Floats
from classifiers.robust import noise_sd

DAY = 86_400.0
TAIL_POINTS = (3, 10)      # the end of the window: between 3 and 10 of the last points
TAIL_SHARE = 0.25          # ... or a quarter of those after the onset, if fewer
RECURRENCE_MINUTES = 60.0  # how long after "the same time yesterday" is compared
RECURRENCE_MIN_POINTS = 3
TAIL_EVENTS = 5.0          # a counted tail holds this many events at the moved rate


def _level(values: Floats, counts: Floats | None, mask: np.ndarray) -> float | None:
    """Median of the masked values, or their count-weighted mean for a rate."""
    if not mask.any():
        return None
    if counts is not None:
        total = float(counts[mask].sum())
        if total > 0:
            return float((values[mask] * counts[mask]).sum() / total)
    return float(np.median(values[mask]))


def persistence(values: Floats, times: Floats, onset: float, before: float | None,
                after: float | None, counts: Floats | None = None) -> float:
    """How much of a shift from ``before`` to ``after`` is still there at the end (0..1).

    The end is the last few points (a quarter of those after the onset, 3 to 10):
    1 when they sit at ``after`` or beyond, 0 when they are back at ``before`` (or
    crossed it). Tests without levels (distributions, states, growing lags) keep
    1: what they found has no "back" to go to within the window. A rate's tail is
    lengthened (:func:`_counted_tail`) until it could have shown the moved rate.
    """
    if before is None or after is None or not math.isfinite(before) \
            or not math.isfinite(after) or after == before or values.size == 0:
        return 1.0
    n_after = int(np.count_nonzero(times >= onset))
    lo, hi = TAIL_POINTS
    k = int(min(hi, max(lo, TAIL_SHARE * n_after)))
    if n_after < lo:
        return 1.0
    if counts is not None:
        k = _counted_tail(counts, k, max(before, after), max(lo, n_after // 2))
    mask = np.zeros(values.size, bool)
    mask[-k:] = True
    tail = _level(values, counts, mask)
    if tail is None:
        return 1.0
    return float(min(max((tail - before) / (after - before), 0.0), 1.0))


def _counted_tail(counts: Floats, k: int, rate: float, most: int) -> int:
    """How many of the last points a rate's tail needs: ``k``, or more (up to ``most``)
    until ``TAIL_EVENTS`` events were expected in it at ``rate``.

    At night a slice serves a handful of requests a scrape: six scrapes of 36 requests
    without an error say little against an error rate of 7 % (2.5 expected), and read
    as "back at 1 %" they made a timeout that went on look recovered.
    """
    if rate <= 0.0 or not math.isfinite(rate):
        return k
    need = TAIL_EVENTS / rate
    totals = np.cumsum(counts[::-1][:max(most, k)])
    if totals.size < k or totals[k - 1] >= need:
        return k
    enough = np.nonzero(totals >= need)[0]
    return int(enough[0] + 1) if enough.size else int(totals.size)


def recurrence(values: Floats, times: Floats, onset: float, before: float | None,
               after: float | None, counts: Floats | None = None) -> float:
    """How much of the shift the same series also made at the same time a day earlier (0..1).

    The hour after ``onset - 1 day`` is compared with the hour before it; their
    difference over the shift now is the share of the move that is the series' daily
    habit (a nightly job, a backup). 0 when there is no day of history.
    """
    if before is None or after is None or not math.isfinite(before) \
            or not math.isfinite(after) or after == before or values.size == 0:
        return 0.0
    then = onset - DAY
    if times[0] > then - RECURRENCE_MINUTES * 60.0 * 0.5:
        return 0.0
    span = RECURRENCE_MINUTES * 60.0
    moved = (times >= then) & (times < then + span)
    calm = (times >= then - span) & (times < then)
    if np.count_nonzero(moved) < RECURRENCE_MIN_POINTS \
            or np.count_nonzero(calm) < RECURRENCE_MIN_POINTS:
        return 0.0
    a, b = _level(values, counts, calm), _level(values, counts, moved)
    if a is None or b is None:
        return 0.0
    return float(min(max((b - a) / (after - before), 0.0), 1.0))


VOLUME_EBB = 0.6         # requests after / before below this: the traffic ebbed
LOAD_LAYERS = frozenset({"infra", "runtime", "cost"})  # what falls when traffic does
VOLUME_MINUTES = 60.0    # the traffic compared in the hour either side of a move's onset
SURGE_LAYERS = frozenset({"infra"})  # what a pool that absorbs a surge raises with it
LOADED_LAYERS = frozenset({"runtime"})  # per-request gauges a busier pool raises a little


def volume_ratio(counts: Floats, times: Floats, onset: float) -> float:
    """Requests per scrape in the hour after ``onset`` over the hour before it (medians; the
    whole window's sides when an hour holds too few points; 1 without both).

    The counts of a rate's denominator are the service's traffic. When they fell to a
    fraction at the time a signal moved, moves that are arithmetic of the traffic
    follow: per-request costs of a pool that cannot scale below its floor rise,
    utilisation and spend fall (:func:`explained_by_volume`).
    """
    after = times >= onset
    if np.count_nonzero(after) < RECURRENCE_MIN_POINTS \
            or np.count_nonzero(~after) < RECURRENCE_MIN_POINTS:
        return 1.0
    # only the traffic on either side of the onset: a move is arithmetic of the traffic
    # when the traffic changed with it, not because the evening is quieter than the
    # window's morning (a top-k that tripled at dusk was read as fewer requests)
    step = float(np.median(np.diff(times))) if times.size > 1 else 60.0
    span = max(VOLUME_MINUTES * 60.0, RECURRENCE_MIN_POINTS * step)
    near = np.abs(times - onset) <= span
    if np.count_nonzero(near & after) >= RECURRENCE_MIN_POINTS \
            and np.count_nonzero(near & ~after) >= RECURRENCE_MIN_POINTS:
        after, before_mask = near & after, near & ~after
    else:
        before_mask = ~after
    before = float(np.median(counts[before_mask]))
    return float(np.median(counts[after])) / before if before > 0 else 1.0


def explained_by_volume(layer: str, before: float | None, after: float | None,
                        ratio: float, gauge: bool = False) -> float:
    """How much of a move from ``before`` to ``after`` the traffic's change accounts for (0..1).

    When the traffic ebbed (``ratio`` below :data:`VOLUME_EBB`), on layers whose
    signals are load or spend: a fall there is the load falling with the requests
    (all of it explained), a rise of a cost is a per-request cost over fewer requests,
    explained as far as the requests fell (in log terms: a cost that tripled while
    traffic fell to a tenth spent less than before). Latency, errors and quality per
    request do not follow the traffic, so nothing of theirs is explained here, except
    a fall on the load layers. When the traffic rose, a rise of the pool's resources
    (replicas, utilisation) is the autoscaler absorbing it, and so is a rise of a
    runtime gauge (``gauge``: latency, KV-cache use; never an error rate) by no more
    than the traffic's: each is explained as far as the requests rose (the dose-response,
    ``log(ratio) / log(after / before)``, with no threshold on the ratio: a pool that
    doubled under twice the requests did its job, a p95 that rose 13 % under 28 % more
    requests is the busier pool, one that tripled under 20 % more is mostly a failure).
    """
    if ratio <= 0 or before is None or after is None or not math.isfinite(before) \
            or not math.isfinite(after) or before <= 0 or after <= 0 or after == before:
        return 0.0
    surge_layer = layer in SURGE_LAYERS or (gauge and layer in LOADED_LAYERS)
    if ratio > 1.0 and surge_layer and after > before:
        return float(min(math.log(ratio) / math.log(after / before), 1.0))
    if layer not in LOAD_LAYERS or ratio >= VOLUME_EBB:
        return 0.0
    if after < before:
        return 1.0
    if layer != "cost":
        return 0.0
    return float(min(math.log(1.0 / ratio) / math.log(after / before), 1.0))


ELASTICITY_MIN_POINTS = 12   # baseline points the elasticity is fitted on, at least
ELASTICITY_MIN_SPREAD = 0.02  # SD of the log traffic below which no slope can be read


def traffic_at(times: Floats, request_counts: Floats, request_times: Floats
                ) -> tuple[Floats, np.ndarray]:
    """Requests per second over each interval between two consecutive ``times`` (the
    cumulative count read at them: the traffic a per-request cost at those times was
    averaged over, without the scrape-to-scrape noise of the counts), and where that
    is known (inside the requests' span, positive)."""
    ok = np.isfinite(request_counts) & (request_counts >= 0)
    if np.count_nonzero(ok) < 3 or times.size < 2:
        return np.zeros(max(times.size - 1, 0)), np.zeros(max(times.size - 1, 0), bool)
    served = np.interp(times, request_times[ok], np.cumsum(request_counts[ok]))
    spans = np.diff(times)
    rate = np.diff(served) / np.where(spans > 0, spans, np.inf)
    known = (rate > 0) & (times[1:] > request_times[ok][0]) \
        & (times[1:] <= request_times[ok][-1])
    return rate, known


def traffic_cost_rise(values: Floats, times: Floats, request_counts: Floats,
                      request_times: Floats, onset: float, window: int = 120,
                      horizon: int = 60) -> float:
    """How much (in log) a per-request cost should have risen at ``onset`` from the
    traffic alone: its elasticity to the traffic before the onset times the traffic's
    log change between the same windows its shift test compares (``window`` points
    before, ``horizon`` after). 0 without enough history or without traffic that varied.

    A pool that is paid by the hour spends the same whatever the traffic, so its cost
    per request goes as one over the requests (elasticity -1: the evening's ebb raises
    it); a hosted model paid per token costs the same per request at any traffic
    (elasticity 0). Read off the series' own history, where the daily cycle moves the
    traffic, it tells a fixed spend over fewer requests from spend that went up.
    """
    rate, known = traffic_at(times, request_counts, request_times)
    y = values[1:]
    known = known & np.isfinite(y) & (y > 0)
    before = known & (times[1:] < onset)
    after = known & (times[1:] >= onset)
    if np.count_nonzero(before) < ELASTICITY_MIN_POINTS or not after.any():
        return 0.0
    x = np.log(rate[before])
    slope_x = x - x.mean()
    spread = float(np.sqrt((slope_x @ slope_x) / x.size))
    if spread < ELASTICITY_MIN_SPREAD:
        return 0.0
    logs = np.log(y[before])
    elasticity = min(max(float((slope_x @ (logs - logs.mean())) / (slope_x @ slope_x)),
                         -1.0), 0.0)
    was = float(np.log(rate[before][-window:]).mean())
    now = float(np.log(rate[after][:horizon]).mean())
    return max(elasticity * (now - was), 0.0)


def explained_by_elasticity(before: float | None, after: float | None,
                            expected_rise: float) -> float:
    """Share of a per-request cost's rise from ``before`` to ``after`` that the traffic
    accounts for (``expected_rise``, in log: :func:`traffic_cost_rise`): a fixed spend
    over a quarter fewer requests costs a third more per request, and nobody spent more."""
    if before is None or after is None or not math.isfinite(before) \
            or not math.isfinite(after) or before <= 0 or after <= before:
        return 0.0
    return float(min(max(expected_rise / math.log(after / before), 0.0), 1.0))


def is_capacity_fall(values: Floats, before: float | None, after: float | None) -> bool:
    """A count of whole units (replicas, nodes) that fell: the pool got smaller.

    Whether that hurt is told by what else moved (the label's "capacity without harm"):
    a scale-in as traffic ebbs moves nothing users feel, a lost node of a capped pool
    raises latency.
    """
    if before is None or after is None or not after < before or values.size == 0:
        return False
    finite = values[np.isfinite(values)]
    return bool(finite.size and np.all(finite == np.round(finite)) and np.all(finite >= 0))


NOISE_MIN_POINTS = 5  # points either side the scatter is read from (a shift test's segment)
NOISE_BAND = 1.0      # effect (in present SDs) over which a move goes from noise to not


def within_own_noise(values: Floats, times: Floats, onset: float, before: float | None,
                     after: float | None, threshold: float, window: int = 120,
                     horizon: int = 60) -> float:
    """Share of a gauge's move from ``before`` to ``after`` that is no larger than the
    series' own scatter after the onset lets a move be (0..1).

    A shift test measures a move in SDs of its baseline (the ``window`` points before
    the onset) and calls it practical from ``threshold`` of them. When the points after
    the onset scatter more than the baseline did (fewer requests behind each at night,
    a new mix of cells on a slice after a canary took part of its traffic), a level that
    moved a few baseline SDs may be no more than a few of the SDs the series shows now:
    re-judged against that present scatter (``horizon`` points), a move under
    ``threshold - NOISE_BAND`` of them is all noise, one over ``threshold`` none of it.
    A series no noisier than before keeps its verdict (0): nothing here second-guesses
    a clean step. Scatter is read point to point (:func:`classifiers.robust.noise_sd`,
    0 where it cannot be measured), so a ramp's own climb does not pass for noise.
    """
    if before is None or after is None or not math.isfinite(before) \
            or not math.isfinite(after) or after == before or values.size == 0:
        return 0.0
    k = int(np.searchsorted(times, onset))
    base, now = values[max(k - window, 0):k], values[k:k + horizon]
    if base.size < NOISE_MIN_POINTS or now.size < NOISE_MIN_POINTS:
        return 0.0
    was, present = (noise_sd(part[np.isfinite(part)], flat_fallback=False)
                    for part in (base, now))
    if not present > was > 0.0:
        return 0.0
    effect = abs(after - before) / present
    return float(min(max((threshold - effect) / NOISE_BAND, 0.0), 1.0))
