"""Layers that moved only on a few slices while the episode's clear move is everywhere.

A failure confined to a slice (one tenant's broken join, one route's template) hurts
that slice, and its symptoms show there first. A layer whose every
finding is on a slice, beside another layer that moved clearly on all traffic *and*
on other values of each of the slice's dimensions, cannot have started that
everywhere-move: it is a slice's own blip (a language ratio on one segment, refusals
on one tenant), another story. Read as a cause it took the label from what broke
(an input ratio on two segments read a vendor's slowdown as a data failure; a lone
tenant's block ratio read a cache collapse as an eval failure). The classifier
leaves such layers out (:func:`classifiers.behaviour.evidence_features`), as it does
a move that stood alone hours before (:func:`classifiers.behaviour_shape.other_story`).

Pure: ``(layer, slice, strength)`` per finding in, layer names out; a slice is a
tuple of ``(dimension, value)`` pairs, empty for all traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Slice = tuple[tuple[str, str], ...]
CLEAR_SHARE = 0.8  # the everywhere-move must be at least this share of the slice's strength
NEVER = frozenset({"freshness"})  # a stalled pipeline is a cause wherever it shows


def contradicted(findings: Iterable[tuple[str, Slice, float]]) -> set[str]:
    """The layers whose moves are all on slices that another layer's clear move on all
    traffic spreads past: on every dimension the layer's slices name, that layer also
    moved on a value the layer did not."""
    by_layer: dict[str, list[tuple[Slice, float]]] = {}
    for layer, where, strength in findings:
        by_layer.setdefault(layer, []).append((tuple(where), float(strength)))
    out: set[str] = set()
    for layer, items in by_layer.items():
        if layer in NEVER or any(not where for where, _ in items):
            continue
        values = _values(where for where, _ in items)
        strongest = max(strength for _, strength in items)
        for other, theirs in by_layer.items():
            if other == layer or not any(not where and strength >= CLEAR_SHARE * strongest
                                         for where, strength in theirs):
                continue
            spread = _values(where for where, _ in theirs if where)
            if all(spread.get(dim, set()) - mine for dim, mine in values.items()):
                out.add(layer)
                break
    return out


def _values(slices: Iterable[Sequence[tuple[str, str]]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for where in slices:
        for dim, value in where:
            out.setdefault(dim, set()).add(value)
    return out
