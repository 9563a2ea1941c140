"""A lag's onset interval reads its growth's z score (issue 13).

``lag_growth`` once reported the slope (seconds of lag per second) as its statistic;
``onset_interval`` reads the statistic as a z score, so a slope of about 1 over dozens
of points looked like a step fainter than noise and every lag-led onset got the widest
interval, however clear the stall.
"""

from __future__ import annotations

import numpy as np

from classifiers.onsets import MAX_POINTS, onset_interval
from classifiers.shifts import lag_growth


def _ramp(slope: float, noise: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(240) * 60.0
    lag = 300.0 + rng.normal(0.0, noise, t.size)
    lag[160:] += slope * (t[160:] - t[160])
    return t, lag


def _points(t: np.ndarray, lag: np.ndarray) -> float:
    r = lag_growth(lag, t)
    onset = float(t[r.onset])
    interval = onset_interval(t, onset, r.statistic)
    return (onset - interval.low) / interval.resolution


def test_a_clear_stall_is_placed_to_a_sample_or_two() -> None:
    t, lag = _ramp(1.0, 5.0)
    assert _points(t, lag) <= 2.0


def test_a_faint_growth_is_placed_loosely() -> None:
    t, lag = _ramp(0.004, 30.0)
    points = _points(t, lag)
    assert points >= 8.0
    assert points <= MAX_POINTS
    clear = _points(*_ramp(1.0, 5.0))
    assert points > 4 * clear
