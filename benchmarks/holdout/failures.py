"""Held-out failures written by hand: one per failure pattern of issue 13's set B."""

from __future__ import annotations

import numpy as np

from benchmarks.holdout.kit import H, Out, Records, daily, grid, noise, ramp, step


def xid_node_loss(rng: np.random.Generator) -> Records:
    """A GPU node throws XID 79 and leaves the pool; the pool is capped, so the queue
    and latency climb. A prompt change two hours earlier moved nothing."""
    o = Out("chat-agent")
    t = grid(rng, 30, 8)
    on = 7.5 * H
    shape = daily(t)
    o.gauge("infra", "DCGM_FI_DEV_XID_ERRORS", t, 79 * ((t >= on) & (t < on + 90)), "up")
    o.gauge("infra", "kube_deployment_status_replicas_available", t, 8 - 2 * step(t, on + 60),
            "down")
    o.gauge("runtime", "vllm:num_requests_waiting", t,
            np.maximum(0, 2 * shape + noise(rng, t.size, 0.8, 0.02) + 14 * ramp(t, on + 60, 10)),
            "up")
    o.gauge("runtime", "vllm:e2e_request_latency_seconds_p95", t,
            3.0 + 0.6 * shape + noise(rng, t.size, 0.15, 0.02) + 4.0 * ramp(t, on + 60, 10), "up")
    o.gauge("quality", "chat.thumbs_down_ratio", t[::4],
            0.05 + noise(rng, t[::4].size, 0.008) + 0.01 * step(t[::4], on + 300), "up")
    o.change(on - 2 * H, "prompt", "sys-prompt-41")
    return o.records


def oom_after_nodepool(rng: np.random.Generator) -> Records:
    """Pods restart with OOM after a node-pool change to smaller machines."""
    o = Out("ranker")
    t = grid(rng, 60, 10)
    on = 9.4 * H
    n = rng.poisson(2000 * daily(t)).astype(float)
    o.gauge("infra", "kube_pod_container_status_restarts_total", t,
            np.cumsum(rng.random(t.size) < 0.25 * step(t, on)), "up")
    o.gauge("infra", "container_memory_working_set_bytes", t,
            6.1e9 + noise(rng, t.size, 1e8) + 1.6e9 * step(t, on - 120), "up")
    o.ratio("runtime", "http.server.request.error_ratio", t, n,
            rng.binomial(n.astype(int), 0.004 + 0.03 * step(t, on)).astype(float))
    o.gauge("quality", "ranking.ndcg_at_10", t[::5], 0.61 + noise(rng, t[::5].size, 0.01), "down")
    o.change(on - 8 * 60, "infra", "nodepool-e2-standard-8")
    o.change(on - 5 * H, "model", "ranker-2026-11-20")
    return o.records


