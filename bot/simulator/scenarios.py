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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.simulator.world import Effect, Signal, World, render, render_distribution
from classifiers.vocabulary import CHANGE_KINDS, LABELS

# change kinds that could not explain a label (used for red herrings near the onset)
_UNRELATED: dict[str, list[str]] = {
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


@dataclass
class _Failure:
    """One failure being drawn: the scenario it hits and what it has added so far.

    Each cause below draws its variant and effects from ``rng`` in a fixed order (the
    seeded scenarios depend on it), appends effects to the signals, extra records to
    ``extra``, and may name the change that caused it.
    """

    sig: dict[str, Signal]
    world: World
    onset: float
    rng: np.random.Generator
    where: tuple[str, str] | None
    quality_hit: bool
    extra: list[dict[str, Any]] = field(default_factory=list)
    culprit: dict[str, Any] | None = None
    variant: str = ""

    def u(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def lag(self) -> float:
        """When a symptom starts: minutes after the cause."""
        return self.onset + self.u(3, 15)

    def hit(self, name: str, start: float, size: float, mode: str = "relative",
            ramp: float = 0.0, sliced: bool = True) -> None:
        self.sig[name].effects.append(
            Effect(start, size, mode, ramp, self.where if sliced else None))

    def before(self, low: float, high: float) -> float:
        """A time ``low`` to ``high`` minutes ahead of the onset (where culprits land)."""
        return self.onset - self.u(low, high)

    def change(self, minute: float, kind: str, ref: str, **extra: Any) -> dict[str, Any]:
        return _change(self.world, minute, kind, ref, **extra)

    def choice(self, options: list[str]) -> str:
        return str(self.rng.choice(options))

    def ref(self, prefix: str, low: int = 100, high: int = 999) -> str:
        return f"{prefix}-{self.rng.integers(low, high)}"


def _infrastructure(f: _Failure) -> None:
    f.variant = f.choice(["saturation", "errors", "memory"])
    f.hit("p99_latency_ms", f.onset, f.u(0.6, 3.0), ramp=f.u(0, 3))
    if f.variant != "saturation":
        f.hit("error_rate", f.onset, f.u(2, 10))
    if f.variant == "memory":
        f.hit("gpu_memory_used_gb", f.onset, f.u(0.2, 0.5))
    else:
        f.hit("gpu_util", f.onset, f.u(0.25, 0.6))
    if f.rng.random() < 0.6:
        f.culprit = f.change(f.before(1, 20), f.choice(["infra", "config"]), f.ref("infra"))


def _data(f: _Failure) -> None:
    f.variant = f.choice(["nulls", "drift", "schema"])
    if f.variant in ("nulls", "schema"):
        f.sig["feature_null_rate"].effects.append(Effect(f.onset, f.u(3, 15), slice=f.where))
    if f.variant in ("drift", "schema"):
        f.hit("input_length_mean", f.onset, float(f.rng.choice([-1, 1])) * f.u(0.3, 0.8),
              sliced=False)
        f.extra += render_distribution(f.world, "data", "query_length", f.world.step * 5,
                                       400, f.onset, f.u(0.4, 1.0))
    if f.rng.random() < 0.7:
        f.hit("mean_confidence", f.lag(), -f.u(0.08, 0.2), sliced=False)
    if f.rng.random() < 0.6:
        f.culprit = f.change(f.before(1, 25), f.choice(["features", "code"]), f.ref("fp"))


def _control_plane(f: _Failure) -> None:
    f.variant = f.choice(["feature_stall", "index_lag", "version_mismatch", "misrouting"])
    if f.variant == "feature_stall":
        f.hit("feature_age_seconds", f.onset, 60.0, mode="ramp", sliced=False)
        if f.rng.random() < 0.5:
            f.hit("mean_confidence", f.lag(), -f.u(0.08, 0.2), sliced=False)
        f.culprit = f.change(f.before(1, 20), "features", f.ref("fp"))
    elif f.variant == "index_lag":
        f.hit("index_lag_seconds", f.onset, 60.0, mode="ramp", sliced=False)
        f.hit("retrieval_relevance", f.lag(), -f.u(0.15, 0.35), ramp=f.u(0, 10), sliced=False)
        f.culprit = f.change(f.before(1, 20), "retrieval", f.ref("idx"))
    elif f.variant == "version_mismatch":
        f.culprit = f.change(f.before(1, 10), "model", "v8", previous="v7")
        for minute in np.arange(0.0, f.world.minutes, f.world.step):
            expected = "v8" if minute >= f.onset else "v7"
            f.extra.append({"type": "state", "ts": f.world.ts(minute),
                            "service": f.world.service, "layer": "control",
                            "name": "served_model_version", "value": "v7",
                            "expected": expected})
    else:
        f.hit("fallback_route_share", f.onset, f.u(4, 12), sliced=False)
        f.culprit = f.change(f.before(1, 20), f.choice(["prompt", "config"]), f.ref("route"))


def _model(f: _Failure) -> None:
    f.variant = f.choice(["regression", "canary"])
    if f.variant == "canary":
        f.where = ("model_version", "v8")
    f.culprit = f.change(f.before(1, 15), "model", "v8", previous="v7",
                         **({"slice": {"model_version": "v8"}} if f.variant == "canary"
                            else {}))
    f.hit("mean_confidence", f.onset, -f.u(0.1, 0.25), sliced=False)
    f.extra += render_distribution(
        f.world, "model", "top_label", f.world.step * 5, 1000, f.onset, 0.0,
        categories={"refund": 0.2, "billing": 0.3, "other": 0.5},
        new_categories={"refund": 0.4, "billing": 0.15, "other": 0.45})
    f.quality_hit = True


def _eval_policy(f: _Failure) -> None:
    f.variant = f.choice(["threshold", "judge_collapse", "guardrail"])
    if f.variant == "threshold":
        f.hit("refusal_rate", f.onset, f.u(2, 8))
        f.culprit = f.change(f.before(1, 20), "threshold", f.ref("flag"))
    elif f.variant == "guardrail":
        f.hit("block_rate", f.onset, f.u(3, 10), sliced=False)
        f.culprit = f.change(f.before(1, 20), f.choice(["config", "threshold"]), f.ref("guard"))
    else:
        f.hit("judge_score", f.onset, -f.u(0.2, 0.5), sliced=False)
        f.quality_hit = False
        if f.rng.random() < 0.7:
            f.culprit = f.change(f.before(1, 20), f.choice(["config", "prompt"]), f.ref("judge"))


def _cost(f: _Failure) -> None:
    f.variant = f.choice(["prompt_tokens", "expensive_route"])
    if f.variant == "prompt_tokens":
        f.hit("tokens_per_request", f.onset, f.u(0.5, 2.0))
        f.hit("cost_per_1k_requests", f.onset, f.u(0.4, 1.5), sliced=False)
        f.culprit = f.change(f.before(1, 20), "prompt", f.ref("prompt", 10, 99))
    else:
        f.hit("cost_per_1k_requests", f.onset, f.u(0.5, 2.0), sliced=False)
        if f.rng.random() < 0.5:
            f.hit("gpu_util", f.onset, f.u(0.1, 0.3), sliced=False)
        f.culprit = f.change(f.before(1, 20), f.choice(["config", "model"]), f.ref("route"))
    f.quality_hit = False


# How each failure class moves a service (``none`` moves nothing).
_CAUSES: dict[str, Callable[[_Failure], None]] = {
    "infrastructure": _infrastructure, "data": _data, "control_plane": _control_plane,
    "model": _model, "eval_policy": _eval_policy, "cost": _cost}


def _user_feedback(f: _Failure, label: str) -> None:
    """Users notice most failures: thumbs down and groundedness follow the cause."""
    if label == "none" or not f.quality_hit or label == "cost":
        return
    start = f.lag() if label != "model" else f.onset + f.u(0, 4)
    f.sig["thumbs_down_rate"].effects.append(Effect(start, f.u(0.5, 2.0), ramp=f.u(0, 8),
                                                    slice=f.where))
    if f.rng.random() < 0.7:
        f.sig["groundedness"].effects.append(Effect(start, -f.u(0.08, 0.25), ramp=f.u(0, 8),
                                                    slice=f.where))


def _cause(label: str, sig: dict[str, Signal], world: World, onset: float,
           rng: np.random.Generator, where: tuple[str, str] | None
           ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any]]:
    """Effects of one failure; returns (extra records, culprit change or None, notes)."""
    failure = _Failure(sig, world, onset, rng, where, quality_hit=rng.random() < 0.85)
    cause = _CAUSES.get(label)
    if cause is not None:
        cause(failure)
    _user_feedback(failure, label)
    return failure.extra, failure.culprit, {"variant": failure.variant,
                                            "slice": failure.where}


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


def _draw_slice(label: str, world: World, rng: np.random.Generator,
                sliced: bool | None) -> tuple[str, str] | None:
    """The slice a failure hits (a slice failure hits hard inside it), or ``None``."""
    slice_ok = label in ("infrastructure", "data", "model", "eval_policy", "cost")
    if label != "none" and slice_ok and (sliced if sliced is not None else rng.random() < 0.45):
        dim = str(rng.choice(list(world.dims)))
        return dim, str(rng.choice(world.dims[dim]))
    return None


def _apply_cause(label: str, sig: dict[str, Signal], world: World, onset: float,
                 rng: np.random.Generator, where: tuple[str, str] | None
                 ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any]]:
    """The cause's effects, with ``notes["slice"]`` the slice it really hit (or ``None``)."""
    extra: list[dict[str, Any]] = []
    culprit: dict[str, Any] | None = None
    notes: dict[str, Any] = {"variant": "healthy", "slice": None}
    if label != "none":
        extra, culprit, notes = _cause(label, sig, world, onset, rng, where)
        where = notes["slice"]
        if where is not None and not any(e.slice == where for s in sig.values()
                                         for e in s.effects):
            notes["slice"] = where = None  # this variant hits all traffic whatever was drawn
    if where is not None and where[0] == "model_version":
        world.dims["model_version"] = ["v7", "v8"]
        world.shares["model_version"] = np.array([0.8, 0.8 * 0 + 0.2])
        for s in sig.values():
            if s.sliced or any(e.slice == where for e in s.effects):
                s.sliced = True
    return extra, culprit, notes


