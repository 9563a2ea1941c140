"""The behaviour classifier: which failure class explains the layers that moved.

Incidents cascade. Stale features (``freshness``) make predictions drift (``model``)
and users complain (``quality``); a bad model makes users complain too. So the
classifier weighs each layer that moved by *when* it moved: a layer that moved
first counts as a cause, one that moved minutes later mostly as a symptom. Recent
changes nudge the answer by their kind and distance in time, and corrections from
responders (priors and pattern likelihoods) are added on top. Not every move is a
failure: one that came back before the window ended, one the series makes at this
hour every day, resources moving while nothing users feel did, are evidence for
``none`` (:mod:`classifiers.excursions`), and a window whose every move is no larger
than the scatter its series shows since is one where nothing moved. The weights are
fitted on several sources (``benchmarks/fit_behaviour.py``) and divided by a
temperature chosen on sources left out of the fit, so that confidences stay
calibrated on incidents of a kind the weights never saw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from classifiers.behaviour_shape import ROOT_MINUTES as ROOT_MINUTES  # re-exported
from classifiers.behaviour_shape import (
    capacity_without_harm,
    cause_onset,
    failure_shares,
    harm_after,
    other_story,
    root_share,
)
from classifiers.results import Posterior
from classifiers.vocabulary import CHANGE_KINDS, LABELS, LAYERS

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
    "retrieval": {"control_plane": 0.8, "data": 0.6, "model": 0.3, "cost": 0.5},
    "threshold": {"eval_policy": 1.0, "control_plane": 0.3},
    "features": {"data": 0.9, "control_plane": 0.9, "model": 0.2},
    "config": {"control_plane": 0.8, "infrastructure": 0.5, "cost": 0.5, "eval_policy": 0.4},
    "code": {"infrastructure": 0.6, "data": 0.5, "control_plane": 0.5, "model": 0.2,
             "cost": 0.3},
    "infra": {"infrastructure": 1.0, "cost": 0.4},
}
NONE_SCORE = 1.5        # what a failure label must beat
QUIET_MINUTES = 20.0    # default e-folding of a change's plausibility per minute of calm
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
    resolution_minutes: float = 1.0   # the leading series' sampling interval
    onset_halfwidth: float = 0.0      # minutes either side the onset may lie (see onsets.py)
    excess: float = 1.0               # largest effect over its practical threshold
    persistence: float = 1.0          # share of the move still there at the end (excursions.py)
    recurrence: float = 0.0           # share of it also made at this time a day earlier
    explained: float = 0.0            # share of it the traffic's fall accounts for
    capacity: float = 0.0             # 1: every finding is a fall of whole units (replicas)
    elsewhere: float = 0.0            # 1: moved only on slices the clear move spreads past
    noise: float = 0.0                # share of it within the series' present scatter

    @property
    def benign(self) -> float:
        """Share of the move that is no failure: come back, a daily habit, or traffic.

        Not :attr:`noise`: a scatter that grew may be a failure's own symptom (timeouts
        make latency erratic), so it is read only for the window as a whole
        (:func:`all_within_noise`)."""
        return float(min(max(1.0 - self.persistence, self.recurrence, self.explained, 0.0),
                         1.0))

    @property
    def onset_low(self) -> float:
        return self.onset_minutes - self.onset_halfwidth


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


def quiet_minutes() -> float:
    """E-folding time of a change's plausibility per minute of calm between it and the onset."""
    from classifiers import behaviour_weights

    return float(behaviour_weights.ATTRIBUTION.get("quiet_minutes", QUIET_MINUTES))


