"""A simple diagnosis baseline, to put the classifier's figures beside.

What an engineer would write in an afternoon, as issue 13 describes it: per series
a single change point (the split that maximises a standardised mean difference),
then a robust z-test (median and MAD of the points before) for gauges, a pooled
two-proportion z-test for ratios, a KS test for distributions, all with a
Bonferroni correction; the label is the cause layer of the earliest significant
series (ties by a fixed layer order); a slice is named when its own test is
significant and its effect is at least twice the rest of its dimension's; changes
are ranked by how well their kind fits the label times how close they came before
the onset. No fitted weights, no history model: a yardstick, not a product.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from scipy import stats

from bot.core.exchange_records import ChangeRecord, DistributionRecord, SignalRecord, StateRecord

ALPHA = 0.01
MIN_SIDE = 5
SEARCH_SECONDS = 4 * 3600
LABEL_OF_LAYER = {"infra": "infrastructure", "runtime": "infrastructure", "data": "data",
                  "freshness": "control_plane", "control": "control_plane", "model": "model",
                  "quality": "model", "eval": "eval_policy", "cost": "cost"}
# when two layers move at about the same time, the cause is the first in this order
LAYER_ORDER = ("data", "freshness", "control", "eval", "cost", "infra", "runtime", "model",
               "quality")
KIND_FIT = {"infrastructure": {"infra": 1.0, "config": 0.6, "code": 0.4},
            "data": {"features": 1.0, "code": 0.7, "config": 0.3},
            "control_plane": {"features": 0.8, "retrieval": 0.8, "config": 0.8, "prompt": 0.5,
                              "model": 0.4},
            "model": {"model": 1.0, "code": 0.3},
            "eval_policy": {"threshold": 1.0, "config": 0.7, "prompt": 0.5},
            "cost": {"prompt": 0.9, "config": 0.8, "model": 0.6, "retrieval": 0.5}}
SIMULTANEOUS = 300.0  # seconds: onsets closer than this count as one moment


@dataclass
class _Series:
    layer: str
    name: str
    slice: dict[str, str]
    bad: str
    kind: str
    t: list[float] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    n: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    layer: str
    name: str
    slice: tuple[tuple[str, str], ...]
    onset: float
    p: float
    effect: float      # relative change in the bad direction


@dataclass(frozen=True)
class BaselineDiagnosis:
    behavior: str
    slices: list[dict[str, str]]
    suspect: str | None
    onset: float | None


def _split(t: np.ndarray, v: np.ndarray, lo_time: float) -> int | None:
    """Index of the split maximising the standardised mean difference (after lo_time)."""
    n = v.size
    if n < 2 * MIN_SIDE:
        return None
    csum = np.cumsum(v)
    csq = np.cumsum(v * v)
    k = np.arange(MIN_SIDE, n - MIN_SIDE + 1)
    k = k[t[k] >= lo_time]
    if k.size == 0:
        return None
    m1 = csum[k - 1] / k
    m2 = (csum[-1] - csum[k - 1]) / (n - k)
    var = (csq[-1] / n - (csum[-1] / n) ** 2) + 1e-12
    score = np.abs(m2 - m1) * np.sqrt(k * (n - k) / n) / np.sqrt(var)
    return int(k[int(np.argmax(score))])


def _test(s: _Series, lo_time: float) -> tuple[float, float, float] | None:
    """(onset time, p-value, effect in the bad direction) of one series, or None."""
    t, v, n = np.asarray(s.t), np.asarray(s.v), np.asarray(s.n)
    k = _split(t, v, lo_time)
    if k is None:
        return None
    before, after = v[:k], v[k:]
    if s.kind == "ratio" and np.all(n > 0):
        n1, n2 = n[:k].sum(), n[k:].sum()
        x1, x2 = (before * n[:k]).sum(), (after * n[k:]).sum()
        p_pool = (x1 + x2) / (n1 + n2)
        se = math.sqrt(max(p_pool * (1 - p_pool) * (1 / n1 + 1 / n2), 1e-18))
        delta = x2 / n2 - x1 / n1
        z = delta / se
        base = max(x1 / n1, 1e-6)
    else:
        med = float(np.median(before))
        mad = 1.4826 * float(np.median(np.abs(before - med))) + 1e-9 * max(abs(med), 1.0)
        delta = float(np.median(after)) - med
        z = delta / mad
        base = max(abs(med), 1e-9)
    if s.bad == "down":
        z, delta = -z, -delta
    elif s.bad == "both":
        z, delta = abs(z), abs(delta)
    p = float(stats.norm.sf(z))
    return float(t[k]), p, delta / base


def _ks(t: list[float], values: list[list[float]], lo_time: float
        ) -> tuple[float, float, float] | None:
    if len(values) < 2 * MIN_SIDE // 2:
        return None
    means = np.array([np.mean(x) for x in values])
    k = _split(np.asarray(t), means, lo_time) if len(values) >= 2 * MIN_SIDE else len(values) // 2
    if k is None:
        return None
    a = np.concatenate(values[:k])
    b = np.concatenate(values[k:])
    res = stats.ks_2samp(a, b)
    return float(t[k]), float(res.pvalue), float(res.statistic)


def diagnose_baseline(records: Iterable[Any]) -> BaselineDiagnosis:
    """Label, slices and suspect change of one service's records (see the module doc)."""
    series: dict[tuple, _Series] = {}
    dists: dict[tuple, tuple[list[float], list[list[float]], str]] = {}
    states: list[StateRecord] = []
    changes: list[ChangeRecord] = []
    t0: datetime | None = None
    rows = sorted(records, key=lambda r: r.ts)
    if not rows:
        return BaselineDiagnosis("none", [], None, None)
    t0 = rows[0].ts
    end = (rows[-1].ts - t0).total_seconds()
    for r in rows:
        sec = (r.ts - t0).total_seconds()
        if isinstance(r, SignalRecord):
            key = (r.layer, r.name, tuple(sorted(r.slice.items())))
            s = series.get(key)
            if s is None:
                s = series[key] = _Series(r.layer, r.name, dict(r.slice), r.bad or "both",
                                          r.kind or "gauge")
            s.t.append(sec)
            s.v.append(r.value)
            s.n.append(r.count or 0.0)
        elif isinstance(r, DistributionRecord) and r.values is not None and not r.slice:
            d = dists.setdefault((r.layer, r.name), ([], [], r.layer))
            d[0].append(sec)
            d[1].append(r.values)
        elif isinstance(r, StateRecord):
            states.append(r)
        elif isinstance(r, ChangeRecord):
            changes.append(r)
    lo_time = end - SEARCH_SECONDS
    results: list[Finding] = []
    for key, s in series.items():
        res = _test(s, lo_time)
        if res is not None:
            results.append(Finding(s.layer, s.name, key[2], *res))
    for (layer, name), (t, values, _) in dists.items():
        res = _ks(t, values, lo_time)
        if res is not None:
            results.append(Finding(layer, name, (), *res))
    mismatch = [r for r in states if r.expected is not None and r.value != r.expected]
    m = max(len(results), 1)
    significant = [f for f in results if f.p < ALPHA / m and f.effect > 0.05]
    global_hits = [f for f in significant if not f.slice]
    if mismatch:
        onset = (mismatch[0].ts - t0).total_seconds()
        global_hits.append(Finding("control", mismatch[0].name, (), onset, 0.0, 1.0))
    if not global_hits:
        return BaselineDiagnosis("none", [], None, None)
    first = min(f.onset for f in global_hits)
    early = [f for f in global_hits if f.onset <= first + SIMULTANEOUS]
    cause = min(early, key=lambda f: LAYER_ORDER.index(f.layer))
    label = LABEL_OF_LAYER[cause.layer]
    onset = cause.onset
    slices = _slices(significant, results, cause, mismatch)
    return BaselineDiagnosis(label, slices, _suspect(changes, t0, onset, label), onset)


