"""Persistence and daily recurrence of a move, and what the label makes of them."""

from __future__ import annotations

import numpy as np

from classifiers.behaviour import FEATURES, LayerEvidence, classify_behaviour, evidence_features
from classifiers.excursions import (
    DAY,
    VOLUME_EBB,
    explained_by_volume,
    is_capacity_fall,
    persistence,
    recurrence,
    volume_ratio,
)


def _step(n: int = 240, at: int = 200, back: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) * 60.0
    v = 1.0 + 0.5 * ((t >= at * 60.0) & (t < (back if back is not None else n) * 60.0))
    return t, v


def test_a_move_that_holds_persists_and_one_that_came_back_does_not() -> None:
    t, held = _step()
    assert persistence(held, t, 200 * 60.0, 1.0, 1.5) == 1.0
    t, gone = _step(back=215)
    assert persistence(gone, t, 200 * 60.0, 1.0, 1.5) == 0.0
    t, half = _step()
    half[-10:] = 1.25
    assert abs(persistence(half, t, 200 * 60.0, 1.0, 1.5) - 0.5) < 1e-9


def test_rates_are_weighted_by_their_counts_and_tests_without_levels_persist() -> None:
    t = np.arange(60) * 60.0
    rates = np.where(t >= 40 * 60.0, 0.1, 0.01)
    rates[-5:] = [0.01, 0.01, 0.01, 0.01, 0.5]  # one high rate over 2 requests: no relapse
    counts = np.full(t.size, 1000.0)
    counts[-1] = 2.0
    assert persistence(rates, t, 40 * 60.0, 0.01, 0.1, counts) < 0.05
    assert persistence(rates, t, 40 * 60.0, None, None) == 1.0


def test_the_same_move_a_day_earlier_is_recurrence_and_no_history_is_none() -> None:
    t = np.arange(0, 1.2 * DAY, 300.0)
    onset = t[-1] - 1800.0
    nightly = ((t - onset) % DAY) < 3600.0
    v = 3.0 + 6.0 * nightly
    assert recurrence(v, t, onset, 3.0, 9.0) > 0.9
    fresh = 3.0 + 6.0 * (t >= onset)
    assert recurrence(fresh, t, onset, 3.0, 9.0) == 0.0
    short = t[t > onset - 6 * 3600.0]
    assert recurrence(3.0 + 6.0 * (short >= onset), short, onset, 3.0, 9.0) == 0.0


def test_recovered_moves_read_as_none_and_a_held_one_as_a_failure() -> None:
    held = LayerEvidence("runtime", 1.0, 100.0, excess=3.0)
    gone = LayerEvidence("runtime", 1.0, 100.0, excess=3.0, persistence=0.0)
    x = dict(zip(FEATURES, evidence_features([gone], []), strict=True))
    assert x["recovered"] == 1.0
    assert classify_behaviour([held]).label == "infrastructure"
    posterior = classify_behaviour([gone])
    assert posterior.label == "none"
    assert "back at its usual level" in posterior.reasons[0]


def test_errors_moving_with_shorter_answers_speak_for_infrastructure() -> None:
    # timeouts cut answers short: errors and output length move in the same scrape;
    # the same errors half an hour after the model moved are a symptom of the model
    def layers(runtime_onset: float) -> list[LayerEvidence]:
        return [LayerEvidence("runtime", 1.0, runtime_onset, excess=2.0),
                LayerEvidence("model", 1.0, 100.0, excess=2.0),
                LayerEvidence("quality", 1.0, 100.0, excess=2.0)]

    x = dict(zip(FEATURES, evidence_features(layers(100.0), []), strict=True))
    assert x["runtime with model"] == 1.0
    together = classify_behaviour(layers(100.0))
    later = classify_behaviour(layers(130.0))
    assert together.label == "infrastructure", together.scores
    assert together.scores["infrastructure"] > later.scores["infrastructure"]


