"""The building blocks of the shift detectors: split scans, CUSUM and excursion cleaning."""

from __future__ import annotations

import numpy as np

from classifiers.baseline import DAY, drop_recovered, fit_baseline
from classifiers.changepoint import (
    cusum_onset,
    mean_shift_scan,
    scan_corrected,
    segments,
)


def _noise(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, n)


def test_the_split_scan_finds_a_step_and_weights_of_one_change_nothing() -> None:
    y = _noise(1, 600)
    y[350:] += 4.0
    k = mean_shift_scan(y, None, 5, "both", 30)
    assert abs(k - 350) <= 2
    assert mean_shift_scan(y, np.ones(600), 5, "both", 30) == k
    # looking only for a fall, the step up is not what it finds
    assert abs(mean_shift_scan(y, None, 5, "down", 30) - 350) > 20


def test_segmentation_cuts_both_edges_of_an_excursion() -> None:
    y = _noise(2, 500)
    y[200:260] += 8.0
    cuts = segments(y, 5, 5.0)
    assert any(abs(c - 200) <= 2 for c in cuts)
    assert any(abs(c - 260) <= 2 for c in cuts)


def _reference_segments(y: np.ndarray, m: int, threshold: float, most: int = 16) -> list[int]:
    """Binary segmentation as it was written first: every segment summed anew."""
    from classifiers.changepoint import best_split
    cuts: list[int] = []
    pending = [(0, y.size)]
    while pending and len(cuts) < most:
        a, b = pending.pop()
        if b - a < 2 * m:
            continue
        k, t = best_split(y[a:b].copy(), m)
        if t > threshold:
            cuts.append(a + k)
            pending += [(a, a + k), (a + k, b)]
    return sorted(cuts)


def test_shared_running_sums_give_the_same_cuts_and_onsets() -> None:
    # a left part's running sums are its parent's first ones, and the onset scan reads
    # the cleaning's: the same numbers, so the same cuts and the same split, exactly
    for seed in range(40):
        rng = np.random.default_rng(seed)
        y = rng.normal(0.0, 1.0, 900) * rng.uniform(0.1, 50) + rng.uniform(-1e3, 1e3)
        for start, size in zip(rng.integers(0, 800, 3), rng.uniform(-9, 9, 3), strict=True):
            y[start:start + int(rng.integers(10, 200))] += size
        threshold = float(rng.uniform(3.0, 8.0))
        assert segments(y, 5, threshold) == _reference_segments(y, 5, threshold)
        assert segments(y, 5, threshold, running=y.cumsum()) == segments(y, 5, threshold)
        cleaned = drop_recovered(y, 5)
        assert cleaned.running is not None
        assert np.array_equal(cleaned.running, y.cumsum())
        for direction in ("up", "down", "both"):
            assert (mean_shift_scan(y, None, 5, direction, 30, cleaned.running)
                    == mean_shift_scan(y, None, 5, direction, 30))


def test_an_excursion_that_recovered_is_cut_and_the_shift_in_force_kept() -> None:
    y = _noise(3, 600)
    y[150:210] += 10.0        # a bad deploy, rolled back
    y[500:] += 6.0            # the incident now
    cleaned = drop_recovered(y, 5)
    assert not np.isin(np.arange(155, 205), cleaned.keep).any()
    assert np.isin(np.arange(500, 600), cleaned.keep).all()
    assert abs(cleaned.recovered - 210) <= 2
    assert len(cleaned.excursions) == 1 and cleaned.excursions[0][1] > 8.0


def test_a_saw_tooth_is_the_series_rhythm_when_rhythmic() -> None:
    y = _noise(4, 600) * 0.1
    for start in range(60, 540, 120):
        y[start:start + 40] += 20.0
    assert len(drop_recovered(y, 5).keep) < 600
    rhythm = drop_recovered(y, 5, rhythmic=True)
    assert len(rhythm.keep) == 600 and rhythm.recovered == -1
    assert len(rhythm.excursions) >= 2


def test_the_baseline_follows_a_clear_trend_and_a_daily_cycle() -> None:
    t = np.arange(600, dtype=float) * 60.0
    y = 0.01 * np.arange(600) + _noise(5, 600) * 0.05
    base = fit_baseline(t, y, 400, 120)
    assert base.start == 280
    assert abs(base.fit[500] - 5.0) < 0.1          # the line carried on past k
    flat = fit_baseline(t, _noise(6, 600), 400, 120)
    assert np.ptp(flat.fit) == 0.0                  # no trend in noise: a flat median
    days = np.arange(2 * 1440, dtype=float) * 60.0
    cycle = 10.0 * np.sin(2 * np.pi * days / DAY) + _noise(7, days.size) * 0.1
    seasonal = fit_baseline(days, cycle, 1800, 120)
    assert seasonal.start == 0
    assert float(np.max(np.abs(seasonal.fit - 10.0 * np.sin(2 * np.pi * days / DAY)))) < 0.2


def test_cusum_walks_back_to_where_a_ramp_began_and_stays_quiet_on_noise() -> None:
    z = _noise(8, 400) * 0.3
    assert cusum_onset(z, 1.0, 0, 400, k=1.0) is None
    z[250:] += np.minimum(np.arange(150) * 0.1, 5.0)
    onset = cusum_onset(z, 1.0, 0, 400, k=1.0)
    assert onset is not None and 245 <= onset <= 270


def test_the_scan_correction_grows_with_the_splits_and_caps_at_one() -> None:
    assert scan_corrected(1e-8, 100) < scan_corrected(1e-8, 10_000)
    assert scan_corrected(1e-8, 1000) > 1e-8
    assert scan_corrected(0.5, 1000) == 1.0
