"""The behaviour classifier's hand-set scores, used when no fitted weights exist.

The tables they read (``ROOT_AFFINITY``, ``SYMPTOM_AFFINITY``, ``KIND_FIT``) stay in
:mod:`classifiers.behaviour`, beside the features: they are also the prior the fit
(``benchmarks/fit_behaviour.py``) pulls the weights towards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from classifiers.behaviour import (
    CHANGE_WEIGHT,
    NONE_SCORE,
    ROOT_AFFINITY,
    ROOT_MINUTES,
    SYMPTOM_AFFINITY,
    ChangeEvidence,
    LayerEvidence,
    first_onset,
    kind_fit,
    onset_precision,
    time_fit,
)
from classifiers.vocabulary import FAILURES, LABELS


def hand_scores(layers: Sequence[LayerEvidence], changes: Sequence[ChangeEvidence]
                 ) -> tuple[dict[str, float], dict[str, list[tuple[float, str]]]]:
    """Scores from the hand-set tables (used when no fitted weights exist), with reasons.

    Each layer adds its strength times its root or symptom affinity (by how soon after
    the first clear onset it moved); the best change adds ``CHANGE_WEIGHT * time_fit *
    kind_fit``; ``none`` scores ``NONE_SCORE``.
    """
    scores: dict[str, float] = dict.fromkeys(LABELS, 0.0)
    scores["none"] = NONE_SCORE
    contributions: dict[str, list[tuple[float, str]]] = {label: [] for label in LABELS}
    first = first_onset(layers)
    for item in layers:
        s = float(min(max(item.strength, 0.0), 1.0))
        lag = max(item.onset_minutes - first, 0.0)
        r = math.exp(-lag / ROOT_MINUTES)
        role = "first" if lag <= ROOT_MINUTES else f"{lag:.0f} min later"
        for label in FAILURES:
            value = s * (r * ROOT_AFFINITY.get(item.layer, {}).get(label, 0.0)
                         + (1 - r) * SYMPTOM_AFFINITY.get(item.layer, {}).get(label, 0.0))
            if value:
                scores[label] += value
                contributions[label].append((value, f"{item.top or item.layer} moved {role}"))
    halfwidth, resolution = onset_precision(layers)
    for label in FAILURES:
        best = 0.0
        for change in changes:
            value = CHANGE_WEIGHT * time_fit(change.minutes_before_onset, halfwidth,
                                             resolution) * kind_fit(change.kind, label)
            if value > 0.05:
                best = max(best, value)
                contributions[label].append(
                    (value, f"{change.kind} change {change.minutes_before_onset:.0f} min "
                            "before onset"))
        scores[label] += best
    return scores, contributions
