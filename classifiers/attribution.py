"""Change attribution: which recent change best explains this onset and this behaviour.

Most incidents follow a change, but the change just before the onset is not always
the culprit: a dashboard tweak can land a minute before a feature-pipeline change
stalls the features. Each change is scored by its time before the onset (close is
better, after the onset nearly impossible) times how well its kind explains the
behaviour, with a bonus when it names the slice that failed (and a discount when it
names another value of that slice's dimension). A change that is already history
(the service recovered after it, or it was rolled back) is marked down: an incident
is explained by what changed since the service was last healthy.

The onset is the episode's (:func:`classifiers.onsets.episode`), an interval rather
than a point: timing is the stronger evidence, since culprits are sometimes of a
kind nobody would guess and red herrings of the culprit's own kind land 15 to 45
minutes before the onset, after which nothing moved.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from classifiers.behaviour import kind_fit, quiet_minutes
from classifiers.results import ChangeScore

# Which change kinds can move a layer that moved first (the behaviour table is per label;
# this one tells a feature-pipeline change from a config change within control_plane).
LAYER_KIND_FIT: dict[str, dict[str, float]] = {
    "infra": {"infra": 1.0, "config": 0.5, "code": 0.4, "model": 0.3},
    "runtime": {"infra": 0.9, "code": 0.6, "config": 0.6, "model": 0.4, "prompt": 0.3},
    "data": {"features": 0.9, "code": 0.7, "retrieval": 0.5, "config": 0.5},
    "freshness": {"features": 1.0, "retrieval": 0.9, "code": 0.4, "config": 0.3},
    "control": {"config": 0.9, "model": 0.7, "prompt": 0.7, "retrieval": 0.5},
    "model": {"model": 1.0, "prompt": 0.6, "features": 0.3, "config": 0.3},
    "quality": {"model": 0.6, "prompt": 0.6, "retrieval": 0.5},
    "eval": {"threshold": 1.0, "prompt": 0.8, "config": 0.6},
    # tokens (a prompt, a top-k) or their price: the pool's instances (a spot pool, an
    # instance type) set what each GPU-hour, and so each request, costs
    "cost": {"prompt": 0.9, "model": 0.7, "config": 0.6, "retrieval": 0.6, "infra": 0.6},
}
# Which change kinds are behind each failure class, for ranking culprits; it only adds
# to the label's table (:data:`classifiers.behaviour.KIND_FIT`), which scores how much a
# change of a kind says about the label and is sparse on purpose (a model change says
# "model", not "control plane"). Which change caused a failure already labelled is
# another question, and a kind that commonly causes the failure without pointing to
# its label must not fit 0 or near it: a culprit with fit 0 loses to any change of a
# fitting kind, however long before the onset and however quiet the service stayed
# after it. A new model version is behind template mismatches, misrouting and
# re-embedding backlogs (control plane), a quantised build or new serving image
# (``infra``) behind a model's worse answers, a max-length or parser setting behind
# truncated inputs (``config`` for data), a safety prompt behind refusals, a bigger
# model behind OOMs. Those of them that are also the commonest bystanders (a model or
# infra change lands beside most failures) get a modest fit, so that timing decides
# only when it is clear; kinds that cannot cause the failure (a threshold does not
# change inputs) stay at 0.
CULPRIT_KIND_FIT: dict[str, dict[str, float]] = {
    "infrastructure": {"infra": 1.0, "config": 0.6, "code": 0.6, "model": 0.4},
    "data": {"features": 0.9, "code": 0.7, "config": 0.5, "retrieval": 0.6},
    "control_plane": {"features": 0.9, "config": 0.8, "retrieval": 0.8,
                      "prompt": 0.5, "code": 0.5, "threshold": 0.3},
    "model": {"model": 1.0, "prompt": 0.8, "infra": 0.3, "config": 0.3},
    "eval_policy": {"threshold": 1.0, "prompt": 0.8, "config": 0.6},
    "cost": {"prompt": 0.8, "model": 0.5},
}
# The layer each kind of change acts on directly: a GPU pool, the served weights, the
# feature and index pipelines, the guardrail's cut-off. When that layer moved in the
# incident, the change's own effect was seen, whatever the label says the failure
# is: a new serving image behind worse answers moves the GPU's clocks as well. Kinds
# that act through many layers (config, code, prompt) have no layer of their own.
CHANGE_LAYERS: dict[str, tuple[str, ...]] = {
    "infra": ("infra",), "model": ("model",), "features": ("data", "freshness"),
    "retrieval": ("freshness",), "threshold": ("eval",),
}
# The layers a failure of each label moves as its own symptoms, downstream of where it
# began: drifted or null inputs shift a model's outputs, a stale template or feature
# does too, a saturated pool starves pipelines and truncates answers. A model change
# beside a data failure is not corroborated by the model layer moving: the failure
# moved it.
DOWNSTREAM: dict[str, tuple[str, ...]] = {
    "infrastructure": ("model", "data", "freshness", "eval"),
    "data": ("model", "eval"), "control_plane": ("model", "eval"),
    "model": ("eval",), "eval_policy": (), "cost": (),
}
CORROBORATED_FIT = 0.7  # a change whose own layer moved fits at least this well
KIND_FLOOR = 0.12      # an unrelated kind still counts a little (the table is not complete)
SLICE_BONUS = 1.5
SCOPE_MISMATCH = 0.5   # a change aimed at another value of the dimension the failure is on
HISTORY_FACTOR = 0.2   # a change the service recovered from, or that was rolled back
AFTER_FIT = 0.5        # the fit of a change at the upper end of the onset's interval
LATE_MINUTES = 4.0     # past that end the fit e-folds each this many minutes (or a sample)
LATE_FIT = 0.02        # down to this: it cannot have started what was long moving


def kind_floor() -> float:
    """The fitted floor when there is one: culprits are sometimes of an unexpected kind."""
    from classifiers import behaviour_weights

    return float(behaviour_weights.ATTRIBUTION.get("kind_floor", KIND_FLOOR))


def change_time_fit(minutes_before_onset: float, halfwidth: float = 0.0,
                    resolution: float = 1.0) -> float:
    """How plausibly a change this long before the episode's onset started it (0..1).

    As :func:`classifiers.behaviour.time_fit` (full fit inside the onset's interval
    and a sample, then each minute of calm before it costs an e-folding of
    :func:`~classifiers.behaviour.quiet_minutes`), but a change after the onset is
    given a fit that fades rather than a cliff.

    Between the estimate and the interval's upper end (half the width above it,
    :func:`classifiers.onsets.onset_interval`) the onset may still lie after the
    change: the fit falls linearly from 1 at the estimate to ``AFTER_FIT`` there. A
    change seconds after the estimate of a faint step placed only to within twenty
    minutes is no later than the step, whereas one a minute past a step placed to
    the second is.

    Past the upper end the fit e-folds every ``LATE_MINUTES`` (or one sample), down
    to ``LATE_FIT``. A change record is often logged after its effect began (a
    rollout's "deployed" event comes when the last replica is up, minutes after the
    first served the new build), so a change of a fitting kind logged four minutes
    late is still a candidate against a poorly fitting one before the onset; a change
    three minutes after a step placed to the 15-second sample, a random deploy while
    the step was under way, fits a quarter and loses to any fitting change before it.
    """
    m = float(minutes_before_onset)
    upper = 0.5 * halfwidth
    if m < -upper:
        late = -m - upper
        return max(LATE_FIT, AFTER_FIT * math.exp(-late / max(LATE_MINUTES, resolution)))
    if m < 0.0:
        return 1.0 - (1.0 - AFTER_FIT) * (-m / upper)
    inside = halfwidth + max(resolution, 1.0)
    if m <= inside:
        return 1.0
    return math.exp(-(m - inside) / quiet_minutes())


def _rank_iv(minutes_before_onset: Sequence[float], kinds: Sequence[str],
             slice_matches: Sequence[bool] | None, history: Sequence[bool] | None,
             elsewhere: Sequence[bool] | None = None
             ) -> tuple[list[bool], list[bool], list[bool]]:
    """Checked lengths; the slice matches, history and elsewhere flags as lists
    (default: none)."""
    if len(minutes_before_onset) != len(kinds):
        raise ValueError(f"kinds must match minutes_before_onset in length, got {len(kinds)} "
                         f"and {len(minutes_before_onset)}")
    matches = list(slice_matches) if slice_matches is not None else [False] * len(kinds)
    past = list(history) if history is not None else [False] * len(kinds)
    if len(matches) != len(kinds) or len(past) != len(kinds):
        raise ValueError("slice_matches and history must match kinds in length")
    aimed_elsewhere = list(elsewhere) if elsewhere is not None else [False] * len(kinds)
    if len(aimed_elsewhere) != len(kinds):
        raise ValueError("elsewhere must match kinds in length")
    return matches, past, aimed_elsewhere


def _kind_fit(kind: str, label: str, root_layers: Sequence[str]) -> float:
    """The kind's fit to the label (the larger of the label's table and
    :data:`CULPRIT_KIND_FIT`), averaged with the best root layer's fit."""
    if label == "none":
        return 0.0
    kf = max(kind_fit(kind, label), CULPRIT_KIND_FIT.get(label, {}).get(kind, 0.0))
    if root_layers:
        layer_fit = max(LAYER_KIND_FIT.get(layer, {}).get(kind, 0.0) for layer in root_layers)
        kf = 0.5 * (kf + layer_fit)
    return kf


