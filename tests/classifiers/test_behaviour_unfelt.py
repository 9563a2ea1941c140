"""Resources that moved while the requests did not (issue 13): a pool that follows a
lighter or heavier workload is a side effect of what changed the outputs."""

from __future__ import annotations

from classifiers.behaviour import FEATURES, LayerEvidence, classify_behaviour, evidence_features


def _x(layers: list[LayerEvidence]) -> dict[str, float]:
    return dict(zip(FEATURES, evidence_features(layers, []), strict=True))


# a cheaper (quantised) model: the GPUs' clocks and the replicas fall as the work gets
# lighter, confidence and what users feel get worse, errors and latency do not move
LIGHTER = [LayerEvidence("infra", 1.0, 0.0, findings=2, excess=62.0),
           LayerEvidence("model", 0.82, 5.0, excess=1.6),
           LayerEvidence("quality", 1.0, 5.3, findings=3, excess=4.6)]


def test_resources_and_outputs_without_the_requests_are_not_infrastructure() -> None:
    x = _x(LIGHTER)
    assert x["infra without runtime"] == 1.0
    assert x["infra first"] == 0.0 and x["infra size"] == 0.0
    assert classify_behaviour(LIGHTER).label == "model"


def test_resources_with_the_requests_are_still_infrastructure() -> None:
    layers = [*LIGHTER, LayerEvidence("runtime", 1.0, 1.0, findings=4, excess=6.0)]
    x = _x(layers)
    assert x["infra without runtime"] == 0.0 and x["infra first"] == 1.0
    assert classify_behaviour(layers).label == "infrastructure"


def test_resources_alone_keep_their_weight() -> None:
    x = _x([LayerEvidence("infra", 1.0, 0.0, excess=20.0)])
    assert x["infra without runtime"] == 0.0 and x["infra first"] == 1.0
