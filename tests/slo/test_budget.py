"""Attainment, budget, burn rate and impact on fixed data; expectations worked by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from classifiers.budget import budget_impact, burn_rate, error_budget, time_to_exhaustion


def test_occurrences_budget_on_fixed_counts() -> None:
    # 4 bad of 1000 events at 99.5%: attainment 996/1000; the budget is 0.5% of 1000 = 5
    # bad events, of which 4 are spent (80%), 20% left.
    result = error_budget([1, 3], [500, 500], 0.995)
    assert result.attainment == 0.996
    assert result.good == 996 and result.bad == 4 and result.total == 1000
    assert result.budget_total == pytest.approx(5.0, rel=1e-12)
    assert result.budget_consumed == pytest.approx(0.8, rel=1e-12)
    assert result.budget_remaining == pytest.approx(0.2, rel=1e-12)


def test_binary_exact_target_gives_exact_numbers() -> None:
    # Target 0.75 leaves 0.25, exact in binary: 200 bad of 1000 against 250 allowed.
    result = error_budget([200], [1000], 0.75)
    assert (result.attainment, result.budget_total, result.budget_consumed) == (0.8, 250.0, 0.8)


def test_timeslices_budget_is_a_share_of_the_whole_window() -> None:
    # 30 days of 1-minute slices = 43,200; at 99% the budget is 432 slices. One day observed
    # (1440 slices) with 54 bad: attainment 1386/1440 = 0.9625, 54/432 = 12.5% spent.
    result = error_budget([54], [1440], 0.99, budget_basis=43_200)
    assert result.attainment == pytest.approx(0.9625, rel=1e-15)
    assert result.budget_total == pytest.approx(432.0, rel=1e-12)
    assert result.budget_consumed == pytest.approx(0.125, rel=1e-12)
    assert result.budget_remaining == pytest.approx(0.875, rel=1e-12)


def test_overspent_budget_goes_negative() -> None:
    # 30 bad of 1000 at 99%: 10 allowed, 300% spent, -200% left.
    result = error_budget([30], [1000], 0.99)
    assert result.budget_consumed == pytest.approx(3.0)
    assert result.budget_remaining == pytest.approx(-2.0)


def test_burn_rate_and_time_to_exhaustion() -> None:
    # 10 bad of 1000 = 1% against 0.1% allowed: burning 10x. Half the budget left at 10x
    # over a 30-day window lasts 0.5 * 30 d / 10 = 1.5 d = 36 h.
    rate = burn_rate([10], [1000], 0.999)
    assert rate == pytest.approx(10.0, rel=1e-12)
    assert time_to_exhaustion(0.5, rate, timedelta(days=30)) == pytest.approx(
        timedelta(hours=36), abs=timedelta(seconds=1))
    assert time_to_exhaustion(0.0, rate, timedelta(days=30)) == timedelta(0)
    assert time_to_exhaustion(0.5, 0.0, timedelta(days=30)) is None


def test_empty_window_is_no_data_not_an_error() -> None:
    result = error_budget([], [], 0.99)
    assert not result.has_data
    assert result.attainment is None and result.budget_consumed is None
    assert burn_rate([0, 0], [0, 0], 0.99) is None
    assert time_to_exhaustion(result.budget_remaining, None, timedelta(days=30)) is None


def test_budget_impact_subtracts_the_baseline() -> None:
    # Baseline: 12 bad of 12,000 (0.1%). Incident: 132 bad of 12,000; the baseline would
    # have made 12, so 120 are the incident's. Budget 0.5% of 600,000 = 3,000: 4% of it.
    impact = budget_impact([132], [12_000], [12], [12_000], budget_total=3000)
    assert impact.baseline_ratio == pytest.approx(0.001)
    assert impact.expected_bad == pytest.approx(12.0)
    assert impact.excess_bad == pytest.approx(120.0)
    assert impact.share == pytest.approx(0.04)


def test_budget_impact_never_negative_and_without_baseline_counts_everything() -> None:
    better = budget_impact([1], [1000], [10], [1000], budget_total=10)
    assert better.excess_bad == 0.0 and better.share == 0.0
    unknown = budget_impact([5], [100], [], [], budget_total=10)
    assert unknown.baseline_ratio is None and unknown.share == pytest.approx(0.5)


@pytest.mark.parametrize("target", [0.0, 1.0, 99.5, -0.1])
def test_invalid_target_names_the_value(target: float) -> None:
    with pytest.raises(ValueError, match="target"):
        error_budget([0], [1], target)


def test_more_bad_than_total_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds total"):
        error_budget([5], [4], 0.9)
