"""The failure catalogue: what each failure does to a world's latents, and its truth.

A failure edits latents *before* the pool runs, so saturation, queues, timeouts and
their side effects (latency on a data failure, truncated answers on an
infrastructure one) come out of the world rather than being drawn. Each entry
names its label, the service kinds it happens on, the latent that must visibly
move (checked after the run), whether it can be confined to a slice (and on which
dimension it must be), and the kinds of change that may have caused it, with
``None`` for no recorded change; some culprits are of an unexpected kind (a
``model`` change behind a control-plane failure, an ``infra`` change shipping a
quantised model). ``none`` entries are the false alarms a watch sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.simulator.independent.world import World, stall

Where = tuple[str, str] | None
ALL = ("rag_vllm", "hosted_chat", "ranking", "fraud")
GPU = ("rag_vllm", "ranking")
POOLED = ("rag_vllm", "ranking", "fraud")
LLM = ("rag_vllm", "hosted_chat")
TABULAR = ("ranking", "fraud")
MIN = 60.0


@dataclass(frozen=True)
class Failure:
    name: str
    label: str
    kinds: tuple[str, ...]
    apply: Callable[[World, float, np.random.Generator, Where], dict[str, Any]]
    primary: str                  # latent that must move (cell or global)
    culprits: tuple[tuple[str | None, float], ...] = ((None, 1.0),)
    sliceable: bool = False
    needs_dim: str | None = None  # the failure lives on this dimension's slice
    ramp: bool = False


def _m(w: World, where: Where) -> np.ndarray | None:
    return w.where(*where) if where else None


def _quality_hit(w: World, prof: np.ndarray, mask: np.ndarray | None, size: float) -> None:
    """What users see: more thumbs-down, less grounded answers, fewer clicks."""
    w.scale("thumbs", 1 + 1.5 * size, prof, mask)
    w.shift("ground", -0.15 * size, prof, mask)
    w.shift("relev", -0.1 * size, prof, mask)
    w.scale("ctr", 1 - 0.3 * size, prof, mask)
    w.shift("ndcg", -0.08 * size, prof, mask)
    w.scale("chargeback", 1 + 1.5 * size, prof, mask)


# --- infrastructure ---------------------------------------------------------------
def xid_node_loss(w, on, rng, where):
    keep = rng.uniform(0.3, 0.5)
    w.glob["cap"] = np.where(w.t >= on, np.floor(w.glob["cap"] * keep).clip(1), w.glob["cap"])
    w.shift("xid", 2.0, w.profile(on, end=on + 2 * MIN))
    w.shift("xid", 0.05, w.profile(on))
    return {"variant": "gpu XID node loss leaves a capped pool"}


def oom_restarts(w, on, rng, where):
    p = w.profile(on)
    w.shift("restarts", 0.02 * w.dt / 15, p)
    w.shift("mem", 0.97 - float(w.glob["mem"][0]), p)
    w.glob["cap"] = np.where(p > 0, np.floor(w.glob["cap"] * 0.6).clip(1), w.glob["cap"])
    w.scale("err", rng.uniform(4, 10), p)
    return {"variant": "OOM restarts after a node-pool change"}


def dependency_timeout(w, on, rng, where):
    p, m = w.profile(on, ramp=rng.uniform(0, 5) * MIN), _m(w, where)
    w.shift("err", rng.uniform(0.03, 0.12), p, m)
    w.scale("lat", rng.uniform(1.6, 3.0), p, m)
    if w.kind in LLM and rng.random() < 0.6:
        # the stream is cut when the dependency gives up: partial answers, not errors
        w.shift("cut", rng.uniform(0.1, 0.5), p, m)
        return {"variant": "a dependency times out and cuts answers short"}
    return {"variant": "a dependency times out"}


def stream_timeouts(w, on, rng, where):
    """A gateway or upstream tool times out mid-stream: answers arrive cut off (shorter,
    worse), a share of them as errors; nothing in the model changed."""
    p, m = w.profile(on, ramp=rng.uniform(0, 3) * MIN), _m(w, where)
    w.shift("cut", rng.uniform(0.25, 0.6), p, m)
    w.shift("err", rng.uniform(0.01, 0.06), p, m)
    w.scale("lat", rng.uniform(1.2, 2.0), p, m)
    return {"variant": "streams time out and answers arrive truncated"}


def kv_saturation(w, on, rng, where):
    p = w.profile(on, ramp=rng.uniform(2, 10) * MIN)
    w.glob.setdefault("kv_bias", np.zeros(w.steps))
    w.glob["kv_bias"] = w.glob["kv_bias"] + 0.45 * p
    w.scale("per_replica", 0.55, p)
    return {"variant": "KV-cache saturation, preemptions"}


def thermal_ramp(w, on, rng, where):
    p = w.profile(on, ramp=rng.uniform(30, 60) * MIN)
    w.shift("temp", rng.uniform(18, 28), p)
    w.scale("per_replica", rng.uniform(0.45, 0.6), p)
    return {"variant": "thermal throttling ramp"}


def vendor_slowdown(w, on, rng, where):
    p = w.profile(on, ramp=rng.uniform(0, 4) * MIN)
    w.scale("vendor_lat", rng.uniform(2.0, 4.0), p)
    w.shift("err", rng.uniform(0.02, 0.08), p)
    w.shift("cut", rng.uniform(0.0, 0.4), p)  # streams the vendor drops half-way
    return {"variant": "hosted model API slows down and times out"}


# --- data ---------------------------------------------------------------------------
def unit_change(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("unit_frac", rng.uniform(0.3, 0.8), p, m)
    w.scale("score", rng.uniform(1.4, 2.0), p, m)
    w.scale("flag", rng.uniform(1.5, 3.0), p, m)
    return {"variant": "upstream unit change (x100) for part of a slice"}


def broken_join(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("join_miss", rng.uniform(0.1, 0.4), p, m)
    w.shift("null", rng.uniform(0.05, 0.2), p, m)
    w.shift("conf", -rng.uniform(0.05, 0.12), w.profile(on + rng.uniform(2, 10) * MIN), m)
    _quality_hit(w, w.profile(on + rng.uniform(5, 20) * MIN), m, rng.uniform(0.3, 0.8))
    return {"variant": "a broken join leaves features null"}


def schema_violation(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("invalid", rng.uniform(0.05, 0.3), p, m)
    w.scale("score", rng.uniform(0.6, 0.8), w.profile(on + 3 * MIN), m)
    _quality_hit(w, w.profile(on + rng.uniform(5, 20) * MIN), m, rng.uniform(0.2, 0.6))
    return {"variant": "schema violations"}


def language_flood(w, on, rng, where):
    p = w.profile(on, ramp=rng.uniform(0, 10) * MIN)
    m = _m(w, where)
    if m is not None:
        w.share = w.share * (1 + (rng.uniform(3, 8) - 1) * np.where(m[:, None], p[None, :], 0))
        w.share = w.share / w.share.sum(0, keepdims=True)
    w.shift("lang_other", rng.uniform(0.15, 0.4), p, m)
    _quality_hit(w, p, m, rng.uniform(0.4, 1.0))
    return {"variant": "a flood of one language"}


def input_drift_ramp(w, on, rng, where):
    p, m = w.profile(on, ramp=rng.uniform(30, 120) * MIN), _m(w, where)
    w.shift("x_mean", float(rng.choice([-1, 1])) * rng.uniform(0.5, 1.2), p, m)
    w.scale("score", rng.uniform(1.3, 1.8), p, m)
    w.shift("conf", -rng.uniform(0.04, 0.1), p, m)
    _quality_hit(w, p, m, rng.uniform(0.3, 0.7))
    return {"variant": "slow input drift"}


def prompt_truncation(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("trunc", rng.uniform(0.1, 0.2), p, m)
    w.shift("x_mean", -0.3, p, m)
    w.scale("tok_in", 0.75, p, m)
    _quality_hit(w, w.profile(on + rng.uniform(1, 8) * MIN), m, rng.uniform(0.5, 1.0))
    return {"variant": "prompts truncated upstream"}


# --- control plane --------------------------------------------------------------------
def feature_stall(w, on, rng, where):
    stall(w, "feat_age", on)
    late = w.profile(on + rng.uniform(10, 30) * MIN, ramp=20 * MIN)
    w.shift("conf", -rng.uniform(0.05, 0.1), late)
    _quality_hit(w, late, None, rng.uniform(0.3, 0.7))
    return {"variant": "feature store stalls past its saw-tooth"}


def stale_index(w, on, rng, where):
    stall(w, "index_age", on)
    late = w.profile(on + rng.uniform(10, 30) * MIN, ramp=20 * MIN)
    w.shift("relev", -rng.uniform(0.08, 0.2), late)
    _quality_hit(w, late, None, rng.uniform(0.2, 0.5))
    return {"variant": "stale vector index"}


def reembedding_lag(w, on, rng, where):
    p = w.profile(on)
    w.shift("embed_backlog", 1.0, p * (w.t - on).clip(0) * rng.uniform(0.5, 3))
    late = w.profile(on + rng.uniform(10, 25) * MIN, ramp=20 * MIN)
    w.shift("relev", -rng.uniform(0.08, 0.2), late)
    _quality_hit(w, late, None, rng.uniform(0.2, 0.5))
    return {"variant": "re-embedding lag"}


def template_mismatch(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("mismatch", rng.uniform(0.2, 0.6), p, m)
    _quality_hit(w, w.profile(on + rng.uniform(1, 6) * MIN), m, rng.uniform(0.5, 1.0))
    return {"variant": "template mismatch on one route"}


def misrouting(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("fallback", rng.uniform(0.15, 0.4), p, m)
    w.scale("lat", 1.25, p, m)
    _quality_hit(w, w.profile(on + rng.uniform(2, 8) * MIN), m, rng.uniform(0.2, 0.5))
    return {"variant": "misrouting to the fallback"}


def region_missed_deploy(w, on, rng, where):
    w.version_plan = {"at": on, "missed": where}
    m = _m(w, where)
    _quality_hit(w, w.profile(on + rng.uniform(2, 10) * MIN), m, rng.uniform(0.2, 0.5))
    return {"variant": "a region never picked up the deploy"}


# --- model ------------------------------------------------------------------------------
def canary_regression(w, on, rng, where):
    m = _m(w, where)
    canary = rng.uniform(0.05, 0.25)
    _canary_traffic(w, on, m, canary)
    p = w.profile(on)
    w.shift("conf", -rng.uniform(0.05, 0.15), p, m)
    w.scale("score", rng.uniform(1.2, 1.5), p, m)
    w.scale("tok_out", rng.uniform(1.2, 1.6), p, m)
    _quality_hit(w, p, m, rng.uniform(0.6, 1.2))
    return {"variant": "canary regression on its own model_version"}


def _canary_traffic(w: World, on: float, mask: np.ndarray | None, share: float) -> None:
    """The new version takes ``share`` of traffic from ``on`` (none before)."""
    if mask is None:
        return
    live = w.t >= on
    s = w.share.copy()
    old_total = s[mask].sum(0)
    s[mask] = 0.0
    s = s / s.sum(0, keepdims=True) * (1 - share * live)
    base = w.share[mask] / np.maximum(old_total, 1e-12)
    s[mask] = base * share * live
    w.share = s


def full_rollout(w, on, rng, where):
    p = w.profile(on)
    w.shift("conf", -rng.uniform(0.05, 0.15), p)
    w.scale("score", rng.uniform(1.2, 1.5), p)
    w.scale("tok_out", float(rng.choice([0.7, 1.4])), p)
    _quality_hit(w, w.profile(on + rng.uniform(0, 4) * MIN), None, rng.uniform(0.4, 1.0))
    return {"variant": "full-rollout regression"}


def silent_update(w, on, rng, where):
    p = w.profile(on)
    w.scale("tok_out", float(rng.choice([0.6, 1.5])), p)
    w.shift("conf", -rng.uniform(0.03, 0.1), p)
    _quality_hit(w, w.profile(on + rng.uniform(0, 5) * MIN), None, rng.uniform(0.4, 1.0))
    return {"variant": "silent update of a hosted model"}


def concept_drift(w, on, rng, where):
    p, m = w.profile(on, ramp=rng.uniform(60, 150) * MIN), _m(w, where)
    w.scale("flag", rng.uniform(0.6, 0.8), p, m)
    w.shift("conf", -rng.uniform(0.03, 0.08), p, m)
    _quality_hit(w, p, m, rng.uniform(0.6, 1.2))
    return {"variant": "concept drift"}


def quantised_model(w, on, rng, where):
    p = w.profile(on)
    w.scale("per_replica", rng.uniform(1.5, 2.0), p)
    w.shift("conf", -rng.uniform(0.04, 0.1), p)
    _quality_hit(w, w.profile(on + rng.uniform(0, 4) * MIN), None, rng.uniform(0.4, 0.9))
    return {"variant": "a quantised model: cheaper and worse"}


# --- eval and policy ------------------------------------------------------------------
def guardrail_threshold(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("block", rng.uniform(0.05, 0.2), p, m)
    w.scale("thumbs", 1.2, p, m)
    return {"variant": "guardrail or rule threshold"}


def judge_swap(w, on, rng, where):
    w.shift("judge", -rng.uniform(0.1, 0.3), w.profile(on))
    return {"variant": "judge swap: only the judge score moves"}


def safety_refusals(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("refusal", rng.uniform(0.05, 0.2), p, m)
    w.scale("thumbs", 1.3, p, m)
    return {"variant": "a safety prompt refuses"}


# --- cost ---------------------------------------------------------------------------------
def prompt_bloat(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.scale("tok_in", rng.uniform(1.8, 3.0), p, m)
    w.scale("lat", 1.15, p, m)
    return {"variant": "prompt bloat"}


def expensive_routing(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.shift("exp_share", rng.uniform(0.2, 0.5), p, m)
    w.scale("lat", 1.1, p, m)
    return {"variant": "routing to the expensive model"}


def cache_collapse(w, on, rng, where):
    p = w.profile(on)
    w.scale("cache_hit", rng.uniform(0.05, 0.3), p)
    w.scale("lat", 1.3, p)
    return {"variant": "cache-hit collapse"}


def topk_bloat(w, on, rng, where):
    p = w.profile(on)
    k = rng.uniform(2.0, 4.0)
    w.scale("top_k", k, p)
    w.scale("tok_in", 1 + 0.4 * (k - 1), p)
    return {"variant": "retrieval top-k bloat"}


def vendor_overcalls(w, on, rng, where):
    p, m = w.profile(on), _m(w, where)
    w.scale("tools", rng.uniform(2.5, 5.0), p, m)
    return {"variant": "vendor over-calls"}


def spot_repricing(w, on, rng, where):
    w.scale("gpu_price", rng.uniform(1.6, 3.0), w.profile(on))
    return {"variant": "spot repricing"}


# --- none ---------------------------------------------------------------------------------
def recovered_transient(w, on, rng, where):
    end = on + rng.uniform(3, 10) * MIN
    p = w.profile(on, end=end)
    w.scale("lat", rng.uniform(2, 4), p)
    w.shift("err", rng.uniform(0.01, 0.05), p)
    return {"variant": "a transient that recovered"}


def absorbed_surge(w, on, rng, where):
    w.glob["cap"] = w.glob["cap"] * 3
    w.rate = w.rate * (1 + (rng.uniform(1.5, 2.2) - 1) * w.profile(on, ramp=rng.uniform(2, 10)
                                                                    * MIN))
    return {"variant": "a surge the autoscaler absorbed"}


def noisy_night(w, on, rng, where):
    w.rate = w.rate * (1 - 0.92 * w.profile(on - 120 * MIN, ramp=60 * MIN))
    return {"variant": "a noisy low-traffic night"}


def healthy_canary(w, on, rng, where):
    _canary_traffic(w, on, _m(w, where), rng.uniform(0.05, 0.25))
    return {"variant": "a healthy canary"}


def nightly_job(w, on, rng, where):
    length = rng.uniform(40, 70) * MIN
    day = 86400.0
    for start in (on - day, on):
        if start > 0:
            w.glob["job"] = w.glob["job"] + w.profile(start, end=start + length) * float(
                np.median(w.rate)) * rng.uniform(0.4, 0.8)
    w.scale("lat", 1.1, w.profile(on, end=on + length))
    return {"variant": "a nightly job, seen the night before"}


def improvement(w, on, rng, where):
    p = w.profile(on)
    what = str(rng.choice(["err", "lat", "thumbs"]))
    w.scale(what, rng.uniform(0.3, 0.6), p)
    return {"variant": f"an improvement ({what} falls)"}


def benign_deploy(w, on, rng, where):
    w.scale("tok_out", rng.uniform(0.97, 1.03), w.profile(on))
    return {"variant": "a benign deploy"}


F = Failure
CATALOGUE: tuple[Failure, ...] = (
    F("xid_node_loss", "infrastructure", GPU, xid_node_loss, "lat_eff",
      ((None, 0.8), ("infra", 0.2))),
    F("oom_restarts", "infrastructure", POOLED, oom_restarts, "err_eff",
      (("infra", 0.6), ("config", 0.2), (None, 0.2))),
    F("dependency_timeout", "infrastructure", ALL, dependency_timeout, "err_eff",
      ((None, 0.6), ("code", 0.2), ("config", 0.2)), sliceable=True),
    F("stream_timeouts", "infrastructure", LLM, stream_timeouts, "tok_out_eff",
      ((None, 0.5), ("config", 0.3), ("model", 0.2)), sliceable=True),
    F("kv_saturation", "infrastructure", ("rag_vllm",), kv_saturation, "lat_eff",
      (("config", 0.4), ("model", 0.3), (None, 0.3))),
    F("thermal_ramp", "infrastructure", GPU, thermal_ramp, "lat_eff",
      ((None, 0.9), ("infra", 0.1)), ramp=True),
    F("vendor_slowdown", "infrastructure", ("hosted_chat",), vendor_slowdown, "lat_eff"),
    F("unit_change", "data", TABULAR, unit_change, "amount",
      (("code", 0.4), (None, 0.4), ("config", 0.2)), sliceable=True, needs_dim="tenant"),
    F("broken_join", "data", TABULAR, broken_join, "join_miss",
      (("features", 0.5), ("code", 0.2), (None, 0.3)), sliceable=True),
    F("schema_violation", "data", TABULAR, schema_violation, "invalid",
      (("code", 0.6), (None, 0.4)), sliceable=True),
    F("language_flood", "data", LLM, language_flood, "lang_other", sliceable=True,
      needs_dim="language"),
    F("input_drift_ramp", "data", ALL, input_drift_ramp, "x_mean",
      ((None, 0.7), ("features", 0.3)), sliceable=True, ramp=True),
    F("prompt_truncation", "data", LLM, prompt_truncation, "trunc",
      (("code", 0.4), ("config", 0.4), (None, 0.2))),
    F("feature_stall", "control_plane", TABULAR, feature_stall, "feat_age",
      (("features", 0.5), (None, 0.5))),
    F("stale_index", "control_plane", ("rag_vllm",), stale_index, "index_age",
      (("retrieval", 0.5), (None, 0.5))),
    F("reembedding_lag", "control_plane", ("rag_vllm",), reembedding_lag, "embed_backlog",
      (("model", 0.4), ("retrieval", 0.4), (None, 0.2))),
    F("template_mismatch", "control_plane", LLM, template_mismatch, "mismatch",
      (("prompt", 0.5), ("config", 0.3), ("model", 0.2)), sliceable=True, needs_dim="route"),
    F("misrouting", "control_plane", LLM + ("ranking",), misrouting, "fallback",
      (("config", 0.5), ("model", 0.3), (None, 0.2))),
    F("region_missed_deploy", "control_plane", POOLED, region_missed_deploy, "thumbs",
      (("model", 1.0),), sliceable=True, needs_dim="region"),
    F("canary_regression", "model", ALL, canary_regression, "thumbs", (("model", 1.0),),
      sliceable=True, needs_dim="model_version"),
    F("full_rollout", "model", ALL, full_rollout, "conf", (("model", 0.9), (None, 0.1))),
    F("silent_update", "model", ("hosted_chat",), silent_update, "tok_out"),
    F("concept_drift", "model", TABULAR, concept_drift, "thumbs", sliceable=True, ramp=True),
    F("quantised_model", "model", ("rag_vllm",), quantised_model, "conf",
      (("model", 0.6), ("infra", 0.4))),
    F("guardrail_threshold", "eval_policy", ALL, guardrail_threshold, "block",
      (("threshold", 0.6), ("config", 0.4)), sliceable=True),
    F("judge_swap", "eval_policy", LLM, judge_swap, "judge",
      (("config", 0.5), ("model", 0.3), (None, 0.2))),
    F("safety_refusals", "eval_policy", LLM, safety_refusals, "refusal",
      (("prompt", 0.7), (None, 0.3)), sliceable=True),
    F("prompt_bloat", "cost", LLM, prompt_bloat, "tok_in", (("prompt", 0.7), (None, 0.3)),
      sliceable=True),
    F("expensive_routing", "cost", LLM, expensive_routing, "exp_share",
      (("config", 0.5), ("model", 0.3), (None, 0.2)), sliceable=True),
    F("cache_collapse", "cost", LLM, cache_collapse, "cache_hit",
      (("code", 0.4), ("config", 0.3), (None, 0.3))),
    F("topk_bloat", "cost", ("rag_vllm",), topk_bloat, "top_k",
      (("retrieval", 0.8), ("config", 0.2))),
    F("vendor_overcalls", "cost", ("hosted_chat",), vendor_overcalls, "tools",
      (("code", 0.4), ("prompt", 0.4), (None, 0.2)), sliceable=True),
    F("spot_repricing", "cost", POOLED, spot_repricing, "cost", ((None, 0.7), ("infra", 0.3))),
    F("recovered_transient", "none", ALL, recovered_transient, ""),
    F("absorbed_surge", "none", POOLED, absorbed_surge, ""),
    F("noisy_night", "none", ALL, noisy_night, ""),
    F("healthy_canary", "none", ALL, healthy_canary, "", needs_dim="model_version"),
    F("nightly_job", "none", POOLED, nightly_job, ""),
    F("improvement", "none", ALL, improvement, ""),
    F("benign_deploy", "none", ALL, benign_deploy, ""),
)
