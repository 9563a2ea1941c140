"""A third held-out set, written by hand on 2 December 2026 at 00:05 UTC, before the
night's diagnosis changes were merged, and scored before and after them.

It leans on what the first two sets draw least: coarse series (30-minute and hourly
aggregates, a business metric computed once an hour), a week of history with its
weekend, idle services whose metrics sit at exactly zero, very low night traffic,
culprits of a kind one would not guess (a guardrail *model* behind an eval/policy
failure), a slow leak whose harm comes hours after its cause, and a setting that
only bites at the afternoon peak. Labels follow DESIGN.md's failure classes. Nothing
is fitted or tuned on these.
"""

from __future__ import annotations

import numpy as np

from benchmarks.holdout.kit import H, Out, Records, daily, grid, noise, ramp, step


def weekdays(t: np.ndarray, weekend: float = 0.45) -> np.ndarray:
    """1 on weekdays, ``weekend`` on Saturday and Sunday (the kit's T0 is a Monday 18:00)."""
    day = np.floor((18.0 + t / H) / 24.0) % 7
    return np.where(day >= 5, weekend, 1.0)


def hourly_unit_change(rng: np.random.Generator) -> Records:
    """An upstream sends part of the amounts in cents: the hourly batch's feature mean
    jumps about 30x, the score mean follows at the next run. Hourly series over 30 h.
    Data; no change record."""
    o = Out("credit-batch")
    t = grid(rng, H, 30, jitter=0.02, missed=0.0)
    on = 27.0 * H
    o.gauge("data", "batch.feature_mean.loan_amount", t, 5200 * (
        1 + noise(rng, t.size, 0.03)) * (1 + 29 * 0.3 * step(t, on)), "both")
    o.gauge("data", "batch.null_ratio.income", t, np.clip(
        0.011 + noise(rng, t.size, 0.002), 0, 1), "up")
    o.gauge("model", "batch.score_mean", t, 0.21 + noise(rng, t.size, 0.006)
            + 0.09 * step(t, on + H), "both")
    o.gauge("runtime", "batch.duration_seconds", t, 840 + noise(rng, t.size, 40), "up")
    return o.records


def reembedding_backlog(rng: np.random.Generator) -> Records:
    """A new embedding model is rolled out and the index re-embeds behind it: the
    index's age and the re-embedding queue grow on 5-minute scrapes, relevance falls
    half an hour later. Control plane; culprit the embedder (a model change)."""
    o = Out("docs-search")
    t = grid(rng, 300, 10, jitter=0.05)
    on = 8.0 * H
    o.gauge("freshness", "vector_index.age_seconds", t, np.maximum(
        60, 300 + noise(rng, t.size, 60) + np.maximum(0, t - on) * 0.9), "up")
    o.gauge("control", "reembed.queue_depth", t, np.maximum(
        0, 40 + noise(rng, t.size, 15) + 5200 * ramp(t, on, 40)), "up")
    o.gauge("quality", "rag.retrieval_relevance", t, 0.81 + noise(rng, t.size, 0.012)
            - 0.09 * ramp(t, on + 1800, 30), "down")
    o.gauge("runtime", "http.server.request.duration_p95", t, 0.6 + noise(
        rng, t.size, 0.04, 0.03), "up")
    o.change(on - 10 * 60, "model", "embedder-e5-large-v3")
    o.change(on - 3.5 * H, "prompt", "answer-style-v7")
    return o.records


def pcie_errors_one_zone(rng: np.random.Generator) -> Records:
    """GPUs in one zone log PCIe replays and slow down: that zone's token rate falls
    and its latency rises (15 s scrapes); the other zones are as before.
    Infrastructure, zone=us-east1-b; no change."""
    o = Out("chat-vllm")
    t = grid(rng, 15, 4, jitter=0.3, missed=0.03)
    on = 3.1 * H
    load = daily(t)
    for zone in ("us-east1-b", "us-east1-c", "us-east1-d"):
        bad = zone == "us-east1-b"
        o.gauge("infra", "DCGM_FI_PROF_PCIE_REPLAY_COUNTER_rate", t, np.maximum(
            0, noise(rng, t.size, 0.2, 0.01) + (30 * step(t, on) if bad else 0)), "up",
            {"zone": zone})
        o.gauge("runtime", "vllm:generation_tokens_per_second", t, 2400 * (
            1 + noise(rng, t.size, 0.04)) * (1 - (0.35 * step(t, on) if bad else 0)), "down",
            {"zone": zone})
        o.gauge("runtime", "vllm:e2e_request_latency_seconds_p95", t, 2.6 + 0.4 * load
                + noise(rng, t.size, 0.12, 0.02) + (1.5 * step(t, on) if bad else 0), "up",
                {"zone": zone})
    o.gauge("runtime", "vllm:e2e_request_latency_seconds_p95", t, 2.6 + 0.4 * load
            + noise(rng, t.size, 0.08, 0.02) + 0.5 * step(t, on), "up")
    return o.records


