"""How precisely a change point is placed: an onset interval from the step's size.

A detector reports one onset index, but a step of ``delta`` in noise of SD ``sigma``
is located only to within about ``(sigma / delta)**2`` points: the least-squares
change-point estimate's error has that scale [1]_. A faint step on 5-minute scrapes
may lie half an hour either side of the index the scan chose; a sharp one on
15-second points is placed to the second. Attribution reads the interval, not the
point: a change inside it cannot be told from one right at the onset, and a change
well before its lower end was followed by a stretch in which nothing moved.

Which onset is "the" onset is a second question (:func:`episode`). The earliest of
many layers' estimates is biased early: a replica count following the evening's
traffic, one small slice's burst, a faint gauge twenty minutes ahead of the step
everything else took, each an hour or more before the incident and followed by
nothing. So the findings are chained into runs with no long quiet gap between them,
and the run with most evidence is the episode whose first move a culprit must come
right before.

References
----------
.. [1] D. V. Hinkley, "Inference about the change-point in a sequence of random
   variables", Biometrika 57 (1970), pp. 1-17.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from classifiers.arrays import Floats
from classifiers.behaviour import LayerEvidence
from classifiers.results import OnsetInterval
from classifiers.robust import median

MAX_POINTS = 24.0     # a step too faint to place closer than this is placed no closer
FAINT_RATIO = 30.0    # a layer this many times fainter than the clearest sets no onset
COVERAGE = 2.0        # points of (sigma/delta)^2 on each side: roughly a 90 % interval


def onset_interval(times: Floats, onset: float, statistic: float) -> OnsetInterval:
    """The interval (epoch seconds) in which a detector's onset lies.

    Parameters
    ----------
    times : numpy.ndarray
        The series' sample times (epoch seconds, increasing).
    onset : float
        The onset the detector chose (epoch seconds).
    statistic : float
        The detector's z statistic for the step over the points after the onset;
        the per-point signal-to-noise ratio is ``|statistic| / sqrt(points after)``.

    Returns
    -------
    OnsetInterval
        ``low <= onset <= high`` and the sampling interval ``resolution`` (seconds).
    """
    t = np.asarray(times, dtype=float)
    if t.size < 2:
        return OnsetInterval(onset, onset, onset, 60.0)
    resolution = median(np.diff(t))  # np.median's first call imports numpy.ma (~20 ms)
    after = max(int(t.size - np.searchsorted(t, onset, side="left")), 1)
    snr = abs(float(statistic)) / math.sqrt(after)
    points = min(MAX_POINTS, 1.0 + COVERAGE / max(snr * snr, 1e-9))
    half = points * resolution
    return OnsetInterval(onset, onset - half, onset + 0.5 * half, resolution)


def clear_layers(layers: Sequence[LayerEvidence], local: Collection[str]
                 ) -> list[LayerEvidence]:
    """The layers a change must come right before: all but the ``local`` ones.

    A layer that moved only on a slice, its all-traffic series flat, is kept out of
    the onset that attribution reads (:func:`classifiers.behaviour.first_onset` takes
    the earliest strong layer, and a lone slice's burst hours before the incident
    would make the culprit look like a change "after which nothing moved"). When
    every layer is local (a canary failing on its own traffic), all are kept. Nor
    does a layer whose effect over its threshold is ``FAINT_RATIO`` times below the
    clearest layer's: an error ratio just over its threshold twelve minutes before a
    top-k that grew by hundreds of SDs.
    """
    kept = [item for item in layers if item.layer not in local] or list(layers)
    # Strengths saturate at 1, so a barely practical blip and a step of hundreds of
    # SDs both pass first_onset's "strong" test; a layer whose effect is a small
    # fraction of the clearest one's is no first clear move either.
    top = max(max(item.excess, 1.0) for item in kept)
    clear = [item for item in kept if max(item.excess, 1.0) * FAINT_RATIO >= top]
    return clear or kept


EPISODE_GAP_MINUTES = 20.0  # moves further apart than this (and 3 samples) are separate runs
RESOURCE_ONLY = 0.25        # a run in which only resources moved counts this much
MAX_EXCESS = 1e3            # effects over threshold are capped here before their log


@dataclass(frozen=True)
class Move:
    """One finding as attribution reads it: where its onset lies and how clear it is.

    ``onset`` and ``halfwidth`` (how far before the onset it may lie) and
    ``resolution`` are minutes; ``strength`` is the finding's 0..1 strength and
    ``excess`` its effect over the practical threshold. ``continuing``: a lag that
    keeps growing, so whatever moves after it follows on from it however late.
    """

    layer: str
    onset: float
    halfwidth: float
    resolution: float
    strength: float
    excess: float
    continuing: bool = False

    @property
    def weight(self) -> float:
        return self.strength * math.log1p(min(max(self.excess, 0.0), MAX_EXCESS))


def _runs(moves: Sequence[Move], gap: float) -> list[list[Move]]:
    """Moves in onset order, cut where nothing moved for longer than ``gap``."""
    runs: list[list[Move]] = []
    reach = -math.inf
    for move in sorted(moves, key=lambda m: m.onset):
        if runs and move.onset - reach <= max(gap, 3.0 * move.resolution):
            runs[-1].append(move)
        else:
            runs.append([move])
            reach = -math.inf
        reach = math.inf if move.continuing else max(reach, move.onset)
    return runs


def _run_weight(run: Sequence[Move], resources: Collection[str]) -> float:
    """The run's evidence: each layer's clearest move, summed (many slices of one
    signal are one move); a run of resource layers alone (replicas following
    traffic, memory climbing) is no harm by itself and counts ``RESOURCE_ONLY``."""
    best: dict[str, float] = {}
    for move in run:
        best[move.layer] = max(best.get(move.layer, 0.0), move.weight)
    total = sum(best.values())
    return total * RESOURCE_ONLY if set(best) <= set(resources) else total


def episode(moves: Sequence[Move], gap: float = EPISODE_GAP_MINUTES,
            resources: Collection[str] = ("infra",)) -> list[Move]:
    """The moves of the episode a culprit must explain, in onset order.

    The moves are chained into runs in which no two consecutive onsets are more
    than ``gap`` minutes (or three samples) apart; a growing lag keeps its run open
    to the end. The run with the most evidence (:func:`_run_weight`; on a tie the
    later) is the episode: an isolated early move, however clear its own test, was
    followed by nothing and started nothing that is still going on. Empty when there
    are no moves.
    """
    runs = _runs(moves, gap)
    if not runs:
        return []
    return max(runs, key=lambda run: (_run_weight(run, resources), run[0].onset))
