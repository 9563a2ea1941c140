"""The pieces attribution reads (``bot.diagnosis.suspects``): history cut at the
episode, a served switch as its change's rollout, scope aimed elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.exchange_records import ChangeRecord
from bot.diagnosis import suspects
from bot.diagnosis.detect import Finding
from bot.diagnosis.detect import Test as DetectorTest
from classifiers.onsets import Move

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _change(minute: float, kind: str, ref: str, **extra: object) -> ChangeRecord:
    return ChangeRecord.model_validate({"type": "change", "ts": T0 + timedelta(minutes=minute),
                                        "service": "svc", "kind": kind, "ref": ref, **extra})


def _recovered_at(minute: float) -> DetectorTest:
    return DetectorTest("runtime", "latency", (), "robust_shift", 1.0, 0.5, 1.0, None, 0.0, True,
                False, 0.5, recovered=(T0 + timedelta(minutes=minute)).timestamp())


def test_a_recovery_just_before_the_episode_does_not_make_the_culprit_history() -> None:
    changes = [_change(100, "retrieval", "idx-4")]
    onset = (T0 + timedelta(minutes=120)).timestamp()
    # a gauge came back 2 min before the onset: part of the episode's run-up
    assert suspects.history(changes, [_recovered_at(118)], onset - 600.0) == [False]
    # back to baseline 30 min before it: what came before that is history
    assert suspects.history(changes, [_recovered_at(90)], onset - 600.0) == [False]
    assert suspects.history(changes, [_recovered_at(105)], onset - 600.0) == [True]


def test_a_served_switch_soon_after_a_change_of_its_kind_is_its_rollout() -> None:
    changes = [_change(0, "model", "ranker-v12"), _change(5, "retrieval", "idx-4"),
               _change(18, "model", "m-12", description="served_model_version switched")]
    times, candidate = suspects.in_force(changes, pseudo=1)
    assert candidate == [True, True, False]
    assert times[0] == changes[2].ts.timestamp() and times[1] == changes[1].ts.timestamp()
    # an hour later it is a switch of its own
    late = [changes[0], _change(60, "model", "m-12")]
    assert suspects.in_force(late, pseudo=1)[1] == [True, True]


def test_a_change_aimed_at_another_region_is_aimed_elsewhere() -> None:
    slices = [{"dimension": "region", "value": "eu-west"}]
    assert suspects.aimed_elsewhere(_change(0, "config", "a", slice={"region": "us-east"}),
                                    slices)
    assert not suspects.aimed_elsewhere(_change(0, "config", "b", slice={"region": "eu-west"}),
                                        slices)
    assert not suspects.aimed_elsewhere(_change(0, "config", "c", slice={"tenant": "acme"}),
                                        slices)
    assert not suspects.aimed_elsewhere(_change(0, "config", "d", slice={"region": "us-east"}),
                                        [])


def _cost_step(slice_: tuple[tuple[str, str], ...], statistic: float, minute: float,
               effect: float) -> tuple[Finding, Move]:
    test = DetectorTest("cost", "usd_per_1k", slice_, "robust_shift", statistic, 1e-9, 1.0,
                        (T0 + timedelta(minutes=minute)).timestamp(), 0.5, True, True, effect)
    finding = Finding(test, 1e-9, 1.0, test.onset or 0.0)
    return finding, Move("cost", minute, 5.4, 5.0, 1.0, effect)


def test_a_segment_placed_early_on_a_shift_no_larger_than_its_total_starts_nothing() -> None:
    """Cost per 1k requests on five-minute billing: every segment and the total step
    at ~725-730, each placed to the sample; one segment's estimate lands at 715. Its
    test is stronger than the total's, but its shift is smaller: one more estimate of
    the step all traffic took (it made a model change 4 min before the step read as
    after it)."""
    total = _cost_step((), 15.3, 729.8, 5.6)
    early, move = _cost_step((("segment", "enterprise"),), 21.8, 714.9, 3.6)
    assert suspects._ahead_of_total(early, move, total)
    # a drift concentrated on one tenant: its shift larger than the diluted total's
    acme, acme_move = _cost_step((("tenant", "acme"),), 31.9, 714.9, 1.7)
    assert not suspects._ahead_of_total(acme, acme_move, _cost_step((), 24.4, 729.8, 1.2))