def rank_changes(minutes_before_onset: Sequence[float], kinds: Sequence[str], label: str,
                 slice_matches: Sequence[bool] | None = None,
                 root_layers: Sequence[str] = (),
                 history: Sequence[bool] | None = None, *, onset_halfwidth: float = 0.0,
                 resolution: float = 1.0,
                 elsewhere: Sequence[bool] | None = None,
                 moved_layers: Collection[str] = ()) -> list[ChangeScore]:
    """Changes ranked by how well they explain the onset, best first.

    Parameters
    ----------
    minutes_before_onset : sequence of float
        For each change, minutes from it to the onset (negative: after the onset).
    kinds : sequence of str
        Each change's kind (``model``, ``prompt``, ``features`` ...).
    label : str
        The behaviour the changes should explain.
    slice_matches : sequence of bool, optional
        Whether each change names a slice the failure was localised to.
    root_layers : sequence of str
        The layers that moved first; when given, the kind fit is the mean of the
        label's fit and the best fit to one of these layers.
    history : sequence of bool, optional
        Whether each change is history: it came before an earlier excursion that
        returned to baseline, or a later change rolled it back. Such a change did not
        start the episode in force now, whatever its kind; its score is multiplied by
        ``HISTORY_FACTOR``.
    onset_halfwidth, resolution : float
        How far before its estimate the onset may lie and the sampling interval, in
        minutes (:func:`classifiers.behaviour.onset_precision`): a change inside the
        interval fits as well as one right at the onset (see :func:`change_time_fit`).

    elsewhere : sequence of bool, optional
        Whether each change is aimed at a slice the failure is not on: it names
        another value of a dimension the failure was localised to (``region=us-east``
        when ``region=eu-west`` failed). Its score is multiplied by ``SCOPE_MISMATCH``.
    moved_layers : collection of str
        Every layer that moved in the incident, first or later. A change whose own
        layer (:data:`CHANGE_LAYERS`) is among them, and is no symptom of the label's
        failure (:data:`DOWNSTREAM`), is ``corroborated``: its kind fit
        is at least ``CORROBORATED_FIT``. The kind tables are priors over what
        usually causes a failure; a change whose effect was itself measured (an
        ``infra`` change and the GPU clocks moving, behind a model's worse answers)
        is evidence of another order, and timing then decides between it and a
        change of the expected kind.

    Returns
    -------
    list of ChangeScore
        ``score = time_fit * (KIND_FLOOR + kind_fit) * slice bonus * history factor``
        (times ``SCOPE_MISMATCH`` for a change aimed elsewhere), where ``kind_fit`` is
        raised to ``CORROBORATED_FIT`` for a corroborated change.

    References
    ----------
    .. [1] B. Beyer et al., "Site Reliability Engineering", O'Reilly (2016), ch. 12
       ("what touched it last": the most recent change before the symptom began).
    """
    matches, past, aimed_elsewhere = _rank_iv(minutes_before_onset, kinds, slice_matches,
                                              history, elsewhere)
    floor = kind_floor()
    ranked = []
    for index, (minutes, kind) in enumerate(zip(minutes_before_onset, kinds, strict=True)):
        tf = change_time_fit(float(minutes), onset_halfwidth, resolution)
        kf = _kind_fit(kind, label, root_layers)
        seen = _corroborated(kind, label, moved_layers)
        kf = max(kf, CORROBORATED_FIT) if seen else kf
        score = _scoped(tf * (floor + kf), matches[index], past[index], aimed_elsewhere[index])
        ranked.append(ChangeScore(index=index, score=score, time_fit=tf, kind_fit=kf,
                                  minutes_before_onset=float(minutes), corroborated=seen))
    # equal scores (two changes inside the onset's interval): the one nearest the onset
    ranked.sort(key=lambda c: (-c.score, abs(c.minutes_before_onset)))
    return ranked


def _corroborated(kind: str, label: str, moved_layers: Collection[str]) -> bool:
    """The layer the change acts on moved, and not as a symptom of the label's failure
    (:data:`DOWNSTREAM`)."""
    if label == "none":
        return False
    symptoms = DOWNSTREAM.get(label, ())
    return any(layer in moved_layers and layer not in symptoms
               for layer in CHANGE_LAYERS.get(kind, ()))


def _scoped(score: float, slice_match: bool, history: bool, elsewhere: bool) -> float:
    """The timing-and-kind score with what the change's scope says: a bonus for naming
    the failing slice, discounts for being history and for being aimed elsewhere."""
    score *= SLICE_BONUS if slice_match else 1.0
    if history:
        score *= HISTORY_FACTOR
    if elsewhere:
        score *= SCOPE_MISMATCH
    return score
