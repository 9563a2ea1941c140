"""The episode a culprit must explain (``classifiers.onsets.episode``) and the time fit
attribution reads against its onset (``classifiers.attribution.change_time_fit``)."""

from __future__ import annotations

from classifiers.attribution import AFTER_FIT, LATE_FIT, change_time_fit, rank_changes
from classifiers.onsets import Move, episode


def _move(layer: str, onset: float, excess: float = 10.0, *, continuing: bool = False,
          strength: float = 1.0) -> Move:
    return Move(layer, onset, halfwidth=1.0, resolution=1.0, strength=strength,
                excess=excess, continuing=continuing)


def test_an_isolated_early_move_is_not_the_episode() -> None:
    # a slice burst 80 min early, clear on its own test, then the step and its symptoms
    moves = [_move("data", -80.0, 3.4), _move("data", 0.4, 20.0), _move("quality", 2.6, 5.0)]
    run = episode(moves)
    assert [m.onset for m in run] == [0.4, 2.6]


def test_moves_within_the_gap_chain_into_one_run() -> None:
    moves = [_move("model", 0.0, 8.0), _move("quality", 15.0, 3.0), _move("runtime", 31.0, 2.0)]
    assert len(episode(moves)) == 3
    assert episode(moves, gap=10.0)[0].onset == 0.0  # cut: the first run has most evidence


def test_a_run_of_resources_alone_counts_less_than_a_harm() -> None:
    # replicas following the evening's traffic, far clearer than the cost step after
    moves = [_move("infra", -128.0, 30.0), _move("cost", 6.9, 14.0)]
    assert episode(moves)[0].layer == "cost"
    assert episode([_move("infra", -128.0, 30.0)])[0].layer == "infra"  # all there is


def test_a_growing_lag_keeps_its_run_open() -> None:
    # a stalled pipeline's lag, and the quality it costs three hours later
    moves = [_move("freshness", 0.0, 3.0, continuing=True), _move("quality", 180.0, 8.0)]
    assert episode(moves)[0].layer == "freshness"
    stepped = [_move("freshness", 0.0, 3.0), _move("quality", 180.0, 8.0)]
    assert episode(stepped)[0].layer == "quality"


def test_no_moves_no_episode() -> None:
    assert episode([]) == []


def test_a_change_past_a_tight_interval_came_too_late() -> None:
    # a step placed to the 15-second sample
    assert 0.35 < change_time_fit(-1.0, 0.3, 0.25) < AFTER_FIT
    assert change_time_fit(-3.0, 0.3, 0.25) < 0.25
    assert change_time_fit(-30.0, 0.3, 0.25) == LATE_FIT
    # a faint step on 5-minute points may lie minutes later: 3 min after is still close
    assert AFTER_FIT < change_time_fit(-3.0, 10.0, 5.0) < 1.0
    assert change_time_fit(-5.0, 10.0, 5.0) == AFTER_FIT
    assert 0.35 < change_time_fit(-6.0, 10.0, 5.0) < AFTER_FIT
    assert change_time_fit(1.0, 0.3, 0.25) == 1.0
    ranked = rank_changes([15.0, -3.0], ["code", "retrieval"], "data", root_layers=["model"],
                          onset_halfwidth=0.3, resolution=0.25)
    assert ranked[0].index == 0


def test_a_change_seconds_after_the_estimate_of_a_faint_step_fits() -> None:
    """A step placed only to within 21 minutes (its interval reaches 10 minutes past the
    estimate): a change five seconds after the estimate is no later than the step and
    fits about as well as one right at it, and beats a change of the same kind half an
    hour before (issue 13: a guardrail config change at the estimate scored half)."""
    assert change_time_fit(-0.08, 21.3, 1.0) > 0.99
    assert change_time_fit(-5.0, 21.3, 1.0) > AFTER_FIT
    ranked = rank_changes([30.2, -0.08], ["config", "config"], "eval_policy",
                          root_layers=["runtime"], onset_halfwidth=21.3, resolution=1.0)
    assert ranked[0].index == 1


def test_a_culprit_logged_minutes_after_a_faint_onset_estimate_still_ranks() -> None:
    """A rollout's "deployed" record lands minutes after its first replicas served the
    new build: a threshold change logged 5 minutes after a faint step's estimate
    (interval 4 minutes wide, 2-minute points) still beats a prompt change of weaker
    fit 25 minutes before, after which nothing moved (before: the late change fitted
    LATE_FIT, 0.02, and lost)."""
    ranked = rank_changes([25.0, -5.0], ["config", "threshold"], "eval_policy",
                          root_layers=["eval"], onset_halfwidth=4.0, resolution=2.0)
    assert ranked[0].index == 1
    # but logged half an hour late it cannot have started what was long moving
    late = rank_changes([25.0, -30.0], ["config", "threshold"], "eval_policy",
                        root_layers=["eval"], onset_halfwidth=4.0, resolution=2.0)
    assert late[0].index == 0
