"""Hand-written incidents whose culprit the earliest-onset attribution blamed wrongly
(issue 13, "onset too early"): each has a red herring of a fitting kind 15 to 45
minutes before the real onset, after which nothing moved, and something that put the
earliest onset before it, or a change that merely came close. ``CULPRIT_CASES`` join
``test_handwritten_incidents.CASES`` (and so ``benchmarks/accuracy.py``'s
``handwritten`` source); the other two are asserted in ``test_onsets_and_culprits``
(their culprits rank first but, by kind, score under "likely cause")."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.diagnosis.timed_records import Records, change, gauge, ratio, ratio_cells, stamp


def replicas_follow_the_evening_before_refusals(rng: np.random.Generator) -> Records:
    """Refusals quadruple at ``on`` (safety-prompt-12 landed 4 min before); 70 min
    earlier the autoscaler took the pool from 12 to 8 replicas as the evening's traffic
    fell, and stayed there. A gateway config change 35 min before moved nothing.
    Eval policy, blamed on the prompt."""
    out: Records = []
    t = np.arange(360) * 60.0
    on = 300 * 60.0
    gauge(out, "infra", "kube_deployment_status_replicas_available", t,
          np.where(t >= on - 70 * 60.0, 8.0, 12.0), "down")
    n = rng.poisson(800, t.size).astype(float)
    ratio(out, "eval", "safety.refusal_ratio", t, n, np.where(t >= on, 0.08, 0.02), rng)
    ratio(out, "quality", "feedback.thumbs_down_ratio", t, n,
          np.where(t >= on + 360.0, 0.075, 0.05), rng)
    change(out, on - 35 * 60.0, "config", "gateway-cfg-3")
    change(out, on - 4 * 60.0, "prompt", "safety-prompt-12")
    change(out, on + 9 * 60.0, "code", "api-2291")
    return out


def a_faint_gpu_gauge_ahead_of_the_memory_step(rng: np.random.Generator) -> Records:
    """GPU memory jumps to the limit at ``on`` and errors follow 5 min later
    (nodepool-7, 6 min before, moved the pool to smaller nodes). 25 min before the
    step the GPU utilisation gauge crept up 12 % with the evening's load; an earlier
    node-pool change (nodepool-6, 40 min before) moved nothing. Infrastructure,
    blamed on nodepool-7."""
    out: Records = []
    t = np.arange(300) * 60.0
    on = 240 * 60.0
    gauge(out, "infra", "DCGM_FI_DEV_GPU_UTIL", t,
          55.0 + rng.normal(0, 1.0, t.size) + 7.0 * (t >= on - 25 * 60.0), "up")
    gauge(out, "infra", "DCGM_FI_DEV_FB_USED", t,
          60.0 + rng.normal(0, 1.0, t.size) + 35.0 * (t >= on), "up")
    n = rng.poisson(1500, t.size).astype(float)
    ratio(out, "runtime", "http.server.request.error_ratio", t, n,
          np.where(t >= on + 300.0, 0.05, 0.01), rng)
    change(out, on - 40 * 60.0, "infra", "nodepool-6")
    change(out, on - 6 * 60.0, "infra", "nodepool-7")
    return out


def a_region_that_never_picked_up_the_deploy(rng: np.random.Generator) -> Records:
    """ranker-v12 is recorded 18 min before its rollout settles at ``on``; from then on
    every region serves it but eu-west, which keeps the old version. A retrieval
    change 24 min before moved nothing. Control plane on region=eu-west, blamed on
    the recorded model change (its rollout is the served switch)."""
    out: Records = []
    t = np.arange(0.0, 300 * 60.0, 60.0)
    on = 240 * 60.0
    for ti in t:
        for region in ("us-east", "eu-west", "ap-south"):
            settled = ti >= on
            served = "m-12" if settled and region != "eu-west" else "m-11"
            record: dict[str, Any] = {
                "type": "state", "ts": stamp(ti), "service": "svc", "layer": "control",
                "name": "served_model_version", "value": served,
                "expected": "m-12" if settled else "m-11", "slice": {"region": region}}
            out.append(record)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.4 + rng.normal(0, 0.01, t.size), "up")
    change(out, on - 24 * 60.0, "retrieval", "index-44")
    change(out, on - 18 * 60.0, "model", "ranker-v12")
    return out


def a_deploy_during_a_sharp_schema_step(rng: np.random.Generator) -> Records:
    """Schema violations step from 0.1 % to 5 % at ``on`` on 15-second scrapes, the
    ranker's scores follow 30 s later (etl-9 shipped 15 min before); a retrieval
    change lands 3 min into the incident. Data, blamed on etl-9, not the deploy made
    while the step was already under way."""
    out: Records = []
    t = np.arange(960) * 15.0
    on = 840 * 15.0
    n = rng.poisson(400, t.size).astype(float)
    ratio(out, "data", "features.schema_violation_ratio", t, n,
          np.where(t >= on, 0.05, 0.001), rng)
    gauge(out, "model", "ranker.score_mean", t,
          0.42 + rng.normal(0, 0.005, t.size) + 0.04 * (t >= on + 30.0), "both")
    change(out, on - 15 * 60.0, "code", "etl-9")
    change(out, on + 3 * 60.0, "retrieval", "idx-3")
    return out


def two_regional_deploys_and_one_region_failing(rng: np.random.Generator) -> Records:
    """Errors quintuple in eu-west only at ``on``. Two gateway deploys went out, one
    per region: eu-west's 12 min before, us-east's 3 min before. Infrastructure on
    region=eu-west, blamed on the deploy aimed at it, not the nearer one aimed at a
    region that did not move."""
    out: Records = []
    t = np.arange(300) * 60.0
    on = 240 * 60.0
    volumes = {"us-east": 900.0, "eu-west": 700.0, "ap-south": 300.0}
    ratio_cells(out, "runtime", "http.server.request.error_ratio", t, "region", volumes,
                {r: np.where((t >= on) & (r == "eu-west"), 0.05, 0.01) for r in volumes}, rng)
    change(out, on - 12 * 60.0, "config", "gw-eu-west-31", slice={"region": "eu-west"})
    change(out, on - 3 * 60.0, "config", "gw-us-east-31", slice={"region": "us-east"})
    return out


def a_small_segment_placed_ahead_of_the_error_step(rng: np.random.Generator) -> Records:
    """Memory steps up and errors quintuple on all traffic at ``on`` (deploy-88 shipped 4
    min before; a gateway config change 25 min before moved nothing). The small ``trial`` segment,
    a fortieth of the traffic, had a faint rise of its own 12 min before the step:
    its few counts place its onset there, on a weaker test than the total's.
    Infrastructure, blamed on the deploy: the episode starts at the total's step."""
    out: Records = []
    t = np.arange(300) * 60.0
    on = 240 * 60.0
    step = np.where(t >= on, 0.05, 0.01)
    ratio_cells(out, "runtime", "http.server.request.error_ratio", t, "segment",
                {"pro": 1200.0, "free": 900.0, "trial": 50.0},
                {"pro": step, "free": step,
                 "trial": np.where(t >= on, 0.05, np.where(t >= on - 12 * 60.0, 0.04, 0.01))},
                rng)
    gauge(out, "infra", "container_memory_working_set_bytes", t,
          2e9 + rng.normal(0, 2e7, t.size) + 1.5e8 * (t >= on), "up")
    change(out, on - 25 * 60.0, "config", "gateway-cfg-2")
    change(out, on - 4 * 60.0, "code", "deploy-88")
    return out


