"""The failure patterns of issue 13, each written by hand (not drawn from a generator).

Every case here was misread by the classifier before the issue's changes: an
all-traffic failure got a slice, a healthy canary or an improvement was paged as a
failure, a data, cost or control-plane failure that raised latency on the side was
called infrastructure, timeouts that truncate answers were called a model failure,
a change of the culprit's kind long before the onset was blamed, a canary's own
``model_version`` slice went unnamed, a spike that had recovered before the alert, a
nightly job seen at the same time the day before and a pool scaling in as traffic
ebbed were paged as failures. Cadences and names are the ones real
exporters use (``vllm:*``, ``http.server.*``, ``DCGM_FI_*``), not the simulator's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose
from tests.diagnosis.timed_records import Records, change, gauge, ratio, ratio_cells, stamp


def every_tenant_moves_alike(rng: np.random.Generator) -> Records:
    """A dependency slows down: every tenant's errors rise by the same 35 % (a small
    tenant noisily) and latency with them. Infrastructure, and no slice."""
    out: Records = []
    t = np.arange(300) * 60.0
    on = 240 * 60.0
    tenants = {"acme": 900.0, "globex": 500.0, "initech": 60.0}
    ratio_cells(out, "runtime", "http.server.request.error_ratio", t, "tenant", tenants,
                {k: np.where(t >= on, 0.027, 0.02) for k in tenants}, rng)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.4 + rng.normal(0, 0.02, t.size) + 0.3 * (t >= on), "up")
    return out


def prompt_bloat_with_latency_on_the_side(rng: np.random.Generator) -> Records:
    """Tokens per request triple and latency rises a fifth with them: cost, not infra."""
    out: Records = []
    t = np.arange(160) * 120.0
    on = 130 * 120.0
    gauge(out, "cost", "gen_ai.client.token.usage.input", t,
           900 + rng.normal(0, 30, t.size) + 1800 * (t >= on), "up")
    gauge(out, "runtime", "vllm:e2e_request_latency_seconds_p95", t,
           2.0 + rng.normal(0, 0.06, t.size) + 1.2 * (t >= on), "up")
    gauge(out, "runtime", "vllm:num_requests_waiting", t,
           3 + rng.normal(0, 0.4, t.size) + 6 * (t >= on), "up")
    gauge(out, "infra", "DCGM_FI_DEV_GPU_UTIL", t,
           60 + rng.normal(0, 2, t.size) + 25 * (t >= on), "up")
    gauge(out, "quality", "rag.groundedness", t, 0.9 + rng.normal(0, 0.01, t.size), "down")
    change(out, on - 240, "prompt", "system-prompt-v12")
    return out


def timeouts_truncate_answers(rng: np.random.Generator) -> Records:
    """A hosted API slows and times out; truncated answers score badly at once: infra."""
    out: Records = []
    t = np.arange(720) * 15.0
    on = 600 * 15.0
    n = rng.poisson(300, t.size).astype(float)
    gauge(out, "runtime", "gen_ai.client.operation.duration_p95", t,
           3.0 + rng.normal(0, 0.2, t.size) + 2.0 * (t >= on + 30), "up")
    ratio(out, "runtime", "gen_ai.client.error_ratio", t, n,
           np.where(t >= on + 30, 0.05, 0.005), rng)
    gauge(out, "quality", "rag.groundedness", t,
           0.9 + rng.normal(0, 0.01, t.size) - 0.08 * (t >= on), "down")
    ratio(out, "quality", "feedback.thumbs_down_ratio", t, n,
           np.where(t >= on, 0.09, 0.04), rng)
    gauge(out, "model", "gen_ai.response.output_tokens", t,
           300 + rng.normal(0, 10, t.size) - 90 * (t >= on), "both")
    return out


def template_mismatch_on_one_route(rng: np.random.Generator) -> Records:
    """A prompt template no longer matches on route=search: control plane, route=search."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    for route, volume in (("chat", 500), ("search", 300), ("summarise", 200)):
        n = rng.poisson(volume, t.size).astype(float)
        broken = route == "search"
        ratio(out, "control", "prompt.template_mismatch_ratio", t, n,
               np.where((t >= on) & broken, 0.4, 0.002), rng, {"route": route})
        ratio(out, "quality", "feedback.thumbs_down_ratio", t, n,
               np.where((t >= on + 120) & broken, 0.12, 0.04), rng, {"route": route})
    gauge(out, "model", "model.answer_confidence", t,
           0.8 + rng.normal(0, 0.01, t.size) - 0.03 * (t >= on + 120), "both")
    change(out, on - 300, "prompt", "tpl-88")
    return out


