"""A rate's exact test counts the luck of its baseline too (issue 13, benign read as failure).

On a thin slice (a region of a few requests a scrape at night) the baseline before a
candidate onset may hold two events where its rate would give eight; tested against
that rate as if it were known, any later stretch looked like a rise of 800 % (a surge
the autoscaler absorbed, read as an eval-policy failure on ``region=eu-west``).
"""

from __future__ import annotations

import numpy as np

from classifiers.shifts import rate_shift


def _thin(baseline_events: list[int]) -> tuple[np.ndarray, np.ndarray]:
    counts = np.full(640, 5.0)
    counts[:100] = 3.6
    events = np.zeros(640)
    events[baseline_events] = 1
    events[100:160:4] = 1   # 15 events in 300 requests: 5 %
    events[160::8] = 1      # then 2.5 %, the slice's usual rate
    return events / counts, counts


def test_a_baseline_that_fell_low_by_chance_is_no_known_rate() -> None:
    rates, counts = _thin([10, 60])  # 2 events in 360 requests
    result = rate_shift(rates, counts, direction="up")
    assert result.p_value > 1e-3  # was 3e-9: the baseline's rate taken as exact


def test_a_rise_over_a_baseline_of_many_events_stays_clear() -> None:
    counts = np.full(400, 40.0)
    events = np.zeros(400)
    events[:200:2] = 1               # 100 events in 8,000 requests: 1.25 %
    events[200:] = 2                 # 5 % after
    result = rate_shift(events / counts, counts, direction="up")
    assert result.p_value < 1e-9
    assert 190 <= result.onset <= 210
