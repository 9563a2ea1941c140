"""The behaviour classifier: which failure class explains the layers that moved.

Incidents cascade. Stale features (``freshness``) make predictions drift (``model``)
and users complain (``quality``); a bad model makes users complain too. So the
classifier weighs each layer that moved by *when* it moved: a layer that moved
first counts as a cause, one that moved minutes later mostly as a symptom. Recent
changes nudge the answer by their kind and distance in time, and corrections from
responders (priors and pattern likelihoods) are added on top. The scores become a
posterior through a softmax whose temperature was set so that confidences are
calibrated on simulated incidents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from classifiers.results import Posterior

LABELS = ("infrastructure", "data", "control_plane", "model", "eval_policy", "cost", "none")
FAILURES = LABELS[:-1]

# How much a layer that moved *first* speaks for each label (missing = 0).
ROOT_AFFINITY: dict[str, dict[str, float]] = {
    "infra": {"infrastructure": 2.2, "cost": 0.5},
    "runtime": {"infrastructure": 3.0, "cost": 0.4, "control_plane": 0.3},
    "data": {"data": 3.0, "control_plane": 0.4, "model": -1.0},
    "freshness": {"control_plane": 3.2, "data": 0.6, "model": -1.0},
    "control": {"control_plane": 3.0, "model": -0.8},
    "model": {"model": 2.6, "data": 0.4},
    "quality": {"model": 1.9, "data": 0.2, "eval_policy": 0.2},
    "eval": {"eval_policy": 3.0, "model": 0.4},
    "cost": {"cost": 3.0, "infrastructure": 0.2},
}
# How well a layer that moved *later* fits each label as a symptom.
SYMPTOM_AFFINITY: dict[str, dict[str, float]] = {
    "infra": {"infrastructure": 1.2, "cost": 0.2},
    "runtime": {"infrastructure": 1.0, "cost": 0.6, "model": 0.2},
    "data": {"data": 1.0, "control_plane": 0.6},
    "freshness": {"control_plane": 1.4},
    "control": {"control_plane": 1.0},
    "model": {"data": 0.9, "control_plane": 0.9, "model": 0.6, "infrastructure": 0.1},
    "quality": {"infrastructure": 0.3, "data": 0.4, "control_plane": 0.4, "model": 0.4,
                "eval_policy": 0.3, "cost": 0.1},
    "eval": {"eval_policy": 0.9, "model": 0.7, "data": 0.4, "control_plane": 0.4},
    "cost": {"cost": 0.8, "infrastructure": 0.4, "model": 0.3, "control_plane": 0.3},
}
# How well a change of each kind explains each label (used here and for attribution).
KIND_FIT: dict[str, dict[str, float]] = {
    "model": {"model": 1.0, "cost": 0.4, "infrastructure": 0.25, "eval_policy": 0.2},
    "prompt": {"model": 0.8, "cost": 0.8, "eval_policy": 0.5, "control_plane": 0.4},
    "retrieval": {"control_plane": 0.8, "data": 0.6, "model": 0.3},
    "threshold": {"eval_policy": 1.0, "control_plane": 0.3},
    "features": {"data": 0.9, "control_plane": 0.9, "model": 0.2},
    "config": {"control_plane": 0.8, "infrastructure": 0.5, "cost": 0.5, "eval_policy": 0.4},
    "code": {"infrastructure": 0.6, "data": 0.5, "control_plane": 0.5, "model": 0.2,
             "cost": 0.3},
    "infra": {"infrastructure": 1.0, "cost": 0.4},
}
NONE_SCORE = 1.5        # what a failure label must beat
ROOT_MINUTES = 4.0      # e-folding time of "moved first" after the earliest onset
CHANGE_MINUTES = 45.0   # e-folding time of a change's relevance before the onset
CHANGE_WEIGHT = 0.9
TEMPERATURE = 0.55      # softmax temperature (calibrated on simulated incidents)
PRIOR_PSEUDOCOUNT = 20.0
PATTERN_WEIGHT = 1.6    # score added per responder correction of the same pattern


@dataclass(frozen=True)
class LayerEvidence:
    """What one layer did: how strongly it moved (0..1) and when (minutes)."""

    layer: str
    strength: float
    onset_minutes: float
    findings: int = 1
    top: str = ""


@dataclass(frozen=True)
class ChangeEvidence:
    """A change: its kind and how many minutes before the onset it happened."""

    kind: str
    minutes_before_onset: float


@dataclass(frozen=True)
class LearnedPriors:
    """Responder corrections as counts: label counts, and per pattern the labels given."""

    label_counts: Mapping[str, float] = field(default_factory=dict)
    patterns: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def time_fit(minutes_before_onset: float) -> float:
    """How plausibly a change this long before the onset caused it (0..1)."""
    if minutes_before_onset < -5.0:
        return 0.02
    if minutes_before_onset < 0.0:
        return 0.5
    return math.exp(-minutes_before_onset / CHANGE_MINUTES)


def kind_fit(kind: str, label: str) -> float:
    return KIND_FIT.get(kind, {}).get(label, 0.0)


def pattern_of(layers: Sequence[LayerEvidence], changes: Sequence[ChangeEvidence]) -> str:
    """A coarse key of an incident's shape: root layers, all moved layers, change kinds."""
    if not layers:
        return "roots=|moved=|changes="
    first = first_onset(layers)
    roots = sorted({i.layer for i in layers if i.onset_minutes - first <= ROOT_MINUTES})
    moved = sorted({i.layer for i in layers})
    kinds = sorted({c.kind for c in changes if 0.0 <= c.minutes_before_onset <= 120.0})
    return f"roots={','.join(roots)}|moved={','.join(moved)}|changes={','.join(kinds)}"


