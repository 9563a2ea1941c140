"""The answer when nothing was measured: ``none``, at a confidence that says so.

With no signal, distribution or state in the window there is no evidence for or
against any label: the alert that opened the incident stands unexplained. ``none``
is kept as the label (no failure class can be named), but it is a default, not a
finding, and a high confidence would tell a responder the service looks healthy when
the diagnosis simply could not look. The fitted "nothing moved" share
(``behaviour_weights.NOTHING_MOVED``, 0.99) is right for incidents whose signals were
measured and stayed calm; it is not what a window without signals shows. So the
posterior here is nearly flat: ``none`` a little ahead (an alert without data is more
often a noisy rule than a failure nobody measured), well under one half.
"""

from __future__ import annotations

from classifiers.behaviour import pattern_of
from classifiers.results import Posterior
from classifiers.vocabulary import LABELS

NO_EVIDENCE_CONFIDENCE = 0.25  # "none" with nothing measured; each failure gets 0.125


def no_evidence_posterior() -> Posterior:
    """``none`` at ``NO_EVIDENCE_CONFIDENCE``, the rest shared alike by the failures."""
    rest = (1.0 - NO_EVIDENCE_CONFIDENCE) / (len(LABELS) - 1)
    scores: dict[str, float] = {label: (NO_EVIDENCE_CONFIDENCE if label == "none" else rest)
                               for label in LABELS}
    return Posterior(label="none", confidence=NO_EVIDENCE_CONFIDENCE, scores=scores,
                     reasons=("nothing was measured",), pattern=pattern_of((), ()))
