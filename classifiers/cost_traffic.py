"""A per-request cost read at a fixed traffic: what the spend did, with the load's arithmetic
taken out.

A pool paid by the hour costs more per request whenever fewer requests come: over a
day its cost per request swings with one over the traffic, several-fold from noon to
night. A shift test on that series sees the swing (which
:func:`classifiers.excursions.explained_by_elasticity` then calls benign) and is
blind to a price that doubled at noon: the trailing baseline it compares with is
still climbing down from the night. The series' own history says how its cost goes
with the traffic (its elasticity, -1 for a fixed spend, 0 for a price per token);
divided by that, the series is what each request would have cost at the traffic of
the window's end, flat while the price is, and a repricing is a plain step in it.
"""

from __future__ import annotations

import numpy as np

from classifiers.arrays import Floats
from classifiers.excursions import traffic_at

ADJUST_MIN_POINTS = 24        # points with a known traffic the elasticity is fitted on
ADJUST_MIN_SPREAD = 0.15      # SD of the log traffic: below it, the traffic barely moved
ADJUST_MIN_ELASTICITY = 0.5   # |elasticity| below this: the cost does not follow the load
END_SHARE = 0.1               # the traffic of the window's end: its last tenth


def at_fixed_traffic(values: Floats, times: Floats, request_counts: Floats,
                     request_times: Floats) -> Floats | None:
    """``values`` (a positive per-request cost) as at the traffic of the window's end, or
    None when the cost does not follow the traffic (or the traffic did not move enough
    to tell).

    The elasticity is the least-squares slope of the log cost on the log traffic over
    the first half of the series (a step in the second half, where incidents are,
    cannot bend it), held in [-1, 0]. Points whose traffic is unknown keep their value.
    """
    if values.size < 2 * ADJUST_MIN_POINTS or times.size != values.size:
        return None
    rate, known = traffic_at(times, request_counts, request_times)
    y = values[1:]
    known = known & np.isfinite(y) & (y > 0)
    fit = known.copy()
    fit[(values.size - 1) // 2:] = False
    if np.count_nonzero(fit) < ADJUST_MIN_POINTS or np.count_nonzero(known[-max(
            3, int(END_SHARE * known.size)):]) < 3:
        return None
    x = np.log(rate[fit])
    dx = x - x.mean()
    if float(np.sqrt(dx @ dx / dx.size)) < ADJUST_MIN_SPREAD:
        return None
    logs = np.log(y[fit])
    elasticity = min(max(float(dx @ (logs - logs.mean())) / float(dx @ dx), -1.0), 0.0)
    if elasticity > -ADJUST_MIN_ELASTICITY:
        return None
    tail = known.copy()
    tail[: known.size - max(3, int(END_SHARE * known.size))] = False
    end = float(np.median(np.log(rate[tail])))
    out = values.astype(float, copy=True)
    # each point as at the end's traffic: cost * (rate_end / rate) ** elasticity
    out[1:][known] = y[known] * np.exp(elasticity * (end - np.log(rate[known])))
    return out
