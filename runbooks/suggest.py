"""Which runbooks fit an incident: scored from each runbook's ``applies_to``, purely.

One function for every place that suggests runbooks (the diagnosis' buttons,
``/runbook list``): the library says when each runbook applies, so adding or
retargeting a runbook is an edit to its YAML, not to code.

Scores add up, each with the reason shown to the responder (in this order):

- the failure class is one it lists (2);
- the suspect change is of a kind the runbook lists (3): undoing the change is the
  most direct remedy;
- each moved signal matching one of its ``signals`` patterns (1, at most 2 in all):
  a clue, never enough by itself to outrank a matching class.

A runbook scoring 0 is not suggested, nor one whose ``classes`` leave out the
incident's known failure class: an infrastructure failure after a model change does
not call for a model rollback (the class says the change is not the cause). With no
class known (``None`` or ``none``) the change and the signals are all there is.
``applies_to.services`` (when set) and the catalog's list of a service's runbooks
(``allowed``) filter before scoring too.
Highest score first, then by name, so the order is the same every time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from runbooks.models import Runbook

CHANGE_WEIGHT = 3
CLASS_WEIGHT = 2
SIGNAL_WEIGHT = 1
MAX_SIGNAL_SCORE = 2


@dataclass(frozen=True)
class Suggested:
    """One runbook that fits, with its score and why (in the order the score was built)."""

    runbook: Runbook
    score: int
    reasons: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.runbook.name

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def _signal_reasons(patterns: Iterable[str], signals: Iterable[str]) -> list[str]:
    pattern_list = list(patterns)
    return [f"{signal} moved" for signal in dict.fromkeys(signals)
            if any(fnmatchcase(signal, pattern) for pattern in pattern_list)]


def score(runbook: Runbook, label: str | None, change_kind: str | None,
          signals: Iterable[str] = ()) -> Suggested:
    """How well ``runbook`` fits, 0 when nothing in its ``applies_to`` matches or its
    classes leave out the known failure class."""
    applies = runbook.applies_to
    total, reasons = 0, []
    if label not in (None, "none") and applies.classes and label not in applies.classes:
        return Suggested(runbook, 0, ())
    if label is not None and label in applies.classes:
        total += CLASS_WEIGHT
        reasons.append(f"{label} failure")
    if change_kind is not None and change_kind in applies.change_kinds:
        total += CHANGE_WEIGHT
        reasons.append(f"suspect {change_kind} change")
    moved = _signal_reasons(applies.signals, signals)
    total += min(MAX_SIGNAL_SCORE, SIGNAL_WEIGHT * len(moved))
    reasons.extend(moved[:MAX_SIGNAL_SCORE])
    return Suggested(runbook, total, tuple(reasons))


def suggest(library: Iterable[Runbook], label: str | None, change_kind: str | None,
            signals: Iterable[str] = (), *, service: str | None = None,
            allowed: Collection[str] | None = None) -> list[Suggested]:
    """The runbooks of ``library`` that fit, best first.

    Parameters
    ----------
    library
        The runbooks to choose from (the loaded library's values).
    label
        The incident's failure class (``model``, ``data``, ...), ``None`` if unknown.
    change_kind
        The kind of the suspect change (``model``, ``prompt``, ...), ``None`` if none.
    signals
        Names of the signals (or tests) that moved, for ``applies_to.signals``.
    service
        The incident's service: a runbook limited to other services is left out.
    allowed
        The runbooks the catalog lists for the service; empty or ``None``: all.
    """
    signal_list = list(signals)
    found = []
    for runbook in library:
        services = runbook.applies_to.services
        if service is not None and services and service not in services:
            continue
        if allowed and runbook.name not in allowed:
            continue
        suggested = score(runbook, label, change_kind, signal_list)
        if suggested.score > 0:
            found.append(suggested)
    found.sort(key=lambda s: (-s.score, s.name))
    return found
