"""One labelled scenario from the independent generator, labelled like the simulator's.

Draws a failure of the asked label from the catalogue, a service kind it happens
on, 4 to 30 hours of history, a grid fine enough for the fastest scrape, slice
dimensions (the failure's own when it lives on one), then edits the world, runs
the pool, checks that the failure's primary latent really moved (else draws
again: a label must describe something that happened), writes the culprit change
(about a third of failures have none), red-herring changes (one of a fitting kind
15 to 45 minutes before the onset, after which nothing moved), and scrapes every
source that the service has. The truth has the same keys as
:func:`bot.simulator.scenarios.generate`'s, plus ``failure`` and ``service_kind``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bot.simulator.independent.exporters import (
    CATALOG,
    Metric,
    Renderer,
    Source,
    derive,
    draw_sources,
)
from bot.simulator.independent.failures import CATALOGUE, MIN, Failure
from bot.simulator.independent.world import World, build_world, run_hosted, run_pool
from bot.simulator.scenarios import CHANGE_KINDS, LABELS, Scenario

_FITTING = {"infrastructure": ["infra", "config"], "data": ["features", "code"],
            "control_plane": ["features", "retrieval", "config"], "model": ["model"],
            "eval_policy": ["threshold", "config"], "cost": ["prompt", "config"],
            "none": ["code", "model"]}
_RECORDED_NONE = {"healthy_canary": "model", "benign_deploy": "code", "improvement": "code"}


def failures_for(label: str) -> list[Failure]:
    return [f for f in CATALOGUE if f.label == label]


def _pick(rng: np.random.Generator, options: tuple[tuple[Any, float], ...]) -> Any:
    weights = np.array([w for _, w in options], dtype=float)
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]


def _moved(w: World, f: Failure, on: float, where: tuple[str, str] | None, end: float) -> bool:
    """Did the primary latent change by a visible amount after the onset?"""
    if not f.primary:
        return True
    t = w.t
    before = (t >= on - 60 * MIN) & (t < on)
    after = (t >= max(on, end - 30 * MIN)) & (t < end)
    if not before.any() or not after.any():
        return False
    if f.primary in w.glob:
        series = w.glob[f.primary]
        a, b = series[before].mean(), series[after].mean()
    else:
        mask = w.where(*where) if where else np.ones(len(w.cells), bool)
        traffic = w.traffic[mask]
        values = w.cell[f.primary][mask]
        a = (values[:, before] * traffic[:, before]).sum() / max(traffic[:, before].sum(), 1e-9)
        b = (values[:, after] * traffic[:, after]).sum() / max(traffic[:, after].sum(), 1e-9)
    return abs(b - a) > 0.12 * max(abs(a), 1e-3) or abs(b - a) > 0.03


def _states(w: World, plan: dict[str, Any] | None,
            deploy: float | None) -> list[dict[str, Any]]:
    """served_model_version per region, from the deployer (every minute).

    A deploy settles 90 s after it starts: from then on the new version is expected,
    and served except in the region the plan says it missed.
    """
    regions: list[str | None] = list(w.dims.get("region", [])) or [None]
    out = []
    for s in np.arange(30.0, w.steps * w.dt, 60.0):
        for region in regions:
            settled = deploy is not None and s >= deploy + 90
            missed = plan is not None and plan["missed"] == ("region", region)
            served = "m-2024-11" if settled and not missed else "m-2024-10"
            expected = "m-2024-11" if settled else "m-2024-10"
            record: dict[str, Any] = {
                "type": "state", "ts": w.ts(s), "service": w.service, "layer": "control",
                "name": "served_model_version", "value": served, "expected": expected}
            if region:
                record["slice"] = {"region": region}
            out.append(record)
    return out


def generate(label: str, seed: int, *, service: str | None = None) -> Scenario:
    """One scenario of ``label``, reproducible from ``seed``."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    rng = np.random.default_rng([seed, 13, LABELS.index(label)])
    options = failures_for(label)
    f = options[int(rng.integers(len(options)))]
    kind = str(rng.choice(f.kinds))
    name = service or {"rag_vllm": "rag-assistant", "hosted_chat": "support-agent",
                       "ranking": "feed-ranker", "fraud": "fraud-scorer"}[kind]
    for _attempt in range(6):
        scenario = _attempt_one(rng, f, kind, name, label, seed)
        if scenario is not None:
            return scenario
    raise RuntimeError(f"{f.name} on {kind} did not move {f.primary} for seed {seed}")