def tokens_on_five_minute_billing_after_a_gpu_gauge(rng: np.random.Generator) -> Records:
    """Retrieval top-k went from 4 to 12 (topk-12, 12 min before ``on``); from ``on``
    prompts carry three times the passages. The GPU gauge on 15-second scrapes steps
    at once; the token counts come from billing every 5 minutes, whose first sample
    after the step is nearly 5 min later. A config change 25 min before moved
    nothing. Cost, blamed on the retrieval change: the billing layer's own interval
    reaches back to the GPU step, so it moved first too."""
    out: Records = []
    t = np.arange(1200) * 15.0
    on = 1080 * 15.0
    gauge(out, "infra", "DCGM_FI_DEV_GPU_UTIL", t,
          50.0 + rng.normal(0, 1.5, t.size) + 20.0 * (t >= on), "up")
    billed = np.arange(60) * 300.0 + 290.0
    gauge(out, "cost", "gen_ai.client.token.usage.input", billed,
          1200 + rng.normal(0, 30, billed.size) + 2400 * (billed >= on), "up")
    change(out, on - 25 * 60.0, "config", "gateway-cfg-5")
    change(out, on - 12 * 60.0, "retrieval", "topk-12")
    return out


def reembedding_backlog_after_an_embedding_model_change(rng: np.random.Generator
                                                        ) -> Records:
    """The indexer's backlog (5-minute scrapes) starts growing at ``on``: embed-v3,
    a new embedding model, went out 13 min before and every stored vector must be
    re-embedded; retrieval relevance sags 15 min later. A feature-pipeline change 25
    min before moved nothing. Control plane, blamed on the model change."""
    out: Records = []
    t = np.arange(200) * 300.0
    on = 170 * 300.0
    gauge(out, "freshness", "embedding.backlog_documents", t,
          200 + rng.normal(0, 20, t.size) + 40.0 * np.clip(t - on, 0, None) / 60.0, "up")
    m = np.arange(1000) * 60.0
    gauge(out, "quality", "rag.retrieval.relevance", m,
          0.8 + rng.normal(0, 0.01, m.size) - 0.1 * (m >= on + 15 * 60.0), "down")
    change(out, on - 25 * 60.0, "features", "features-12")
    change(out, on - 13 * 60.0, "model", "embed-v3")
    return out


CULPRIT_CASES: list[tuple[Any, str, tuple[str, str] | None, str | None]] = [
    (replicas_follow_the_evening_before_refusals, "eval_policy", None, "safety-prompt-12"),
    (a_faint_gpu_gauge_ahead_of_the_memory_step, "infrastructure", None, "nodepool-7"),
    (two_regional_deploys_and_one_region_failing, "infrastructure", ("region", "eu-west"),
     "gw-eu-west-31"),
    (a_small_segment_placed_ahead_of_the_error_step, "infrastructure", None, "deploy-88"),
]
