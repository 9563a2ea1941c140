"""The fast order statistics give numpy's values, so speed-ups change no diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.shifts import _median, _row_medians, _seasonal_design


@pytest.mark.parametrize("size", [1, 2, 3, 10, 11, 1439, 1440])
def test_median_matches_numpy(size: int) -> None:
    x = np.random.default_rng(size).normal(size=size)
    assert _median(x) == float(np.median(x))
    rows = np.random.default_rng(size + 1).normal(size=(5, size))
    assert np.array_equal(_row_medians(rows), np.median(rows, axis=1))


def test_median_of_nothing_is_nan() -> None:
    assert np.isnan(_median(np.empty(0)))


def test_seasonal_design_is_shared_and_read_only() -> None:
    t = 1_700_000_000.0 + np.arange(1440, dtype=float) * 60.0
    a, b = _seasonal_design(t), _seasonal_design(t.copy())
    assert a is b and not a.flags.writeable
    assert np.allclose(a[:, 1], (t - t[0]) / 3600.0)
    assert np.allclose(a[:, 2], np.sin(2 * np.pi * (t % 86400.0) / 86400.0))
