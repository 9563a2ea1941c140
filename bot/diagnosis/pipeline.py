"""``diagnose(records, changes)``: exchange records in, a plain-data diagnosis out.

The one place where the statistics are put together, top to bottom: assemble
arrays, run the detectors, keep the corrected findings, sum them up per layer,
classify the behaviour, localise slices, rank the changes, suggest runbooks and
write the explanation. Pure: no database, no clock, no network. ``resilio classify``,
the incident classifier and the silent-degradation watch all call it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bot.core.exchange import (
    AlertRecord,
    ChangeRecord,
    DistributionRecord,
    SignalRecord,
    StateRecord,
    format_ts,
    to_utc,
)
from bot.diagnosis.assemble import Assembled, Series, assemble, slice_text
from bot.diagnosis.detect import (
    MIN_GAUGE_EFFECT,
    MIN_RATE_RELATIVE,
    Finding,
    Test,
    run_tests,
    select_findings,
)
from classifiers.attribution import rank_changes
from classifiers.behaviour import (
    LABELS,
    ROOT_MINUTES,
    ChangeEvidence,
    LayerEvidence,
    LearnedPriors,
    classify_behaviour,
    first_onset,
    onset_precision,
)
from classifiers.onsets import onset_interval
from classifiers.shifts import _median, _noise_sd, rate_shift, robust_shift
from classifiers.slices import SliceContrast, localise_slices

SLICE_WINDOW = 120   # baseline points before the onset for slice contrasts
SLICE_HORIZON = 60   # points after it
EPISODE_GAP_MINUTES = 240.0  # onsets further apart belong to different episodes
_DATA_TYPES = frozenset({SignalRecord, DistributionRecord, StateRecord})


@dataclass(frozen=True)
class Diagnosis:
    """What ``resilio classify --json`` prints (see DESIGN.md), as plain data."""

    behavior: str
    confidence: float
    scores: dict[str, float]
    onset: str | None
    evidence: list[dict[str, Any]]
    slices: list[dict[str, Any]]
    suspect_changes: list[dict[str, Any]]
    suggested_runbooks: list[str]
    explanation: str
    service: str | None = None
    pattern: str = ""
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "behavior": self.behavior,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "onset": self.onset,
            "evidence": self.evidence,
            "slices": self.slices,
            "suspect_changes": self.suspect_changes,
            "suggested_runbooks": self.suggested_runbooks,
            "explanation": self.explanation,
            "pattern": self.pattern,
        }


def _round(x: float, digits: int = 6) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return float(round(x, digits))


def _levels(test: Test) -> dict[str, float | None]:
    """``before``/``after``/``relative`` of a shift test; nothing for tests without levels."""
    if test.before is None or test.after is None:
        return {}
    return {"before": _round(test.before), "after": _round(test.after),
            "relative": _round(test.relative)}


def _current_episode(findings: list[Finding]) -> list[Finding]:
    """The findings of the episode in force: the latest run of onsets without a long gap.

    A long window can hold an older shift that never went back (a capacity change in
    the morning, a drift from the night). Causes lead their symptoms by minutes, rarely
    by more than an hour or two; left in, such a shift would have 'moved first' and
    decided the label of what broke now. So the findings are cut at the last gap of
    more than ``EPISODE_GAP_MINUTES`` between consecutive onsets. A lag that keeps
    growing is the exception and is always kept: a stalled pipeline's features go
    stale slowly, and the quality it costs can show hours after the stall began.
    """
    onsets = sorted({f.test.onset for f in findings})
    start = onsets[0] if onsets else 0.0
    for earlier, later in zip(onsets[:-1], onsets[1:], strict=True):
        if later - earlier > EPISODE_GAP_MINUTES * 60.0:
            start = later
    return [f for f in findings if f.test.onset >= start or f.test.detector == "lag_growth"]


IMPROVEMENT_MINUTES = 10.0  # one-sided moves this close to a two-sided one explain it
IMPROVEMENT_ALPHA = 1e-4


def _without_improvements(findings: list[Finding], tests: list[Test], data: Assembled
                          ) -> list[Finding]:
    """Drop two-sided findings that came with an improvement and no harm.

    A signal marked ``bad: both`` (latency on some dashboards, a mean score) trips on
    any large move, so a deploy that halves latency looks like a failure. The
    one-sided signals are then also tested the *good* way (their own detectors only
    look for harm); when some moved that way at about the same time and none of the
    one-sided findings is near, the two-sided move is read as the same improvement.
    A two-sided move with any one-sided harm beside it, or with nothing beside it,
    stays a finding.
    """
    both = [f for f in findings if f.test.detector != "newborn_slice"
            and _is_two_sided(f.test, data)]
    if not both:
        return findings
    window = IMPROVEMENT_MINUTES * 60.0
    harms = [f.test.onset for f in findings if not _is_two_sided(f.test, data)]
    better = _improvement_onsets(data)
    dropped = set()
    for f in both:
        near_harm = any(abs(t - f.test.onset) <= window for t in harms)
        near_better = any(abs(t - f.test.onset) <= window for t in better)
        if near_better and not near_harm:
            dropped.add(id(f))
    return [f for f in findings if id(f) not in dropped]


def _improvement_onsets(data: Assembled) -> list[float]:
    """Onsets of clear moves the good way of one-sided all-traffic signals."""
    out = []
    for (_, _, key), s in data.series.items():
        if key or s.bad == "both" or s.values.size < 12:
            continue
        good = "down" if s.bad == "up" else "up"
        if s.kind == "ratio" and s.has_counts:
            r = rate_shift(s.values, s.counts, direction=good)
            practical = abs(r.relative) >= MIN_RATE_RELATIVE
        else:
            r = robust_shift(s.values, s.times, direction=good)
            practical = abs(r.effect) >= MIN_GAUGE_EFFECT and abs(r.relative) >= 0.05
        if r.onset >= 0 and r.p_value < IMPROVEMENT_ALPHA and practical:
            out.append(float(s.times[r.onset]))
    return out


def _is_two_sided(test: Test, data: Assembled) -> bool:
    series = data.series.get((test.layer, test.name, test.slice))
    return series is not None and series.bad == "both"


def _layer_evidence(findings: list[Finding], data: Assembled) -> list[LayerEvidence]:
    by_layer: dict[str, list[Finding]] = {}
    for f in findings:
        by_layer.setdefault(f.test.layer, []).append(f)
    layers = []
    for layer, items in by_layer.items():
        strongest = max(f.strength for f in items)
        # several findings in one layer are a little stronger than one
        strength = min(1.0, strongest + 0.05 * (len(items) - 1))
        leaders = [f for f in items if f.strength >= 0.6 * strongest]
        first = min(leaders, key=lambda f: f.test.onset)
        top = max(items, key=lambda f: f.strength).test
        label = f"{layer}/{top.name}" + (f"[{slice_text(top.slice)}]" if top.slice else "")
        series = data.series.get((first.test.layer, first.test.name, first.test.slice))
        interval = (onset_interval(series.times, first.test.onset, first.test.statistic)
                    if series is not None else None)
        layers.append(LayerEvidence(
            layer=layer, strength=strength, onset_minutes=first.test.onset / 60.0,
            findings=len(items), top=label,
            resolution_minutes=interval.resolution / 60.0 if interval else 1.0,
            onset_halfwidth=(first.test.onset - interval.low) / 60.0 if interval else 0.0,
            excess=max(f.test.strength_hint for f in items)))
    return layers


def _window_stats(s: Series, lo: int, mid: int, hi: int, sign: float
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
    sd = max(_noise_sd(before), 1e-3 * abs(_median(before)), 1e-9)
    delta = _median(after) - _median(before)
    return sign * delta, sd * math.sqrt(1.0 / before.size + 1.0 / after.size) * 1.25, sd


def _slice_contrasts(data: Assembled, findings: list[Finding]) -> list[SliceContrast]:
    """Each slice value against the rest of its dimension, for every degraded signal."""
    signals = {}
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
        onset = finding.test.onset
        sliced = [_window(s, onset) for s in sliced]
        groups: dict[tuple[str, ...], list[Series]] = {}
        for s in sliced:
            groups.setdefault(tuple(k for k, _ in s.slice), []).append(s)
        for dims, members in groups.items():
            for dim in dims:
                values = sorted({dict(s.slice)[dim] for s in members})
                if len(values) < 2:
                    continue
                for value in values:
                    inside = [s for s in members if dict(s.slice)[dim] == value]
                    rest = [s for s in members if dict(s.slice)[dim] != value]
                    a, b = _combine(inside), _combine(rest)
                    sign = -1.0 if a.bad == "down" else 1.0
                    if a.bad == "both":
                        sign = 1.0 if finding.test.statistic >= 0 else -1.0
                    sa, sb = _around(a, onset, sign), _around(b, onset, sign)
                    # A slice born at the onset (a canary version, a new route, a fallback
                    # switched on) has no baseline of its own: its traffic is measured
                    # against the level that traffic had before, on the other side.
                    if sa is None and sb is not None:
                        sa = _around(_spliced(b, a, onset), onset, sign)
                    elif sb is None and sa is not None:
                        sb = _around(_spliced(a, b, onset), onset, sign)
                    if sa is None or sb is None:
                        continue
                    contrasts.append(SliceContrast(dim, value, sa[0], sa[1], sb[0], sb[1],
                                                   scale=sa[2], signal=f"{layer}/{name}",
                                                   weight=_traffic(a, onset)))
    return contrasts


def _traffic(s: Series, onset: float) -> float:
    """Requests a slice carried after the onset (NaN when its records have no counts)."""
    after = s.counts[s.times >= onset]
    if after.size == 0 or not np.all(np.isfinite(after)):
        return float("nan")
    return float(after.sum())


def _state_slices(data: Assembled, findings: list[Finding]) -> list[dict[str, Any]]:
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


def _window(s: Series, onset: float) -> Series:
    """The points of ``s`` that a contrast at ``onset`` can read, and no others.

    Cutting each member before :func:`_combine` keeps the contrasts from sorting whole
    days of points. Nothing the contrast reads is lost: the combined series is at least
    as dense as each member, so its ``SLICE_WINDOW`` points before the onset (and
    ``SLICE_HORIZON`` from it) lie within the same count of each member's own points.
    """
    mid = int(np.searchsorted(s.times, onset, side="left"))
    lo, hi = max(0, mid - SLICE_WINDOW), min(s.times.size, mid + SLICE_HORIZON)
    if lo == 0 and hi == s.times.size:
        return s
    return Series(s.layer, s.name, s.slice, s.kind, s.bad, s.times[lo:hi], s.values[lo:hi],
                  s.counts[lo:hi])


def _combine(members: list[Series]) -> Series:
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


def _around(s: Series, onset: float, sign: float) -> tuple[float, float, float] | None:
    mid = int(np.searchsorted(s.times, onset, side="left"))
    return _window_stats(s, max(0, mid - SLICE_WINDOW), mid, min(s.times.size,
                         mid + SLICE_HORIZON), sign)


def _slice_matches(change: ChangeRecord, slices: list[dict[str, Any]]) -> bool:
    for item in slices[:2]:
        if change.slice.get(item["dimension"]) == item["value"] or change.ref == item["value"]:
            return True
    return False


def _history(changes: list[ChangeRecord], tests: list[Test], onset: float | None
             ) -> list[bool]:
    """Which changes are history rather than candidates for the episode in force now.

    A change is history when a signal left its baseline after it and came back
    before the current onset (the detectors cut such recovered excursions out and
    say when they recovered), or when a later change of the same kind rolled it
    back (its ``previous`` is this change's ``ref``).
    """
    recovered = [t.recovered for t in tests if t.recovered is not None
                 and (onset is None or t.recovered <= onset - 60.0)]
    last_recovery = max(recovered) if recovered else None
    flags = []
    for c in changes:
        when = c.ts.timestamp()
        reverted = any(o.kind == c.kind and o.ts > c.ts and o.previous is not None
                       and o.previous == c.ref and o.ref != c.ref for o in changes)
        flags.append(reverted or (last_recovery is not None and when < last_recovery))
    return flags


def _runbooks(label: str, top_change: ChangeRecord | None,
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


_SUSPECT_WORDS = ((0.5, "likely cause"), (0.2, "possible cause"), (-1.0, "probably unrelated"))


def _explain(label: str, confidence: float, reasons: Sequence[str], slices: list[dict],
             change: dict | None, onset: str | None) -> str:
    if label == "none":
        return f"none ({confidence:.2f}): " + "; ".join(reasons)
    parts = [f"{label} failure, {confidence:.2f} confident"]
    if slices:
        parts.append("only " + ", ".join(f"{s['dimension']}={s['value']}" for s in slices[:3]))
    if onset:
        parts.append(f"began {onset}")
    if change is not None and change["minutes_before_onset"] >= -5:
        # how much the timing says, so a change that merely came first is not read as blame
        weight = next(words for floor, words in _SUSPECT_WORDS if change["score"] >= floor)
        parts.append(f"{change['minutes_before_onset']:.0f} min after {change['kind']} change "
                     f"{change['ref']} ({weight})")
    return "; ".join(parts) + ". Deciding: " + "; ".join(reasons) + "."


@dataclass(frozen=True)
class Evidence:
    """Everything the decision reads, gathered from one service's records.

    Split from :func:`diagnose` so that the label weights can be fitted on exactly
    the evidence the classifier sees (``benchmarks/fit_behaviour.py``).
    """

    kept: list[Any]
    data: Assembled
    tests: list[Test]
    findings: list[Finding]
    layers: list[LayerEvidence]
    onset_epoch: float | None
    changes: list[ChangeRecord]
    history: list[bool]
    change_evidence: list[ChangeEvidence]
    service: str | None


def gather(records: Iterable[Any], changes: Iterable[ChangeRecord] = (), *,
           at: datetime | None = None) -> Evidence:
    """Assemble, test and sum up the records of one service (see :func:`diagnose`)."""
    at = to_utc(at) if at is not None else None
    kept, change_list = [], list(changes)
    for record in records:
        # the bulk are data records: one type lookup, not two isinstance checks each
        if type(record) in _DATA_TYPES:
            if at is None or not record.ts > at:
                kept.append(record)
            continue
        if at is not None and record.ts > at:
            continue
        if isinstance(record, ChangeRecord):
            change_list.append(record)
        elif not isinstance(record, AlertRecord):
            kept.append(record)
    service = next((r.service for r in kept if r.service), None)
    if at is not None:
        change_list = [c for c in change_list if c.ts <= at]
    seen, unique_changes = set(), []
    for c in sorted(change_list, key=lambda c: c.ts):
        key = (c.ts, c.kind, c.ref)
        if key not in seen:
            seen.add(key)
            unique_changes.append(c)
    data = assemble(kept)
    tests, switches = run_tests(data)
    findings = _current_episode(_without_improvements(select_findings(tests), tests, data))
    layers = _layer_evidence(findings, data)
    onset_minutes = first_onset(layers) if layers else None
    onset_epoch = onset_minutes * 60.0 if onset_minutes is not None else None

    # Served values that switched act as changes when no change record says so.
    pseudo = []
    for ts, name, value in switches:
        if not any(abs(c.ts.timestamp() - ts) < 900 for c in unique_changes):
            kind = "model" if "model" in name else "retrieval" if "index" in name else "config"
            pseudo.append(ChangeRecord(type="change", ts=datetime.fromtimestamp(ts, UTC),
                                       service=service or "unknown", kind=kind, ref=value,
                                       description=f"{name} switched to {value}"))
    all_changes = unique_changes + pseudo
    history = _history(all_changes, tests, onset_epoch)
    change_evidence = [ChangeEvidence(c.kind, (onset_epoch - c.ts.timestamp()) / 60.0)
                       for c, past in zip(all_changes, history, strict=True)
                       if not past] if onset_epoch is not None else []
    return Evidence(kept, data, tests, findings, layers, onset_epoch, all_changes, history,
                    change_evidence, service)


def diagnose(records: Iterable[Any], changes: Iterable[ChangeRecord] = (), *,
             at: datetime | None = None, catalog_service: Any = None,
             priors: LearnedPriors | None = None) -> Diagnosis:
    """Diagnose one service from its exchange records (signals, distributions, states).

    ``records`` may also hold change records (they join ``changes``) and alerts (ignored
    here). With ``at`` only records up to it are used. ``catalog_service`` (a
    ``bot.config.catalog.Service``) limits suggested runbooks to those it lists; ``priors``
    are responder corrections.
    """
    ev = gather(records, changes, at=at)
    kept, data, findings, layers = ev.kept, ev.data, ev.findings, ev.layers
    onset_epoch, all_changes, history = ev.onset_epoch, ev.changes, ev.history
    change_evidence, service = ev.change_evidence, ev.service
    posterior = classify_behaviour(layers, change_evidence, priors)
    label = posterior.label

    slice_results = localise_slices(_slice_contrasts(data, findings)) if label != "none" else []
    slices = [{"dimension": s.dimension, "value": s.value, "effect": _round(s.effect, 4),
               "p_value": _round(s.p_value, 12), "share": _round(s.share, 3)}
              for s in slice_results[:5]]
    if label != "none":
        named = _state_slices(data, findings)
        slices = named + [s for s in slices if (s["dimension"], s["value"]) not in
                          {(n["dimension"], n["value"]) for n in named}][: 5 - len(named)]

    suspects: list[dict[str, Any]] = []
    top_change = None
    if onset_epoch is not None and all_changes and label != "none":
        minutes = [(onset_epoch - c.ts.timestamp()) / 60.0 for c in all_changes]
        roots = [item.layer for item in layers if item.layer != "quality"
                 and item.onset_minutes - onset_epoch / 60.0 <= ROOT_MINUTES]
        halfwidth, resolution = onset_precision(layers)
        ranked = rank_changes(minutes, [c.kind for c in all_changes], label,
                              [_slice_matches(c, slices) for c in all_changes], roots,
                              history, onset_halfwidth=halfwidth, resolution=resolution)
        for r in ranked[:5]:
            c = all_changes[r.index]
            suspects.append({"ts": format_ts(c.ts), "kind": c.kind, "ref": c.ref,
                             "previous": c.previous, "author": c.author,
                             "description": c.description, "score": _round(r.score, 4),
                             "minutes_before_onset": _round(r.minutes_before_onset, 2)})
        if ranked and ranked[0].score > 0.05:
            top_change = all_changes[ranked[0].index]
    runbooks = _runbooks(label, top_change, findings)
    if catalog_service is not None and getattr(catalog_service, "runbooks", None):
        runbooks = [r for r in runbooks if r in catalog_service.runbooks]

    onset = (format_ts(datetime.fromtimestamp(onset_epoch, UTC))
             if onset_epoch is not None and label != "none" else None)
    evidence = [{"layer": f.test.layer, "name": f.test.name, "slice": dict(f.test.slice),
                 "detector": f.test.detector, "statistic": _round(f.test.statistic),
                 "p_value": _round(f.q_value, 12), "effect": _round(f.test.effect),
                 # levels and relative change, so a reader sees "0.91 -> 0.74 (-19 %)"
                 **_levels(f.test),
                 "onset": format_ts(datetime.fromtimestamp(f.test.onset, UTC))}
                for f in sorted(findings, key=lambda f: (f.test.onset, -f.strength))[:40]]
    scores = {k: float(posterior.scores.get(k, 0.0)) for k in LABELS}
    explanation = _explain(label, posterior.confidence, posterior.reasons, slices,
                           suspects[0] if suspects and top_change is not None else None, onset)
    if not kept:
        # "none" here means nothing was measured, not that everything looked healthy.
        explanation = ("no signals to diagnose: no signal, distribution or state records "
                       "in the window, so nothing measured could move")
    layer_summary = {item.layer: {"strength": round(item.strength, 3),
                                  "onset": format_ts(datetime.fromtimestamp(
                                      item.onset_minutes * 60, UTC)),
                                  "findings": item.findings} for item in layers}
    return Diagnosis(behavior=label, confidence=float(posterior.confidence), scores=scores,
                     onset=onset, evidence=evidence, slices=slices, suspect_changes=suspects,
                     suggested_runbooks=runbooks, explanation=explanation, service=service,
                     pattern=posterior.pattern, layers=layer_summary)


def select_service(records: Sequence[Any], service: str | None = None) -> str | None:
    """The service to diagnose: the one asked for, the only one, the one alerts name,
    else the one with the strongest anomaly."""
    names = sorted({r.service for r in records})
    if service is not None or len(names) <= 1:
        return service if service is not None else (names[0] if names else None)
    alerts: dict[str, int] = {}
    for r in records:
        if isinstance(r, AlertRecord) and r.status == "firing":
            alerts[r.service] = alerts.get(r.service, 0) + 1
    if alerts:
        return max(alerts, key=lambda s: alerts[s])
    best, best_score = names[0], -1.0
    for name in names:
        d = diagnose([r for r in records if r.service == name])
        score = 0.0 if d.behavior == "none" else d.confidence + sum(
            v["strength"] for v in d.layers.values())
        if score > best_score:
            best, best_score = name, score
    return best
