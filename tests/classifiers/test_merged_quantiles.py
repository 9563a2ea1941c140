"""Quantiles of a pool of sorted rows, read without merging them, are numpy's.

``bot.diagnosis.detect`` measures each record of a distribution against the pooled
first records, whose rows it has sorted one by one; it reads the pool's quantiles
from the bracketing band of values only (:mod:`classifiers.merged_quantiles`). These
tests hold that to ``np.quantile`` of the pool, bit for bit, on noise, ties, rows
that do not overlap at all and rows of one value, and the drift sample gathered at
once to the two thinnings it stands for.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.diagnosis import detect
from classifiers.drift import SAMPLE, numeric_drift
from classifiers.merged_quantiles import merged_order_stats, merged_quantiles, sorted_quantiles

Q = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])


def _cases(rng: np.random.Generator) -> list[np.ndarray]:
    noise = rng.normal(size=(6, 2000))
    shifted = noise + np.arange(6)[:, None] * 10.0  # disjoint rows: bands span rows
    ties = rng.integers(0, 4, size=(5, 301)).astype(float)
    zeros = np.zeros((4, 7))
    zeros[::2, ::3] = -0.0  # signed zeros tie with zeros
    one_row = rng.normal(size=(1, 17))
    uneven = rng.normal(size=(7, 3))
    return [noise, shifted, ties, zeros, one_row, uneven]


def test_merged_quantiles_are_those_of_the_pool() -> None:
    rng = np.random.default_rng(21)
    for rows in _cases(rng):
        rows = np.sort(rows, axis=-1)
        pool = rows.reshape(-1)
        assert np.array_equal(merged_quantiles(rows, Q), np.quantile(pool, Q))
        assert np.array_equal(sorted_quantiles(np.sort(pool), Q), np.quantile(pool, Q))


def test_merged_order_stats_are_the_sorted_pools_at_every_rank() -> None:
    rng = np.random.default_rng(22)
    for rows in _cases(rng):
        rows = np.sort(rows, axis=-1)
        ranks = np.unique(np.r_[0, 1, rows.size - 2, rows.size - 1,
                                np.linspace(0, rows.size - 1, 150).astype(np.int64)])
        ranks = ranks[(ranks >= 0) & (ranks < rows.size)]
        low, high = merged_order_stats(rows, ranks, np.minimum(ranks + 3, rows.size - 1))
        whole = np.sort(rows.reshape(-1))
        assert np.array_equal(low, whole[ranks])
        assert np.array_equal(high, whole[np.minimum(ranks + 3, rows.size - 1)])
        assert np.array_equal(merged_order_stats(rows, ranks)[1], whole[ranks])


@pytest.mark.parametrize("shape", [(21, 10_000), (3, 10_000), (2, 1_500), (5, 700)])
def test_drift_sample_of_a_block_is_the_pool_thinned_for_the_test(
        shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(shape[0])
    block = rng.normal(size=shape)
    pooled = detect._pool(list(block))
    picks = np.linspace(0, pooled.size - 1, SAMPLE).astype(np.int64)
    expected = pooled[picks] if pooled.size > SAMPLE else pooled
    got = detect._drift_sample_rows(block)
    assert np.array_equal(got, expected)
    assert np.array_equal(detect._drift_sample_rows(block), expected)  # from the cache
    after = rng.normal(0.3, 1, size=shape)
    assert (numeric_drift(detect._drift_sample_rows(block), detect._drift_sample_rows(after),
                          scratch=True, sample=SAMPLE)
            == numeric_drift(detect._pool(list(block)), detect._pool(list(after)),
                             scratch=True, sample=SAMPLE))
