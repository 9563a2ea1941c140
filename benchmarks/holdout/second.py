"""A second held-out set, written by hand on 1 December 2026 at 20:40 UTC, before the
evening's second round of diagnosis changes was merged, and scored before and after it.

Failures of issue 13's list that the first set does not draw (KV-cache saturation,
schema violations, prompt truncation, retrieval top-k bloat, safety-prompt refusals,
a fraud rule threshold, a hosted API's rate limits, a bigger model that no longer
fits), slices on one region, segment or model version, and benign traps (a tiny
tenant's noisy night, a canary that got better). Labels follow DESIGN.md's failure
classes. Like the first set, nothing is fitted or tuned on these.
"""

from __future__ import annotations

import numpy as np

from benchmarks.holdout.kit import H, Out, Records, daily, grid, noise, ramp, step


def kv_cache_saturation(rng: np.random.Generator) -> Records:
    """A longer context setting fills vLLM's KV cache: preemptions, a queue, slower first
    tokens (15 s scrapes), no GPU fault. Infrastructure; culprit the config change."""
    o = Out("chat-vllm")
    t = grid(rng, 15, 6, jitter=0.2)
    on = 5.2 * H
    load = daily(t)
    o.gauge("infra", "vllm:gpu_cache_usage_perc", t, np.clip(
        0.55 * load + noise(rng, t.size, 0.03) + 0.4 * ramp(t, on, 6), 0, 1), "up")
    o.gauge("runtime", "vllm:num_preemptions_rate", t, np.maximum(
        0, 0.05 + noise(rng, t.size, 0.05, 0.02) + 2.5 * ramp(t, on + 120, 5)), "up")
    o.gauge("runtime", "vllm:num_requests_waiting", t, np.maximum(
        0, 2 * load + noise(rng, t.size, 0.8, 0.03) + 14 * ramp(t, on + 120, 8)), "up")
    o.gauge("runtime", "vllm:time_to_first_token_seconds_p95", t, 0.45 + noise(
        rng, t.size, 0.03, 0.03) + 0.9 * ramp(t, on + 120, 8), "up")
    o.gauge("infra", "DCGM_FI_DEV_GPU_UTIL", t, 60 * load + noise(rng, t.size, 4), "both")
    o.change(on - 150, "config", "max-model-len-32k")
    o.change(on - 3.0 * H, "prompt", "system-prompt-v31")
    return o.records


def schema_violation_after_pipeline(rng: np.random.Generator) -> Records:
    """A feature pipeline release writes a field in a new format: schema violations and
    nulls rise at once, the fraud score's mean drifts a little. Data; culprit features."""
    o = Out("fraud-scorer")
    t = grid(rng, 60, 8, missed=0.03)
    on = 7.1 * H
    n = rng.poisson(900 * daily(t, 0.25)).astype(float)
    o.ratio("data", "features.schema_violation_ratio", t, n, rng.binomial(
        n.astype(int), 0.001 + 0.035 * step(t, on)).astype(float))
    o.ratio("data", "features.null_ratio.merchant_category", t, n, rng.binomial(
        n.astype(int), 0.004 + 0.03 * step(t, on)).astype(float))
    o.gauge("model", "fraud.score_mean", t, 0.061 + noise(rng, t.size, 0.002)
            + 0.004 * step(t, on), "both")
    o.gauge("runtime", "http.server.request.duration_p95", t,
            0.08 + noise(rng, t.size, 0.004, 0.02), "up")
    o.change(on - 60, "features", "feature-pipeline-v8")
    return o.records