def test_a_per_request_cost_over_a_tenth_of_the_traffic_is_explained_by_it() -> None:
    t = np.arange(120) * 60.0
    counts = np.where(t >= 80 * 60.0, 200.0, 2000.0)
    ratio = volume_ratio(counts, t, 80 * 60.0)
    assert abs(ratio - 0.1) < 1e-9
    # tripled while requests fell to a tenth: the spend fell, the rise is arithmetic
    assert explained_by_volume("cost", 1.0, 3.0, ratio) == 1.0
    # a hundredfold rise is more than a tenth of the traffic explains (half, in logs)
    assert abs(explained_by_volume("cost", 1.0, 100.0, ratio) - 0.5) < 1e-9
    # load falling with the traffic: all of it; latency rising: nothing
    assert explained_by_volume("infra", 70.0, 10.0, ratio) == 1.0
    assert explained_by_volume("runtime", 0.3, 0.6, ratio) == 0.0
    # quality per request does not follow the traffic, and a steady traffic explains nothing
    assert explained_by_volume("quality", 0.9, 0.6, ratio) == 0.0
    assert explained_by_volume("cost", 1.0, 3.0, volume_ratio(np.full(120, 2000.0), t,
                                                               80 * 60.0)) == 0.0


def test_the_traffic_is_compared_on_either_side_of_the_onset_not_over_the_window() -> None:
    # requests fall through eight hours to a quarter; the hour after hour seven holds
    # three quarters of the hour before's: no ebb, so a per-request cost that doubled
    # then is not arithmetic of the traffic (the whole window's sides gave 0.44 before)
    t = np.arange(480) * 60.0
    counts = 1500.0 * (1 - 0.75 * t / t[-1])
    ratio = volume_ratio(counts, t, 420 * 60.0)
    assert VOLUME_EBB < ratio < 0.8
    assert explained_by_volume("cost", 8.0, 16.0, ratio) == 0.0
    # a step at the onset is still seen, and an hour of 30-minute points is too few to
    # compare: the window's sides are
    assert abs(volume_ratio(np.where(t >= 420 * 60.0, 300.0, 1500.0), t, 420 * 60.0) - 0.2) \
        < 1e-9
    coarse = np.arange(16) * 1800.0
    assert abs(volume_ratio(np.where(coarse >= 8 * 1800.0, 100.0, 400.0), coarse,
                            8 * 1800.0) - 0.25) < 1e-9


def test_a_pool_that_grew_with_a_surge_is_explained_by_it() -> None:
    # requests up 90 %: replicas from 4 to 8 are the autoscaler answering (0.9 in logs
    # of the doubling explained), utilisation up a fifth all of it; latency, errors and
    # spend per request are never explained by a surge, nor is a pool that shrank
    t = np.arange(120) * 60.0
    ratio = volume_ratio(np.where(t >= 80 * 60.0, 1900.0, 1000.0), t, 80 * 60.0)
    assert abs(explained_by_volume("infra", 4.0, 8.0, ratio) - np.log(1.9) / np.log(2)) < 1e-9
    assert explained_by_volume("infra", 50.0, 60.0, ratio) == 1.0
    assert explained_by_volume("runtime", 0.3, 0.6, ratio) == 0.0
    assert explained_by_volume("cost", 1.0, 1.5, ratio) == 0.0
    assert explained_by_volume("infra", 8.0, 4.0, ratio) == 0.0
    # a rise of a tenth in requests explains as much of a doubling as it accounts for
    assert abs(explained_by_volume("infra", 4.0, 8.0, 1.1) - np.log(1.1) / np.log(2)) < 1e-9
    assert explained_by_volume("infra", 4.0, 8.0, 1.0) == 0.0
    alone = LayerEvidence("infra", 1.0, 100.0, excess=4.9, resolution_minutes=0.25,
                          explained=explained_by_volume("infra", 4.0, 8.0, ratio))
    posterior = classify_behaviour([alone])
    assert posterior.label == "none", posterior.scores
    assert "follows the traffic" in posterior.reasons[0]


def test_inputs_and_outputs_moving_together_speak_for_data_whichever_crossed_first() -> None:
    # a slow input drift: the scores (the larger effect) cross their threshold 45
    # minutes before the input feature does; a worse model does not move its inputs
    def layers(data_onset: float) -> list[LayerEvidence]:
        return [LayerEvidence("model", 1.0, 100.0, excess=11.8, resolution_minutes=5.0),
                LayerEvidence("data", 0.98, data_onset, excess=3.3)]

    x = dict(zip(FEATURES, evidence_features(layers(145.0), []), strict=True))
    assert abs(x["inputs with outputs"] - 0.98) < 1e-3
    assert classify_behaviour(layers(145.0)).label == "data"
    assert classify_behaviour(layers(100.0)).label == "data"
    alone = classify_behaviour([LayerEvidence("model", 1.0, 100.0, excess=11.8)])
    assert alone.label == "model"