def guardrail_model_update(rng: np.random.Generator) -> Records:
    """A new version of the guardrail classifier blocks three times as many answers;
    thumbs-down creep up later; a prompt change three hours before moved nothing.
    Eval/policy; culprit the guardrail model (a model change)."""
    o = Out("support-bot")
    t = grid(rng, 300, 9, jitter=0.05)
    on = 7.4 * H
    n = rng.poisson(1500 * daily(t)).astype(float)
    o.ratio("eval", "guardrail.block_ratio", t, n, rng.binomial(
        n.astype(int), 0.02 + 0.045 * step(t, on)).astype(float))
    o.ratio("quality", "feedback.thumbs_down_ratio", t, n, rng.binomial(
        n.astype(int), 0.05 + 0.012 * step(t, on + 1800)).astype(float))
    o.gauge("model", "gen_ai.response.output_tokens_mean", t, 210 + noise(rng, t.size, 7),
            "both")
    o.change(on - 8 * 60, "model", "guard-classifier-v5")
    o.change(on - 3 * H, "prompt", "support-prompt-v13")
    return o.records


def judge_rubric_prompt(rng: np.random.Generator) -> Records:
    """The LLM judge's rubric prompt is rewritten: its scores fall by a sixth at once;
    users' feedback and the answers themselves do not move (30-minute eval batches).
    Eval/policy; culprit the judge's prompt."""
    o = Out("rag-assistant")
    te = grid(rng, 1800, 20, jitter=0.02, missed=0.0)
    t = grid(rng, 60, 20)
    on = 17.0 * H
    o.gauge("eval", "llm_judge.helpfulness_score", te, 4.1 + noise(rng, te.size, 0.06)
            - 0.7 * step(te, on), "down")
    o.gauge("eval", "llm_judge.faithfulness_score", te, 4.3 + noise(rng, te.size, 0.05)
            - 0.6 * step(te, on), "down")
    n = rng.poisson(300 * daily(t)).astype(float)
    o.ratio("quality", "feedback.thumbs_down_ratio", t, n, rng.binomial(
        n.astype(int), 0.05).astype(float))
    o.gauge("model", "gen_ai.response.output_tokens_mean", t, 380 + noise(rng, t.size, 12),
            "both")
    o.change(on - 20 * 60, "prompt", "judge-rubric-v9")
    return o.records


def reasoning_effort_high(rng: np.random.Generator) -> Records:
    """A default of reasoning effort "high": output tokens and dollars per request
    triple, and latency climbs with them (louder in seconds than in dollars); answers
    are as good. Cost; culprit the config change."""
    o = Out("agent-api")
    t = grid(rng, 60, 7)
    on = 5.6 * H
    o.gauge("cost", "gen_ai.usage.output_tokens_mean", t, 700 + noise(rng, t.size, 30)
            + 1500 * step(t, on), "up")
    o.gauge("cost", "cost.usd_per_request", t, 0.018 + noise(rng, t.size, 0.0008)
            + 0.03 * step(t, on), "up")
    o.gauge("runtime", "gen_ai.client.operation.duration_p95", t, 6.0 + noise(
        rng, t.size, 0.3, 0.03) + 11.0 * step(t, on), "up")
    o.gauge("quality", "agent.task_success_ratio", t, 0.83 + noise(rng, t.size, 0.015), "down")
    o.change(on - 12 * 60, "config", "reasoning-effort-default-high")
    return o.records


def ranker_rollout_hourly_ctr(rng: np.random.Generator) -> Records:
    """A new ranker goes to all traffic; click-through, computed once an hour with its
    daily cycle, falls by a tenth from the next hour; latency is flat. Model; culprit
    the rollout."""
    o = Out("feed-ranker")
    tc = grid(rng, H, 30, jitter=0.02, missed=0.0)
    t = grid(rng, 60, 30, missed=0.02)
    on = 26.3 * H
    n = rng.poisson(40000 * daily(tc, 0.2)).astype(float)
    p = (0.042 + 0.008 * (daily(tc, 0.2) - 0.6)) * (1 - 0.11 * step(tc, on + 0.7 * H))
    o.ratio("quality", "feed.click_through_ratio", tc, n, rng.binomial(
        n.astype(int), p).astype(float), "down")
    o.gauge("model", "ranker.score_mean", t, 0.31 + noise(rng, t.size, 0.004)
            - 0.02 * step(t, on), "both")
    o.gauge("runtime", "http.server.request.duration_p95", t, 0.09 + noise(
        rng, t.size, 0.005, 0.02), "up")
    o.change(on - 5 * 60, "model", "feed-ranker-v31")
    return o.records


