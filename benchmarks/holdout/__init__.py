"""Incidents written by hand on 1 December 2026, after the behaviour weights were fitted,
in the spirit of issue 13's hidden set B: real exporter names (``vllm:*``, ``DCGM_FI_*``,
``kube_*``, ``gen_ai.*``, ``http.server.*``), scrapes at 15 s to 5 min with jitter and
missed scrapes, daily traffic and quiet nights, layers missing, slice cells that add
up, side effects louder than the cause, slow ramps, red-herring changes.

They are a **held-out source**: nothing may be fitted or tuned on them
(``benchmarks/fit_behaviour.py`` does not read them), so ``benchmarks/accuracy.py
--sources holdout`` says how the diagnosis does on incidents nobody tuned it to.
Each case is (builder, label, slice or None, culprit ref or None).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchmarks.holdout import benign, failures, hard, second, third
from benchmarks.holdout.kit import Records

Case = tuple[Callable[[np.random.Generator], Records], str, tuple[str, str] | None, str | None]

CASES: list[Case] = [
    (failures.xid_node_loss, "infrastructure", None, None),
    (failures.oom_after_nodepool, "infrastructure", None, "nodepool-e2-standard-8"),
    (failures.dependency_timeouts_all_tenants, "infrastructure", None, None),
    (failures.unit_change_one_tenant, "data", ("tenant", "umbrella"), None),
    (failures.broken_join, "data", None, "merchant-join-v3"),
    (failures.slow_input_drift, "data", None, None),
    (failures.feature_store_stall, "control_plane", None, None),
    (failures.template_mismatch_route, "control_plane", ("route", "extract"),
     "templates-2026.11.3"),
    (failures.misrouting_after_model_change, "control_plane", None, "claude-haiku-4.5-deploy"),
    (failures.region_missed_deploy, "control_plane", ("region", "ap-south"), "rel-2026-11-23.2"),
    (failures.canary_regression, "model", ("model_version", "v42"), "v42"),
    (failures.silent_hosted_update, "model", None, None),
    (failures.quantised_cheaper_worse, "model", None, "llama-3.3-70b-awq"),
    (failures.guardrail_threshold, "eval_policy", None, "toxicity-0.5-to-0.3"),
    (failures.judge_swap, "eval_policy", None, "judge-gpt-4.1-to-mini"),
    (failures.prompt_bloat, "cost", None, "system-prompt-v19"),
    (failures.cache_hit_collapse, "cost", None, "cache-key-v2"),
    (failures.spot_repricing, "cost", None, None),
    (benign.recovered_transient, "none", None, None),
    (benign.absorbed_surge, "none", None, None),
    (benign.healthy_canary, "none", None, None),
    (benign.noisy_night, "none", None, None),
    (benign.benign_deploy, "none", None, None),
    (benign.improvement_two_sided, "none", None, None),
]

CASES += [  # the harder ones
    (hard.expensive_routing_latency_first, "cost", None, "router-weights-17"),
    (hard.language_flood_queue, "data", ("language", "pt"), None),
    (hard.stale_index_reembedding, "control_plane", None, "index-migration-hnsw-v2"),
    (hard.timeouts_cut_answers, "infrastructure", None, None),
    (hard.thermal_throttle_ramp, "infrastructure", None, None),
    (hard.concept_drift_slow, "model", None, None),
    (hard.kind_trap_two_prompts, "eval_policy", None, "safety-preamble-7"),
    (hard.nightly_job_seen_before, "none", None, None),
    (hard.vendor_overcalls, "cost", None, "agent-planner-v6"),
    (hard.canary_correlated_region, "model", ("model_version", "v42"), "v42"),
]

# The second held-out set (``benchmarks/holdout/second.py``), written before the
# evening's second round of changes and reported as its own source, ``holdout2``.
SECOND_CASES: list[Case] = [
    (second.kv_cache_saturation, "infrastructure", None, "max-model-len-32k"),
    (second.schema_violation_after_pipeline, "data", None, "feature-pipeline-v8"),
    (second.prompt_truncation, "control_plane", None, "gateway-max-input-4096"),
    (second.retrieval_topk_bloat, "cost", None, "top-k-5-to-25"),
    (second.safety_prompt_refusals, "eval_policy", None, "safety-preamble-v3"),
    (second.segment_input_shift, "data", ("segment", "smb"), None),
    (second.region_dependency_timeouts, "infrastructure", ("region", "eu-west"), None),
    (second.ranker_canary_ctr, "model", ("model_version", "v18"), "ranker-v18-canary"),
    (second.fraud_rule_threshold, "eval_policy", None, "decline-threshold-0.8-to-0.6"),
    (second.hosted_api_rate_limits, "infrastructure", None, None),
    (second.bigger_model_oom, "infrastructure", None, "llama-3.1-405b-fp8"),
    (second.stale_features_one_segment, "control_plane", ("segment", "enterprise"), None),
    (second.tiny_tenant_noisy_night, "none", None, None),
    (second.canary_that_improved, "none", None, None),
]

# The third held-out set (``benchmarks/holdout/third.py``), written on 2 December at
# 00:05 UTC before the night's changes, reported as its own source, ``holdout3``.
THIRD_CASES: list[Case] = [
    (third.hourly_unit_change, "data", None, None),
    (third.reembedding_backlog, "control_plane", None, "embedder-e5-large-v3"),
    (third.pcie_errors_one_zone, "infrastructure", ("zone", "us-east1-b"), None),
    (third.guardrail_model_update, "eval_policy", None, "guard-classifier-v5"),
    (third.judge_rubric_prompt, "eval_policy", None, "judge-rubric-v9"),
    (third.reasoning_effort_high, "cost", None, "reasoning-effort-default-high"),
    (third.ranker_rollout_hourly_ctr, "model", None, "feed-ranker-v31"),
    (third.null_burst_one_tenant, "data", ("tenant", "hooli"), None),
    (third.replica_cap_at_peak, "infrastructure", None, "hpa-max-replicas-8"),
    (third.memory_leak_restarts, "infrastructure", None, "ranker-api-2026.11.24"),
    (third.premium_misrouted_to_small, "control_plane", ("segment", "premium"),
     "flag-premium-routing-experiment"),
    (third.vendor_price_rise, "cost", None, None),
    (third.weekday_morning_ramp, "none", None, None),
    (third.idle_batch_wakes, "none", None, None),
    (third.thin_night_latency, "none", None, None),
]
