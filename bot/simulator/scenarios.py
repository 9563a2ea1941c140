"""Labelled incident scenarios: every failure class, sliced and global, with red herrings.

Each scenario is a simulated service over a few hours: every layer's usual signals
with noise and a daily cycle, then (unless healthy) a cause that moves its layer
at the onset and symptoms that follow minutes later, some changes before it (the
culprit and unrelated ones), and a truth record (label, slice, culprit, onset).
Parameters are drawn widely (sizes, noise, sampling step, history length, which
layers are reported) so the classifier is not tuned to one shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.simulator.world import Effect, Signal, World, render, render_distribution
from classifiers.vocabulary import CHANGE_KINDS, LABELS

# change kinds that could not explain a label (used for red herrings near the onset)
_UNRELATED = {
    "infrastructure": ["threshold", "retrieval", "features", "prompt"],
    "data": ["threshold", "infra", "model", "prompt"],
    "control_plane": ["threshold", "infra", "model"],
    "model": ["threshold", "infra", "features", "retrieval"],
    "eval_policy": ["infra", "features", "retrieval", "model"],
    "cost": ["threshold", "features", "retrieval", "infra"],
    "none": list(CHANGE_KINDS),
}


@dataclass
class Scenario:
    name: str
    records: list[dict[str, Any]]
    truth: dict[str, Any]


def _signals(rng: np.random.Generator) -> dict[str, Signal]:
    u = rng.uniform
    return {s.name: s for s in [
        Signal("infra", "gpu_util", u(40, 75), u(0.02, 0.06), seasonal=u(0, 0.25), bad="up"),
        Signal("infra", "gpu_memory_used_gb", u(20, 60), u(0.01, 0.03), bad="up"),
        Signal("runtime", "p99_latency_ms", u(300, 1500), u(0.03, 0.1), seasonal=u(0, 0.2),
               ar=u(0, 0.5)),
        Signal("runtime", "error_rate", u(0.002, 0.02), u(0.0, 0.15), kind="ratio"),
        Signal("data", "feature_null_rate", u(0.005, 0.03), u(0.0, 0.1), kind="ratio",
               sliced=True),
        Signal("data", "input_length_mean", u(40, 200), u(0.02, 0.05), bad="both"),
        Signal("freshness", "feature_age_seconds", u(60, 600), u(0.05, 0.15)),
        Signal("freshness", "index_lag_seconds", u(30, 300), u(0.05, 0.15)),
        Signal("model", "mean_confidence", u(0.6, 0.9), u(0.01, 0.03), bad="both"),
        Signal("quality", "thumbs_down_rate", u(0.02, 0.08), u(0.0, 0.1), kind="ratio",
               sliced=True, seasonal=u(0, 0.15)),
        Signal("quality", "groundedness", u(0.8, 0.95), u(0.01, 0.03), sliced=True),
        Signal("quality", "retrieval_relevance", u(0.6, 0.85), u(0.01, 0.03)),
        Signal("eval", "judge_score", u(0.7, 0.9), u(0.01, 0.04)),
        Signal("eval", "refusal_rate", u(0.01, 0.04), u(0.0, 0.1), kind="ratio", sliced=True),
        Signal("eval", "block_rate", u(0.005, 0.02), u(0.0, 0.1), kind="ratio"),
        Signal("cost", "tokens_per_request", u(400, 1500), u(0.02, 0.06), seasonal=u(0, 0.1),
               sliced=True),
        Signal("cost", "cost_per_1k_requests", u(0.5, 5), u(0.02, 0.06)),
        Signal("control", "fallback_route_share", u(0.01, 0.05), u(0.0, 0.1), kind="ratio",
               bad="up"),
    ]}


def _world(rng: np.random.Generator, service: str, minutes: int) -> World:
    start = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(
        days=int(rng.integers(0, 20)), minutes=int(rng.integers(0, 1440)))
    tenants = ["acme", "globex", "initech", "umbrella"][: int(rng.integers(3, 5))]
    segments = ["short_prompt", "long_prompt", "code"][: int(rng.integers(2, 4))]
    dims = {"tenant": tenants, "segment": segments}
    shares = {d: rng.dirichlet(np.full(len(v), 4.0)) for d, v in dims.items()}
    step = float(rng.choice([1.0, 1.0, 1.0, 2.0, 5.0]))
    return World(service=service, start=start, minutes=minutes, step=step, rng=rng,
                 dims=dims, shares=shares, traffic=float(rng.uniform(100, 2000)),
                 phase=float(rng.uniform(0, 6.3)),
                 jitter=float(rng.choice([0.0, 0.0, 0.2])))


def _change(world: World, minute: float, kind: str, ref: str, **extra: Any) -> dict[str, Any]:
    return {"type": "change", "ts": world.ts(minute), "service": world.service, "kind": kind,
            "ref": ref, "author": "sim", **extra}


def _cause(label: str, sig: dict[str, Signal], world: World, onset: float,
           rng: np.random.Generator, where: tuple[str, str] | None
           ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any]]:
    """Effects of one failure; returns (extra records, culprit change or None, notes)."""
    u = rng.uniform

    def lag() -> float:  # symptoms follow the cause by minutes
        return onset + u(3, 15)
    extra: list[dict[str, Any]] = []
    culprit = None
    variant = ""
    quality_hit = rng.random() < 0.85

    def hit(name: str, start: float, size: float, mode: str = "relative", ramp: float = 0.0,
            sliced: bool = True) -> None:
        sig[name].effects.append(Effect(start, size, mode, ramp, where if sliced else None))

    if label == "infrastructure":
        variant = str(rng.choice(["saturation", "errors", "memory"]))
        hit("p99_latency_ms", onset, u(0.6, 3.0), ramp=u(0, 3))
        if variant != "saturation":
            hit("error_rate", onset, u(2, 10))
        if variant == "memory":
            hit("gpu_memory_used_gb", onset, u(0.2, 0.5))
        else:
            hit("gpu_util", onset, u(0.25, 0.6))
        if rng.random() < 0.6:
            culprit = _change(world, onset - u(1, 20), str(rng.choice(["infra", "config"])),
                              f"infra-{rng.integers(100, 999)}")
    elif label == "data":
        variant = str(rng.choice(["nulls", "drift", "schema"]))
        if variant in ("nulls", "schema"):
            sig["feature_null_rate"].effects.append(
                Effect(onset, u(3, 15), slice=where))
        if variant in ("drift", "schema"):
            hit("input_length_mean", onset, float(rng.choice([-1, 1])) * u(0.3, 0.8),
                sliced=False)
            extra += render_distribution(world, "data", "query_length", world.step * 5, 400,
                                         onset, u(0.4, 1.0))
        if rng.random() < 0.7:
            hit("mean_confidence", lag(), -u(0.08, 0.2), sliced=False)
        if rng.random() < 0.6:
            culprit = _change(world, onset - u(1, 25), str(rng.choice(["features", "code"])),
                              f"fp-{rng.integers(100, 999)}")
    elif label == "control_plane":
        variant = str(rng.choice(["feature_stall", "index_lag", "version_mismatch",
                                  "misrouting"]))
        if variant == "feature_stall":
            hit("feature_age_seconds", onset, 60.0, mode="ramp", sliced=False)
            if rng.random() < 0.5:
                hit("mean_confidence", lag(), -u(0.08, 0.2), sliced=False)
            culprit = _change(world, onset - u(1, 20), "features",
                              f"fp-{rng.integers(100, 999)}")
        elif variant == "index_lag":
            hit("index_lag_seconds", onset, 60.0, mode="ramp", sliced=False)
            hit("retrieval_relevance", lag(), -u(0.15, 0.35), ramp=u(0, 10), sliced=False)
            culprit = _change(world, onset - u(1, 20), "retrieval",
                              f"idx-{rng.integers(100, 999)}")
        elif variant == "version_mismatch":
            culprit = _change(world, onset - u(1, 10), "model", "v8", previous="v7")
            for minute in np.arange(0.0, world.minutes, world.step):
                expected = "v8" if minute >= onset else "v7"
                extra.append({"type": "state", "ts": world.ts(minute), "service": world.service,
                              "layer": "control", "name": "served_model_version",
                              "value": "v7", "expected": expected})
        else:
            hit("fallback_route_share", onset, u(4, 12), sliced=False)
            culprit = _change(world, onset - u(1, 20), str(rng.choice(["prompt", "config"])),
                              f"route-{rng.integers(100, 999)}")
    elif label == "model":
        variant = str(rng.choice(["regression", "canary"]))
        if variant == "canary":
            where = ("model_version", "v8")
        culprit = _change(world, onset - u(1, 15), "model", "v8", previous="v7",
                          **({"slice": {"model_version": "v8"}} if variant == "canary" else {}))
        hit("mean_confidence", onset, -u(0.1, 0.25), sliced=False)
        extra += render_distribution(
            world, "model", "top_label", world.step * 5, 1000, onset, 0.0,
            categories={"refund": 0.2, "billing": 0.3, "other": 0.5},
            new_categories={"refund": 0.4, "billing": 0.15, "other": 0.45})
        quality_hit = True
    elif label == "eval_policy":
        variant = str(rng.choice(["threshold", "judge_collapse", "guardrail"]))
        if variant == "threshold":
            hit("refusal_rate", onset, u(2, 8))
            culprit = _change(world, onset - u(1, 20), "threshold",
                              f"flag-{rng.integers(100, 999)}")
        elif variant == "guardrail":
            hit("block_rate", onset, u(3, 10), sliced=False)
            culprit = _change(world, onset - u(1, 20), str(rng.choice(["config", "threshold"])),
                              f"guard-{rng.integers(100, 999)}")
        else:
            hit("judge_score", onset, -u(0.2, 0.5), sliced=False)
            quality_hit = False
            if rng.random() < 0.7:
                culprit = _change(world, onset - u(1, 20), str(rng.choice(["config", "prompt"])),
                                  f"judge-{rng.integers(100, 999)}")
    elif label == "cost":
        variant = str(rng.choice(["prompt_tokens", "expensive_route"]))
        if variant == "prompt_tokens":
            hit("tokens_per_request", onset, u(0.5, 2.0))
            hit("cost_per_1k_requests", onset, u(0.4, 1.5), sliced=False)
            culprit = _change(world, onset - u(1, 20), "prompt", f"prompt-{rng.integers(10, 99)}")
        else:
            hit("cost_per_1k_requests", onset, u(0.5, 2.0), sliced=False)
            if rng.random() < 0.5:
                hit("gpu_util", onset, u(0.1, 0.3), sliced=False)
            culprit = _change(world, onset - u(1, 20), str(rng.choice(["config", "model"])),
                              f"route-{rng.integers(100, 999)}")
        quality_hit = False
    if label != "none" and quality_hit and label != "cost":
        start = lag() if label != "model" else onset + u(0, 4)
        sig["thumbs_down_rate"].effects.append(Effect(start, u(0.5, 2.0), ramp=u(0, 8),
                                                      slice=where))
        if rng.random() < 0.7:
            sig["groundedness"].effects.append(Effect(start, -u(0.08, 0.25), ramp=u(0, 8),
                                                      slice=where))
    return extra, culprit, {"variant": variant, "slice": where}


def _history(label: str, sig: dict[str, Signal], world: World, onset: float,
             rng: np.random.Generator) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """An earlier episode of another cause that was rolled back and recovered.

    Real services have history: a bad model deployed and rolled back an hour ago is
    still in the diagnosis window when the next, unrelated failure starts. The
    episode moves its layers from ``start`` to ``end`` only (signals; its
    distributions and states are left out), its change is recorded, and so is the
    rollback at ``end``. Returns (change records, truth notes).
    """
    other = str(rng.choice([x for x in LABELS if x not in (label, "none")]))
    start = float(rng.uniform(35, 60))
    end = min(start + float(rng.uniform(30, 60)), onset - 45.0)
    before = {name: len(s.effects) for name, s in sig.items()}
    _, culprit, notes = _cause(other, sig, world, start, rng, None)
    for name, s in sig.items():
        for e in s.effects[before[name]:]:
            e.end, e.slice = end, None  # a global episode: the slices are this one's
    changes: list[dict[str, Any]] = []
    ref = None
    if culprit is not None:
        ref = f"h-{culprit['ref']}"
        changes.append({**culprit, "ref": ref, "description": "earlier change, rolled back"})
        changes.append(_change(world, end, culprit["kind"],
                               str(culprit.get("previous") or f"pre-{culprit['ref']}"),
                               previous=ref, description=f"rollback of {ref}"))
    return changes, {"label": other, "variant": notes["variant"], "start": world.ts(start),
                     "end": world.ts(end), "culprit": ref}


def generate(label: str, seed: int, *, service: str = "rag-assistant",
             sliced: bool | None = None, history: bool = False) -> Scenario:
    """One scenario of ``label`` (any of LABELS), reproducible from ``seed``.

    With ``history`` the window starts 2.5 to 4 hours earlier with an episode of
    another cause that was rolled back and recovered before this one began (a red
    herring: the truth is still this scenario's label, slice and culprit). Without
    it the scenario is exactly the one the same seed always made.
    """
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    rng = np.random.default_rng(seed)
    # history draws come from their own stream, so the rest of the scenario is unchanged
    history_rng = np.random.default_rng([seed, 1])
    pad = int(history_rng.integers(150, 240)) if history else 0
    minutes = int(rng.integers(120, 420))
    world = _world(rng, service, minutes + pad)
    sig = _signals(rng)
    onset = pad + float(rng.uniform(0.55, 0.8) * minutes)
    minutes += pad
    where = None
    slice_ok = label in ("infrastructure", "data", "model", "eval_policy", "cost")
    if label != "none" and slice_ok and (sliced if sliced is not None else rng.random() < 0.45):
        dim = str(rng.choice(list(world.dims)))
        where = (dim, str(rng.choice(world.dims[dim])))
        # a slice failure hits hard inside the slice
    extra, culprit, notes = ([], None, {"variant": "healthy", "slice": None})
    if label != "none":
        extra, culprit, notes = _cause(label, sig, world, onset, rng, where)
        where = notes["slice"]
        if where is not None and not any(e.slice == where for s in sig.values()
                                         for e in s.effects):
            where = None  # this variant hits all traffic whatever slice was drawn
    if where is not None and where[0] == "model_version":
        world.dims["model_version"] = ["v7", "v8"]
        world.shares["model_version"] = np.array([0.8, 0.8 * 0 + 0.2])
        for s in sig.values():
            if s.sliced or any(e.slice == where for e in s.effects):
                s.sliced = True
    history_changes, history_notes = (_history(label, sig, world, onset, history_rng)
                                      if history else ([], None))
    # Which layers this service reports: always the cause's; others at random.
    dropped = {name for name, s in sig.items()
               if not s.effects and rng.random() < 0.25 and s.layer != "quality"}
    records: list[dict[str, Any]] = []
    for name, s in sig.items():
        if name not in dropped:
            records += render(world, s)
    records += extra
    changes = [culprit] if culprit else []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(_UNRELATED[label]))
        when = float(rng.choice([onset - rng.uniform(0.5, 6), rng.uniform(0, onset * 0.5),
                                 onset + rng.uniform(5, 30)]))
        changes.append(_change(world, min(max(when, 0), minutes - 1), kind,
                               f"{kind}-{rng.integers(1000, 9999)}",
                               description="unrelated change"))
    records += changes + history_changes
    records.sort(key=lambda r: r["ts"])
    truth = {"label": label, "variant": notes["variant"],
             "slice": {"dimension": where[0], "value": where[1]} if where else None,
             "culprit": culprit["ref"] if culprit else None,
             "culprit_kind": culprit["kind"] if culprit else None,
             "onset": world.ts(onset) if label != "none" else None,
             "service": service, "seed": seed, "alert_at": world.ts(minutes - 1),
             "history": history_notes}
    return Scenario(name=f"{label}-{seed}", records=records, truth=truth)


def healthy_day(seed: int, *, service: str = "rag-assistant", minutes: int = 1440) -> Scenario:
    """A day of a healthy service at one-minute resolution (for false-alarm counts)."""
    rng = np.random.default_rng(seed)
    world = _world(rng, service, minutes)
    world.step, world.jitter = 1.0, 0.0
    sig = _signals(rng)
    records: list[dict[str, Any]] = []
    for s in sig.values():
        records += render(world, s)
    records.sort(key=lambda r: r["ts"])
    return Scenario(name=f"healthy-{seed}", records=records,
                    truth={"label": "none", "service": service, "seed": seed})


def write_scenarios(out: Path, *, per_class: int = 3, seed: int = 0) -> list[Path]:
    """Write ``<label>-<seed>.jsonl`` and ``.truth.json`` for each label; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index, label in enumerate(LABELS):
        for k in range(per_class):
            scenario = generate(label, seed * 100_000 + index * 1000 + k)
            path = out / f"{scenario.name}.jsonl"
            path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n"
                                    for r in scenario.records))
            (out / f"{scenario.name}.truth.json").write_text(json.dumps(scenario.truth,
                                                                        indent=2) + "\n")
            written.append(path)
    return written