def unit_change_for_part_of_a_tenant(rng: np.random.Generator) -> Records:
    """Half of tenant hooli's amounts arrive in cents (x100): data, tenant=hooli."""
    out: Records = []
    t = np.arange(96) * 300.0
    on = 80 * 300.0
    for tenant in ("acme", "globex", "hooli"):
        broken = (t >= on) & (tenant == "hooli")
        base = 40 + rng.normal(0, 1.5, t.size)
        gauge(out, "data", "transaction.amount_mean", t,
               np.where(broken, base * (0.5 + 0.5 * 100), base), "both", {"tenant": tenant})
        gauge(out, "model", "fraud.score_mean", t,
               0.1 + rng.normal(0, 0.005, t.size) + 0.06 * broken, "both", {"tenant": tenant})
    return out


def slow_input_drift_over_ninety_minutes(rng: np.random.Generator) -> Records:
    """Inputs drift over 90 minutes; predictions and clicks follow: data."""
    out: Records = []
    t = np.arange(300) * 60.0
    on = 180 * 60.0
    ramp = np.clip((t - on) / 5400.0, 0, 1)
    for i in range(0, t.size, 5):
        values = rng.lognormal(3.0 + 0.9 * ramp[i], 0.6, 300)
        out.append({"type": "distribution", "ts": stamp(t[i]), "service": "svc",
                    "layer": "data", "name": "feature.item_price",
                    "values": [round(float(v), 3) for v in values]})
    gauge(out, "model", "ranker.score_mean", t,
           0.3 + rng.normal(0, 0.005, t.size) + 0.08 * ramp, "both")
    n = rng.poisson(2000, t.size).astype(float)
    ratio(out, "quality", "ranking.ctr", t, n, 0.1 * (1 - 0.3 * ramp), rng)
    out[-t.size:] = [dict(r, bad="down") for r in out[-t.size:]]
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.05 + rng.normal(0, 0.002, t.size), "up")
    return out


def a_healthy_canary(rng: np.random.Generator) -> Records:
    """A new model_version takes a tenth of traffic and does as well: none."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    total = rng.poisson(1000, t.size).astype(float)
    canary = np.where(t >= on, np.round(total * 0.1), 0)
    stable = total - canary
    es = ratio(out, "quality", "feedback.thumbs_down_ratio", t, stable,
                np.full(t.size, 0.04), rng, {"model_version": "m-10"})
    live = t >= on
    ec = ratio(out, "quality", "feedback.thumbs_down_ratio", t[live], canary[live],
                np.full(live.sum(), 0.04), rng, {"model_version": "m-11"})
    full = es.astype(float)
    full[live] += ec
    for ti, ni, ei in zip(t, total, full, strict=True):
        out.append({"type": "signal", "ts": stamp(ti), "service": "svc", "layer": "quality",
                    "name": "feedback.thumbs_down_ratio", "value": float(ei / ni),
                    "count": int(ni), "kind": "ratio", "bad": "up"})
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.8 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 60, "model", "m-11", slice={"model_version": "m-11"})
    return out


def an_improvement_on_a_two_sided_signal(rng: np.random.Generator) -> Records:
    """A deploy halves latency and errors: nothing to page for."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    n = rng.poisson(800, t.size).astype(float)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.6 + rng.normal(0, 0.02, t.size) - 0.3 * (t >= on), "both")
    ratio(out, "runtime", "http.server.request.error_ratio", t, n,
           np.where(t >= on, 0.004, 0.01), rng)
    change(out, on - 120, "code", "release-2026.11.20")
    return out


