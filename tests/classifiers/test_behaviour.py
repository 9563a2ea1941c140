"""Behaviour posterior, slice localisation and change attribution on hand-built evidence."""

from __future__ import annotations

import pytest

from classifiers.attribution import rank_changes
from classifiers.behaviour import (
    LayerEvidence,
    LearnedPriors,
    classify_behaviour,
)
from classifiers.slices import SliceContrast, localise_slices


def test_quality_after_freshness_stall_is_control_plane():
    layers = [LayerEvidence("freshness", 1.0, 100.0), LayerEvidence("quality", 1.0, 108.0)]
    assert classify_behaviour(layers).label == "control_plane"


def test_quality_and_model_alone_are_model():
    layers = [LayerEvidence("model", 0.9, 100.0), LayerEvidence("quality", 1.0, 101.0)]
    result = classify_behaviour(layers)
    assert result.label == "model"
    assert sum(result.scores.values()) == pytest.approx(1.0)


def test_no_evidence_is_none():
    assert classify_behaviour([]).label == "none"


def test_corrections_flip_a_pattern():
    layers = [LayerEvidence("quality", 1.0, 100.0)]
    assert classify_behaviour(layers).label == "model"
    pattern = classify_behaviour(layers).pattern
    priors = LearnedPriors({"eval_policy": 3}, {pattern: {"eval_policy": 3}})
    assert classify_behaviour(layers, priors=priors).label == "eval_policy"


def test_slice_only_acme():
    contrasts = [SliceContrast("tenant", "acme", 0.2, 0.01, 0.001, 0.005),
                 SliceContrast("tenant", "globex", 0.001, 0.005, 0.05, 0.006),
                 SliceContrast("segment", "long", 0.05, 0.008, 0.05, 0.008)]
    found = localise_slices(contrasts)
    assert [(s.dimension, s.value) for s in found] == [("tenant", "acme")]


def test_global_failure_reports_no_slice():
    contrasts = [SliceContrast("tenant", v, 0.2, 0.01, 0.2, 0.01) for v in ("a", "b", "c")]
    assert localise_slices(contrasts) == []


def test_red_herring_ranks_low():
    # a threshold change 1 min before a freshness stall vs a features change 8 min before
    ranked = rank_changes([1.0, 8.0, 300.0], ["threshold", "features", "features"],
                          "control_plane", root_layers=["freshness"])
    assert ranked[0].index == 1
    assert ranked[-1].index in (0, 2)
    after = rank_changes([-30.0, 10.0], ["model", "model"], "model")
    assert after[0].index == 1
