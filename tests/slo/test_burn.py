"""The minute each burn-rate window pair fires and resets, worked out by hand.

The stream: 100 events a minute, target 99.9% (0.1% of events may fail), no failures
until minute T0 = 4320 (so even the 3-day window is full of data), then 10% failing
for 400 minutes (to T1 = 4720), then none again.

With k failing minutes in a window of W minutes the failing share is 10k / (100 W), and
a pair fires when both its windows exceed ``factor * 0.001``, i.e. when k > factor * W / 100.
It fires when the *long* window crosses (the short one crosses after a minute or so),
and resets when the *short* window has fewer than that many failing minutes left.
"""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.burn import (
    PAGE,
    TICKET,
    default_rules,
    episodes,
    evaluate_burn,
    rolling_burn_rate,
)

T0, T1, END = 4320, 4720, 5400
TARGET = 0.999


def stream() -> tuple[np.ndarray, np.ndarray]:
    total = np.full(END, 100.0)
    bad = np.zeros(END)
    bad[T0:T1] = 10.0
    return bad, total


def test_factors_scale_with_the_slo_window_as_sloth_does() -> None:
    # factor = budget share * SLO window / long window. 30 d = 720 h:
    # 2% * 720 / 1 = 14.4, 5% * 720 / 6 = 6, 10% * 720 / 24 = 3, 10% * 720 / 72 = 1.
    assert [r.factor for r in default_rules(30 * 1440)] == pytest.approx([14.4, 6, 3, 1])
    # 28 d = 672 h: 13.44, 5.6, 2.8, 0.9333.
    assert [r.factor for r in default_rules(28 * 1440)] == pytest.approx(
        [13.44, 5.6, 2.8, 672 * 0.1 / 72])
    assert [r.name for r in default_rules(30 * 1440)] == [
        "page:1h/5m", "page:6h/30m", "ticket:1d/2h", "ticket:3d/6h"]


# (rule name, minute it fires, minute it resets), by hand:
#  page 1h/5m, factor 14.4: long needs k > 14.4*60/100 = 8.64 -> 9th failing minute, T0+8;
#    resets when the 5 m window has < 0.72 failing minutes: 5 clean minutes, T1+4.
#  page 6h/30m, factor 6: long k > 6*360/100 = 21.6 -> T0+21; short needs > 1.8 failing
#    minutes of 30: still 2 after 28 clean minutes, 1 after 29 -> resets at T1+28.
#  ticket 1d/2h, factor 3: long k > 3*1440/100 = 43.2 -> T0+43; short needs > 3.6 of
#    120: 4 left after 116 clean minutes, 3 after 117 -> T1+116.
#  ticket 3d/6h, factor 1: long k > 4320/100 = 43.2 -> T0+43; short needs > 3.6 of 360:
#    4 left after 356 clean minutes -> resets at T1+356.
EXPECTED = [
    ("page:1h/5m", T0 + 8, T1 + 4),
    ("page:6h/30m", T0 + 21, T1 + 28),
    ("ticket:1d/2h", T0 + 43, T1 + 116),
    ("ticket:3d/6h", T0 + 43, T1 + 356),
]


@pytest.mark.parametrize(("name", "fires", "resets"), EXPECTED)
def test_each_pair_fires_and_resets_at_the_hand_computed_minute(name: str, fires: int,
                                                                 resets: int) -> None:
    bad, total = stream()
    evaluation = evaluate_burn(bad, total, TARGET, default_rules(30 * 1440))
    pair = next(p for p in evaluation.pairs if p.rule.name == name)
    assert pair.episodes == ((fires, resets),)


def test_severity_is_the_or_of_its_pairs() -> None:
    bad, total = stream()
    evaluation = evaluate_burn(bad, total, TARGET, default_rules(30 * 1440))
    # Page: the 1h/5m pair fires first (T0+8), the 6h/30m pair resets last (T1+28).
    assert episodes(evaluation.firing[PAGE]) == ((T0 + 8, T1 + 28),)
    assert episodes(evaluation.firing[TICKET]) == ((T0 + 43, T1 + 356),)
    assert evaluation.firing_now() == ()


def test_a_short_blip_does_not_page() -> None:
    # 3 minutes at 10%: the 5 m window burns 60x, but the hour holds 3 failing minutes,
    # under the 8.64 needed, so the long window holds the page back.
    total = np.full(600, 100.0)
    bad = np.zeros(600)
    bad[300:303] = 10.0
    evaluation = evaluate_burn(bad, total, TARGET, default_rules(30 * 1440))
    assert not evaluation.firing[PAGE].any()


def test_windows_count_in_timeslices_of_the_bin_length() -> None:
    # 5-minute slices, 99% target: the 1 h window is 12 slices, the 5 m window one slice.
    # The 1h/5m pair needs > 14.4 * 0.01 * 12 = 1.728 bad slices of 12: the 2nd bad slice.
    total = np.ones(100)
    bad = np.zeros(100)
    bad[50:60] = 1.0
    evaluation = evaluate_burn(bad, total, 0.99, default_rules(30 * 1440), bin_minutes=5)
    pair = evaluation.pairs[0]
    assert pair.episodes[0] == (51, 60)  # resets with the first good slice


def test_rolling_burn_rate_by_hand() -> None:
    # Windows of 2 bins, target 0.9 (10% allowed): bins of (bad, total) (1,10), (3,10), (0,0).
    rates = rolling_burn_rate([1, 3, 0], [10, 10, 0], 2, 0.9)
    # bin 0: 1/10 = 0.1 -> 1x; bin 1: 4/20 = 0.2 -> 2x; bin 2: 3/10 -> 3x.
    assert rates == pytest.approx([1.0, 2.0, 3.0])
    assert np.isnan(rolling_burn_rate([0, 0], [0, 0], 1, 0.9)).all()