def null_burst_one_tenant(rng: np.random.Generator) -> Records:
    """One tenant's integration starts sending empty fields: its null ratio goes from 1 %
    to 30 %, its scores shift; the others are as before. Data, tenant=hooli; no change."""
    o = Out("fraud-scorer")
    t = grid(rng, 60, 8)
    on = 6.5 * H
    shape = daily(t, 0.3)
    vol = {("tenant", "hooli"): 90.0, ("tenant", "piedpiper"): 400.0,
           ("tenant", "aviato"): 250.0}
    o.cells(rng, "data", "features.null_ratio.device_id", t, vol,
            {k: 0.01 + (0.29 * step(t, on) if k[1] == "hooli" else 0) for k in vol},
            shape=shape)
    for _, tenant in vol:
        moved = tenant == "hooli"
        o.gauge("model", "fraud.score_mean", t, 0.07 + noise(rng, t.size, 0.004)
                + (0.03 * step(t, on + 120) if moved else 0), "both", {"tenant": tenant})
    o.gauge("model", "fraud.score_mean", t, 0.07 + noise(rng, t.size, 0.003)
            + 0.004 * step(t, on + 120), "both")
    return o.records


def replica_cap_at_peak(rng: np.random.Generator) -> Records:
    """The autoscaler's maximum is cut from 12 to 8 at 08:30; nothing moves until the
    late morning's traffic needs more: replicas sit at the cap, the queue and the
    latency climb towards the afternoon peak. Infrastructure; culprit the config
    change, about an hour before the first harm."""
    o = Out("chat-vllm")
    t = grid(rng, 30, 22, missed=0.02)
    cut = 14.5 * H
    load = daily(t, 0.3)
    need = np.ceil(11.5 * load + noise(rng, t.size, 0.3))
    cap = np.where(t >= cut, 8.0, 12.0)
    replicas = np.minimum(need, cap)
    short = np.maximum(0.0, need - cap)
    o.gauge("infra", "kube_deployment_status_replicas_available", t, replicas, "down")
    o.gauge("runtime", "vllm:num_requests_waiting", t, np.maximum(
        0, 1.5 * load + noise(rng, t.size, 0.6, 0.02) + 6.0 * short), "up")
    o.gauge("runtime", "vllm:e2e_request_latency_seconds_p95", t, 2.8 + 0.5 * load
            + noise(rng, t.size, 0.12, 0.02) + 1.6 * short, "up")
    o.change(cut - 5 * 60, "config", "hpa-max-replicas-8")
    return o.records


def memory_leak_restarts(rng: np.random.Generator) -> Records:
    """A release leaks memory: the working set climbs for hours, then pods are OOM-killed
    every forty minutes and each restart is a burst of errors. Infrastructure; culprit
    the release, which started the climb six hours before the first kill."""
    o = Out("ranker")
    t = grid(rng, 60, 14)
    release = 6.0 * H
    base = 3.0e9 + noise(rng, t.size, 4e7)
    since = np.maximum(0.0, t - release)
    first_kill = 6 * H
    cycle = np.where(since < first_kill, since, first_kill - 2400 + (since - first_kill) % 2400)
    o.gauge("infra", "container_memory_working_set_bytes", t, base + cycle * 1.4e5, "up")
    killed = (since >= first_kill) & ((since - first_kill) % 2400 < 120)
    o.gauge("infra", "kube_pod_container_status_restarts_rate", t, np.maximum(
        0, noise(rng, t.size, 0.01, 0.01) + 1.0 * killed), "up")
    n = rng.poisson(900 * daily(t)).astype(float)
    o.ratio("runtime", "http.server.error_ratio", t, n, rng.binomial(
        n.astype(int), 0.002 + 0.08 * killed).astype(float))
    o.change(release - 3 * 60, "code", "ranker-api-2026.11.24")
    return o.records


