"""The episode's shape as the label reads it: an earlier story is not "first", and a pool
that scaled in is no harmless scale-in once a failure follows it (issue 13)."""

from __future__ import annotations

from classifiers.behaviour import FEATURES, LayerEvidence, classify_behaviour, evidence_features
from classifiers.behaviour_shape import cause_onset, harm_after, other_story


def _x(layers: list[LayerEvidence]) -> dict[str, float]:
    return dict(zip(FEATURES, evidence_features(layers, []), strict=True))


def test_a_move_two_hours_before_the_failure_is_another_story_not_its_cause() -> None:
    # a slice's input ratio moved (and stayed) two hours before errors and complaints
    layers = [LayerEvidence("data", 1.0, 0.0, excess=5.0),
              LayerEvidence("runtime", 1.0, 126.0, findings=5, excess=10.0),
              LayerEvidence("quality", 1.0, 128.0, excess=11.0)]
    assert other_story(layers, 126.0) == {"data"}
    x = _x(layers)
    assert x["data first"] == 0.0 and x["data size"] == 0.0
    assert x["runtime first"] == 1.0
    assert classify_behaviour(layers).label == "infrastructure"


def test_a_freshness_lag_hours_before_is_still_the_cause() -> None:
    layers = [LayerEvidence("freshness", 1.0, 0.0), LayerEvidence("quality", 1.0, 200.0)]
    assert other_story(layers, 200.0) == set()


def test_a_scale_in_followed_by_errors_within_the_hour_is_no_benign_scale_in() -> None:
    # the pool lost half its replicas; errors began 60 minutes later (past the half hour
    # in which a smaller pool "hurts at once", before the gap that starts a new story)
    layers = [LayerEvidence("infra", 1.0, 0.0, excess=50.0, capacity=1.0),
              LayerEvidence("runtime", 1.0, 60.0, findings=4, excess=8.0)]
    assert harm_after(layers, 0.0) == 1.0
    x = _x(layers)
    assert x["capacity without harm"] == 0.0
    assert classify_behaviour(layers).label == "infrastructure"


def test_a_scale_in_alone_is_still_benign() -> None:
    layers = [LayerEvidence("infra", 1.0, 0.0, excess=50.0, capacity=1.0)]
    assert _x(layers)["capacity without harm"] == 1.0
    assert classify_behaviour(layers).label == "none"


def test_harm_after_ignores_recovered_moves_and_earlier_ones() -> None:
    layers = [LayerEvidence("runtime", 1.0, 10.0, persistence=0.0),
              LayerEvidence("quality", 0.8, -5.0)]
    assert harm_after(layers, 0.0) == 0.0


def test_requests_that_kept_failing_hours_before_the_scores_fell_are_the_cause() -> None:
    # errors and latency rose and stayed up; the answers they cut short crossed the
    # scores' thresholds (groundedness, output length) almost three hours later
    layers = [LayerEvidence("runtime", 1.0, 0.0, findings=12, excess=4.5),
              LayerEvidence("model", 1.0, 175.0, findings=5, excess=3.4),
              LayerEvidence("quality", 1.0, 188.0, findings=12, excess=24.0)]
    assert other_story(layers, 175.0) == set()
    assert cause_onset(layers) == 0.0
    x = _x(layers)
    assert x["runtime first"] == 1.0 and x["model first"] < 0.01
    assert classify_behaviour(layers).label == "infrastructure"


def test_a_runtime_blip_that_came_back_hours_before_is_still_another_story() -> None:
    layers = [LayerEvidence("runtime", 1.0, 0.0, excess=4.5, persistence=0.3),
              LayerEvidence("model", 1.0, 175.0, findings=5, excess=3.4),
              LayerEvidence("quality", 1.0, 188.0, findings=12, excess=24.0)]
    assert other_story(layers, 175.0) == {"runtime"}
    assert cause_onset(layers) == 175.0
