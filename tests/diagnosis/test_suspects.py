"""The pieces attribution reads (``bot.diagnosis.suspects``): history cut at the
episode, a served switch as its change's rollout, scope aimed elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.exchange_records import ChangeRecord
from bot.diagnosis import suspects
from bot.diagnosis.detect import Test as DetectorTest

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
