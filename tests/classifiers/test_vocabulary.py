"""The side a well-known signal name is bad on, when no rule or record says it."""

from __future__ import annotations

import pytest

from classifiers.vocabulary import default_direction


@pytest.mark.parametrize(("name", "bad"), [
    ("http.server.request.error_ratio", "up"),
    ("http.server.request.duration_p95", "up"),
    ("rag.retrieval_relevance", "down"),
    ("eval.judge_score", "down"),
    ("gen_ai.evaluation.score", "down"),    # an evaluation's score: higher is better
    ("judge_score_mean", "down"),           # still the judge's
    ("fraud.score_mean", "both"),           # a model's output scores: a move is a shift
    ("ranker.score_mean", "both"),
    ("fraud.score_p99", "both"),            # not a latency percentile
    ("queue_depth_widgets", "up"),
    ("widgets", "both"),
])
def test_directions_of_well_known_names(name: str, bad: str) -> None:
    assert default_direction(name) == bad