def dependency_timeouts_all_tenants(rng: np.random.Generator) -> Records:
    """The vector database times out for everyone alike; a model change 40 min earlier
    moved nothing. Infrastructure, all traffic, no culprit."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 6)
    on = 5.3 * H
    shape = daily(t)
    vol = {("tenant", "acme"): 300.0, ("tenant", "globex"): 160.0, ("tenant", "initech"): 25.0}
    o.cells(rng, "runtime", "http.client.request.error_ratio", t, vol,
            {k: 0.01 + 0.06 * step(t, on) for k in vol}, shape=shape)
    o.gauge("runtime", "http.client.request.duration_p99", t,
            0.25 + noise(rng, t.size, 0.02, 0.03) + 0.9 * step(t, on), "up")
    o.gauge("quality", "rag.retrieval_relevance", t,
            0.82 + noise(rng, t.size, 0.015) - 0.03 * step(t, on + 120), "down")
    o.change(on - 40 * 60, "model", "gpt-4.1-mini-2026-11")
    return o.records


def unit_change_one_tenant(rng: np.random.Generator) -> Records:
    """An upstream starts sending amounts in cents for tenant umbrella: the feature's
    mean jumps x100 there, the score distribution shifts there. Data, tenant=umbrella."""
    o = Out("fraud-model")
    t = grid(rng, 300, 24, jitter=0.05)
    on = 23.0 * H
    for tenant, amount, vol in (("umbrella", 82.0, 400), ("wayne", 64.0, 900),
                                ("stark", 120.0, 300)):
        scale = 100.0 if tenant == "umbrella" else 1.0
        o.gauge("data", "feature_mean.transaction_amount", t,
                amount * (1 + noise(rng, t.size, 0.04)) * np.where(t >= on, scale, 1.0), "both",
                {"tenant": tenant})
        o.gauge("model", "fraud.score_mean", t,
                0.08 + noise(rng, t.size, 0.006) + (0.2 * step(t, on + 300) if scale > 1 else 0),
                "both", {"tenant": tenant})
        n = rng.poisson(vol * daily(t)).astype(float)
        o.ratio("quality", "fraud.manual_review_overturn_ratio", t, n,
                rng.binomial(n.astype(int), 0.1 + (0.08 * step(t, on + 600) if scale > 1 else 0))
                .astype(float), "up", {"tenant": tenant})
    return o.records


def broken_join(rng: np.random.Generator) -> Records:
    """A feature-pipeline release breaks a join: nulls, then predictions, then quality."""
    o = Out("fraud-model")
    t = grid(rng, 120, 12)
    on = 11.2 * H
    n = rng.poisson(3000 * daily(t)).astype(float)
    o.ratio("data", "feature.merchant_category.null_ratio", t, n,
            rng.binomial(n.astype(int), 0.002 + 0.35 * step(t, on)).astype(float))
    o.gauge("model", "fraud.score_p50", t, 0.05 + noise(rng, t.size, 0.004)
            + 0.03 * step(t, on + 240), "both")
    o.gauge("quality", "fraud.precision_at_1pct", t[::3], 0.72 + noise(rng, t[::3].size, 0.02)
            - 0.12 * step(t[::3], on + 900), "down")
    o.gauge("runtime", "http.server.request.duration_p95", t,
            0.09 + noise(rng, t.size, 0.005), "up")
    o.change(on - 6 * 60, "features", "merchant-join-v3")
    return o.records


def slow_input_drift(rng: np.random.Generator) -> Records:
    """Queries drift over 100 minutes (a new client app); quality slides late. Data."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 9)
    on = 6.6 * H
    o.gauge("data", "input.query_length_tokens_mean", t,
            38 + noise(rng, t.size, 1.5, 0.01) + 30 * ramp(t, on, 100), "both")
    o.gauge("data", "input.language_share_en", t,
            0.91 + noise(rng, t.size, 0.01) - 0.25 * ramp(t, on, 100), "down")
    o.gauge("quality", "rag.groundedness", t,
            0.88 + noise(rng, t.size, 0.01) - 0.06 * ramp(t, on + 50 * 60, 80), "down")
    o.gauge("runtime", "http.server.request.duration_p95", t,
            1.1 + noise(rng, t.size, 0.05, 0.02) + 0.1 * ramp(t, on, 100), "up")
    return o.records


def feature_store_stall(rng: np.random.Generator) -> Records:
    """Feature freshness is a saw-tooth (a 10-minute batch); the batch stalls and the
    age keeps growing; scores go stale. Control plane, no culprit."""
    o = Out("ranker")
    t = grid(rng, 15, 5, jitter=0.2, missed=0.05)
    on = 4.4 * H
    age = t % 600.0
    age = np.where(t >= on, (on % 600.0) + (t - on), age)
    o.gauge("freshness", "feast_feature_view_staleness_seconds", t, age + noise(rng, t.size, 3),
            "up")
    o.gauge("quality", "ranking.ctr", t[::8], 0.041 + noise(rng, t[::8].size, 0.002)
            - 0.006 * step(t[::8], on + 1200), "down")
    o.gauge("runtime", "http.server.request.duration_p95", t, 0.05 + noise(rng, t.size, 0.004),
            "up")
    return o.records


def template_mismatch_route(rng: np.random.Generator) -> Records:
    """A prompt-template release no longer matches on route=extract: failures there."""
    o = Out("chat-agent")
    t = grid(rng, 60, 6)
    on = 5.5 * H
    vol = {("route", "chat"): 500.0, ("route", "extract"): 120.0, ("route", "summarise"): 200.0}
    o.cells(rng, "control", "prompt.template_fallback_ratio", t, vol,
            {k: 0.002 + (0.4 * step(t, on) if k[1] == "extract" else 0) for k in vol},
            shape=daily(t))
    o.cells(rng, "quality", "feedback.thumbs_down_ratio", t, vol,
            {k: 0.04 + (0.12 * step(t, on + 60) if k[1] == "extract" else 0) for k in vol},
            shape=daily(t))
    o.change(on - 4 * 60, "prompt", "templates-2026.11.3")
    o.change(on - 3 * H, "code", "api-gw-1.42")
    return o.records


