"""A pool's cost per request read at a fixed traffic (issue 13: spot repricing read as none).

A GPU pool paid by the hour costs one over the traffic per request: the day's traffic
moves it several-fold. A spot price that doubled at noon, with the traffic flat there,
was invisible to the shift test on the raw series (its trailing baseline still came
down from the night), and the diagnosis said "none" at 0.99.
"""

from __future__ import annotations

import numpy as np

from classifiers.cost_traffic import at_fixed_traffic
from classifiers.shifts import robust_shift

STEP = 300.0


def _day(repriced_at: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    t = np.arange(192) * STEP  # 16 hours at 5 minutes
    hours = t / 3600.0
    # the evening's ebb, a quiet night, the morning's climb to three times the night's
    # traffic until hour 12, then flat
    traffic = 60.0 * (2.0 - np.clip(hours / 2.0, 0.0, 1.0)
                      + 2.0 * np.clip((hours - 4.0) / 8.0, 0.0, 1.0))
    counts = rng.poisson(traffic * STEP / 60.0).astype(float)
    price = np.where(t >= (repriced_at or 1e12) * STEP, 2.2, 1.0)
    cost = price * 1.0 / (traffic / 60.0) * np.exp(rng.normal(0, 0.05, t.size))
    return t, cost, counts


def test_a_repricing_at_flat_traffic_is_a_step_at_fixed_traffic() -> None:
    t, cost, counts = _day(repriced_at=150)
    raw = robust_shift(cost, t, direction="up")
    assert not (raw.p_value < 1e-3 and raw.effect >= 3.0 and 140 <= raw.onset <= 160)
    fixed = at_fixed_traffic(cost, t, counts, t)
    assert fixed is not None
    r = robust_shift(fixed, t, direction="up")
    assert r.p_value < 1e-6 and r.effect >= 3.0 and 145 <= r.onset <= 155


def test_the_mornings_traffic_alone_moves_nothing_at_fixed_traffic() -> None:
    t, cost, counts = _day(repriced_at=None)
    fixed = at_fixed_traffic(cost, t, counts, t)
    assert fixed is not None
    r = robust_shift(fixed, t, direction="up")
    assert r.p_value > 1e-3 or r.effect < 3.0


def test_a_cost_per_token_is_left_as_it_is() -> None:
    t, _, counts = _day(repriced_at=None)
    per_token = np.exp(np.random.default_rng(4).normal(0, 0.05, t.size))
    assert at_fixed_traffic(per_token, t, counts, t) is None
