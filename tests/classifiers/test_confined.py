"""A layer that moved only on a few slices, beside a clear move everywhere, is not its
cause (classifiers.confined); and a thin rate's tail is long enough to tell "came back"
(classifiers.excursions)."""

from __future__ import annotations

import numpy as np

from classifiers.behaviour import FEATURES, LayerEvidence, classify_behaviour, evidence_features
from classifiers.confined import contradicted
from classifiers.excursions import persistence

ALL: tuple[tuple[str, str], ...] = ()


def _on(dim: str, value: str) -> tuple[tuple[str, str], ...]:
    return ((dim, value),)


def test_an_input_ratio_on_two_segments_beside_errors_everywhere_is_another_story() -> None:
    # a vendor slows down: errors on all traffic and on every segment; an unrelated
    # language ratio moved on two segments a little earlier
    findings = [("runtime", ALL, 1.0), ("runtime", _on("segment", "pro"), 1.0),
                ("runtime", _on("segment", "free"), 1.0), ("quality", ALL, 1.0),
                ("data", _on("segment", "free"), 0.95),
                ("data", _on("segment", "enterprise"), 0.88)]
    assert contradicted(findings) == {"data"}


def test_a_canary_confined_to_its_version_is_still_the_cause() -> None:
    # the canary's outputs moved on its version only; complaints on all traffic and on
    # the canary's version, nowhere else: the slice explains the everywhere-move
    findings = [("model", _on("model_version", "canary"), 1.0), ("quality", ALL, 0.9),
                ("quality", _on("model_version", "canary"), 1.0)]
    assert contradicted(findings) == set()
    # nor is a layer that also moved on all traffic, nor a freshness lag
    assert contradicted([("data", ALL, 0.7), ("data", _on("tenant", "a"), 1.0),
                         ("runtime", ALL, 1.0), ("runtime", _on("tenant", "b"), 1.0)]) == set()
    assert contradicted([("freshness", _on("tenant", "a"), 1.0), ("quality", ALL, 1.0),
                         ("quality", _on("tenant", "b"), 1.0)]) == set()


def test_the_label_leaves_a_contradicted_slice_layer_out() -> None:
    layers = [LayerEvidence("data", 1.0, 0.0, excess=5.0, elsewhere=1.0),
              LayerEvidence("runtime", 1.0, 10.0, findings=19, excess=7.0),
              LayerEvidence("quality", 1.0, 11.0, findings=6, excess=9.0)]
    x = dict(zip(FEATURES, evidence_features(layers, []), strict=True))
    assert x["data first"] == 0.0 and x["data size"] == 0.0
    assert x["runtime first"] > 0.9
    assert classify_behaviour(layers).label == "infrastructure"
    # left alone it is all there is, and still read
    alone = [LayerEvidence("data", 1.0, 0.0, excess=5.0, elsewhere=1.0)]
    assert dict(zip(FEATURES, evidence_features(alone, []), strict=True))["data first"] > 0.9


def test_a_thin_rate_without_errors_in_its_last_scrapes_has_not_come_back() -> None:
    # night traffic: 5 requests a scrape; errors 1 % before, 7 % after the onset; the
    # last six scrapes (30 requests, 2 errors expected) happen to hold none
    t = np.arange(400) * 35.0
    onset = t[370]
    counts = np.full(t.size, 5.0)
    rates = np.zeros(t.size)
    rates[: 370: 20] = 0.2                 # 1 % before: an error every 20 scrapes
    rates[370:394:3] = 0.2                 # ~7 % after, then none in the last six
    assert persistence(rates, t, onset, 0.01, 0.07, counts) > 0.4  # was 0.0
    # with ample traffic the last scrapes at 1 % are a recovery
    many = np.full(t.size, 1000.0)
    back = np.where(t >= onset, 0.07, 0.01)
    back[-10:] = 0.01
    assert persistence(back, t, onset, 0.01, 0.07, many) < 0.05
