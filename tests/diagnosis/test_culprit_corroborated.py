"""Culprits the kind table decides against, when their own layer moved or the label
read "none" (issue 13, the independent source's misses).

A quantised serving image (an ``infra`` change) ships 4 minutes before a model's
answers get worse, and the GPU's clocks move with it; a model change 18 minutes
before moved nothing. By the label's table alone (``infra`` fits a model failure
0.3, ``model`` 1.0) the model change won by 1.5x however clearly the timing and the
GPU pointed at the image (the clocks moved minutes after the answers, so the
GPU is no layer that moved first and the root-layer table did not help either).
A change whose own layer moved is corroborated
(:data:`classifiers.attribution.CHANGE_LAYERS`) and timing decides.

A full rollout that only the feedback shows is read "none" at a doubtful
confidence: nothing was ranked at all, although a model change came right before
the feedback moved. Its changes are now offered (not blamed); a confident "none"
still offers none.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import _suspects, diagnose, gather
from classifiers.attribution import rank_changes
from tests.diagnosis.timed_records import Records, change, gauge, ratio


def a_quantised_image_behind_worse_answers(rng: np.random.Generator) -> Records:
    """Answer confidence falls from 0.82 to 0.70 and thumbs-down rise from 4 % to 9 % at
    ``on`` on 1-minute scrapes; the GPU's SM clock drops from 1410 to 1100 MHz eight
    minutes later, once the int4 kernels carry the whole load (too late to count as
    a layer that moved first). An int4 serving image (``infra``) landed 4 min before
    ``on``, a model version 18 min before."""
    out: Records = []
    t = np.arange(360) * 60.0
    on = 300 * 60.0
    gauge(out, "model", "model.answer_confidence", t,
          np.where(t >= on, 0.70, 0.82) + rng.normal(0, 0.01, t.size), "down")
    gauge(out, "infra", "DCGM_FI_DEV_SM_CLOCK", t,
          np.where(t >= on + 8 * 60.0, 1100.0, 1410.0) + rng.normal(0, 8, t.size), "down")
    n = rng.poisson(600, t.size).astype(float)
    ratio(out, "quality", "feedback.thumbs_down_ratio", t, n, np.where(t >= on, 0.09, 0.04), rng)
    change(out, on - 18 * 60.0, "model", "model-77031")
    change(out, on - 4 * 60.0, "infra", "vllm-int4-image")
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_infra_change_whose_gpu_moved_outranks_an_earlier_model_change(seed: int) -> None:
    d = diagnose(parse_objects(a_quantised_image_behind_worse_answers(
        np.random.default_rng(seed))).records)
    assert d.behavior == "model", (d.behavior, d.scores)
    assert d.suspect_changes[0]["ref"] == "vllm-int4-image", d.suspect_changes


def test_corroboration_is_reported_and_only_raises_the_kind_fit() -> None:
    """The factor is visible on the score: kind fit raised to the corroborated floor,
    time fit untouched; a kind with no layer of its own (config) is never
    corroborated, and a change whose layer did not move keeps the table's fit."""
    ranked = rank_changes([4.0, 18.0, 6.0], ["infra", "model", "config"], "model",
                          root_layers=["model"], moved_layers={"model", "infra", "quality"})
    by_index = {r.index: r for r in ranked}
    assert by_index[0].corroborated and by_index[0].kind_fit == pytest.approx(0.7)
    assert by_index[1].corroborated and by_index[1].kind_fit == pytest.approx(1.0)
    assert not by_index[2].corroborated
    plain = {r.index: r for r in rank_changes([4.0, 18.0, 6.0], ["infra", "model", "config"],
                                              "model", root_layers=["model"])}
    assert not plain[0].corroborated and plain[0].kind_fit < 0.7
    assert plain[0].time_fit == by_index[0].time_fit


def a_rollout_only_the_feedback_shows(rng: np.random.Generator) -> Records:
    """Thumbs-down rise from 4 % to 8 % at ``on``; a model version landed 6 min before,
    another 40 min before."""
    out: Records = []
    t = np.arange(360) * 60.0
    on = 300 * 60.0
    n = rng.poisson(600, t.size).astype(float)
    ratio(out, "quality", "feedback.thumbs_down_ratio", t, n, np.where(t >= on, 0.08, 0.04), rng)
    change(out, on - 40 * 60.0, "model", "model-80250")
    change(out, on - 6 * 60.0, "model", "model-34082")
    return out


def test_a_doubtful_none_read_still_offers_the_change_before_the_move() -> None:
    ev = gather(parse_objects(a_rollout_only_the_feedback_shows(
        np.random.default_rng(4))).records)
    assert ev.episode is not None
    rows, blamed = _suspects(ev, "none", [], {"none": 0.58, "model": 0.40, "cost": 0.02})
    assert rows and rows[0]["ref"] == "model-34082", rows
    assert blamed is None  # offered, not blamed: the label says nothing failed
    rows, blamed = _suspects(ev, "none", [], {"none": 0.95, "model": 0.05})
    assert rows == [] and blamed is None