def prompt_truncation(rng: np.random.Generator) -> Records:
    """A gateway setting cuts long prompts: truncations jump, groundedness falls, input
    tokens and cost per request fall (louder than the cause, and "better").
    Control plane; culprit the config change."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 7)
    tq = grid(rng, 300, 7, jitter=0.05)
    on = 6.0 * H
    n = rng.poisson(400 * daily(t)).astype(float)
    o.ratio("control", "gateway.prompt_truncated_ratio", t, n, rng.binomial(
        n.astype(int), 0.002 + 0.18 * step(t, on)).astype(float))
    o.gauge("quality", "rag.groundedness", tq, 0.86 + noise(rng, tq.size, 0.01)
            - 0.07 * step(tq, on + 300), "down")
    o.gauge("cost", "gen_ai.usage.input_tokens_mean", t, 3100 + noise(rng, t.size, 90)
            - 700 * step(t, on), "up")
    o.gauge("cost", "cost.usd_per_request", tq, 0.011 + noise(rng, tq.size, 0.0004)
            - 0.002 * step(tq, on), "up")
    o.change(on - 80, "config", "gateway-max-input-4096")
    return o.records


def retrieval_topk_bloat(rng: np.random.Generator) -> Records:
    """Retrieval top-k raised from 5 to 25: input tokens and dollars per request triple,
    latency rises a little, answers stay as good. Cost; culprit the retrieval change."""
    o = Out("rag-assistant")
    t = grid(rng, 30, 6)
    tc = grid(rng, 300, 6, jitter=0.05)
    on = 5.0 * H
    o.gauge("cost", "gen_ai.usage.input_tokens_mean", t, 1800 + noise(rng, t.size, 60)
            + 3600 * step(t, on), "up")
    o.gauge("cost", "cost.usd_per_request", tc, 0.006 + noise(rng, tc.size, 0.0003)
            + 0.011 * step(tc, on), "up")
    o.gauge("runtime", "http.server.request.duration_p95", t, 1.9 + noise(
        rng, t.size, 0.09, 0.03) + 0.35 * step(t, on), "up")
    o.gauge("quality", "rag.retrieval_relevance", tc, 0.79 + noise(rng, tc.size, 0.01), "down")
    o.change(on - 45, "retrieval", "top-k-5-to-25")
    o.change(on - 2.2 * H, "model", "embedder-v3.1")
    return o.records


def safety_prompt_refusals(rng: np.random.Generator) -> Records:
    """A safety preamble makes the model refuse ordinary questions: refusals and
    guardrail blocks climb, thumbs-down follow. Eval/policy; culprit the prompt."""
    o = Out("chat-agent")
    t = grid(rng, 60, 6)
    on = 5.3 * H
    n = rng.poisson(350 * daily(t)).astype(float)
    o.ratio("eval", "guardrail.refusal_ratio", t, n, rng.binomial(
        n.astype(int), 0.012 + 0.07 * step(t, on)).astype(float))
    o.ratio("quality", "feedback.thumbs_down_ratio", t, n, rng.binomial(
        n.astype(int), 0.05 + 0.03 * step(t, on + 240)).astype(float))
    o.gauge("model", "gen_ai.response.output_tokens_mean", t, 240 + noise(rng, t.size, 8)
            - 35 * step(t, on), "both")
    o.change(on - 100, "prompt", "safety-preamble-v3")
    return o.records


def segment_input_shift(rng: np.random.Generator) -> Records:
    """Small-business transactions grow larger over an hour (a partner's new checkout):
    the amount and the scores of segment=smb only. Data, segment=smb; no change."""
    o = Out("fraud-scorer")
    t = grid(rng, 120, 10, jitter=0.1)
    on = 8.6 * H
    for segment, level in (("consumer", 58.0), ("smb", 240.0), ("enterprise", 1900.0)):
        moved = segment == "smb"
        o.gauge("data", "transaction.amount_mean", t, level * (
            1 + noise(rng, t.size, 0.04) + (0.45 * ramp(t, on, 60) if moved else 0)),
            "both", {"segment": segment})
        o.gauge("model", "fraud.score_mean", t, 0.05 + noise(rng, t.size, 0.003)
                + (0.02 * ramp(t, on + 300, 60) if moved else 0), "both",
                {"segment": segment})
    o.gauge("model", "fraud.score_mean", t, 0.05 + noise(rng, t.size, 0.002)
            + 0.006 * ramp(t, on + 300, 60), "both")
    return o.records


def region_dependency_timeouts(rng: np.random.Generator) -> Records:
    """A payment dependency times out in eu-west only: its errors and latency; the
    other regions are as before. Infrastructure, region=eu-west; no change."""
    o = Out("ranker")
    t = grid(rng, 30, 5, jitter=0.15)
    on = 4.3 * H
    shape = daily(t)
    volume = {("region", "us-east"): 500.0, ("region", "eu-west"): 300.0,
              ("region", "ap-south"): 120.0}
    p = {k: 0.003 + (0.06 * step(t, on) if k[1] == "eu-west" else 0) for k in volume}
    o.cells(rng, "runtime", "http.client.error_ratio", t, volume, p, "up", shape)
    for (_, region), _vol in volume.items():
        moved = region == "eu-west"
        o.gauge("runtime", "http.client.request.duration_p95", t, 0.21 + noise(
            rng, t.size, 0.012, 0.02) + (0.35 * step(t, on) if moved else 0), "up",
            {"region": region})
    o.change(on - 1.5 * H, "model", "ranker-v17")
    return o.records


def ranker_canary_ctr(rng: np.random.Generator) -> Records:
    """A ranker canary on 10 % of traffic loses clicks (15 s scrapes, per model version
    cells that add up). Model, model_version=v18; culprit the canary's model change."""
    return _ranker_canary(rng, ctr_change=-0.04)


def _ranker_canary(rng: np.random.Generator, ctr_change: float) -> Records:
    """A ranker canary on 10 % of traffic whose click-through moves by ``ctr_change``
    at the onset, per model version cells that add up, on 15 s scrapes."""
    o = Out("ranker")
    t = grid(rng, 15, 5, jitter=0.2)
    on = 4.4 * H
    born = on - 200
    shape = daily(t)
    stable = rng.poisson(400 * shape * np.where(t >= born, 0.9, 1.0)).astype(float)
    canary = rng.poisson(40 * shape * (t >= born)).astype(float)
    clicks_s = rng.binomial(stable.astype(int), 0.12).astype(float)
    clicks_c = rng.binomial(canary.astype(int), 0.12 + ctr_change * step(t, on)).astype(float)
    o.ratio("quality", "ranker.ctr", t, stable, clicks_s, "down", {"model_version": "v17"})
    o.ratio("quality", "ranker.ctr", t, canary, clicks_c, "down", {"model_version": "v18"})
    o.ratio("quality", "ranker.ctr", t, stable + canary, clicks_s + clicks_c, "down")
    o.gauge("runtime", "http.server.request.duration_p95", t, 0.05 + noise(
        rng, t.size, 0.003, 0.02), "up")
    o.change(born - 30, "model", "ranker-v18-canary", slice={"model_version": "v18"})
    return o.records


def fraud_rule_threshold(rng: np.random.Generator) -> Records:
    """A decline rule's threshold lowered: declines jump, chargebacks unchanged, the
    scores unchanged. Eval/policy; culprit the threshold change."""
    o = Out("fraud-scorer")
    t = grid(rng, 60, 8)
    on = 7.0 * H
    n = rng.poisson(700 * daily(t, 0.2)).astype(float)
    o.ratio("eval", "policy.decline_ratio", t, n, rng.binomial(
        n.astype(int), 0.021 + 0.045 * step(t, on)).astype(float))
    o.ratio("quality", "support.complaint_ratio", t, n, rng.binomial(
        n.astype(int), 0.002 + 0.004 * step(t, on + 600)).astype(float))
    o.gauge("model", "fraud.score_mean", t, 0.061 + noise(rng, t.size, 0.002), "both")
    o.change(on - 40, "threshold", "decline-threshold-0.8-to-0.6")
    o.change(on - 3 * H, "features", "feature-pipeline-v7")
    return o.records


def hosted_api_rate_limits(rng: np.random.Generator) -> Records:
    """The hosted model API starts answering 429 at the afternoon peak: errors and
    retries, slower answers; no GPU layer (a hosted model). Infrastructure; no change."""
    o = Out("support-bot")
    t = grid(rng, 60, 9, missed=0.04)
    on = 8.0 * H
    load = daily(t)
    n = rng.poisson(250 * load).astype(float)
    o.ratio("runtime", "gen_ai.client.error_ratio", t, n, rng.binomial(
        n.astype(int), 0.004 + 0.07 * step(t, on)).astype(float))
    o.gauge("runtime", "gen_ai.client.operation.duration_p95", t, 3.2 + noise(
        rng, t.size, 0.15, 0.03) + 2.4 * step(t, on), "up")
    o.gauge("cost", "cost.usd_per_request", t, 0.004 + noise(rng, t.size, 0.0002), "up")
    o.gauge("quality", "feedback.thumbs_down_ratio", t, 0.06 + noise(rng, t.size, 0.006)
            + 0.02 * step(t, on + 300), "up")
    o.change(on - 4 * H, "prompt", "support-prompt-v12")
    return o.records


def bigger_model_oom(rng: np.random.Generator) -> Records:
    """A larger model no longer fits its GPUs: OOM restarts, pods not ready, errors and
    latency. Infrastructure (the stack broke), culprit the model change."""
    o = Out("chat-vllm")
    t = grid(rng, 30, 6)
    on = 5.1 * H
    o.gauge("infra", "kube_pod_container_status_restarts_rate", t, np.maximum(
        0, 0.01 + noise(rng, t.size, 0.01, 0.01) + 0.6 * step(t, on)), "up")
    o.gauge("infra", "kube_deployment_status_replicas_unavailable", t, np.maximum(
        0, np.round(noise(rng, t.size, 0.2)) + 3 * step(t, on + 60)), "up")
    o.gauge("infra", "DCGM_FI_DEV_FB_USED_ratio", t, np.clip(
        0.7 + noise(rng, t.size, 0.01) + 0.28 * step(t, on - 30), 0, 1), "up")
    n = rng.poisson(300 * daily(t)).astype(float)
    o.ratio("runtime", "http.server.error_ratio", t, n, rng.binomial(
        n.astype(int), 0.003 + 0.05 * step(t, on + 60)).astype(float))
    o.gauge("runtime", "vllm:e2e_request_latency_seconds_p95", t, 4.0 + noise(
        rng, t.size, 0.2, 0.03) + 3.0 * step(t, on + 60), "up")
    o.change(on - 120, "model", "llama-3.1-405b-fp8")
    return o.records


def stale_features_one_segment(rng: np.random.Generator) -> Records:
    """The feature store stops refreshing enterprise accounts: their feature age grows
    past its saw-tooth, their scores drift. Control plane, segment=enterprise."""
    o = Out("fraud-scorer")
    t = grid(rng, 60, 9)
    on = 7.6 * H
    for segment in ("consumer", "smb", "enterprise"):
        moved = segment == "enterprise"
        saw = 120 + (t % 900) * 0.9 + noise(rng, t.size, 15)
        age = np.where((t >= on) & moved, 120 + (t - on), saw)
        o.gauge("freshness", "feature_store.feature_age_seconds", t, age, "up",
                {"segment": segment})
        o.gauge("model", "fraud.score_mean", t, 0.05 + noise(rng, t.size, 0.002)
                + (0.012 * ramp(t, on + 1200, 40) if moved else 0), "both",
                {"segment": segment})
    return o.records


def tiny_tenant_noisy_night(rng: np.random.Generator) -> Records:
    """At night a 0.5 % tenant sends a handful of requests and a few of them fail: its
    error ratio leaps on tiny counts, the service's does not move. None."""
    o = Out("chat-agent")
    t = grid(rng, 60, 10)
    shape = daily(t, 0.15)
    total_n, total_e = np.zeros(t.size), np.zeros(t.size)
    for tenant, volume in (("acme", 300.0), ("globex", 120.0), ("initech", 2.0)):
        n = rng.poisson(volume * shape).astype(float)
        e = rng.binomial(n.astype(int), 0.004).astype(float)
        if tenant == "initech":  # the last quarter hour: a few of its requests fail
            late = t >= t[-1] - 900
            e[late] = np.minimum(n[late], rng.integers(0, 3, late.sum()))
        o.ratio("runtime", "http.server.error_ratio", t, n, e, "up", {"tenant": tenant})
        total_n += n
        total_e += e
    o.ratio("runtime", "http.server.error_ratio", t, total_n, total_e, "up")
    o.gauge("runtime", "http.server.request.duration_p95", t, 1.1 + noise(
        rng, t.size, 0.05, 0.03), "up")
    return o.records


def canary_that_improved(rng: np.random.Generator) -> Records:
    """A ranker canary on 10 % of traffic wins clicks: its ctr goes up, latency is
    flat. None (an improvement on a metric whose bad direction is down)."""
    return _ranker_canary(rng, ctr_change=0.03)