def first_onset(layers: Sequence[LayerEvidence]) -> float:
    """Earliest onset among the clearly moved layers: a faint early blip is not a cause."""
    if not layers:
        return 0.0
    top = max(item.strength for item in layers)
    return min(item.onset_minutes for item in layers if item.strength >= 0.8 * top)


def _root_key(pattern: str) -> str:
    return pattern.split("|", 1)[0]


def _learned(priors: LearnedPriors, pattern: str) -> dict[str, float]:
    bonus = dict.fromkeys(LABELS, 0.0)
    total = sum(priors.label_counts.values())
    if total:
        for label in LABELS:
            share = (priors.label_counts.get(label, 0.0) + PRIOR_PSEUDOCOUNT / len(LABELS))
            bonus[label] += math.log(share / (total + PRIOR_PSEUDOCOUNT) * len(LABELS))
    for key, weight in ((pattern, 1.0), (_root_key(pattern), 0.35)):
        for stored, counts in priors.patterns.items():
            if stored == key or (weight < 1.0 and _root_key(stored) == key and stored != pattern):
                for label, count in counts.items():
                    if label in bonus:
                        bonus[label] += weight * PATTERN_WEIGHT * min(float(count), 4.0)
    return bonus


def classify_behaviour(layers: Sequence[LayerEvidence],
                       changes: Sequence[ChangeEvidence] = (),
                       priors: LearnedPriors | None = None) -> Posterior:
    """Posterior over the seven failure classes from layer evidence and changes.

    Parameters
    ----------
    layers : sequence of LayerEvidence
        One item per layer with a significant finding (strength in 0..1, onset in
        minutes on any common clock).
    changes : sequence of ChangeEvidence
        Changes of the service with their distance before the onset.
    priors : LearnedPriors, optional
        Responder corrections; they add log-prior and pattern-likelihood terms.

    Returns
    -------
    Posterior
        The label, its probability, all probabilities, and the reasons that decided.

    Notes
    -----
    Score of label c: ``sum_L s_L * (r_L * ROOT[L][c] + (1 - r_L) * SYMPTOM[L][c])``
    with ``r_L = exp(-(onset_L - first_onset) / ROOT_MINUTES)``, plus the best
    ``CHANGE_WEIGHT * time_fit * kind_fit`` of the changes, plus learned terms;
    ``none`` scores ``NONE_SCORE``. Probabilities are ``softmax(score / TEMPERATURE)``.

    References
    ----------
    .. [1] D. Koller and N. Friedman, "Probabilistic Graphical Models", MIT Press
       (2009), sec. 3.1.3 (naive Bayes as additive log-odds).
    .. [2] C. Guo et al., "On calibration of modern neural networks", ICML (2017)
       (temperature scaling).
    """
    priors = priors or LearnedPriors()
    scores = dict.fromkeys(LABELS, 0.0)
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
    for change in changes:
        tf = time_fit(change.minutes_before_onset)
        for label in FAILURES:
            value = CHANGE_WEIGHT * tf * kind_fit(change.kind, label)
            if value > 0.05:
                contributions[label].append(
                    (value, f"{change.kind} change {change.minutes_before_onset:.0f} min "
                            "before onset"))
    for label in FAILURES:
        change_values = [v for v, text in contributions[label] if " change " in text]
        if change_values:
            scores[label] += max(change_values)
    if not layers:
        scores = {label: (3.0 if label == "none" else 0.0) for label in LABELS}
    pattern = pattern_of(layers, changes)
    for label, bonus in _learned(priors, pattern).items():
        scores[label] += bonus
        if bonus > 0.5:
            contributions[label].append((bonus, "responders labelled this pattern so"))
    top = max(scores.values())
    weights = {label: math.exp((score - top) / TEMPERATURE) for label, score in scores.items()}
    total = sum(weights.values())
    probabilities = {label: weights[label] / total for label in LABELS}
    label = max(probabilities, key=lambda key: probabilities[key])
    reasons = tuple(text for _, text in sorted(contributions[label], reverse=True)[:4])
    if label == "none":
        reasons = ("no layer moved significantly",) if not layers else (
            "the layers that moved do not add up to a failure class",)
    return Posterior(label=label, confidence=probabilities[label], scores=probabilities,
                     reasons=reasons, pattern=pattern)