def time_fit(minutes_before_onset: float, halfwidth: float = 0.0,
             resolution: float = 1.0) -> float:
    """How plausibly a change this long before the onset caused it (0..1).

    The onset is an interval (``halfwidth`` minutes before the estimate, see
    :mod:`classifiers.onsets`), sampled every ``resolution`` minutes. A change inside
    it, or within one sample of its lower end, came "right before the first clear
    move": full fit. One that came earlier was followed by a stretch in which nothing
    moved, and each minute of that calm makes it less plausible (e-folding
    :func:`quiet_minutes`); a change after the interval's upper end cannot have
    started what was already moving.
    """
    m = float(minutes_before_onset)
    if m < -(0.5 * halfwidth + max(5.0, resolution)):
        return 0.02
    if m < 0.0:
        return 0.5
    inside = halfwidth + max(resolution, 1.0)
    if m <= inside:
        return 1.0
    return math.exp(-(m - inside) / quiet_minutes())


def onset_precision(layers: Sequence[LayerEvidence]) -> tuple[float, float]:
    """(halfwidth, resolution) in minutes of the layer that set the first clear onset."""
    if not layers:
        return 0.0, 1.0
    first = first_onset(layers)
    top = max(item.strength for item in layers)
    lead = min((item for item in layers if item.strength >= 0.8 * top
                and item.onset_minutes == first), key=lambda item: item.onset_halfwidth,
               default=None)
    if lead is None:
        return 0.0, 1.0
    return lead.onset_halfwidth, lead.resolution_minutes


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
    """Earliest onset among the clearly moved layers: a faint early blip is not a cause,
    nor is a move that is mostly benign (:func:`failure_shares`: a scale-in, a habit)."""
    if not layers:
        return 0.0
    keep = failure_shares(layers)
    layers = [item for item in layers if keep.get(item.layer, 1.0) >= 0.5] or layers
    top = max(item.strength for item in layers)
    return min(item.onset_minutes for item in layers if item.strength >= 0.8 * top)


def _root_key(pattern: str) -> str:
    return pattern.split("|", 1)[0]


def _learned(priors: LearnedPriors, pattern: str) -> dict[str, float]:
    bonus: dict[str, float] = dict.fromkeys(LABELS, 0.0)
    total = sum(priors.label_counts.values())
    if total:
        for label in LABELS:
            share = (priors.label_counts.get(label, 0.0) + PRIOR_PSEUDOCOUNT / len(LABELS))
            bonus[label] += math.log(share / (total + PRIOR_PSEUDOCOUNT) * len(LABELS))
    for key, weight in ((pattern, 1.0), (_root_key(pattern), 0.35)):
        for stored, counts in priors.patterns.items():
            if stored == key or (weight < 1.0 and _root_key(stored) == key and stored != pattern):
                for seen, count in counts.items():
                    if seen in bonus:
                        bonus[seen] += weight * PATTERN_WEIGHT * min(float(count), 4.0)
    return bonus


LAYER_NAMES = LAYERS
CHANGE_KIND_NAMES = CHANGE_KINDS
FEATURES: tuple[str, ...] = (
    tuple(f"{layer} first" for layer in LAYER_NAMES)
    + tuple(f"{layer} later" for layer in LAYER_NAMES)
    + tuple(f"{layer} size" for layer in LAYER_NAMES)
    + tuple(f"{kind} change before" for kind in CHANGE_KIND_NAMES)
    + tuple(f"{layer} largest" for layer in LAYER_NAMES)
    + ("layers moved", "largest size", "recovered", "seen a day before", "infra without harm",
       "runtime with model", "follows the traffic", "capacity without harm",
       "inputs with outputs", "infra without runtime", "faint", "bias"))
# Evidence that the moves are benign: the only features the ``none`` score may weigh up.
BENIGN_FEATURES: tuple[str, ...] = ("recovered", "seen a day before", "infra without harm",
                                    "follows the traffic", "capacity without harm", "faint")
MAX_SIZE = 4.0  # log1p of the effect over threshold is capped: past this, all are huge


