"""The fast order statistics give numpy's values, so speed-ups change no diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.baseline import seasonal_design
from classifiers.changepoint import hinge_onset
from classifiers.robust import median, row_medians


@pytest.mark.parametrize("size", [1, 2, 3, 10, 11, 1439, 1440])
def test_median_matches_numpy(size: int) -> None:
    x = np.random.default_rng(size).normal(size=size)
    assert median(x) == float(np.median(x))
    rows = np.random.default_rng(size + 1).normal(size=(5, size))
    assert np.array_equal(row_medians(rows), np.median(rows, axis=1))


def test_median_of_nothing_is_nan() -> None:
    assert np.isnan(median(np.empty(0)))


def test_seasonal_design_is_shared_and_read_only() -> None:
    t = 1_700_000_000.0 + np.arange(1440, dtype=float) * 60.0
    a, b = seasonal_design(t), seasonal_design(t.copy())
    assert a is b and not a.flags.writeable
    assert np.allclose(a[:, 1], (t - t[0]) / 3600.0)
    assert np.allclose(a[:, 2], np.sin(2 * np.pi * (t % 86400.0) / 86400.0))


def _hinge_by_loop(y: np.ndarray, t: np.ndarray, m: int) -> int:
    """The plain definition: least squares of flat-then-rising, candidate by candidate."""
    n = y.size
    best_k, best_sse = n - m, np.inf
    for k in np.unique(np.linspace(m, n - m, min(n - 2 * m + 1, 200)).astype(int)):
        mean_b = y[:k].mean()
        u, v = t[k:] - t[k], y[k:] - mean_b
        slope = max(float(u @ v) / float(u @ u), 0.0) if float(u @ u) > 0 else 0.0
        sse = float(((y[:k] - mean_b) ** 2).sum() + ((v - slope * u) ** 2).sum())
        if sse < best_sse:
            best_k, best_sse = int(k), sse
    return best_k


@pytest.mark.parametrize("seed", range(6))
def test_hinge_scan_matches_the_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 800))
    t = 1_700_000_000.0 + np.arange(n) * 60.0
    y = (np.arange(n) * 60.0) % 900 + rng.normal(0, 5, n)
    stall = int(n * rng.uniform(0.4, 0.9))
    y[stall:] = y[stall] + (t[stall:] - t[stall])
    assert hinge_onset(y, t, 5) == _hinge_by_loop(y, t, 5)


@pytest.mark.parametrize(("q", "df"), [(0.0, 1), (0.5, 1), (3.84, 1), (10.0, 3), (100.0, 5),
                                       (7.3, 12), (1e-9, 4), (500.0, 40), (1e4, 2)])
def test_chi2_tail_from_special_is_scipy_stats_value(q: float, df: int) -> None:
    """slices uses ``special.chdtrc`` so the CLI need not import ``scipy.stats`` (~1 s)."""
    from scipy import special, stats

    assert float(special.chdtrc(df, q)) == float(stats.chi2.sf(q, df))