@dataclass(frozen=True)
class _Frame:
    """The drawn world of one attempt: its history, sources, span and onset."""

    w: World
    hours: float
    sources: dict[str, Source]
    span: float
    on: float


def _draw_frame(rng: np.random.Generator, f: Failure, kind: str, service: str) -> _Frame:
    hours = float(rng.choice([rng.uniform(4, 8), rng.uniform(6, 14), rng.uniform(12, 30)]))
    if f.name == "nightly_job":
        hours = float(rng.uniform(25, 30))
    sources = draw_sources(rng, {m.source for m in CATALOG[kind]}, hours * 3600)
    dt = float(min(min(s.interval for s in sources.values()), 60.0))
    dt = max(dt, 15.0 if hours <= 12 else 30.0)
    start = datetime(2026, 10, 5, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 40)),
                                                          minutes=int(rng.integers(0, 1440)))
    w = build_world(rng, kind, service, start, hours, dt, force_dim=f.needs_dim)
    span = w.steps * dt
    post = rng.uniform(60, 150) if f.ramp else rng.uniform(25, 120)
    if f.name == "recovered_transient":
        post = rng.uniform(40, 120)
    return _Frame(w, hours, sources, span, span - post * MIN)


def _draw_where(rng: np.random.Generator, f: Failure, w: World) -> tuple[str, str] | None:
    """The slice the failure lives on: its own dimension, or (sometimes) any slice with
    at least 5% of the traffic."""
    if f.needs_dim and f.needs_dim in w.dims:
        values = w.dims[f.needs_dim]
        value = values[-1] if f.needs_dim == "model_version" else str(rng.choice(values[1:]
                                                                                  or values))
        return f.needs_dim, value
    if f.sliceable and w.dims and rng.random() < 0.45:
        dim = str(rng.choice(list(w.dims)))
        value = str(rng.choice(w.dims[dim]))
        if w.share[w.where(dim, value)][:, 0].sum() >= 0.05:
            return dim, value
    return None


