"""Onsets that attribution reads, written by hand (issue 13: "onset too early").

Each case put the onset an hour or more before the step everything followed, so
the culprit looked like a change after which nothing moved: a lag test ran on
series whose names merely contain "age" or "lag" (``token.usage``, ``flag_ratio``,
``language``) and found a "stall" in a day's slow rise, or a lone burst on one small
region, its all-traffic series flat, counted as the service's first clear move.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.exchange import parse_objects
from bot.diagnosis.assemble import assemble
from bot.diagnosis.detect import run_tests
from bot.diagnosis.pipeline import diagnose, gather
from tests.diagnosis.culprit_incidents import (
    a_deploy_during_a_sharp_schema_step,
    a_faint_gpu_gauge_ahead_of_the_memory_step,
    a_region_that_never_picked_up_the_deploy,
    a_small_segment_placed_ahead_of_the_error_step,
    reembedding_backlog_after_an_embedding_model_change,
    tokens_on_five_minute_billing_after_a_gpu_gauge,
)
from tests.diagnosis.timed_records import Records, change, gauge, ratio, ratio_cells, stamp


def test_names_that_only_contain_age_or_lag_get_no_lag_test() -> None:
    """Token usage and a flag ratio climbing with the morning's traffic are no stalls;
    a feature age is a lag and is tested as one."""
    rng = np.random.default_rng(5)
    out: Records = []
    t = np.arange(480) * 60.0
    rise = np.clip((t - 60 * 60.0) / (6 * 3600.0), 0, 1)
    gauge(out, "cost", "gen_ai.client.token.usage.input", t,
           900 + 400 * rise + rng.normal(0, 10, t.size), "up")
    gauge(out, "model", "fraud.flag_ratio", t, 0.02 + 0.01 * rise + rng.normal(0, 1e-4, t.size),
           "both")
    gauge(out, "data", "input.unexpected_language_ratio", t,
           0.01 + 0.01 * rise + rng.normal(0, 1e-4, t.size), "up")
    gauge(out, "freshness", "feature_store.feature_age_seconds", t, 60 + (t % 600), "up")
    tests, _ = run_tests(assemble(parse_objects(out).records))
    lagged = {x.name for x in tests if x.detector == "lag_growth"}
    assert lagged == {"feature_store.feature_age_seconds"}, lagged


def _prompt_bloat_after_a_regional_burst(rng: np.random.Generator, burst: bool) -> Records:
    """Input tokens double at ``on`` (prompt-v9 landed 8 min before; a config change 40
    min before moved nothing). Two hours earlier the small ap-south region's errors
    stepped up and stayed, while the all-traffic error ratio did not move."""
    out: Records = []
    t = np.arange(600) * 30.0
    on = 540 * 30.0
    gauge(out, "cost", "gen_ai.client.token.usage.input", t,
           1200 + rng.normal(0, 40, t.size) + 1300 * (t >= on), "up")
    gauge(out, "cost", "llm.cost.usd_per_1k_requests", t,
           4.0 + rng.normal(0, 0.1, t.size) + 3.5 * (t >= on), "up")
    volumes = {"us-east": 900.0, "eu-west": 600.0, "ap-south": 25.0}
    ratio_cells(out, "runtime", "gen_ai.client.error_ratio", t, "region", volumes,
                {r: np.where((burst and r == "ap-south") & (t >= on - 7200), 0.09, 0.01)
                 for r in volumes}, rng)
    change(out, on - 2400, "config", "gateway-cfg-4")
    change(out, on - 480, "prompt", "prompt-v9")
    return out


def test_a_lone_slice_step_hours_before_does_not_move_the_culprits_onset() -> None:
    for burst in (False, True):
        records = parse_objects(_prompt_bloat_after_a_regional_burst(
            np.random.default_rng(3), burst)).records
        d = diagnose(records)
        assert d.behavior == "cost", (burst, d.explanation)
        assert d.suspect_changes[0]["ref"] == "prompt-v9", (burst, d.suspect_changes)
        assert 0 < d.suspect_changes[0]["minutes_before_onset"] < 15, d.suspect_changes


def _prompt_bloat_on_one_region(rng: np.random.Generator) -> Records:
    """Input tokens triple in eu-west only (a third of traffic) at ``on``; about then,
    us-east's error ratio and ap-south's latency step up a little on their own, their
    all-traffic series flat. Cost, region=eu-west."""
    out: Records = []
    t = np.arange(300) * 60.0
    on = 240 * 60.0
    volumes = {"us-east": 600, "eu-west": 400, "ap-south": 60}
    tokens_total, errors_total = np.zeros(t.size), np.zeros(t.size)
    n_total = np.zeros(t.size)
    for region, volume in volumes.items():
        n = rng.poisson(volume, t.size).astype(float)
        tokens = 1000 + rng.normal(0, 30, t.size) + 2000 * ((t >= on) & (region == "eu-west"))
        gauge(out, "cost", "gen_ai.client.token.usage.input", t, tokens, "up",
               {"region": region})
        e = ratio(out, "runtime", "gen_ai.client.error_ratio", t, n,
                   np.where((t >= on - 300) & (region == "us-east"), 0.016, 0.01), rng,
                   {"region": region})
        latency = 0.8 + rng.normal(0, 0.03, t.size) + 0.2 * ((t >= on + 120)
                                                             & (region == "ap-south"))
        gauge(out, "runtime", "http.server.request.duration_p95", t, latency, "up",
               {"region": region})
        tokens_total += tokens * n
        errors_total += e
        n_total += n
    gauge(out, "cost", "gen_ai.client.token.usage.input", t, tokens_total / n_total, "up")
    for ti, ni, ei in zip(t, n_total, errors_total, strict=True):
        out.append({"type": "signal", "ts": stamp(ti), "service": "svc", "layer": "runtime",
                    "name": "gen_ai.client.error_ratio", "value": float(ei / ni),
                    "count": int(ni), "kind": "ratio", "bad": "up"})
    gauge(out, "runtime", "http.server.request.duration_p95", t,
           0.8 + rng.normal(0, 0.03, t.size), "up")
    change(out, on - 300, "prompt", "prompt-eu-7")
    return out


def test_small_moves_elsewhere_do_not_outvote_the_signal_that_carries_the_failure() -> None:
    d = diagnose(parse_objects(_prompt_bloat_on_one_region(np.random.default_rng(7))).records)
    assert d.behavior == "cost", d.explanation
    found = [(s["dimension"], s["value"]) for s in d.slices]
    assert found[:1] == [("region", "eu-west")], (found, d.evidence)
    assert d.slices[0]["share"] >= 0.5


def _topk_bloat_after_a_faint_error_rise(rng: np.random.Generator) -> Records:
    """Retrieval top-k goes from 4 to 12 at ``on`` (retrieval-k12 landed 6 min before;
    a config change 16 min before moved nothing); 12 min before the step the error
    ratio crept just past its practical threshold. Cost, blamed on the retrieval change."""
    out: Records = []
    t = np.arange(480) * 30.0
    on = 420 * 30.0
    gauge(out, "cost", "rag.retrieval.top_k", t, 4.0 + 8.0 * (t >= on), "up")
    gauge(out, "cost", "gen_ai.client.token.usage.input", t,
           1000 + rng.normal(0, 30, t.size) + 2500 * (t >= on + 60), "up")
    n = rng.poisson(2000, t.size).astype(float)
    ratio(out, "runtime", "http.server.request.error_ratio", t, n,
           np.where(t >= on - 720, 0.016, 0.01), rng)
    change(out, on - 960, "config", "gateway-cfg-9")
    change(out, on - 360, "retrieval", "retrieval-k12")
    return out


def test_a_retrieval_change_behind_a_cost_failure_beats_a_config_change_before_it() -> None:
    """Top-k is a retrieval setting that drives prompt tokens: a retrieval change right
    before the step outranks a config change (a fitting kind) after which nothing moved."""
    d = diagnose(parse_objects(_topk_bloat_after_a_faint_error_rise(
        np.random.default_rng(2))).records)
    assert d.behavior == "cost", d.explanation
    assert d.suspect_changes[0]["ref"] == "retrieval-k12", (d.suspect_changes, d.layers)


def test_a_recorded_model_change_is_in_force_from_its_rollout() -> None:
    """The served version switched 18 min after ranker-v12 was recorded: that switch is
    its rollout, so the recorded change is blamed (at the switch), not an unrecorded
    "switched to m-12" of its own, nor the retrieval change before it."""
    d = diagnose(parse_objects(a_region_that_never_picked_up_the_deploy(
        np.random.default_rng(3))).records)
    assert d.behavior == "control_plane", d.explanation
    assert [(s["dimension"], s["value"]) for s in d.slices][:1] == [("region", "eu-west")]
    refs = [row["ref"] for row in d.suspect_changes]
    assert refs[0] == "ranker-v12" and "m-12" not in refs, d.suspect_changes
    assert abs(d.suspect_changes[0]["minutes_before_onset"]) < 2, d.suspect_changes


def test_a_change_made_during_a_sharp_step_is_not_its_cause() -> None:
    """A step placed to the 15-second sample: a retrieval change 3 min into it came
    too late; the ETL change 15 min before is the culprit. The late change keeps a
    fading fit (change records are logged late), but a fraction of the culprit's."""
    d = diagnose(parse_objects(a_deploy_during_a_sharp_schema_step(
        np.random.default_rng(3))).records)
    assert d.behavior == "data", d.explanation
    assert d.suspect_changes[0]["ref"] == "etl-9", d.suspect_changes
    assert d.suspect_changes[1]["score"] < 0.6 * d.suspect_changes[0]["score"]


