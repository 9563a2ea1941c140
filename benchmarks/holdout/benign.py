"""Held-out benign cases (truth ``none``): what a pager should not be woken for."""

from __future__ import annotations

import numpy as np

from benchmarks.holdout.kit import H, Out, Records, daily, grid, noise, ramp, step


def recovered_transient(rng: np.random.Generator) -> Records:
    """A 4-minute latency spike 40 minutes ago, since back to normal."""
    o = Out("chat-agent")
    t = grid(rng, 15, 4, jitter=0.2)
    end = 4 * H
    blip = step(t, end - 40 * 60, end - 36 * 60)
    o.gauge("runtime", "vllm:e2e_request_latency_seconds_p95", t,
            3.0 + noise(rng, t.size, 0.15, 0.02) + 5 * blip, "up")
    o.gauge("runtime", "vllm:num_requests_waiting", t,
            np.maximum(0, 2 + noise(rng, t.size, 0.7) + 12 * blip), "up")
    o.gauge("quality", "chat.thumbs_down_ratio", t[::8], 0.05 + noise(rng, t[::8].size, 0.006),
            "up")
    return o.records


def absorbed_surge(rng: np.random.Generator) -> Records:
    """Traffic doubles; the autoscaler adds replicas; latency and errors hold."""
    o = Out("rag-assistant")
    t = grid(rng, 30, 6)
    on = 5.3 * H
    load = daily(t) * (1 + 1.0 * ramp(t, on, 5))
    o.gauge("runtime", "http.server.request.rate", t, 80 * load + noise(rng, t.size, 3), "both")
    o.gauge("infra", "kube_deployment_status_replicas_available", t,
            np.ceil(4 * load), "both")
    n = rng.poisson(40 * load).astype(float)
    o.ratio("runtime", "http.server.request.error_ratio", t, n,
            rng.binomial(n.astype(int), 0.006).astype(float))
    o.gauge("runtime", "http.server.request.duration_p95", t,
            0.9 + noise(rng, t.size, 0.05, 0.02) + 0.05 * ramp(t, on, 3)
            * (1 - ramp(t, on + 300, 5)), "up")
    return o.records


def healthy_canary(rng: np.random.Generator) -> Records:
    """A canary takes 5 % of traffic and does as well as the rest."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 6)
    on = 5.5 * H
    total_n, total_e = np.zeros(t.size), np.zeros(t.size)
    for version in ("v41", "v42"):
        share = np.where(t >= on, 0.95 if version == "v41" else 0.05,
                         1.0 if version == "v41" else 0.0)
        n = rng.poisson(600 * daily(t) * share).astype(float)
        e = rng.binomial(n.astype(int), 0.05).astype(float)
        o.ratio("quality", "feedback.thumbs_down_ratio", t, n, e, "up",
                {"model_version": version})
        total_n += n
        total_e += e
    o.ratio("quality", "feedback.thumbs_down_ratio", t, total_n, total_e, "up")
    o.change(on - 60, "model", "v42", previous="v41", description="canary 5%")
    return o.records


def noisy_night(rng: np.random.Generator) -> Records:
    """At 04:00 traffic is a tenth of the day's; the error ratio is noisy, not worse."""
    o = Out("chat-agent")
    t = grid(rng, 60, 10)  # 18:00 to 04:00
    n = rng.poisson(300 * daily(t, low=0.03)).astype(float)
    o.ratio("runtime", "http.server.request.error_ratio", t, n,
            rng.binomial(n.astype(int), 0.01).astype(float))
    o.ratio("quality", "feedback.thumbs_down_ratio", t, n,
            rng.binomial(n.astype(int), 0.05).astype(float))
    o.gauge("runtime", "http.server.request.duration_p95", t,
            1.0 + noise(rng, t.size, 0.05) + 0.2 * rng.standard_t(3, t.size) * 0.1, "up")
    return o.records


def benign_deploy(rng: np.random.Generator) -> Records:
    """A code release goes out and nothing moves."""
    o = Out("ranker")
    t = grid(rng, 60, 6)
    on = 5.5 * H
    o.gauge("runtime", "http.server.request.duration_p95", t,
            0.08 + noise(rng, t.size, 0.005, 0.02), "up")
    o.gauge("quality", "ranking.ctr", t, 0.04 + noise(rng, t.size, 0.002), "down")
    o.gauge("model", "ranker.score_mean", t, 0.3 + noise(rng, t.size, 0.01), "both")
    o.change(on - 60, "code", "ranker-svc-3.8.1")
    return o.records


def improvement_two_sided(rng: np.random.Generator) -> Records:
    """A retrieval change raises relevance; the signal's rule is two-sided."""
    o = Out("rag-assistant")
    t = grid(rng, 60, 6)
    on = 5.4 * H
    o.gauge("quality", "rag.retrieval_relevance", t, 0.74 + noise(rng, t.size, 0.012)
            + 0.08 * step(t, on), "both")
    o.gauge("runtime", "http.server.request.duration_p95", t,
            1.0 + noise(rng, t.size, 0.05), "up")
    o.change(on - 3 * 60, "retrieval", "reranker-v5")
    return o.records
