"""The shape of an episode's moves: which layer counts as having moved first, which
moves are no failure, and which began another story.

The behaviour classifier (:mod:`classifiers.behaviour`) reads these before it weighs
any layer: the timing that splits a layer into "moved first" and "moved later", the
share of a move that is benign (came back, a habit, a pool that merely scaled in),
and the moves that stood alone hours before the rest and so say nothing of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from classifiers.behaviour import LayerEvidence

ROOT_MINUTES = 4.0      # e-folding time of "moved first" after the earliest onset


def root_share(item: LayerEvidence, first: float) -> float:
    """How much a layer counts as having moved first (1) rather than later (0).

    The lag is measured from the earliest clear onset in units of the larger of
    ``ROOT_MINUTES`` and the layer's own onset uncertainty: on 5-minute scrapes two
    layers 5 minutes apart may well have moved together.
    """
    lag = max(item.onset_minutes - first, 0.0)
    scale = max(ROOT_MINUTES, item.resolution_minutes, item.onset_halfwidth)
    return math.exp(-lag / scale)


CAPACITY_HARM_MINUTES = 30.0  # a smaller pool hurts within this, or it did not
LONG_GAP_MINUTES = 90.0  # a clear move this long before the next one started another story
LASTING_SHARE = 0.9  # a runtime move that kept this much of itself to the end is in force


def starts_every_story(item: LayerEvidence) -> bool:
    """A clear early move that a later one, however long after, still follows from.

    A freshness lag: a stalled pipeline's cost shows hours later. And requests that kept
    failing (a runtime move, errors or latency, still ``LASTING_SHARE`` there at the
    end and no benign move): timeouts cut the answers they carry short, and what scores
    those answers (an eval job's groundedness, users' thumbs, an output-length mean on a
    long window) can cross its threshold hours after the first errors. A runtime blip
    that came back, or latency that followed the traffic, is another story as before.
    """
    if item.layer == "freshness":
        return True
    return (item.layer == "runtime" and item.persistence >= LASTING_SHARE
            and item.benign < 1.0 - LASTING_SHARE)


def cause_onset(layers: Sequence[LayerEvidence]) -> float:
    """The onset the layers are timed from: the first clear one, unless it stood alone.

    Causes lead their symptoms by minutes. A clear move followed by a calm of more than
    ``LONG_GAP_MINUTES`` before the next clear one (a pool that scaled in with the
    evening, an old shift) did not start what is moving now, so the timing starts at
    the next one. A freshness lag and requests that kept failing are the exception
    (:func:`starts_every_story`).
    """
    if not layers:
        return 0.0
    top = max(item.strength for item in layers)
    clear = sorted((item for item in layers if item.strength >= 0.8 * top),
                   key=lambda item: item.onset_minutes)
    while len(clear) > 1 and not starts_every_story(clear[0]) and \
            clear[1].onset_minutes - clear[0].onset_minutes > LONG_GAP_MINUTES:
        clear = clear[1:]
    return clear[0].onset_minutes


def capacity_without_harm(layers: Sequence[LayerEvidence]) -> float:
    """How clearly the pool merely got smaller: infra moved only by whole units falling
    (replicas, nodes) and no harm a smaller pool makes came with it: errors or latency at
    any time (a pool too small for the evening's load bites when the load comes),
    or what users feel within ``CAPACITY_HARM_MINUTES``; a model or quality move an hour
    later is another story, timed on its own (:func:`classifiers.behaviour.evidence_features`)."""
    pool = [item for item in layers if item.layer == "infra"]
    if not pool or not all(item.capacity >= 1.0 for item in pool):
        return 0.0
    fell = min(item.onset_minutes for item in pool)
    harm = max((min(max(item.strength, 0.0), 1.0) * (1.0 - item.benign) for item in layers
                if item.layer == "runtime" or (item.layer == "quality"
                    and item.onset_minutes - fell <= CAPACITY_HARM_MINUTES)), default=0.0)
    return float(max(item.strength for item in pool) * (1.0 - min(harm, 1.0)))


def failure_shares(layers: Sequence[LayerEvidence]) -> dict[str, float]:
    """Per layer, the share of its move that may speak for a failure (0..1).

    A move that came back, a daily habit, the arithmetic of the traffic falling
    (:attr:`LayerEvidence.benign`) and a pool that merely scaled in are no failures
    however large: their share is taken off the layer before any label weighs it, not
    only added to ``none`` (a sum let two large habitual moves outvote the habit).
    """
    shrink = capacity_without_harm(layers)
    out: dict[str, float] = {}
    for item in layers:
        share = 1.0 - item.benign
        if item.layer == "infra":
            share *= 1.0 - shrink
        out[item.layer] = min(out.get(item.layer, 1.0), share)
    return out




def other_story(layers: Sequence[LayerEvidence], first: float) -> set[str]:
    """The layers whose move stood alone more than ``LONG_GAP_MINUTES`` before ``first``
    (the :func:`cause_onset` the episode is timed from) and was the smaller story.

    :func:`cause_onset` already starts the timing after such a move; read with a lag
    below zero it would still count as having "moved first", so an input blip two
    hours before a timeout decided the label of what broke later. Of two stories the
    larger one (its largest effect over its practical threshold, ``excess``) is the
    incident: a template mismatch on 5-minute scrapes whose own latency rise on
    another route came an hour and a half later is still a template mismatch. A
    freshness lag and requests that kept failing are never another story
    (:func:`starts_every_story`).
    """
    early = [item for item in layers if not starts_every_story(item)
             and first - item.onset_minutes > LONG_GAP_MINUTES]
    rest = [item for item in layers if item not in early]
    if not early or not rest or max(_size(item) for item in early) > max(
            _size(item) for item in rest):
        return set()
    return {item.layer for item in early}


def _size(item: LayerEvidence) -> float:
    return math.log1p(max(item.excess, 0.0)) * (1.0 - item.benign)


def harm_after(layers: Sequence[LayerEvidence], start: float) -> float:
    """The clearest move users or requests feel (runtime, quality, model, eval) that is
    no benign move and began at or after ``start`` (minutes), as a share 0..1.

    A pool that scaled in without harm for half an hour and then saw errors an hour
    later is no healthy scale-in: the evidence for ``none`` is what remains of the
    "without harm" once such a later failure is counted.
    """
    return float(min(max((min(max(item.strength, 0.0), 1.0) * (1.0 - item.benign)
                          for item in layers if item.layer in HARM_LAYERS
                          and item.onset_minutes >= start), default=0.0), 1.0))


HARM_LAYERS = frozenset({"runtime", "quality", "model", "eval"})