def evidence_features(layers: Sequence[LayerEvidence],
                      changes: Sequence[ChangeEvidence]) -> list[float]:
    """The interpretable features the fitted weights read, in the order of ``FEATURES``.

    Per layer its strength split into a "moved first" and a "moved later" part
    (:func:`root_share`) and how far its largest effect passed its practical
    threshold (``log1p``, capped: strengths saturate at 1, sizes tell a cause that
    tripled from a side effect that rose a fifth), per change kind the best
    :func:`time_fit` of a change of that kind, the number of layers that moved, the
    largest size of all (a false alarm is seldom far past its threshold), and a
    constant.
    """
    x = dict.fromkeys(FEATURES, 0.0)
    layers = _confined_left_out(layers)
    keep = failure_shares(layers)
    # timed from the moves that may be failures: a scale-in or a daily habit an hour
    # before a model shift did not make the shift a symptom (so does first_onset)
    first = cause_onset([item for item in layers if keep[item.layer] >= 0.5] or layers)
    halfwidth, resolution = onset_precision(layers)
    earlier = other_story(layers, first)
    layers = [item for item in layers if item.layer not in earlier]
    for item in layers:
        if item.layer not in LAYER_NAMES:
            continue
        s = float(min(max(item.strength, 0.0), 1.0)) * keep[item.layer]
        r = root_share(item, first)
        x[f"{item.layer} first"] = max(x[f"{item.layer} first"], s * r)
        x[f"{item.layer} later"] = max(x[f"{item.layer} later"], s * (1 - r))
        size = min(math.log1p(max(item.excess, 0.0)), MAX_SIZE) * keep[item.layer]
        x[f"{item.layer} size"] = max(x[f"{item.layer} size"], size)
    for change in changes:
        if change.kind in CHANGE_KIND_NAMES:
            key = f"{change.kind} change before"
            x[key] = max(x[key], time_fit(change.minutes_before_onset, halfwidth, resolution))
    x["layers moved"] = float(len(layers))
    x["largest size"] = max((x[f"{layer} size"] for layer in LAYER_NAMES), default=0.0)
    _shape_features(x, layers)
    x["bias"] = 1.0
    return [x[name] for name in FEATURES]


NOISE_LEFT_OUT = 0.5  # a layer at least this much within its own present scatter is no move
_DROWNED = ("what moved is no larger than the scatter its series shows since it moved "
            "(fewer requests behind each point, a new mix of traffic)")


def all_within_noise(layers: Sequence[LayerEvidence]) -> bool:
    """Every layer moved mostly within the scatter its series shows since it moved
    (:attr:`LayerEvidence.noise`, :func:`classifiers.excursions.within_own_noise`):
    then nothing moved.

    Re-judged against that scatter each such move falls under the detector's practical
    threshold, so the window is quiet (a low-traffic night, a canary's new mix of cells).
    The fitted weights give every moved layer a share of some labels' scores and no
    feature says "noise", so the layers are left out rather than weighed. Beside a layer
    that moved clearly past its own scatter a noisier series is kept as it is: requests
    that time out make latency erratic as well as higher, and that latency is the
    failure's evidence, not noise to discount.
    """
    return bool(layers) and all(item.noise >= NOISE_LEFT_OUT for item in layers)


def _confined_left_out(layers: Sequence[LayerEvidence]) -> Sequence[LayerEvidence]:
    """The layers less those that moved only on slices another layer's clear move on all
    traffic spreads past (:mod:`classifiers.confined`): a slice's own blip is not the
    cause, nor a symptom, of a move everywhere. All of them when nothing else is left."""
    kept = [item for item in layers if item.elsewhere < 0.5]
    return kept if kept else layers