def test_a_small_segment_placed_early_on_a_weaker_test_does_not_start_the_episode() -> None:
    """The trial segment's few counts place its onset 12 min before the step all
    traffic took: read as the start, the deploy 4 min before the step came "after
    the onset" and a config change 25 min before it was blamed."""
    d = diagnose(parse_objects(a_small_segment_placed_ahead_of_the_error_step(
        np.random.default_rng(3))).records)
    assert d.behavior == "infrastructure", d.explanation
    assert d.suspect_changes[0]["ref"] == "deploy-88", d.suspect_changes
    assert 2 <= d.suspect_changes[0]["minutes_before_onset"] <= 6, d.suspect_changes


def test_a_layer_whose_interval_reaches_the_start_moved_first() -> None:
    """Billing every 5 minutes places the token step nearly 5 min after the 15-second
    GPU gauge; its own interval reaches back to the GPU step, so the cost layer is a
    root and a retrieval change (top-k drives tokens) fits it. A strict xfail until the
    evening's merge of 1 December, when the label's cost evidence (traffic compared in
    the hour around the move) and the retrieval-to-cost kind fit made it pass."""
    d = diagnose(parse_objects(tokens_on_five_minute_billing_after_a_gpu_gauge(
        np.random.default_rng(3))).records)
    assert d.behavior == "cost", d.explanation
    assert d.suspect_changes[0]["ref"] == "topk-12", d.suspect_changes


