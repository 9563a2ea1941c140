"""NAB's scorer on cases worked out by hand from its rules (benchmarks/data/nab-dev/README.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.nab_score import (
    PROFILES,
    normalised,
    probation,
    scaled_sigmoid,
    score_file,
    window_rows,
)

STANDARD, LOW_FP, LOW_FN = PROFILES
MAX_TP = 2 / (1 + math.exp(-5)) - 1  # the sigmoid at a window's left edge, 0.98661


def test_the_sigmoid_at_its_landmarks() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert probation(100) == 15
    assert probation(4032) == 604
    assert probation(15902) == 750


def test_a_detection_at_a_window_start_is_perfect_and_none_is_null() -> None:
    # 100 rows, probation 15, one window of 20 rows (40..59)
    hit = score_file(100, [(40, 59)], [40], STANDARD)
    assert hit.raw == pytest.approx(1.0) and hit.hit == 1 and hit.first_hits == (40,)
    assert normalised(hit.raw, hit.windows, STANDARD) == pytest.approx(100.0)
    miss = score_file(100, [(40, 59)], [], STANDARD)
    assert miss.raw == -1.0 and normalised(miss.raw, 1, STANDARD) == 0.0


def test_a_late_detection_earns_little_and_only_the_first_counts() -> None:
    # row 59 is the last of the window: position -(59 - 59 + 1) / 20 = -0.05
    late = (2 / (1 + math.exp(-0.25)) - 1) / MAX_TP
    assert score_file(100, [(40, 59)], [59], STANDARD).raw == pytest.approx(late)
    # row 50: position -(59 - 50 + 1) / 20 = -0.5; a later second detection adds nothing
    middle = (2 / (1 + math.exp(-2.5)) - 1) / MAX_TP
    both = score_file(100, [(40, 59)], [50, 58], STANDARD)
    assert both.raw == pytest.approx(middle) and both.false_positives == 0


def test_false_positives_cost_by_profile_and_distance_after_a_window() -> None:
    # before any window: the full FP weight; in probation: nothing
    early = score_file(100, [(40, 59)], [10, 20], STANDARD)
    assert early.raw == pytest.approx(-1.0 - 0.11) and early.false_positives == 1
    assert normalised(early.raw, 1, STANDARD) == pytest.approx(-5.5)
    assert score_file(100, [(40, 59)], [20], LOW_FP).raw == pytest.approx(-1.0 - 0.22)
    # after the window: position |59 - 79| / (20 - 1), the cost scaled by the sigmoid
    after = 0.11 * (2 / (1 + math.exp(5 * 20 / 19)) - 1)
    assert score_file(100, [(40, 59)], [40, 79], STANDARD).raw == pytest.approx(1.0 + after)
    # just after the window's end a detection costs almost nothing
    near = score_file(100, [(40, 59)], [40, 60], STANDARD).raw - 1.0
    assert -0.11 * 0.3 < near < 0


def test_reward_low_fn_doubles_a_miss_and_its_null() -> None:
    miss = score_file(100, [(40, 59), (70, 89)], [40], LOW_FN)
    assert miss.raw == pytest.approx(1.0 - 2.0) and miss.windows == 2 and miss.hit == 1
    # null -4, perfect 2: (-1 + 4) / 6
    assert normalised(miss.raw, 2, LOW_FN) == pytest.approx(50.0)


def test_a_window_inside_probation_is_not_scored() -> None:
    s = score_file(100, [(0, 10), (40, 59)], [5], STANDARD)
    assert s.windows == 1 and s.raw == -1.0


def test_window_limits_become_inclusive_rows() -> None:
    stamps = np.arange(10) * 300.0
    assert window_rows(stamps, [(600.0, 1500.0), (5000.0, 6000.0)]) == [(2, 5)]
