"""Onset intervals, calm-discounted time fit, slice heterogeneity and share, fitted weights."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers import behaviour_weights
from classifiers.attribution import rank_changes
from classifiers.behaviour import (
    FEATURES,
    LABELS,
    ChangeEvidence,
    LayerEvidence,
    classify_behaviour,
    evidence_features,
    time_fit,
)
from classifiers.onsets import onset_interval
from classifiers.slices import SliceContrast, localise_slices


def test_a_faint_step_is_placed_less_precisely_than_a_sharp_one() -> None:
    t = np.arange(200) * 300.0
    sharp = onset_interval(t, t[150], statistic=60.0)
    faint = onset_interval(t, t[150], statistic=4.0)
    assert sharp.low <= t[150] <= sharp.high
    assert faint.low < sharp.low and faint.high > sharp.high
    assert sharp.resolution == 300.0
    # a 4-sigma step over 50 points: 0.57 SD per point, +-6 points of 5 minutes
    assert t[150] - faint.low == pytest.approx((1 + 2 / (4.0 / np.sqrt(50)) ** 2) * 300.0)


def test_time_fit_is_full_inside_the_interval_and_decays_with_calm() -> None:
    assert time_fit(6.0, halfwidth=5.0, resolution=1.0) == 1.0
    assert time_fit(30.0, halfwidth=5.0) < time_fit(15.0, halfwidth=5.0) < 1.0
    assert time_fit(-20.0, halfwidth=5.0) == 0.02
    # the same change 20 minutes out: on 5-minute points with a wide interval it may
    # well have come right before the first move
    assert time_fit(20.0, halfwidth=15.0, resolution=5.0) > time_fit(20.0)


def test_the_change_right_before_the_first_move_beats_the_same_kind_long_before() -> None:
    ranked = rank_changes([35.0, 4.0], ["config", "config"], "eval_policy",
                          root_layers=["eval"], onset_halfwidth=2.0)
    assert ranked[0].index == 1
    assert ranked[0].score > 2 * ranked[1].score


def test_all_values_moving_alike_name_no_slice_however_significant() -> None:
    # every tenant's rate rose by about 0.01 (one a little more by chance)
    contrasts = [SliceContrast("tenant", v, d, 0.002, 0.010, 0.001, signal="err", weight=w)
                 for v, d, w in (("a", 0.010, 500), ("b", 0.011, 300), ("c", 0.0135, 40))]
    assert localise_slices(contrasts) == []


def test_a_slice_must_explain_most_of_the_excess() -> None:
    # tenant c is far worse, but carries 2 % of traffic while a and b rose too: the
    # excess is mostly theirs
    small = [SliceContrast("tenant", "a", 0.02, 0.001, 0.01, 0.001, signal="err", weight=600),
             SliceContrast("tenant", "b", 0.02, 0.001, 0.01, 0.001, signal="err", weight=380),
             SliceContrast("tenant", "c", 0.30, 0.02, 0.02, 0.001, signal="err", weight=20)]
    assert localise_slices(small) == []
    big = [SliceContrast("tenant", "a", 0.001, 0.001, 0.1, 0.003, signal="err", weight=600),
           SliceContrast("tenant", "b", 0.001, 0.001, 0.1, 0.003, signal="err", weight=300),
           SliceContrast("tenant", "c", 0.30, 0.01, 0.001, 0.001, signal="err", weight=100)]
    found = localise_slices(big)
    assert [(s.dimension, s.value) for s in found] == [("tenant", "c")]
    assert found[0].share > 0.9
    assert found[0].heterogeneity_p < 1e-6


def test_fitted_weights_cover_every_label_and_feature() -> None:
    assert set(behaviour_weights.WEIGHTS) == set(LABELS)
    assert all(len(row) == len(FEATURES) for row in behaviour_weights.WEIGHTS.values())
    assert set(behaviour_weights.ATTRIBUTION) == {"quiet_minutes", "kind_floor"}


def test_features_read_timing_size_and_changes() -> None:
    layers = [LayerEvidence("freshness", 1.0, 100.0, excess=20.0),
              LayerEvidence("quality", 0.8, 130.0)]
    x = dict(zip(FEATURES, evidence_features(layers, [ChangeEvidence("features", 1.0)]),
                 strict=True))
    assert x["freshness first"] == 1.0 and x["freshness later"] == 0.0
    assert x["quality later"] > 0.7 and x["quality first"] < 0.1
    assert x["freshness size"] == pytest.approx(np.log1p(20.0))
    assert x["features change before"] == 1.0 and x["model change before"] == 0.0
    assert classify_behaviour(layers).label == "control_plane"
