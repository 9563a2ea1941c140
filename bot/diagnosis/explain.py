"""What a diagnosis says to people: runbooks to suggest, the explanation, evidence rows.

The runbook knowledge (which failure class and culprit kind call for which
runbook) and the prose are kept out of the statistics: :mod:`bot.diagnosis.pipeline`
decides, this module words the decision and lays out its evidence as the plain
data ``resilio classify --json`` prints (see DESIGN.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.core.clock import format_ts
from bot.diagnosis.detect import Finding, Test

if TYPE_CHECKING:  # for the hints only: a change is a model's record or a plain one
    from bot.core.exchange_plain import PlainChange
    from bot.core.exchange_records import ChangeRecord


def rounded(x: float | None, digits: int = 6) -> float | None:
    """``x`` rounded for JSON, ``None`` for a missing or non-finite value."""
    if x is None or not math.isfinite(x):
        return None
    return float(round(x, digits))


def _levels(test: Test) -> dict[str, float | None]:
    """``before``/``after``/``relative`` of a shift test; nothing for tests without levels."""
    if test.before is None or test.after is None:
        return {}
    return {"before": rounded(test.before), "after": rounded(test.after),
            "relative": rounded(test.relative)}


def _stamp(epoch: float) -> str:
    return format_ts(datetime.fromtimestamp(epoch, UTC))


def evidence_rows(findings: Sequence[Finding], most: int = 40) -> list[dict[str, Any]]:
    """The findings in onset order (strongest first at one onset), as JSON rows."""
    return [{"layer": f.test.layer, "name": f.test.name, "slice": dict(f.test.slice),
             "detector": f.test.detector, "statistic": rounded(f.test.statistic),
             "p_value": rounded(f.q_value, 12), "effect": rounded(f.test.effect),
             # levels and relative change, so a reader sees "0.91 -> 0.74 (-19 %)"
             **_levels(f.test), "onset": _stamp(f.onset)}
            for f in sorted(findings, key=lambda f: (f.onset, -f.strength))[:most]]


def suspect_row(change: ChangeRecord | PlainChange, score: float, minutes_before_onset: float
                ) -> dict[str, Any]:
    """One ranked change as a JSON row."""
    return {"ts": format_ts(change.ts), "kind": change.kind, "ref": change.ref,
            "previous": change.previous, "author": change.author,
            "description": change.description, "score": rounded(score, 4),
            "minutes_before_onset": rounded(minutes_before_onset, 2)}


def layer_rows(layers: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Per moved layer: its strength, onset and number of findings."""
    return {item.layer: {"strength": round(item.strength, 3),
                         "onset": _stamp(item.onset_minutes * 60),
                         "findings": item.findings} for item in layers}


NO_SIGNALS = ("no signals to diagnose: no signal, distribution or state records "
              "in the window, so nothing measured could move")


def runbooks_for(label: str, top_change: ChangeRecord | PlainChange | None,
              findings: list[Finding]) -> list[str]:
    kind = top_change.kind if top_change is not None else None
    names = {
        "model": ["rollback-model"],
        "infrastructure": ["scale-replicas", "fallback-mode"],
        "cost": ["cap-tokens"],
        "control_plane": ["fallback-mode"],
        "eval_policy": ["disable-flag"],
        "data": [],
        "none": [],
    }[label]
    if kind == "prompt" and label in ("model", "cost", "eval_policy", "control_plane"):
        names = ["rollback-prompt", *names]
    if label in ("control_plane", "data") and (
            kind == "retrieval" or any("index" in f.test.name for f in findings)):
        names = ["pin-retrieval-index", *names]
    if label == "model" and kind == "model":
        names = ["rollback-model", *[n for n in names if n != "rollback-model"]]
    return list(dict.fromkeys(names))


def _slice_words(item: dict) -> str:
    """``tenant=acme (94% of the excess)``: the slice and how much of the failure's
    excess over the dimension it accounts for, so "only acme" is not read as "all of
    it" when a correlated route carries part of it too."""
    words = f"{item['dimension']}={item['value']}"
    share = item.get("share")
    if isinstance(share, (int, float)) and math.isfinite(share):
        words += f" ({share:.0%} of the excess)"
    return words


_SUSPECT_WORDS = ((0.5, "likely cause"), (0.2, "possible cause"), (-1.0, "probably unrelated"))


def explain(label: str, confidence: float, reasons: Sequence[str], slices: list[dict],
             change: dict | None, onset: str | None) -> str:
    if label == "none":
        return f"none ({confidence:.2f}): " + "; ".join(reasons)
    parts = [f"{label} failure, {confidence:.2f} confident"]
    if slices:
        parts.append("only " + ", ".join(_slice_words(s) for s in slices[:3]))
    if onset:
        parts.append(f"began {onset}")
    if change is not None and change["minutes_before_onset"] >= -5:
        # how much the timing says, so a change that merely came first is not read as blame
        weight = next(words for floor, words in _SUSPECT_WORDS if change["score"] >= floor)
        parts.append(f"{change['minutes_before_onset']:.0f} min after {change['kind']} change "
                     f"{change['ref']} ({weight})")
    return "; ".join(parts) + ". Deciding: " + "; ".join(reasons) + "."
