"""The load clock keeps the changes' order (``classifiers.load_clock.in_order``)."""

from __future__ import annotations

import numpy as np

from classifiers.load_clock import in_order, load_minutes

MIN = 60.0


def test_a_change_before_the_climb_reads_no_fresher_than_one_during_it() -> None:
    # the traffic rate per ten minutes: low, then climbing to the onset's level at 500 min
    mids = np.arange(5, 600, 10) * MIN
    rate = np.where(mids < 480 * MIN, 10.0, 20.0)
    onset = 536 * MIN
    early, late = 470 * MIN, 529 * MIN   # before and after the climb began (480 min)
    raw = [onset - MIN * load_minutes(t, onset, mids, rate) for t in (early, late)]
    assert raw[0] > raw[1]  # on the raw load clock the hour-old change is fresher
    kept = in_order([early, late], raw)
    assert kept[0] < kept[1]  # the later change reads more recent, by a second
    assert kept[1] == raw[0] and kept[0] == raw[0] - 1.0  # lifted to the earlier's reading


def test_changes_already_in_order_are_left_alone_in_any_input_order() -> None:
    changes = [300.0, 100.0, 200.0]
    clock = [350.0, 150.0, 250.0]
    assert in_order(changes, clock) == clock