def _shape_features(x: dict[str, float], layers: Sequence[LayerEvidence]) -> None:
    """The features that read the shape of the moves rather than their layers one by one.

    ``{layer} largest``: the strength of the layer whose effect passed its threshold
    furthest (a side effect is usually the smaller move). ``recovered``: how far every
    clearly moved layer had come back by the end of the window; ``seen a day before``:
    how much of every clear move the same series also made at that time a day earlier.
    ``infra without harm``: resources moved (utilisation, replicas) and nothing users
    feel did. ``runtime with model``: errors or latency and the model's outputs moved
    first together (timeouts that cut answers short). ``inputs with outputs``: the
    model's inputs (data) and its outputs (model) both moved, in either order: a worse
    model does not move its inputs, so the inputs explain the outputs (a slow input
    drift crosses the larger effect's threshold, the scores', first). ``infra without
    runtime``: resources moved, the model's outputs or what users feel moved, and the
    requests (errors, latency) did not: a pool that scaled in because the work got
    lighter (a cheaper model, shorter prompts) is a side effect of what changed the
    outputs, while a failing pool is felt by the requests it serves first; so much of
    the infra layer's own weight (first, later, size, largest) is taken off it.
    ``faint``: how far the clearest move falls short of a clear one (1 - its strength):
    a lone weak finding is more often a false alarm than a failure.
    """
    known = [item for item in layers if item.layer in LAYER_NAMES]
    if not known:
        return
    top = max(item.strength for item in known)
    clear = [item for item in known if item.strength >= 0.8 * top]
    x["recovered"] = min(1.0 - min(max(item.persistence, 0.0), 1.0) for item in clear)
    x["seen a day before"] = min(min(max(item.recurrence, 0.0), 1.0) for item in clear)
    x["follows the traffic"] = min(min(max(item.explained, 0.0), 1.0) for item in clear)
    shrink = capacity_without_harm(known)
    if shrink > 0.0:  # a failure after the half hour is no harmless scale-in either
        fell = min(item.onset_minutes for item in known if item.layer == "infra")
        shrink *= 1.0 - harm_after(known, fell)
    x["capacity without harm"] = shrink
    largest = max(known, key=lambda item: (min(math.log1p(max(item.excess, 0.0)), MAX_SIZE),
                                           item.strength))
    x[f"{largest.layer} largest"] = float(min(max(largest.strength, 0.0), 1.0)
                                          * failure_shares(known)[largest.layer])
    others = max((item.strength for item in known if item.layer != "infra"), default=0.0)
    x["infra without harm"] = x["infra first"] * (1.0 - min(others, 1.0))
    x["runtime with model"] = min(x["runtime first"], x["model first"])
    x["inputs with outputs"] = min(max(x["data first"], x["data later"]),
                                   max(x["model first"], x["model later"]))
    x["faint"] = 1.0 - min(max(max(_moved(x, layer) for layer in LAYER_NAMES), 0.0), 1.0)
    unfelt = (1.0 - _moved(x, "runtime")) * max(_moved(x, "model"), _moved(x, "quality"))
    x["infra without runtime"] = _moved(x, "infra") * unfelt
    for name in ("infra first", "infra later", "infra size", "infra largest"):
        x[name] *= 1.0 - unfelt
    x["largest size"] = max(x[f"{layer} size"] for layer in LAYER_NAMES)


def _moved(x: dict[str, float], layer: str) -> float:
    """How strongly a layer moved, first and later together (its failure share, 0..1)."""
    return min(x[f"{layer} first"] + x[f"{layer} later"], 1.0)


def _fitted_scores(x: Sequence[float]) -> dict[str, float] | None:
    from classifiers import behaviour_weights

    weights = behaviour_weights.WEIGHTS
    if not weights:
        return None
    return {label: float(sum(w * v for w, v in zip(weights[label], x, strict=True)))
            for label in LABELS}


