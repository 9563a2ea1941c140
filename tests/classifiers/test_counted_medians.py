"""Medians told by counting, and the verdicts of the screen and the drift onset that read them.

``classifiers.robust.row_median_side`` places each row's median against two bounds
by counting the values at most each; the screen turns its MAD verdicts on it and must
give, row for row, the verdict of the MAD taken by a partition. ``_block_distance``
merges the records' sorted rows for its reference instead of sorting the pool again
and must give the distances of the pooled sort. All compared exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.diagnosis import detect, screen
from classifiers.robust import row_deviations, row_median_side, row_medians, row_robust_sd


def _rows(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    a = rng.normal(size=(rows, n))
    if rng.random() < 0.4:
        a = np.round(a, 1)  # ties at the median and at the bounds
    if rng.random() < 0.2:
        a[:, ::2] = 0.0
    return a


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9, 10, 301, 1440])
def test_median_side_agrees_with_the_median(n: int) -> None:
    rng = np.random.default_rng(n)
    for _ in range(50):
        a = _rows(rng, 9, n)
        median = np.median(a, axis=1)
        pick = rng.integers(0, n, 9)
        low = np.where(rng.random(9) < 0.5, a[np.arange(9), pick], median)  # on values
        low = np.where(rng.random(9) < 0.3, np.nextafter(low, -np.inf), low)
        high = np.where(rng.random(9) < 0.5, low, low + rng.uniform(0, 0.5, 9))
        side = row_median_side(a, low, high)
        assert np.all(median[side == -1] <= low[side == -1])
        assert np.all(median[side == 1] > high[side == 1])
        if n % 2:  # an odd row is always placed
            same = high == low
            assert np.all(side[same] != 0)


def test_median_side_of_unusable_bounds_and_empty_rows_is_unknown() -> None:
    a = np.zeros((3, 5))
    assert row_median_side(a, np.array([np.nan, np.inf, 1e301]),
                           np.array([np.nan, np.inf, 1e301])).tolist() == [0, 0, 0]
    assert row_median_side(np.zeros((2, 0)), np.zeros(2), np.zeros(2)).tolist() == [0, 0]
    constant = np.full((1, 6), 3.0)  # every deviation 0: a MAD of 0
    deviations = row_deviations(constant.copy())
    assert row_median_side(deviations, np.zeros(1), np.full(1, 1e-300)).tolist() == [-1]


def test_row_deviations_give_row_robust_sds_mad() -> None:
    a = np.random.default_rng(3).standard_t(3, size=(6, 1439))
    deviations = row_deviations(a.copy(), scratch=True)
    assert np.array_equal(row_deviations(a), np.abs(a - np.median(a, axis=1)[:, None]))
    assert np.array_equal(1.4826 * row_medians(deviations), row_robust_sd(a))


@pytest.mark.parametrize("kind", [np.float64, np.float32])
def test_screen_verdicts_are_those_of_the_partitioned_mad(kind: type) -> None:
    # the best split statistic on, just above and just below the MAD's verdict, and
    # anywhere around it: the counts must never disagree with the MAD taken in full
    rng = np.random.default_rng(7)
    for trial in range(400):
        rows, n = int(rng.integers(1, 25)), int(rng.integers(1, 60))
        d = _rows(rng, rows, n).astype(kind)
        noise = row_robust_sd(d.copy()) / math.sqrt(2.0)
        best = 4.5 * noise.astype(np.float64)
        how = rng.integers(0, 4, rows)
        best = np.select([how == 1, how == 2, how == 3],
                         [np.nextafter(best, np.inf), np.nextafter(best, -np.inf),
                          best * rng.uniform(0.5, 1.5, rows)], best)
        if trial % 9 == 0:
            best[0] = np.nan if trial % 2 else 0.0
        if trial % 11 == 0:
            d[0, 0] = np.nan  # an unscreenable row: tested in full
            noise = row_robust_sd(d.copy()) / math.sqrt(2.0)
        expected = screen._worth(noise, best)
        got = screen._verdicts(row_deviations(d.copy(), scratch=True), best)
        assert np.array_equal(got, expected), trial


def test_merged_reference_gives_the_pooled_sorts_distances() -> None:
    rng = np.random.default_rng(9)
    for trial in range(60):
        rows, cols = int(rng.integers(12, 30)), int(rng.integers(1, 9000))
        block = _rows(rng, rows, cols)
        if trial % 5 == 0:
            block[::2, ::3] = -0.0  # signed zeros tie with zeros in any order
        head = max(3, rows // 4)
        thinned = block[:, :: max(1, cols // detect._ONSET_VALUES)]
        reference = thinned[:head].flatten()
        scale = float(np.std(reference)) or 1.0
        ref_q = np.quantile(reference, detect._QUANTILES)
        q = np.quantile(thinned, detect._QUANTILES, axis=-1).T
        expected = list(np.max(np.abs(q - ref_q), axis=1) / scale)
        assert detect._block_distance(block, head) == expected