def misrouting_after_model_change(rng: np.random.Generator) -> Records:
    """A model change renames a deployment; the router sends a third of traffic to the
    fallback pool. Control plane; the culprit is the model change."""
    o = Out("chat-agent")
    t = grid(rng, 30, 6)
    on = 5.6 * H
    n = rng.poisson(400 * daily(t)).astype(float)
    o.ratio("control", "router.fallback_route_ratio", t, n,
            rng.binomial(n.astype(int), 0.01 + 0.3 * step(t, on)).astype(float))
    o.gauge("model", "gen_ai.response.output_tokens_mean", t,
            240 + noise(rng, t.size, 8) - 30 * step(t, on), "both")
    o.gauge("quality", "chat.resolution_rate", t[::4], 0.7 + noise(rng, t[::4].size, 0.015)
            - 0.05 * step(t[::4], on + 120), "down")
    o.change(on - 3 * 60, "model", "claude-haiku-4.5-deploy")
    return o.records


def region_missed_deploy(rng: np.random.Generator) -> Records:
    """A release rolls out everywhere but ap-south, whose served config stays old and
    whose answers now fail schema checks. Control plane, region=ap-south."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 6)
    on = 5.4 * H
    vol = {("region", "us-east"): 500.0, ("region", "eu-west"): 300.0,
           ("region", "ap-south"): 90.0}
    o.cells(rng, "quality", "output.schema_violation_ratio", t, vol,
            {k: 0.003 + (0.2 * step(t, on) if k[1] == "ap-south" else 0) for k in vol},
            shape=daily(t))
    tt = t[::5]
    for region in ("us-east", "eu-west", "ap-south"):
        served = ["cfg-88" if (ti >= on - 120 and region != "ap-south") else "cfg-87"
                  for ti in tt]
        expected = ["cfg-88" if ti >= on - 120 else "cfg-87" for ti in tt]
        o.state("control", "served_config_version", tt, served, expected, {"region": region})
    o.change(on - 2 * 60, "code", "rel-2026-11-23.2")
    return o.records


def canary_regression(rng: np.random.Generator) -> Records:
    """A new model version takes 10 % of traffic at onset and answers worse there."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 6)
    on = 5.5 * H
    shape = daily(t)
    total_n, total_e = np.zeros(t.size), np.zeros(t.size)
    for version, share, p in (("v41", 1.0, 0.05), ("v42", 0.0, 0.17)):
        s = np.where(t >= on, 0.9 if version == "v41" else 0.1, share)
        n = rng.poisson(600 * shape * s).astype(float)
        e = rng.binomial(n.astype(int), p).astype(float)
        o.ratio("quality", "feedback.thumbs_down_ratio", t, n, e, "up",
                {"model_version": version})
        total_n += n
        total_e += e
    o.ratio("quality", "feedback.thumbs_down_ratio", t, total_n, total_e, "up")
    o.gauge("model", "gen_ai.response.output_tokens_mean", t,
            260 + noise(rng, t.size, 6) + 12 * step(t, on), "both")
    o.change(on - 90, "model", "v42", previous="v41", description="canary 10%")
    return o.records


def silent_hosted_update(rng: np.random.Generator) -> Records:
    """The hosted model changes under the same name: longer answers, lower judge-free
    quality, no change record. Model, all traffic, no culprit."""
    o = Out("chat-agent")
    t = grid(rng, 120, 12)
    on = 10.8 * H
    o.gauge("model", "gen_ai.response.output_tokens_mean", t,
            210 + noise(rng, t.size, 7) + 70 * step(t, on), "both")
    o.gauge("model", "gen_ai.response.finish_reason_length_ratio", t,
            0.02 + noise(rng, t.size, 0.004) + 0.04 * step(t, on), "up")
    o.gauge("quality", "chat.thumbs_up_ratio", t, 0.62 + noise(rng, t.size, 0.015)
            - 0.07 * step(t, on + 600), "down")
    o.gauge("runtime", "gen_ai.client.operation.duration_p95", t,
            2.4 + noise(rng, t.size, 0.1, 0.02) + 0.3 * step(t, on), "up")
    o.change(on - 6 * H, "config", "rate-limit-raise")
    return o.records


def quantised_cheaper_worse(rng: np.random.Generator) -> Records:
    """A quantised model is rolled out: cost per request falls, quality falls. Model."""
    o = Out("rag-assistant")
    t = grid(rng, 300, 20, jitter=0.05)
    on = 18.5 * H
    o.gauge("cost", "cost.usd_per_1k_requests", t, 1.9 + noise(rng, t.size, 0.05)
            - 0.8 * step(t, on), "up")
    o.gauge("quality", "rag.groundedness", t, 0.89 + noise(rng, t.size, 0.008)
            - 0.07 * step(t, on + 300), "down")
    o.gauge("model", "gen_ai.response.output_tokens_mean", t, 300 + noise(rng, t.size, 8)
            - 25 * step(t, on), "both")
    o.change(on - 4 * 60, "model", "llama-3.3-70b-awq", previous="llama-3.3-70b-fp16")
    return o.records