def relevance_rises_on_a_two_sided_rule_alone(rng: np.random.Generator) -> Records:
    """A reranker release raises retrieval relevance, a signal whose rule is two-sided;
    nothing else moves. Its name says up is good: nothing to page for."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    gauge(out, "quality", "rag.retrieval_relevance", t,
           0.74 + rng.normal(0, 0.012, t.size) + 0.08 * (t >= on), "both")
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           1.0 + rng.normal(0, 0.05, t.size), "up")
    change(out, on - 180, "retrieval", "reranker-v5")
    return out


def relevance_falls_on_a_two_sided_rule_alone(rng: np.random.Generator) -> Records:
    """The same release, but relevance falls: the name says that is harm, so it stays
    a failure (the rule above must not read every two-sided move as good)."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    gauge(out, "quality", "rag.retrieval_relevance", t,
           0.74 + rng.normal(0, 0.012, t.size) - 0.08 * (t >= on), "both")
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           1.0 + rng.normal(0, 0.05, t.size), "up")
    change(out, on - 180, "retrieval", "reranker-v5")
    return out


def the_culprit_kind_long_before_and_the_culprit_just_before(rng: np.random.Generator
                                                             ) -> Records:
    """Two config changes: one 40 min before the onset (nothing moved after it), and the
    culprit 4 min before; the refusal rate rises on 5-minute points."""
    out: Records = []
    t = np.arange(96) * 300.0
    on = 84 * 300.0
    n = rng.poisson(3000, t.size).astype(float)
    ratio(out, "eval", "safety.refusal_ratio", t, n, np.where(t >= on, 0.05, 0.02), rng)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.8 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 2400, "config", "guard-cfg-1")
    change(out, on - 240, "config", "guard-cfg-2")
    return out


def a_canary_fails_on_its_twelfth_of_traffic(rng: np.random.Generator) -> Records:
    """A new version serves 8 % and doubles its thumbs-down: all traffic moves 8 %."""
    out: Records = []
    t = np.arange(180) * 60.0
    on = 140 * 60.0
    total = rng.poisson(1500, t.size).astype(float)
    canary = np.where(t >= on, np.round(total * 0.08), 0)
    stable = total - canary
    es = ratio(out, "quality", "feedback.thumbs_down_ratio", t, stable,
                np.full(t.size, 0.04), rng, {"model_version": "m-10"})
    live = t >= on
    ec = ratio(out, "quality", "feedback.thumbs_down_ratio", t[live], canary[live],
                np.full(live.sum(), 0.09), rng, {"model_version": "m-11"})
    full = es.astype(float)
    full[live] += ec
    for ti, ni, ei in zip(t, total, full, strict=True):
        out.append({"type": "signal", "ts": stamp(ti), "service": "svc", "layer": "quality",
                    "name": "feedback.thumbs_down_ratio", "value": float(ei / ni),
                    "count": int(ni), "kind": "ratio", "bad": "up"})
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.8 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 90, "model", "m-11", slice={"model_version": "m-11"})
    change(out, on - 1800, "config", "cfg-3")
    return out