@pytest.mark.xfail(strict=True, reason="not fixed: a freshness->model kind fit (embedding "
                   "models) fixed this and one independent incident but let an unrelated "
                   "model change win a simulator index-lag failure (issue 13)")
def test_an_embedding_model_change_explains_a_re_embedding_backlog() -> None:
    """A new embedding model invalidates every stored vector: the indexer's backlog
    grows. The model change 13 min before beats a feature-pipeline change 25 min
    before, whose kind fits the freshness layer too."""
    for seed in (3, 4):
        d = diagnose(parse_objects(reembedding_backlog_after_an_embedding_model_change(
            np.random.default_rng(seed))).records)
        assert d.behavior == "control_plane", d.explanation
        assert d.suspect_changes[0]["ref"] == "embed-v3", (seed, d.suspect_changes)


def test_the_label_reads_changes_against_the_onset_the_culprit_is_ranked_against() -> None:
    """One onset: the label's change evidence is measured from the episode's first
    clear move, as attribution's is. Measured from the earliest layer, the faint GPU
    gauge put nodepool-7 19 min after the onset, and a lone regional burst two hours
    early put prompt-v9 nearly two hours after it."""
    cases = [a_faint_gpu_gauge_ahead_of_the_memory_step(np.random.default_rng(3)),
             _prompt_bloat_after_a_regional_burst(np.random.default_rng(3), True)]
    for raw in cases:
        records = parse_objects(raw).records
        ev, d = gather(records), diagnose(records)
        by_kind = sorted((c.kind, round(c.minutes_before_onset, 1)) for c in ev.change_evidence)
        ranked = sorted((row["kind"], round(row["minutes_before_onset"], 1))
                        for row in d.suspect_changes)
        assert by_kind == ranked, (by_kind, ranked)
        assert all(minutes > 0 for _, minutes in by_kind), by_kind
        assert ev.episode is not None and ev.onset_epoch == ev.episode.epoch


def test_a_change_before_the_load_climb_reads_no_fresher_than_one_during_it() -> None:
    """An OOM failure on a capped pool (independent generator): the node-pool change
    that caused it came 7 min before the first move, during the load's climb; another
    infra change came 45 min before, before the climb. On the load clock the earlier
    one read 0 minutes old and the culprit its wall-clock 7: the clock must keep the
    changes' order (``classifiers.load_clock.in_order``)."""
    from bot.simulator import independent

    scenario = independent.generate("infrastructure", 7000017)
    d = diagnose(parse_objects(scenario.records).records)
    assert d.behavior == "infrastructure", d.explanation
    assert d.suspect_changes[0]["ref"] == scenario.truth["culprit"], d.suspect_changes
