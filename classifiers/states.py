"""Control states: is the served version the expected one, and did the served value switch?

Delivery failures rarely show as a number going up: the router keeps serving v7
after v8 was promoted, or a share of traffic lands on the fallback route. These
detectors turn a sequence of served (and expected) values into a share of bad
samples after an onset and test it against the share before it.
"""

from __future__ import annotations

import numpy as np

from classifiers import special
from classifiers.arrays import Floats
from classifiers.results import StateResult


def _onset_of_final_run(bad: Floats) -> int:
    """Start of the last stretch in which bad samples dominate (a majority-vote walk back)."""
    n = bad.size
    score = np.cumsum(bad[::-1] * 2 - 1)  # from the end: +1 bad, -1 good
    best = int(np.argmax(score))
    return n - 1 - best


def _share_test(bad: Floats, onset: int, detector: str) -> StateResult:
    before, after = bad[:onset], bad[onset:]
    k, n = int(after.sum()), int(after.size)
    if n == 0:
        return StateResult(0.0, 1.0, 0.0, -1, detector)
    base = (before.sum() + 0.5) / (before.size + 1.0)
    share = k / n
    p = special.binom_test(k, n, min(max(base, 1e-6), 1 - 1e-6), alternative="greater")
    return StateResult(statistic=share, p_value=p, effect=float(max(share - before.mean(), 0.0)
                       if before.size else share), onset=onset, detector=detector)


def state_mismatch(served: list[str], expected: list[str | None]) -> StateResult:
    """Served values that disagree with the expected ones, rising at an onset.

    Parameters
    ----------
    served, expected : list
        The served value of each sample and the value it should have been (None when
        unknown; such samples count as agreeing).

    Returns
    -------
    StateResult
        Exact binomial test of the disagreeing share after the onset against the
        share before it (with a half-sample prior, so a clean baseline is not 0).
    """
    if len(served) != len(expected):
        raise ValueError(f"expected must match served in length, got {len(expected)} "
                         f"and {len(served)}")
    bad = np.array([e is not None and s != e for s, e in zip(served, expected, strict=True)],
                   dtype=float)
    if bad.size == 0 or bad.sum() == 0:
        return StateResult(0.0, 1.0, 0.0, -1, "state_mismatch")
    return _share_test(bad, _onset_of_final_run(bad), "state_mismatch")


def state_switch(served: list[str]) -> StateResult:
    """The served value moved away from its usual value (first third of the samples).

    A switch is not a failure by itself (a deploy switches versions); the classifier
    reads it as a change that happened, and as a control failure only when routes or
    versions flap or split unexpectedly.
    """
    if len(served) < 4:
        return StateResult(0.0, 1.0, 0.0, -1, "state_switch")
    head = served[: max(1, len(served) // 3)]
    usual = max(set(head), key=head.count)
    bad = np.array([s != usual for s in served], dtype=float)
    if bad.sum() == 0:
        return StateResult(0.0, 1.0, 0.0, -1, "state_switch")
    return _share_test(bad, _onset_of_final_run(bad), "state_switch")