def a_region_never_picked_up_the_deploy(rng: np.random.Generator) -> Records:
    """After a deploy two regions serve the new version and eu-west the old: control."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    for region in ("us-east", "eu-west", "ap-south"):
        for ti in t:
            new = ti >= on
            served = "m-11" if new and region != "eu-west" else "m-10"
            out.append({"type": "state", "ts": stamp(ti), "service": "svc", "layer": "control",
                        "name": "served_model_version", "value": served,
                        "expected": "m-11" if new else "m-10", "slice": {"region": region}})
        n = rng.poisson(400, t.size).astype(float)
        ratio(out, "quality", "feedback.thumbs_down_ratio", t, n,
               np.where((t >= on + 300) & (region == "eu-west"), 0.07, 0.04), rng,
               {"region": region})
    change(out, on - 120, "model", "m-11")
    return out


def a_model_change_behind_misrouting(rng: np.random.Generator) -> Records:
    """The culprit is a model change 3 min before traffic falls back; a routing config
    change 35 min before moved nothing. Control plane, blamed on the model change."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    n = rng.poisson(800, t.size).astype(float)
    ratio(out, "control", "router.fallback_ratio", t, n, np.where(t >= on, 0.25, 0.02), rng)
    ratio(out, "quality", "feedback.thumbs_down_ratio", t, n,
           np.where(t >= on + 240, 0.06, 0.04), rng)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.8 + rng.normal(0, 0.03, t.size) + 0.1 * (t >= on), "up")
    change(out, on - 2100, "config", "router-cfg-7")
    change(out, on - 180, "model", "m-12")
    return out


def a_judge_swap_after_the_pool_scaled_down_for_the_night(rng: np.random.Generator
                                                          ) -> Records:
    """Replicas fell from 8 to 5 as traffic ebbed (an autoscaler, not a failure); hours
    later only the judge score drops after a judge config change: eval_policy."""
    out: Records = []
    t = np.arange(120) * 300.0
    on = 100 * 300.0
    replicas = np.where(t >= 40 * 300.0, 5.0, 8.0)
    gauge(out, "infra", "kube_deployment_status_replicas_available", t, replicas, "down")
    gauge(out, "eval", "eval.judge_score", t,
           0.82 + rng.normal(0, 0.01, t.size) - 0.15 * (t >= on), "down")
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.8 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 300, "config", "judge-gpt-swap")
    return out


def a_spike_that_recovered_before_the_alert(rng: np.random.Generator) -> Records:
    """Five-minute scrapes: errors and latency were up for twenty minutes and have been
    back at their usual level for the last forty. By the time anyone looks, nothing is
    degraded: none (read as infrastructure before)."""
    out: Records = []
    t = np.arange(120) * 300.0
    spike = (t >= 108 * 300.0) & (t < 112 * 300.0)
    n = rng.poisson(3000, t.size).astype(float)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.5 + rng.normal(0, 0.02, t.size) + 0.4 * spike, "up")
    ratio(out, "runtime", "http.server.request.error_ratio", t, n,
           np.where(spike, 0.03, 0.005), rng)
    return out


def a_nightly_reindex_seen_the_night_before(rng: np.random.Generator) -> Records:
    """Two-minute points over 28 hours: a nightly re-index lifts the request queue and
    latency for about an hour at the same time every night; tonight's is half an hour
    in. The series' own habit: none."""
    out: Records = []
    t = np.arange(840) * 120.0
    start_tonight = float(t[-1]) - 1800.0
    nightly = ((t - start_tonight) % 86_400.0) < 3600.0
    gauge(out, "runtime", "vllm:num_requests_waiting", t,
           3 + rng.normal(0, 0.4, t.size) + 7 * nightly, "up")
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.5 + rng.normal(0, 0.02, t.size) + 0.15 * nightly, "up")
    return out


