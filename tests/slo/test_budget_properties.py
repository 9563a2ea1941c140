"""Properties of the budget arithmetic that must hold for any data (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from classifiers.budget import burn_rate, error_budget
from classifiers.burn import default_rules, evaluate_burn

targets = st.floats(min_value=0.5, max_value=0.9999)
totals = st.lists(st.integers(min_value=0, max_value=10_000), min_size=0, max_size=50)


@st.composite
def bad_and_total(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    total = draw(totals)
    bad = [draw(st.integers(min_value=0, max_value=t)) for t in total]
    return bad, total


@given(bad_and_total(), targets, st.data())
def test_consumed_is_monotone_in_bad_events(series: tuple[list[int], list[int]],
                                            target: float, data: st.DataObject) -> None:
    bad, total = series
    if not total or sum(total) == 0:
        return
    i = data.draw(st.integers(min_value=0, max_value=len(total) - 1))
    more = list(bad)
    more[i] = data.draw(st.integers(min_value=bad[i], max_value=total[i]))
    before = error_budget(bad, total, target)
    after = error_budget(more, total, target)
    assert after.budget_consumed >= before.budget_consumed
    assert after.budget_remaining <= before.budget_remaining
    assert after.attainment <= before.attainment


@given(bad_and_total(), targets)
def test_attainment_stays_within_zero_and_one(series: tuple[list[int], list[int]],
                                              target: float) -> None:
    bad, total = series
    result = error_budget(bad, total, target)
    if result.has_data:
        assert 0.0 <= result.attainment <= 1.0
        assert result.budget_consumed >= 0.0
    else:
        assert sum(total) == 0


@given(st.integers(min_value=0, max_value=200), targets)
def test_empty_windows_report_no_data(bins: int, target: float) -> None:
    zeros = np.zeros(bins)
    result = error_budget(zeros, zeros, target)
    assert result.attainment is None and result.budget_consumed is None
    assert burn_rate(zeros, zeros, target) is None
    evaluation = evaluate_burn(zeros, zeros, target, default_rules(30 * 1440))
    for pair in evaluation.pairs:
        assert not pair.firing.any()
        assert np.isnan(pair.long_burn).all() and np.isnan(pair.short_burn).all()
