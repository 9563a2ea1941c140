"""The robust primitives give numpy's values exactly, to the last bit.

``classifiers.robust`` partitions scratch arrays in place instead of calling
``np.median``; every detector reads these, so the golden diagnoses depend on the
values being the same, not merely close. The input is never modified.
"""

from __future__ import annotations

import math

import numpy as np

from classifiers import robust


def _cases() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    out = []
    for n in (0, 1, 2, 3, 4, 5, 10, 11, 100, 1441):
        for _ in range(60):
            y = rng.normal(size=n) * rng.choice([1.0, 1e-9, 1e9])
            out.append(np.round(y) if rng.random() < 0.3 else y)  # ties, zero MADs
    return out


def test_median_center_spread_and_noise_sd_are_numpys_values() -> None:
    for y in _cases():
        kept = y.copy()
        if y.size:
            assert robust.median(y) == float(np.median(y))
            center = float(np.median(y))
            spread = float(robust.MAD_TO_SD * np.median(np.abs(y - center))) \
                if y.size >= 2 else 0.0
            assert robust.center_spread(y) == (center, spread)
        else:
            assert math.isnan(robust.median(y))
        if y.size >= 3:
            d = np.diff(y)
            expected = float(robust.MAD_TO_SD * np.median(np.abs(d - np.median(d)))) \
                / math.sqrt(2.0)
            if expected == 0.0:
                expected = float(np.std(d)) / math.sqrt(2.0)
            assert robust.noise_sd(y) == expected
        np.testing.assert_array_equal(y, kept)  # inputs are left as they were
