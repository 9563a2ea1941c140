"""Steps shared between series or cached between calls give the values computed afresh.

A diagnosis fits many slices of one signal on one time axis and tests distributions
of records of one size; the work they share (the daily-cycle normal matrix, the
thinning positions, the KS grid positions) is done once. These tests hold the shared
or in-place versions to the plain computation, bit for bit, so the speed-ups change
no diagnosis (``benchmarks/identity.py`` checks the same on every accuracy incident).
"""

from __future__ import annotations

from dataclasses import replace as copy_with

import numpy as np
import pytest

from bot.diagnosis import detect
from bot.diagnosis.assemble import Distribution, Series, _as_block
from bot.diagnosis.contrasts import _Stacked, combine
from classifiers import baseline
from classifiers.baseline import _solve, fit_baseline, seasonal_design
from classifiers.drift import _distinct_sorted, _finite_copy, numeric_drift
from classifiers.robust import row_robust_sd

DAY_AXIS = 1_700_000_000.0 + np.arange(1440, dtype=float) * 60.0


def _fit_afresh(t: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    full = seasonal_design(t)
    coef, _ = _solve(full[0:k], y[0:k])
    return full @ coef


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seasonal_fit_with_a_shared_inverse_is_the_fresh_fit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    phase = 2 * np.pi * (DAY_AXIS % 86400.0) / 86400.0
    rows = [50 + 5 * np.sin(phase + rng.uniform(0, 3)) + rng.normal(0, 1, 1440)
            for _ in range(3)]
    baseline._GRAM_INVERSES.clear()
    for k in (1260, 1300, 1260):  # the second 1260 and every later row: a cached inverse
        for y in rows:
            fitted = fit_baseline(DAY_AXIS, y, k, 120)
            assert fitted.start == 0
            assert np.array_equal(fitted.fit, _fit_afresh(DAY_AXIS, y, k))
    assert len(baseline._GRAM_INVERSES) == 2  # one inverse per (axis, start, onset)


def test_a_writable_design_is_not_cached() -> None:
    design = np.array(seasonal_design(DAY_AXIS))  # a writable copy of the caller's
    y = np.random.default_rng(3).normal(10, 1, 1440)
    baseline._GRAM_INVERSES.clear()
    fitted = fit_baseline(DAY_AXIS, y, 1300, 120, design)
    assert not baseline._GRAM_INVERSES
    assert np.array_equal(fitted.fit, _fit_afresh(DAY_AXIS, y, 1300))
    design[:, 2] = 0.0  # the next fit reads the changed design, not an old inverse
    changed = fit_baseline(DAY_AXIS, y, 1300, 120, design)
    assert not np.array_equal(changed.fit, fitted.fit)


def test_distinct_of_sorted_values_is_numpy_unique() -> None:
    x = np.sort(np.random.default_rng(4).integers(0, 50, 400).astype(float))
    assert np.array_equal(_distinct_sorted(x), np.unique(x))
    assert np.array_equal(_distinct_sorted(np.array([2.0])), np.array([2.0]))


def test_finite_copy_is_a_copy_without_nan_or_inf() -> None:
    clean = np.array([3.0, 1.0, 2.0])
    copied = _finite_copy(clean)
    copied.sort()
    assert clean.tolist() == [3.0, 1.0, 2.0]
    assert _finite_copy(np.array([1.0, np.nan, np.inf, -2.0])).tolist() == [1.0, -2.0]


def test_drift_leaves_its_inputs_in_their_order() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 5000), rng.normal(0.5, 1, 4000)
    a_before, b_before = a.copy(), b.copy()
    first = numeric_drift(a, b)
    assert np.array_equal(a, a_before) and np.array_equal(b, b_before)
    assert numeric_drift(a, b) == first  # the cached grid positions give the same result


@pytest.mark.parametrize("width", [1439, 1440])
def test_row_mad_in_place_is_the_copying_one(width: int) -> None:
    rows = np.random.default_rng(width).standard_t(3, size=(7, width))
    expected = row_robust_sd(rows.copy())
    scratch = rows.copy()
    assert np.array_equal(row_robust_sd(scratch, scratch=True), expected)
    # the scratch rows end holding their absolute deviations from their medians
    deviations = np.abs(rows - np.median(rows, axis=1, keepdims=True))
    assert np.array_equal(np.sort(scratch, axis=1), np.sort(deviations, axis=1))


def test_row_quantiles_in_place_are_numpy_quantiles() -> None:
    rows = np.random.default_rng(6).normal(size=(24, 2000))
    expected = np.quantile(rows, detect._QUANTILES, axis=-1).T
    assert np.array_equal(detect._row_quantiles(rows.copy(), detect._QUANTILES,
                                                scratch=True), expected)
    assert np.array_equal(detect._row_quantiles(rows, detect._QUANTILES), expected)


@pytest.mark.parametrize("sizes", [[10_000] * 21, [10_000] * 3, [7_000, 9_000, 11_000]])
def test_pool_picks_the_positions_of_the_concatenation(sizes: list[int]) -> None:
    rng = np.random.default_rng(len(sizes))
    arrays = [rng.normal(size=n) for n in sizes]
    whole = np.concatenate(arrays)
    picks = np.linspace(0, whole.size - 1, detect._MAX_DIST_VALUES).astype(np.int64)
    assert np.array_equal(detect._pool(arrays), whole[picks])
    assert np.array_equal(detect._pool(arrays), whole[picks])  # again, from the cache


def test_distribution_block_gives_the_tests_of_its_records() -> None:
    rng = np.random.default_rng(8)
    records = [rng.normal(0.4 if h >= 20 else 0.0, 1, 9_000) for h in range(24)]
    times = [1_700_000_000.0 + 3600.0 * h for h in range(24)]
    listed = Distribution("data", "d", (), times, [r.copy() for r in records])
    blocked = copy_with(listed, samples=[r.copy() for r in records])
    _as_block(blocked)
    assert blocked.block is not None and listed.block is None
    found = detect._distribution_tests(blocked)
    assert found and found == detect._distribution_tests(listed)
    assert all(np.array_equal(a, b) for a, b in zip(blocked.samples, records, strict=True))


def test_stacked_slices_combine_as_each_subset_does() -> None:
    rng = np.random.default_rng(9)
    members = [Series("q", "s", (("tenant", f"t{i}"),), "ratio", "up", DAY_AXIS[:180],
                      rng.uniform(0, 0.1, 180),
                      np.where(rng.random(180) < 0.1, np.nan, rng.integers(0, 50, 180)))
               for i in range(6)]
    stacked = _Stacked(members)
    for rows in ([0], [1, 2], [0, 2, 3, 5], list(range(6))):
        ours, plain = stacked.combine(rows), combine([members[i] for i in rows])
        assert np.array_equal(ours.values, plain.values, equal_nan=True)
        assert np.array_equal(ours.counts, plain.counts, equal_nan=True)
        assert ours.times is plain.times