def _slices(significant: list[Finding], results: list[Finding], cause: Finding,
            mismatch: list[StateRecord]) -> list[dict[str, str]]:
    if mismatch and cause.layer == "control" and cause.name == mismatch[0].name:
        values = {tuple(sorted(r.slice.items())) for r in mismatch if r.slice}
        if len(values) == 1:
            (dim, value), = next(iter(values))
            return [{"dimension": dim, "value": value}]
    by_dim: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in results:
        if f.slice and len(f.slice) == 1:
            by_dim[(f.name, f.slice[0][0])].append(f)
    best: list[tuple[float, str, str]] = []
    for f in significant:
        if not f.slice or len(f.slice) != 1:
            continue
        dim, value = f.slice[0]
        rest = [g.effect for g in by_dim[(f.name, dim)] if g is not f]
        if rest and f.effect > 2 * max(max(rest), 0.0) + 0.05:
            best.append((f.p, dim, value))
    best.sort()
    return [{"dimension": d, "value": v} for _, d, v in best[:1]]


def _suspect(changes: list[ChangeRecord], t0: datetime, onset: float, label: str
             ) -> str | None:
    fit = KIND_FIT.get(label, {})
    scored = []
    for c in changes:
        at = (c.ts - t0).total_seconds()
        lead = onset - at
        if lead < -600:
            continue
        closeness = math.exp(-abs(lead - 300) / 1800)
        scored.append((fit.get(c.kind, 0.1) * closeness, c.ref))
    if not scored:
        return None
    scored.sort(reverse=True)
    return scored[0][1]
