"""Held-out harder failures: side effects louder or earlier than the cause, slow ramps,
a change of the culprit's kind that moved nothing, correlated slices."""

from __future__ import annotations

import numpy as np

from benchmarks.holdout.kit import H, Out, Records, daily, grid, noise, ramp, step


def expensive_routing_latency_first(rng: np.random.Generator) -> Records:
    """A router config sends traffic to the large model: latency (15 s scrapes) moves
    loudly at once; cost is billed at 5-minute resolution. Cost."""
    o = Out("chat-agent")
    t = grid(rng, 15, 5, jitter=0.2)
    tc = grid(rng, 300, 5, jitter=0.05)
    on = 4.5 * H
    o.gauge("runtime", "gen_ai.client.operation.duration_p95", t,
            1.4 + noise(rng, t.size, 0.06, 0.03) + 1.1 * step(t, on), "up")
    o.gauge("runtime", "http.server.active_requests", t,
            20 + noise(rng, t.size, 2) + 9 * step(t, on), "up")
    o.gauge("cost", "cost.usd_per_request", tc, 0.003 + noise(rng, tc.size, 0.0002)
            + 0.006 * step(tc, on), "up")
    o.gauge("cost", "router.large_model_share", tc, 0.1 + noise(rng, tc.size, 0.01)
            + 0.6 * step(tc, on), "up")
    o.change(on - 90, "config", "router-weights-17")
    return o.records


def language_flood_queue(rng: np.random.Generator) -> Records:
    """A bot floods one segment with long Portuguese prompts: queue depth and latency
    climb (15 s), the language mix moves (5 min). Data, language=pt."""
    o = Out("chat-agent")
    t = grid(rng, 15, 5, jitter=0.2)
    td = grid(rng, 300, 5, jitter=0.05)
    on = 4.4 * H
    o.gauge("runtime", "vllm:num_requests_waiting", t,
            np.maximum(0, 3 + noise(rng, t.size, 1.0, 0.03) + 10 * step(t, on)), "up")
    o.gauge("runtime", "vllm:e2e_request_latency_seconds_p95", t,
            2.5 + noise(rng, t.size, 0.12, 0.03) + 1.5 * step(t, on), "up")
    for lang, share in (("en", 0.7), ("es", 0.2), ("pt", 0.1)):
        extra = 0.45 if lang == "pt" else 0.0
        o.gauge("data", "input.prompt_tokens_mean", td,
                (400 if lang != "pt" else 420) * (1 + noise(rng, td.size, 0.03))
                * (1 + 2.5 * extra * step(td, on) / 0.45), "both", {"language": lang})
        o.gauge("data", "input.request_share", td,
                share + noise(rng, td.size, 0.005) + (extra if lang == "pt" else -extra / 2)
                * step(td, on), "both", {"language": lang})
    return o.records