def premium_misrouted_to_small(rng: np.random.Generator) -> Records:
    """A feature flag sends premium users to the small model: the served model of that
    segment no longer matches the expected one, its answers get worse and cheaper.
    Control plane, segment=premium; culprit the flag."""
    o = Out("chat-agent")
    t = grid(rng, 60, 7)
    on = 5.8 * H
    for segment in ("premium", "standard", "free"):
        moved = segment == "premium"
        served = ["small-8b" if (moved and x >= on) else
                  ("large-70b" if segment != "free" else "small-8b") for x in t]
        expected = ["large-70b" if segment != "free" else "small-8b" for _ in t]
        o.state("control", "served_model", t, served, expected, {"segment": segment})
        o.gauge("quality", "agent.task_success_ratio", t, (0.86 if segment != "free" else 0.74)
                + noise(rng, t.size, 0.015) - (0.1 * step(t, on + 300) if moved else 0),
                "down", {"segment": segment})
    o.gauge("cost", "cost.usd_per_request", t, 0.012 + noise(rng, t.size, 0.0005)
            - 0.003 * step(t, on), "up")
    o.change(on - 6 * 60, "config", "flag-premium-routing-experiment")
    return o.records


def vendor_price_rise(rng: np.random.Generator) -> Records:
    """The model vendor raises its price: dollars per request up 40 % with tokens flat,
    billed in 30-minute batches; no change record. Cost; no culprit."""
    o = Out("support-bot")
    tb = grid(rng, 1800, 16, jitter=0.02, missed=0.0)
    t = grid(rng, 60, 16)
    on = 14.0 * H
    o.gauge("cost", "billing.usd_per_request", tb, 0.009 + noise(rng, tb.size, 0.0003)
            + 0.0036 * step(tb, on), "up")
    o.gauge("cost", "gen_ai.usage.input_tokens_mean", t, 1400 + noise(rng, t.size, 50), "up")
    o.gauge("runtime", "gen_ai.client.operation.duration_p95", t, 3.1 + noise(
        rng, t.size, 0.15, 0.03), "up")
    o.change(on - 5 * H, "prompt", "support-prompt-v14")
    return o.records


def weekday_morning_ramp(rng: np.random.Generator) -> Records:
    """A week of hourly history: Tuesday morning's traffic, queue and latency climb as on
    every weekday, well above the weekend just gone. None."""
    o = Out("ranker")
    t = grid(rng, H, 7 * 24 + 14.5, jitter=0.02, missed=0.01)
    load = daily(t, 0.25) * weekdays(t)
    n = rng.poisson(60000 * load).astype(float)
    o.gauge("runtime", "http.server.requests_per_second", t, n / 3600.0, "both")
    o.gauge("runtime", "http.server.request.duration_p95", t, 0.08 + 0.05 * load + noise(
        rng, t.size, 0.004, 0.02), "up")
    o.gauge("infra", "kube_deployment_status_replicas_available", t, np.ceil(
        2 + 10 * load), "down")
    o.ratio("runtime", "http.server.error_ratio", t, n, rng.binomial(
        n.astype(int), 0.002).astype(float))
    return o.records


def idle_batch_wakes(rng: np.random.Generator) -> Records:
    """An internal scorer sits idle at exactly zero all night, then its morning batch
    starts at 06:00 as every day: requests, latency and GPU use jump from nothing.
    History covers the day before. None."""
    o = Out("embed-batch")
    t = grid(rng, 60, 36.5, jitter=0.05, missed=0.0)
    hour = (18.0 + t / H) % 24.0
    running = (hour >= 6.0) & (hour < 10.0)
    o.gauge("runtime", "http.server.requests_per_second", t, np.where(
        running, 45 + noise(rng, t.size, 3), 0.0), "both")
    o.gauge("runtime", "http.server.request.duration_p95", t, np.where(
        running, 0.35 + noise(rng, t.size, 0.02, 0.02), 0.0), "up")
    o.gauge("infra", "DCGM_FI_DEV_GPU_UTIL", t, np.where(
        running, 85 + noise(rng, t.size, 3), 0.0), "both")
    return o.records


def thin_night_latency(rng: np.random.Generator) -> Records:
    """At four in the morning a few dozen requests a minute arrive; the p95 of so few is
    wild and runs high, as every night; the error ratio on tiny counts leaps about.
    None."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 10.2)
    load = daily(t, 0.03)
    n = rng.poisson(600 * load).astype(float)
    sd = 0.08 / np.sqrt(np.maximum(load, 0.03))
    o.gauge("runtime", "http.server.request.duration_p95", t, 1.4 + 0.6 * (1 - load)
            + rng.normal(0, 1, t.size) * sd * 0.5, "up")
    o.ratio("runtime", "http.server.error_ratio", t, n, rng.binomial(
        n.astype(int), 0.003).astype(float))
    o.gauge("quality", "rag.groundedness", t[::5], 0.87 + noise(rng, t[::5].size, 0.01), "down")
    return o.records
