"""Slice contrasts: each slice value against the rest of its dimension, at the onset.

The maths behind "only tenant=hooli": for every degraded signal with sliced series,
the change across the onset inside one value of a dimension and in all the other
values together, as (effect, standard error, scale) that
:func:`classifiers.slices.localise_slices` tests for heterogeneity. Kept apart from
the pipeline so the contrast windows, the count-weighted combination of slices and
the splicing of slices born at the onset can be read and tested on their own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bot.diagnosis.assemble import Assembled, Series, SliceKey
from bot.diagnosis.detect import NEWBORN_MIN_SECONDS, Finding
from classifiers.excursions import persistence
from classifiers.robust import median, noise_sd
from classifiers.slices import SliceContrast

SLICE_WINDOW = 120   # baseline points before the onset for slice contrasts
SLICE_HORIZON = 60   # points after it


def window_stats(s: Series, lo: int, mid: int, hi: int, sign: float
                  ) -> tuple[float, float, float] | None:
    if mid - lo < 3 or hi - mid < 2:
        return None
    if s.kind == "ratio" and s.has_counts:
        nb, na = s.counts[lo:mid].sum(), s.counts[mid:hi].sum()
        p0 = float((s.values[lo:mid] * s.counts[lo:mid]).sum() / nb)
        p1 = float((s.values[mid:hi] * s.counts[mid:hi]).sum() / na)
        expected = s.counts[lo:mid] * p0
        events = s.values[lo:mid] * s.counts[lo:mid]
        disp = float(np.sum((events - expected) ** 2 / np.maximum(expected * (1 - p0), 1e-12))
                     / max(mid - lo - 1, 1)) if 0 < p0 < 1 else 1.0
        disp = min(max(disp, 1.0), 1e4)
        pooled = (p0 * nb + p1 * na) / (nb + na)
        se = math.sqrt(max(disp * pooled * (1 - pooled) * (1 / nb + 1 / na), 1e-18))
        return sign * (p1 - p0), se, math.sqrt(max(p0 * (1 - p0), 1e-12))
    before, after = s.values[lo:mid], s.values[mid:hi]
    level = median(before)
    sd = max(noise_sd(before), 1e-3 * abs(level), 1e-9)
    delta = median(after) - level
    return sign * delta, sd * math.sqrt(1.0 / before.size + 1.0 / after.size) * 1.25, sd


def slice_contrasts(data: Assembled, findings: list[Finding]) -> list[SliceContrast]:
    """Each slice value against the rest of its dimension, for every degraded signal."""
    signals: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.test.layer, f.test.name)
        if key not in signals or f.strength > signals[key].strength:
            signals[key] = f
    contrasts = []
    for (layer, name), finding in signals.items():
        sliced = [s for (lay, nam, key), s in data.series.items()
                  if lay == layer and nam == name and key]
        if len(sliced) < 2:
            continue
        onset = finding.onset
        # its all-traffic series is recorded, and moved nothing: a local move
        flat = (layer, name, ()) in data.series and not any(
            f.test.layer == layer and f.test.name == name and not f.test.slice
            for f in findings)
        if flat and _gone(data, finding):
            continue
        # first points before the window cuts them: a canary's birth, seen whole
        births = {s.slice: float(s.times[0]) for s in sliced if s.times.size}
        young = _newborn_dimensions(births, onset)
        sliced = [window(s, onset, _horizon(s, young)) for s in sliced]
        groups: dict[tuple[str, ...], list[Series]] = {}
        for s in sliced:
            groups.setdefault(tuple(k for k, _ in s.slice), []).append(s)
        for dims, members in groups.items():
            contrasts += _group_contrasts(dims, members, finding, onset, births, young)
    return contrasts


def _group_contrasts(dims: tuple[str, ...], members: list[Series], finding: Finding,
                     onset: float, births: dict[SliceKey, float], young: set[str]
                     ) -> list[SliceContrast]:
    """The contrasts of one breakdown (slices over the same dimensions), value by value.

    Members on one time axis (the usual case) are stacked once; each value's side and
    its rest are then sums over their rows (:class:`_Stacked`), the same numbers
    :func:`combine` gives member by member.
    """
    layer, name = finding.test.layer, finding.test.name
    labels = [dict(s.slice) for s in members]
    stacked = _Stacked(members) if _aligned(members) else None
    out = []
    for dim in dims:
        values = sorted({label[dim] for label in labels})
        if len(values) < 2:
            continue
        for value in values:
            rows = [i for i, label in enumerate(labels) if label[dim] == value]
            others = [i for i, label in enumerate(labels) if label[dim] != value]
            inside, rest = [members[i] for i in rows], [members[i] for i in others]
            if stacked is not None:
                a, b = stacked.combine(rows), stacked.combine(others)
            else:
                a, b = combine(inside), combine(rest)
            sign = -1.0 if a.bad == "down" else 1.0
            if a.bad == "both":
                sign = 1.0 if finding.test.statistic >= 0 else -1.0
            born = (min(births.get(m.slice, math.inf) for m in inside),
                    min(births.get(m.slice, math.inf) for m in rest))
            pair = _pair(a, b, onset, sign, born, _horizon(inside[0], young))
            if pair is None:
                continue
            sa, sb = pair
            out.append(SliceContrast(dim, value, sa[0], sa[1], sb[0], sb[1],
                                     scale=sa[2], signal=f"{layer}/{name}",
                                     weight=_traffic(a, onset), evidence=_evidence(finding)))
    return out


def _aligned(members: list[Series]) -> bool:
    """Whether all members report on the same timestamps."""
    first = members[0].times
    return all(m.times is first or np.array_equal(m.times, first) for m in members[1:])


class _Stacked:
    """Members on one time axis, stacked once: :func:`combine` of any subset of rows.

    The products of values and weights are taken for all rows at once (elementwise,
    so each row's are its own), and a subset's sums run over its rows in order, as
    :func:`combine` sums the stack of that subset: the same numbers, one stack.
    """

    def __init__(self, members: list[Series]) -> None:
        self.members = members
        counts = np.vstack([m.counts for m in members])
        w = np.where(np.isfinite(counts) & (counts > 0), counts, 1.0)
        self.weighted = np.vstack([m.values for m in members]) * w
        self.weights = w
        self.counts = np.where(np.isfinite(counts), counts, np.nan)

    def combine(self, rows: list[int]) -> Series:
        if len(rows) == 1:
            return self.members[rows[0]]
        first = self.members[rows[0]]
        return Series(first.layer, first.name, (), first.kind, first.bad, first.times,
                      self.weighted[rows].sum(axis=0) / self.weights[rows].sum(axis=0),
                      self.counts[rows].sum(axis=0))


NEWBORN_OWN_SECONDS = 1800.0  # a slice born less than this before the onset has no past


Stats = tuple[float, float, float]  # (effect, standard error, scale)


def _newborn_dimensions(births: dict[SliceKey, float], onset: float) -> set[str]:
    """Dimensions with a value born in the half hour up to the onset, or after it, at
    least ``NEWBORN_MIN_SECONDS`` after the dimension's first value (a canary)."""
    first: dict[str, float] = {}
    for key, born in births.items():
        for dim, _ in key:
            first[dim] = min(first.get(dim, math.inf), born)
    return {dim for key, born in births.items() for dim, _ in key
            if born - first[dim] >= NEWBORN_MIN_SECONDS and born > onset - NEWBORN_OWN_SECONDS}


def _horizon(s: Series, young: set[str]) -> int:
    """Points after the onset that a contrast of ``s`` reads: ``SLICE_HORIZON``, or all
    of them on a dimension with a newborn value. A canary's whole life since its birth
    is its only evidence (it has no past to contrast with): cut at sixty points, a
    canary on a twentieth of a quiet service's traffic keeps a few dozen requests,
    and the failure the newborn test saw over its life drowns in their noise."""
    return _WHOLE_LIFE if any(dim in young for dim, _ in s.slice) else SLICE_HORIZON


_WHOLE_LIFE = 1 << 40  # more points than any record holds


def _pair(a: Series, b: Series, onset: float, sign: float, born: tuple[float, float],
          horizon: int = SLICE_HORIZON) -> tuple[Stats, Stats] | None:
    """The stats of a slice ``a`` and of its rest ``b`` across the onset.

    A slice born near the onset (a canary version, a new route, a fallback switched
    on) has no baseline of its own: what it served before the estimated onset, if
    anything, is minutes of the failure itself (onsets lag a deploy by minutes). It
    is compared with the rest of its dimension in the same window instead: both
    sides pivot at its birth, its traffic measured against the level the rest had
    before it existed, and the rest's own change across the birth is what its change
    must exceed. The same holds when the rest is the newborn side (the stable
    version, whose rest is the canary). ``born``: the first points of ``a`` and ``b``
    in the whole record, not in the window the contrast reads.
    """
    born_a, born_b = born
    h = horizon
    if born_a - born_b >= NEWBORN_MIN_SECONDS and _recent(born_a, onset):
        return _both(_around(_spliced(b, a, born_a), born_a, sign, h),
                     _around(b, born_a, sign, h))
    if born_b - born_a >= NEWBORN_MIN_SECONDS and _recent(born_b, onset):
        return _both(_around(a, born_b, sign, h),
                     _around(_spliced(a, b, born_b), born_b, sign, h))
    sa, sb = _around(a, onset, sign, h), _around(b, onset, sign, h)
    # a side with no point before the onset (born after it) is spliced at the onset
    if sa is None and sb is not None:
        sa = _around(_spliced(b, a, onset), onset, sign, h)
    elif sb is None and sa is not None:
        sb = _around(_spliced(a, b, onset), onset, sign, h)
    return _both(sa, sb)


def _recent(born: float, onset: float) -> bool:
    """Born in the half hour up to the onset. (Born after it, the splice at the onset
    does the same without reading the rest's own failure as its baseline.)"""
    return onset - NEWBORN_OWN_SECONDS < born <= onset


def _both(sa: Stats | None, sb: Stats | None) -> tuple[Stats, Stats] | None:
    return (sa, sb) if sa is not None and sb is not None else None


LOCAL_PERSISTENCE = 0.5  # a local move with less of it left at the end is gone


def _gone(data: Assembled, finding: Finding) -> bool:
    """A slice's own move (its all-traffic series flat) that is mostly back by the end
    of the window: a burst in one region hours before the failure says nothing about
    where the failure lives now, and it is no part of the failure's excess."""
    t = finding.test
    s = data.series.get((t.layer, t.name, t.slice))
    if s is None or not t.slice:
        return False
    left = persistence(s.values, s.times, finding.onset, t.before, t.after,
                       s.counts if s.has_counts else None)
    return left < LOCAL_PERSISTENCE


EVIDENCE_CAP = 10.0  # past ten times its practical threshold, a move is just clear


def _evidence(finding: Finding) -> float:
    """A signal's vote on where the failure lives: its effect over the practical
    threshold, between 1 and ``EVIDENCE_CAP``.

    Whether the signal's all-traffic series also moved is no part of the vote.
    Breakdowns add up, so the all-traffic move of a failure confined to a tenth of
    the traffic is a tenth of the slice's, like that of the tenth's own wobble: what
    tells them apart is how far the slice moved in its own noise, which the effect
    over threshold already says. A refusal ratio that quadrupled on the free segment
    (all traffic flat) must not lose the vote to a latency that crept up everywhere
    an hour and a half later; a small step elsewhere weighs little by its own size,
    and one that went back before the end votes on nothing (:func:`_gone`).
    """
    hint = finding.test.strength_hint
    return float(min(max(hint, 1.0), EVIDENCE_CAP)) if math.isfinite(hint) else 1.0


def _traffic(s: Series, onset: float) -> float:
    """Requests a slice carried after the onset (NaN when its records have no counts)."""
    after = s.counts[s.times >= onset]
    if after.size == 0 or not np.all(np.isfinite(after)):
        return float("nan")
    return float(after.sum())


def state_slices(data: Assembled, findings: list[Finding]) -> list[dict[str, Any]]:
    """Slices where served and expected versions disagree while their siblings agree.

    A region that never picked up a deploy shows no numeric signal of its own, only
    a served version that differs from the expected one there and nowhere else in
    its dimension. Named only when every other value of the dimension is reported
    and agrees after the onset (the states' own heterogeneity: all or nothing).
    """
    flagged: dict[tuple[str, str], set[str]] = {}
    for f in findings:
        t = f.test
        if t.detector.startswith("state") and len(t.slice) == 1:
            dim, value = t.slice[0]
            flagged.setdefault((t.name, dim), set()).add(value)
    out = []
    for (name, dim), values in flagged.items():
        siblings = {key[0][1] for (_, n, key) in data.states if n == name and len(key) == 1
                    and key[0][0] == dim}
        if len(siblings) > len(values) and len(values) == 1:
            value = next(iter(values))
            out.append({"dimension": dim, "value": value, "effect": 1.0, "p_value": 0.0,
                        "share": 1.0})
    return out


def _spliced(before: Series, after: Series, onset: float) -> Series:
    """``before``'s points up to the onset followed by ``after``'s from it."""
    early, late = before.times < onset, after.times >= onset
    return Series(after.layer, after.name, after.slice, after.kind, after.bad,
                  np.concatenate([before.times[early], after.times[late]]),
                  np.concatenate([before.values[early], after.values[late]]),
                  np.concatenate([before.counts[early], after.counts[late]]))


def window(s: Series, onset: float, horizon: int = SLICE_HORIZON) -> Series:
    """The points of ``s`` that a contrast at ``onset`` can read, and no others.

    Cutting each member before :func:`combine` keeps the contrasts from sorting whole
    days of points. Nothing the contrast reads is lost: the combined series is at least
    as dense as each member, so its ``SLICE_WINDOW`` points before the onset (and
    ``SLICE_HORIZON`` from it) lie within the same count of each member's own points.
    """
    mid = int(np.searchsorted(s.times, onset, side="left"))
    lo, hi = max(0, mid - SLICE_WINDOW), min(s.times.size, mid + horizon)
    if lo == 0 and hi == s.times.size:
        return s
    return Series(s.layer, s.name, s.slice, s.kind, s.bad, s.times[lo:hi], s.values[lo:hi],
                  s.counts[lo:hi])


def combine(members: list[Series]) -> Series:
    """One series for several slices: count-weighted mean value, summed counts."""
    if len(members) == 1:
        return members[0]
    first = members[0]
    if all(np.array_equal(m.times, first.times) for m in members[1:]):
        # slices reporting on the same timestamps (the usual case): no merge needed
        values = np.vstack([m.values for m in members])
        counts = np.vstack([m.counts for m in members])
        w = np.where(np.isfinite(counts) & (counts > 0), counts, 1.0)
        return Series(first.layer, first.name, (), first.kind, first.bad, first.times,
                      (values * w).sum(axis=0) / w.sum(axis=0),
                      np.where(np.isfinite(counts), counts, np.nan).sum(axis=0))
    times = np.concatenate([m.times for m in members])
    values = np.concatenate([m.values for m in members])
    counts = np.concatenate([m.counts for m in members])
    order = np.argsort(times, kind="stable")
    times, values, counts = times[order], values[order], counts[order]
    unique, inverse = np.unique(times, return_inverse=True)
    w = np.where(np.isfinite(counts) & (counts > 0), counts, 1.0)
    v = np.bincount(inverse, weights=values * w) / np.bincount(inverse, weights=w)
    c = np.bincount(inverse, weights=np.where(np.isfinite(counts), counts, np.nan))
    return Series(first.layer, first.name, (), first.kind, first.bad, unique, v, c)


def _around(s: Series, onset: float, sign: float, horizon: int = SLICE_HORIZON
            ) -> tuple[float, float, float] | None:
    mid = int(np.searchsorted(s.times, onset, side="left"))
    return window_stats(s, max(0, mid - SLICE_WINDOW), mid, min(s.times.size,
                         mid + horizon), sign)


def local_layers(data: Assembled, findings: list[Finding]) -> set[str]:
    """Layers whose every finding is on a slice while that signal's all-traffic series,
    which the records hold, moved nothing.

    Such a move is the slice's own (a burst on a small region, a tenant's noise): it
    may be the failure when nothing else moved, but it is no "first clear move" of
    the service, and taken as the onset it puts the episode hours before the step
    that everything else followed.
    """
    moved = {(f.test.layer, f.test.name) for f in findings if not f.test.slice}
    local: dict[str, bool] = {}
    for f in findings:
        t = f.test
        alone = bool(t.slice) and (t.layer, t.name) not in moved and (
            (t.layer, t.name, ()) in data.series)
        local[t.layer] = local.get(t.layer, True) and alone
    return {layer for layer, only in local.items() if only}