def _reported(sig: dict[str, Signal], world: World,
              rng: np.random.Generator) -> list[dict[str, Any]]:
    """The signal records of the layers this service reports: always the cause's;
    others at random."""
    dropped = {name for name, s in sig.items()
               if not s.effects and rng.random() < 0.25 and s.layer != "quality"}
    records: list[dict[str, Any]] = []
    for name, s in sig.items():
        if name not in dropped:
            records += render(world, s)
    return records


def _unrelated_changes(label: str, world: World, rng: np.random.Generator, onset: float,
                       minutes: int) -> list[dict[str, Any]]:
    """One to three red-herring changes before, long before or after the onset."""
    changes = []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(_UNRELATED[label]))
        when = float(rng.choice([onset - rng.uniform(0.5, 6), rng.uniform(0, onset * 0.5),
                                 onset + rng.uniform(5, 30)]))
        changes.append(_change(world, min(max(when, 0), minutes - 1), kind,
                               f"{kind}-{rng.integers(1000, 9999)}",
                               description="unrelated change"))
    return changes


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
    where = _draw_slice(label, world, rng, sliced)
    extra, culprit, notes = _apply_cause(label, sig, world, onset, rng, where)
    where = notes["slice"]
    history_changes, history_notes = (_history(label, sig, world, onset, history_rng)
                                      if history else ([], None))
    records = _reported(sig, world, rng) + extra
    changes = ([culprit] if culprit else []) + _unrelated_changes(label, world, rng, onset,
                                                                  minutes)
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
