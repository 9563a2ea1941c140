"""The words every part shares, written once: failure labels, signal layers, change kinds.

They live here, at the bottom, because everything may import ``classifiers`` and
nothing below it: the classifier speaks in these labels, runbooks declare which
labels they apply to, the catalog and the exchange format validate against them,
and the store keeps them as text. Each ``Literal`` is the source; the tuple beside
it is read from it, so the two cannot drift.
"""

from __future__ import annotations

from typing import Literal, get_args

Label = Literal["infrastructure", "data", "control_plane", "model", "eval_policy", "cost", "none"]
LABELS: tuple[Label, ...] = get_args(Label)
FAILURES: tuple[Label, ...] = LABELS[:-1]  # every label but "none"

Layer = Literal["infra", "runtime", "data", "freshness", "model", "quality", "eval", "cost",
                "control"]
LAYERS: tuple[Layer, ...] = get_args(Layer)

ChangeKind = Literal["model", "prompt", "retrieval", "threshold", "features", "config", "code",
                     "infra"]
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)

Direction = Literal["up", "down", "both"]
SignalKind = Literal["ratio", "gauge", "count"]

# Built-in directions for well-known names: a rise (or a fall) is what hurts.
_BAD_UP_HINTS = (
    "error", "latency", "lag", "age", "null", "invalid", "refusal", "block", "thumbs_down",
    "cost", "tokens", "timeout", "oom", "queue", "fallback", "drop", "staleness", "p99", "p95",
    "retries", "5xx", "mismatch", "utilization_gap", "complaint", "escalation",
)
_BAD_DOWN_HINTS = (
    "groundedness", "relevance", "accuracy", "pass_rate", "thumbs_up", "ndcg", "precision",
    "recall", "success", "hit_rate", "throughput", "faithfulness", "judge_score", "availability",
    "good", "ctr", "conversion", "mrr", "f1",
)
# A bare "score" is an evaluation's (higher is better) unless the name is a statistic of
# a distribution of scores (``fraud.score_mean``, ``ranker.score_p90``): that is a
# model's output, and a move either way is a shift.
_SCORE_STATISTICS = ("mean", "avg", "average", "median", "std", "var", "p5", "p9", "p1",
                     "q1", "q5", "q9")


def _score_statistic(lowered: str) -> bool:
    """``score`` followed (after ``_`` or ``.``) by a statistic's name or a percentile."""
    at = lowered.find("score")
    while at >= 0:
        rest = lowered[at + 5:].lstrip("._")
        if rest.startswith(_SCORE_STATISTICS):
            return True
        at = lowered.find("score", at + 5)
    return False


# Names whose bad side is a price, not a health: more tokens cost more, but fewer is no
# better answer (a changed model or a cut stream answers shorter).
_PRICE_HINTS = ("tokens",)


def improvement_side(name: str) -> Direction:
    """The side on which a well-known name's move is an improvement: the other side of
    :func:`default_direction`, and ``both`` (none) for unknown names and for prices."""
    lowered = name.lower()
    bad = default_direction(name)
    if bad == "both" or any(hint in lowered for hint in _PRICE_HINTS):
        return "both"
    return "down" if bad == "up" else "up"


def default_direction(name: str) -> Direction:
    """The side on which a well-known signal name is bad; ``both`` when unknown."""
    lowered = name.lower()
    statistic = _score_statistic(lowered)
    if statistic and not any(hint in lowered for hint in _BAD_DOWN_HINTS):
        return "both"
    if any(hint in lowered for hint in _BAD_UP_HINTS):
        return "up"
    if any(hint in lowered for hint in _BAD_DOWN_HINTS):
        return "down"
    if "score" in lowered:
        return "down"
    return "both"