def test_whole_units_falling_are_a_capacity_fall_and_fractions_are_not() -> None:
    assert is_capacity_fall(np.array([6.0, 6.0, 5.0, 5.0]), 6.0, 5.0)
    assert not is_capacity_fall(np.array([6.0, 6.0, 7.0]), 6.0, 7.0)
    assert not is_capacity_fall(np.array([0.61, 0.6, 0.3]), 0.6, 0.3)


def test_benign_shares_are_taken_off_the_layers_before_any_label_weighs_them() -> None:
    habit = [LayerEvidence("infra", 1.0, 100.0, excess=6.0, recurrence=0.95),
             LayerEvidence("runtime", 1.0, 100.0, excess=4.0, recurrence=0.94)]
    x = dict(zip(FEATURES, evidence_features(habit, []), strict=True))
    assert x["infra first"] < 0.06 and x["runtime first"] < 0.07
    assert classify_behaviour(habit).label == "none"
    scaled_in = [LayerEvidence("infra", 1.0, 100.0, excess=50.0, capacity=1.0)]
    x = dict(zip(FEATURES, evidence_features(scaled_in, []), strict=True))
    assert x["capacity without harm"] == 1.0 and x["infra first"] == 0.0
    assert classify_behaviour(scaled_in).label == "none"
    # the same fall with latency rising beside it is a lost node, not a scale-in
    lost = [*scaled_in, LayerEvidence("runtime", 1.0, 102.0, excess=4.0)]
    assert dict(zip(FEATURES, evidence_features(lost, []), strict=True))[
        "capacity without harm"] == 0.0
    assert classify_behaviour(lost).label == "infrastructure"


def test_a_fixed_spend_over_fewer_requests_is_the_traffic_and_a_per_token_cost_is_not() -> None:
    from classifiers.excursions import explained_by_elasticity, traffic_cost_rise

    # 6 h of 1-minute request counts ebbing from 1,400 to 900 a minute; 5-minute costs
    t = np.arange(360) * 60.0
    counts = 1400.0 - 500.0 * t / t[-1]
    bill = np.arange(1, 72) * 300.0
    per_minute = np.interp(bill, t, counts)
    onset = 260 * 60.0
    fixed = 100.0 / per_minute             # an hourly pool: cost per request ~ 1/traffic
    rise = traffic_cost_rise(fixed, bill, counts, t, onset)
    before, after = float(fixed[bill < onset].mean()), float(fixed[bill >= onset].mean())
    assert rise > 0.1
    assert explained_by_elasticity(before, after, rise) > 0.8
    per_token = np.full(bill.size, 0.085)  # paid per token: no traffic in it
    per_token[bill >= onset] *= 1.6
    assert traffic_cost_rise(per_token, bill, counts, t, onset) < 1e-9
    # flat traffic says nothing about how the cost follows it
    assert traffic_cost_rise(fixed, bill, np.full(t.size, 1000.0), t, onset) == 0.0


def test_a_runtime_gauge_that_rose_less_than_the_traffic_is_the_busier_pool() -> None:
    # dose-response, no fixed ratio: a p95 up 13 % under 28 % more requests is all the
    # load (an absorbed surge), one up a third under 18 % more about half of it, one
    # that rose fivefold under half as many more requests mostly a failure; error
    # rates (not gauges) and a latency rise under flat traffic are never the load
    assert explained_by_volume("runtime", 0.12, 0.136, 1.28, gauge=True) == 1.0
    half = explained_by_volume("runtime", 0.085, 0.112, 1.18, gauge=True)
    assert 0.5 < half < 0.7
    assert explained_by_volume("runtime", 0.1, 0.5, 1.5, gauge=True) < 0.3
    assert explained_by_volume("runtime", 0.12, 0.136, 1.28) == 0.0
    assert explained_by_volume("runtime", 0.14, 0.154, 1.0, gauge=True) == 0.0
    assert explained_by_volume("runtime", 0.14, 0.12, 1.5, gauge=True) == 0.0
    busier = LayerEvidence("runtime", 1.0, 100.0, excess=2.6, findings=4,
                           explained=explained_by_volume("runtime", 0.12, 0.136, 1.28,
                                                         gauge=True))
    assert classify_behaviour([busier]).label == "none"
    assert classify_behaviour([LayerEvidence("runtime", 1.0, 100.0, excess=2.6,
                                             findings=4)]).label == "infrastructure"