def stale_index_reembedding(rng: np.random.Generator) -> Records:
    """Re-embedding lags after an index migration: the index age grows slowly, retrieval
    relevance slides, latency a little. Control plane; culprit the retrieval change."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 8)
    on = 6.8 * H
    o.gauge("freshness", "vector_index.last_ingest_age_seconds", t[::5],
            np.where(t[::5] >= on, 900 + (t[::5] - on), 600 + 300 * rng.random(t[::5].size)),
            "up")
    o.gauge("quality", "rag.retrieval_relevance", t, 0.8 + noise(rng, t.size, 0.012)
            - 0.08 * ramp(t, on + 600, 40), "down")
    o.gauge("runtime", "http.server.request.duration_p95", t,
            1.0 + noise(rng, t.size, 0.05, 0.02) + 0.12 * step(t, on), "up")
    o.change(on - 5 * 60, "retrieval", "index-migration-hnsw-v2")
    return o.records


def timeouts_cut_answers(rng: np.random.Generator) -> Records:
    """An upstream tool times out: errors, shorter answers and worse feedback within
    the same scrape. Infrastructure."""
    o = Out("chat-agent")
    t = grid(rng, 30, 5)
    on = 4.6 * H
    n = rng.poisson(300 * daily(t)).astype(float)
    o.ratio("runtime", "gen_ai.client.error_ratio", t, n,
            rng.binomial(n.astype(int), 0.004 + 0.05 * step(t, on)).astype(float))
    o.gauge("model", "gen_ai.response.output_tokens_mean", t,
            280 + noise(rng, t.size, 9) - 80 * step(t, on), "both")
    o.ratio("quality", "feedback.thumbs_down_ratio", t, n,
            rng.binomial(n.astype(int), 0.04 + 0.05 * step(t, on)).astype(float))
    o.gauge("runtime", "http.client.request.duration_p99", t,
            4 + noise(rng, t.size, 0.3) + 6 * step(t, on), "up")
    return o.records


def thermal_throttle_ramp(rng: np.random.Generator) -> Records:
    """A failing fan: GPU temperature ramps over an hour, clocks fall, latency ramps."""
    o = Out("chat-agent")
    t = grid(rng, 30, 7)
    on = 5.8 * H
    o.gauge("infra", "DCGM_FI_DEV_GPU_TEMP", t, 68 + noise(rng, t.size, 1) + 20 * ramp(t, on, 60),
            "up")
    o.gauge("infra", "DCGM_FI_DEV_SM_CLOCK", t, 1980 + noise(rng, t.size, 15)
            - 500 * ramp(t, on + 1200, 40), "down")
    o.gauge("runtime", "vllm:time_per_output_token_seconds_p95", t,
            0.03 + noise(rng, t.size, 0.002) + 0.02 * ramp(t, on + 1200, 40), "up")
    o.gauge("quality", "chat.thumbs_down_ratio", t[::10], 0.05 + noise(rng, t[::10].size, 0.006),
            "up")
    return o.records


def concept_drift_slow(rng: np.random.Generator) -> Records:
    """Fraud patterns change: the model's precision slides over two hours; inputs and
    plumbing are unchanged, no change record. Model."""
    o = Out("fraud-model")
    t = grid(rng, 300, 20, jitter=0.05)
    on = 17.0 * H
    o.gauge("quality", "fraud.precision_at_1pct", t, 0.74 + noise(rng, t.size, 0.015)
            - 0.15 * ramp(t, on, 120), "down")
    o.gauge("model", "fraud.score_mean", t, 0.07 + noise(rng, t.size, 0.004)
            - 0.015 * ramp(t, on, 120), "both")
    o.gauge("data", "feature_mean.transaction_amount", t, 70 * (1 + noise(rng, t.size, 0.03)),
            "both")
    o.gauge("freshness", "feature_store.max_age_seconds", t, 200 + noise(rng, t.size, 20), "up")
    return o.records


def kind_trap_two_prompts(rng: np.random.Generator) -> Records:
    """A prompt change 35 minutes before onset moved nothing; the one 2 minutes before
    made answers refuse (a safety prompt). Eval/policy; culprit the later prompt."""
    o = Out("chat-agent")
    t = grid(rng, 60, 6)
    on = 5.4 * H
    n = rng.poisson(400 * daily(t)).astype(float)
    o.ratio("eval", "guardrail.refusal_ratio", t, n,
            rng.binomial(n.astype(int), 0.02 + 0.1 * ramp(t, on, 8)).astype(float))
    o.ratio("quality", "feedback.thumbs_down_ratio", t, n,
            rng.binomial(n.astype(int), 0.05 + 0.03 * ramp(t, on + 120, 8)).astype(float))
    o.change(on - 35 * 60, "prompt", "sys-prompt-tone-3")
    o.change(on - 2 * 60, "prompt", "safety-preamble-7")
    return o.records


def nightly_job_seen_before(rng: np.random.Generator) -> Records:
    """A nightly batch re-index raises latency from 02:00 to 02:40 every night; the
    alert fires at 02:35 on the second night. None."""
    o = Out("rag-assistant")
    t = grid(rng, 300, 32.6, jitter=0.05)  # 18:00 Monday to 02:35 Wednesday
    hour = (18.0 + t / 3600.0) % 24.0
    job = ((hour >= 2.0) & (hour < 2.67)).astype(float)
    o.gauge("runtime", "http.server.request.duration_p95", t,
            0.9 + noise(rng, t.size, 0.04) + 0.5 * job, "up")
    o.gauge("infra", "node_cpu_utilisation", t, 0.3 * daily(t) + noise(rng, t.size, 0.02)
            + 0.4 * job, "up")
    o.gauge("quality", "rag.groundedness", t, 0.89 + noise(rng, t.size, 0.01), "down")
    return o.records


def vendor_overcalls(rng: np.random.Generator) -> Records:
    """An agent update loops on a tool: tool calls per request and cost climb, latency
    with them. Cost; culprit the prompt change."""
    o = Out("chat-agent")
    t = grid(rng, 60, 6)
    on = 5.3 * H
    o.gauge("cost", "agent.tool_calls_per_request", t, 2.1 + noise(rng, t.size, 0.1)
            + 3.0 * step(t, on), "up")
    o.gauge("cost", "cost.usd_per_request", t, 0.01 + noise(rng, t.size, 0.0006)
            + 0.012 * step(t, on), "up")
    o.gauge("runtime", "http.server.request.duration_p95", t,
            3.0 + noise(rng, t.size, 0.15, 0.02) + 2.5 * step(t, on), "up")
    o.change(on - 4 * 60, "prompt", "agent-planner-v6")
    return o.records


def canary_correlated_region(rng: np.random.Generator) -> Records:
    """The canary v42 is served from eu-west only, at a third of eu-west's traffic; v42
    fails. Model, model_version=v42 (eu-west moves only through it)."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 6)
    on = 5.5 * H
    shape = daily(t)
    cells = {("us-east", "v41"): 500.0, ("eu-west", "v41"): 200.0, ("eu-west", "v42"): 100.0}
    by_version: dict[str, list[np.ndarray]] = {}
    by_region: dict[str, list[np.ndarray]] = {}
    total_n, total_e = np.zeros(t.size), np.zeros(t.size)
    for (region, version), vol in cells.items():
        live = step(t, on) if version == "v42" else 1 - step(t, on) * (region == "eu-west") / 3
        n = rng.poisson(vol * shape * live).astype(float)
        e = rng.binomial(n.astype(int), 0.2 if version == "v42" else 0.05).astype(float)
        for key, table in ((version, by_version), (region, by_region)):
            acc = table.setdefault(key, [np.zeros(t.size), np.zeros(t.size)])
            acc[0] += n
            acc[1] += e
        total_n += n
        total_e += e
    for version, (n, e) in by_version.items():
        o.ratio("quality", "feedback.thumbs_down_ratio", t, n, e, "up", {"model_version": version})
    for region, (n, e) in by_region.items():
        o.ratio("quality", "feedback.thumbs_down_ratio", t, n, e, "up", {"region": region})
    o.ratio("quality", "feedback.thumbs_down_ratio", t, total_n, total_e, "up")
    o.change(on - 120, "model", "v42", previous="v41")
    return o.records