def guardrail_threshold(rng: np.random.Generator) -> Records:
    """A toxicity threshold is tightened: blocks jump, users complain. Eval/policy."""
    o = Out("chat-agent")
    t = grid(rng, 60, 8)
    on = 7.4 * H
    n = rng.poisson(500 * daily(t)).astype(float)
    o.ratio("eval", "guardrail.block_ratio", t, n,
            rng.binomial(n.astype(int), 0.01 + 0.09 * step(t, on)).astype(float))
    o.ratio("quality", "feedback.thumbs_down_ratio", t, n,
            rng.binomial(n.astype(int), 0.05 + 0.03 * step(t, on + 120)).astype(float))
    o.gauge("runtime", "http.server.request.duration_p95", t,
            1.2 + noise(rng, t.size, 0.06, 0.02), "up")
    o.change(on - 5 * 60, "threshold", "toxicity-0.5-to-0.3")
    return o.records


def judge_swap(rng: np.random.Generator) -> Records:
    """The LLM judge is swapped for a cheaper one: only the judge score moves."""
    o = Out("rag-assistant")
    t = grid(rng, 300, 16, jitter=0.05)
    on = 15.0 * H
    o.gauge("eval", "eval.judge_faithfulness_score", t,
            0.84 + noise(rng, t.size, 0.01) - 0.14 * step(t, on), "down")
    o.gauge("quality", "feedback.thumbs_up_ratio", t, 0.66 + noise(rng, t.size, 0.015), "down")
    o.gauge("runtime", "http.server.request.duration_p95", t,
            1.0 + noise(rng, t.size, 0.05), "up")
    o.change(on - 7 * 60, "config", "judge-gpt-4.1-to-mini")
    return o.records


def prompt_bloat(rng: np.random.Generator) -> Records:
    """A system prompt grows threefold: input tokens and cost per request, latency a bit."""
    o = Out("chat-agent")
    t = grid(rng, 60, 6)
    on = 5.2 * H
    o.gauge("cost", "gen_ai.client.token.usage.input_mean", t,
            1100 + noise(rng, t.size, 40) + 2200 * step(t, on), "up")
    o.gauge("cost", "cost.usd_per_request", t, 0.004 + noise(rng, t.size, 0.0002)
            + 0.007 * step(t, on), "up")
    o.gauge("runtime", "gen_ai.client.operation.duration_p95", t,
            2.1 + noise(rng, t.size, 0.08, 0.02) + 0.5 * step(t, on), "up")
    o.gauge("quality", "chat.resolution_rate", t, 0.71 + noise(rng, t.size, 0.015), "down")
    o.change(on - 3 * 60, "prompt", "system-prompt-v19")
    return o.records


def cache_hit_collapse(rng: np.random.Generator) -> Records:
    """A config change drops the prompt-cache key prefix: hit rate collapses, billed
    tokens and cost rise. Cost."""
    o = Out("rag-assistant")
    t = grid(rng, 30, 6)
    on = 5.5 * H
    o.gauge("cost", "gen_ai.prompt_cache.hit_rate", t, 0.62 + noise(rng, t.size, 0.02)
            - 0.5 * step(t, on), "down")
    o.gauge("cost", "cost.usd_per_hour", t, (14 + noise(rng, t.size, 0.8)) * daily(t)
            * (1 + 0.9 * step(t, on)), "up")
    o.gauge("runtime", "gen_ai.client.operation.duration_p95", t,
            1.8 + noise(rng, t.size, 0.07) + 0.15 * step(t, on), "up")
    o.change(on - 2 * 60, "config", "cache-key-v2")
    return o.records


def spot_repricing(rng: np.random.Generator) -> Records:
    """Spot GPUs are repriced: $ per GPU hour rises, nothing else moves. Cost, no culprit."""
    o = Out("ranker")
    t = grid(rng, 300, 24, jitter=0.05)
    on = 22.5 * H
    o.gauge("cost", "cloud.gpu_usd_per_hour", t, 1.1 + noise(rng, t.size, 0.02)
            + 0.9 * step(t, on), "up")
    o.gauge("infra", "DCGM_FI_DEV_GPU_UTIL", t, 55 * daily(t) + noise(rng, t.size, 3), "down")
    o.gauge("quality", "ranking.ndcg_at_10", t, 0.6 + noise(rng, t.size, 0.01), "down")
    return o.records
