"""The screen before the shift detectors: its reused matrices leak nothing between blocks.

``screen`` works on blocks of 24 series of one length in matrices allocated once per
length; a shorter last block, a block after one with a shift, series of two dtypes
of one length must each get the verdict the series gets screened on its own.
"""

from __future__ import annotations

import numpy as np

from bot.diagnosis.assemble import Series
from bot.diagnosis.screen import screen


def _series(values: np.ndarray) -> Series:
    n = values.size
    return Series("model", "latency", (), "gauge", "up", np.arange(n) * 60.0, values,
                  np.full(n, np.nan))


def _mixed(seed: int, count: int, n: int) -> list[Series]:
    """Quiet series, some with a level shift (screened in), one constant, one short."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        values = 50 + rng.normal(0, 1.5, n)
        if i % 5 == 2:
            values[n // 2:] += 12
        if i == 7:
            values[:] = 3.0  # no noise at all: tested in full
        out.append(_series(values))
    return out


def test_blocks_get_the_verdicts_of_series_screened_alone() -> None:
    series = _mixed(1, 53, 1440) + _mixed(2, 30, 300)  # 53 = two full blocks and 5
    together = screen(series)
    alone = {id(s): screen([s])[id(s)] for s in series}
    assert together == alone
    shifted = [together[id(s)] for s in series[:53]]
    assert sum(shifted) >= 53 // 5  # the shifted ones, and the constant one
    assert together[id(series[7])]
    assert not all(together.values())  # quiet series are screened out


def test_float32_series_of_one_length_keep_their_own_arithmetic() -> None:
    series = _mixed(3, 30, 600)
    for s in series[::2]:
        s.values = s.values.astype(np.float32)
    together = screen(series)
    assert together == {id(s): screen([s])[id(s)] for s in series}


def test_running_sums_two_rows_at_a_time_are_numpys_to_the_bit() -> None:
    # the screen sums float64 rows in pairs, as the parts of complex numbers: every
    # running sum must be np.cumsum's exactly (odd counts, one row, cancellation,
    # huge and tiny values, signed zeros, inf and NaN), or a verdict could flip
    from bot.diagnosis.screen import _running_sums

    rng = np.random.default_rng(11)
    for rows in (1, 2, 3, 7, 24):
        for scale in (1e-300, 1e-3, 1.0, 1e8, 1e300):
            y = rng.normal(0, 1, (rows, 301)) * scale
            y[:, ::7] *= -1e6
            y[0, 3], y[-1, 5] = -0.0, 0.0
            if rows > 2:
                y[1, 10], y[2, 20] = np.inf, np.nan
            pairs = np.empty((rows // 2, 301, 2))
            with np.errstate(over="ignore", invalid="ignore"):
                expected = np.cumsum(y, axis=1)
                got = _running_sums(y.copy(), pairs)
            assert np.array_equal(got, expected, equal_nan=True)
            assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_a_quiet_series_null_test_is_the_one_its_init_builds() -> None:
    from bot.diagnosis.detect import Test, _series_tests

    s = _series(np.full(30, 2.0))
    built = Test(s.layer, s.name, s.slice, "robust_shift", 0.0, 1.0, 0.0, None, 0.0,
                 False, False, 0.0)
    (quiet,) = _series_tests(s, screened=False)
    assert quiet == built and quiet.__dict__ == built.__dict__
    assert list(vars(quiet)) == list(vars(built)) and hash(quiet) == hash(built)


def test_sampled_center_moves_the_mad_by_a_hair_and_only_borderline_verdicts() -> None:
    # the center of the differences is the median of every 4th of them: the MAD the
    # verdict turns on is within 2 % of the full one (0.7 % on average)
    from bot.diagnosis.screen import _deviations
    from classifiers.robust import row_deviations, row_medians

    rng = np.random.default_rng(9)
    d = rng.normal(0.0, 1.0, (24, 1439)) + rng.normal(0, 0.5, (24, 1))  # own drifts
    full = row_medians(row_deviations(d.copy(), scratch=True))
    sampled = row_medians(_deviations(d.copy()))
    assert np.all(np.abs(sampled / full - 1) < 0.02)
    assert np.mean(np.abs(sampled / full - 1)) < 0.01
    short = rng.normal(0.0, 1.0, (3, 40))  # short rows keep their full median
    assert np.array_equal(_deviations(short.copy()), row_deviations(short.copy(), scratch=True))