def a_ranker_canary_raises_its_scores(rng: np.random.Generator) -> Records:
    """A ranker canary on a tenth of traffic scores everything higher. The mean score is
    a model's output, two-sided as its exporter says: its rise is a shift, not the
    improvement a bare "score" name would suggest."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    for version, share in (("r-41", 0.9), ("r-42", 0.1)):
        moved = (t >= on) if version == "r-42" else np.zeros(t.size, bool)
        noise = 0.01 / np.sqrt(share)
        gauge(out, "model", "ranker.score_mean", t,
              0.30 + rng.normal(0, noise, t.size) + 0.12 * moved, "both",
              {"model_version": version})
    gauge(out, "model", "ranker.score_mean", t,
          0.30 + rng.normal(0, 0.01, t.size) + 0.012 * (t >= on), "both")
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.2 + rng.normal(0, 0.01, t.size), "up")
    change(out, on - 120, "model", "r-42", slice={"model_version": "r-42"})
    return out


def the_pool_scales_in_as_traffic_ebbs(rng: np.random.Generator) -> Records:
    """The autoscaler halves the available replicas as the evening ebbs; GPU utilisation
    and latency stay where they were. Capacity doing its job is no failure: none."""
    out: Records = []
    t = np.arange(240) * 60.0
    on = 200 * 60.0
    gauge(out, "infra", "kube_deployment_status_replicas_available", t,
           np.where(t >= on, 3.0, 6.0), "down")
    gauge(out, "infra", "DCGM_FI_DEV_GPU_UTIL", t, 60 + rng.normal(0, 2, t.size), "up")
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.6 + rng.normal(0, 0.02, t.size), "up")
    return out

CASES: list[Any] = [
    (every_tenant_moves_alike, "infrastructure", None, None),
    (prompt_bloat_with_latency_on_the_side, "cost", None, "system-prompt-v12"),
    (timeouts_truncate_answers, "infrastructure", None, None),
    (template_mismatch_on_one_route, "control_plane", ("route", "search"), "tpl-88"),
    (unit_change_for_part_of_a_tenant, "data", ("tenant", "hooli"), None),
    (slow_input_drift_over_ninety_minutes, "data", None, None),
    (a_healthy_canary, "none", None, None),
    (an_improvement_on_a_two_sided_signal, "none", None, None),
    (relevance_rises_on_a_two_sided_rule_alone, "none", None, None),
    (the_culprit_kind_long_before_and_the_culprit_just_before, "eval_policy", None,
     "guard-cfg-2"),
    (a_canary_fails_on_its_twelfth_of_traffic, "model", ("model_version", "m-11"), "m-11"),
    (a_region_never_picked_up_the_deploy, "control_plane", ("region", "eu-west"), "m-11"),
    (a_model_change_behind_misrouting, "control_plane", None, "m-12"),
    (a_judge_swap_after_the_pool_scaled_down_for_the_night, "eval_policy", None,
     "judge-gpt-swap"),
    (a_spike_that_recovered_before_the_alert, "none", None, None),
    (a_nightly_reindex_seen_the_night_before, "none", None, None),
    (a_ranker_canary_raises_its_scores, "model", ("model_version", "r-42"), "r-42"),
    (the_pool_scales_in_as_traffic_ebbs, "none", None, None),
]


@pytest.mark.parametrize(("build", "label", "slice_", "culprit"), CASES,
                         ids=[(case.values if hasattr(case, "values") else case)[0].__name__
                              for case in CASES])
def test_issue13_pattern(build: Callable[[np.random.Generator], Records], label: str,
                         slice_: tuple[str, str] | None, culprit: str | None) -> None:
    records = parse_objects(build(np.random.default_rng(11))).records
    d = diagnose(records)
    assert d.behavior == label, d.explanation
    if label == "none":
        return
    found = [(s["dimension"], s["value"]) for s in d.slices]
    assert found[:1] == ([slice_] if slice_ else []), found
    if culprit is not None:
        assert d.suspect_changes and d.suspect_changes[0]["ref"] == culprit, d.suspect_changes


def test_a_two_sided_move_the_name_calls_harm_stays_a_failure() -> None:
    records = parse_objects(relevance_falls_on_a_two_sided_rule_alone(
        np.random.default_rng(11))).records
    d = diagnose(records)
    assert d.behavior != "none", d.explanation
    assert d.suspect_changes and d.suspect_changes[0]["ref"] == "reranker-v5"