def _draw_changes(rng: np.random.Generator, frame: _Frame, f: Failure, label: str,
                  service: str, where: tuple[str, str] | None
                  ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The culprit (about a third of failures have none) and the red herrings."""
    w, on, span = frame.w, frame.on, frame.span
    culprit_kind = _pick(rng, f.culprits) if label != "none" else None
    changes: list[dict[str, Any]] = []
    culprit = None

    def change(at: float, kind_: str, ref: str, **extra: Any) -> dict[str, Any]:
        record = {"type": "change", "ts": w.ts(max(at, 0.0)), "service": service,
                  "kind": kind_, "ref": ref, "author": str(rng.choice(["ci", "ana", "ops"])),
                  **extra}
        changes.append(record)
        return record

    if culprit_kind is not None:
        extra = {}
        if where and where[0] == "model_version":
            extra = {"slice": {"model_version": where[1]}, "previous": w.dims[where[0]][0]}
        culprit = change(on - rng.uniform(1, 20) * MIN, culprit_kind,
                         f"{culprit_kind}-{rng.integers(10000, 99999)}", **extra)
    if f.name in _RECORDED_NONE:
        k = _RECORDED_NONE[f.name]
        extra = ({"slice": {"model_version": where[1]}} if where and k == "model" else {})
        change(on - rng.uniform(0.5, 5) * MIN, k, f"{k}-{rng.integers(10000, 99999)}", **extra)
    if rng.random() < 0.5:  # a fitting change long enough before the onset to be innocent
        k = str(rng.choice(_FITTING[label]))
        change(on - rng.uniform(15, 45) * MIN, k, f"{k}-{rng.integers(10000, 99999)}",
               description="nothing moved after it")
    for _ in range(int(rng.integers(0, 3))):
        k = str(rng.choice(CHANGE_KINDS))
        at = float(rng.choice([rng.uniform(0, on * 0.8), on + rng.uniform(5, 20) * MIN]))
        change(min(at, span - MIN), k, f"{k}-{rng.integers(10000, 99999)}")
    return changes, culprit


def _scrape(rng: np.random.Generator, frame: _Frame, f: Failure, kind: str,
            deploy: float | None) -> tuple[list[dict[str, Any]], set[str]]:
    """Every record the service's sources export (some sources dropped), and which
    sources were dropped."""
    w = frame.w
    plan = w.version_plan
    if plan is not None:
        deploy = frame.on - 1.5 * MIN
    metrics = CATALOG[kind]
    renderer = Renderer(w, frame.sources, explicit_bad=float(rng.choice([0.3, 0.7, 1.0])))
    primary_layer = _primary_layer(f, metrics)
    dropped = {s for s in frame.sources if s not in primary_layer and rng.random() < 0.2}
    records: list[dict[str, Any]] = []
    for m in metrics:
        if m.source not in dropped:
            records += renderer.render(m)
    # the deployer reports what each region serves whenever a deploy is planned, on a
    # CPU service as on a GPU pool (a region that missed it shows nowhere else)
    if plan is not None or (w.has_pool and rng.random() < 0.5):
        records += _states(w, plan, deploy)
    return records, dropped


def _attempt_one(rng: np.random.Generator, f: Failure, kind: str, service: str, label: str,
                 seed: int) -> Scenario | None:
    """One draw of the scenario; ``None`` when the failure did not visibly move its
    primary latent (or a model-version failure found no version to live on)."""
    frame = _draw_frame(rng, f, kind, service)
    w, on, span = frame.w, frame.on, frame.span
    where = _draw_where(rng, f, w)
    if f.needs_dim == "model_version" and where is None:
        return None
    notes = f.apply(w, on, rng, where)
    (run_pool if w.has_pool else run_hosted)(w)
    derive(w)
    if label != "none" and not _moved(w, f, on, where, span):
        return None
    changes, culprit = _draw_changes(rng, frame, f, label, service, where)
    deploy = on - 20 * MIN if culprit and culprit["kind"] == "model" and on - 20 * MIN \
        else None
    records, dropped = _scrape(rng, frame, f, kind, deploy)
    records += changes
    records.sort(key=lambda r: r["ts"])
    truth = {"label": label, "variant": notes["variant"], "failure": f.name,
             "service_kind": kind,
             "slice": {"dimension": where[0], "value": where[1]} if where and label != "none"
             else None,
             "culprit": culprit["ref"] if culprit else None,
             "culprit_kind": culprit["kind"] if culprit else None,
             "onset": w.ts(on) if label != "none" else None,
             "service": service, "seed": seed, "alert_at": w.ts(span - 1),
             "history": None, "hours": round(frame.hours, 1),
             "intervals": {s.name: s.interval for s in frame.sources.values()},
             "dropped_sources": sorted(dropped)}
    return Scenario(name=f"independent-{label}-{seed}", records=records, truth=truth)


def _primary_layer(f: Failure, metrics: list[Metric]) -> set[str]:
    """Sources that carry the failure's primary latent: never dropped."""
    keep = {m.source for m in metrics if m.latent == f.primary
            or (f.primary == "lat_eff" and m.latent in ("queue", "lat_eff"))
            or (f.primary == "amount" and m.latent == "x_mean")}
    if f.primary in ("thumbs", "conf", "tok_out"):
        keep |= {m.source for m in metrics if m.layer in ("model", "quality")}
    if f.primary == "cost":
        keep |= {m.source for m in metrics if m.layer == "cost"}
    return keep