def _fitted_reasons(x: Sequence[float], layers: Sequence[LayerEvidence],
                    changes: Sequence[ChangeEvidence]) -> dict[str, list[tuple[float, str]]]:
    """Each label's largest positive terms of the fitted score, in words."""
    from classifiers import behaviour_weights

    first = first_onset(layers) if layers else 0.0
    texts: dict[str, str] = {}
    for item in layers:
        lag = max(item.onset_minutes - first, 0.0)
        role = "first" if root_share(item, first) >= 0.5 else f"{lag:.0f} min later"
        key = f"{item.layer} {'first' if role == 'first' else 'later'}"
        texts.setdefault(key, f"{item.top or item.layer} moved {role}")
    for change in sorted(changes, key=lambda c: abs(c.minutes_before_onset)):
        texts.setdefault(f"{change.kind} change before",
                         f"{change.kind} change {change.minutes_before_onset:.0f} min before "
                         "onset")
    out: dict[str, list[tuple[float, str]]] = {label: [] for label in LABELS}
    for label in LABELS:
        for w, v, name in zip(behaviour_weights.WEIGHTS[label], x, FEATURES, strict=True):
            if name in texts and w * v > 0.05:
                out[label].append((w * v, texts[name]))
    return out


def _nothing_moved_score(fitted: bool) -> float:
    """The ``none`` score when no layer moved, the others scoring 0.

    Fitted: the share of incidents without evidence that were healthy in the fitting
    sources (``behaviour_weights.NOTHING_MOVED``; the rest are failures the detectors
    missed), as a logit, so that its confidence is that share. Hand-set: 3.0 before the
    temperature, as it always was.
    """
    if not fitted:
        return 3.0
    from classifiers import behaviour_weights

    share = min(max(float(getattr(behaviour_weights, "NOTHING_MOVED", 0.9)), 1e-3), 1 - 1e-3)
    return math.log(share / (1.0 - share) * (len(LABELS) - 1))


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
    drowned = all_within_noise(layers)
    if drowned:
        layers = ()
    x = evidence_features(layers, changes)
    fitted = _fitted_scores(x)
    if fitted is not None:
        scores, temperature = fitted, 1.0
        contributions = _fitted_reasons(x, layers, changes)
    else:
        from classifiers.behaviour_hand import hand_scores

        (scores, contributions), temperature = hand_scores(layers, changes), TEMPERATURE
    if not layers:
        scores = {label: (_nothing_moved_score(fitted is not None) if label == "none" else 0.0)
                  for label in LABELS}
    pattern = pattern_of(layers, changes)
    for label, bonus in _learned(priors, pattern).items():
        scores[label] += bonus * temperature / TEMPERATURE  # the same logit as before
        if bonus > 0.5:
            contributions[label].append((bonus, "responders labelled this pattern so"))
    probabilities = _softmax(scores, temperature)
    label = max(probabilities, key=lambda key: probabilities[key])
    reasons = tuple(text for _, text in sorted(contributions[label], reverse=True)[:4])
    if label == "none":
        if layers:
            reasons = _benign_reasons(x)
        else:
            reasons = (_DROWNED if drowned else "no layer moved significantly",)
    return Posterior(label=label, confidence=probabilities[label], scores=probabilities,
                     reasons=reasons, pattern=pattern)


_BENIGN_WORDS = {
    "recovered": "what moved was back at its usual level by the end of the window",
    "seen a day before": "the same series made the same move at this time a day earlier",
    "infra without harm": "resources moved while nothing users feel did",
    "follows the traffic": "what moved follows the traffic (per-request cost as it fell, "
                           "a pool that grew with a surge)",
    "capacity without harm": "the pool scaled in and nothing users feel moved",
    "faint": "the clearest move is faint",
}


def _benign_reasons(x: Sequence[float]) -> tuple[str, ...]:
    """Why ``none`` won although something moved, from the benign features present."""
    values = dict(zip(FEATURES, x, strict=True))
    said = tuple(text for name, text in _BENIGN_WORDS.items() if values[name] >= 0.5)
    return said or ("the layers that moved do not add up to a failure class",)


def _softmax(scores: Mapping[str, float], temperature: float) -> dict[str, float]:
    top = max(scores.values())
    weights = {label: math.exp((scores[label] - top) / temperature) for label in LABELS}
    total = sum(weights.values())
    return {label: weights[label] / total for label in LABELS}
