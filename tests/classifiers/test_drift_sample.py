"""A drift test on an evenly thinned sample: sound, and what it reads.

``numeric_drift(..., sample=n)`` sorts at most ``n`` values a side (the sorts are
most of its cost); its p-value is that of the values read, so it is never smaller
than the full sample's would be for the same statistic, and the effects a finding
turns on stay within their noise floor of the full test's.
"""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.drift import SAMPLE, numeric_drift


def test_without_sample_or_when_small_the_result_is_the_full_tests() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.3, 1, 2500)
    assert numeric_drift(a, b, sample=SAMPLE) == numeric_drift(a, b)


def test_thinned_reads_evenly_spaced_values_and_leaves_inputs_alone() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(0, 1, 20_000), rng.normal(0, 1, 20_000)
    a0, b0 = a.copy(), b.copy()
    picks = np.linspace(0, a.size - 1, SAMPLE).astype(np.int64)
    got = numeric_drift(a, b, sample=SAMPLE)
    assert np.array_equal(a, a0) and np.array_equal(b, b0)
    assert got == numeric_drift(a[picks], b[picks])


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.3, 1.0])
def test_effects_stay_near_the_full_tests_and_p_is_not_overstated(shift: float) -> None:
    rng = np.random.default_rng(int(shift * 10) + 5)
    a, b = rng.normal(0, 1, 20_000), rng.normal(shift, 1, 20_000)
    full, thin = numeric_drift(a, b), numeric_drift(a, b, sample=SAMPLE)
    assert abs(thin.effect - full.effect) < 0.06  # the noise floor at 4,096 a side
    assert abs(thin.statistic - full.statistic) < 0.03
    if shift == 0.0:
        assert thin.effect < 0.15 / 2  # far below the practical threshold on no drift
    elif shift < 0.3:
        assert thin.p_value < 0.05  # 0.1 SD, two thirds of the threshold, still found
    else:
        assert thin.p_value < 1e-20


def test_sample_must_be_an_integer_of_at_least_two() -> None:
    with pytest.raises(ValueError):
        numeric_drift([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], sample=1)
