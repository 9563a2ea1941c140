"""Slice contrasts and shares, read on their own (``bot.diagnosis.contrasts`` and
``classifiers.slices``): a canary born minutes before a late onset estimate, the
share of the excess when the big rest wobbles, and a local transient that is gone."""

from __future__ import annotations

import dataclasses

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.contrasts import slice_contrasts
from bot.diagnosis.pipeline import gather
from classifiers.slices import SliceContrast, localise_slices
from tests.diagnosis.slice_incidents import a_canary_born_at_the_deploy_on_15_second_scrapes


def test_a_canary_born_before_a_late_onset_is_compared_with_its_siblings() -> None:
    # the onset estimate lags the deploy by ten minutes (issue 13: onsets are off by
    # 15-70 min): the canary's own points before it are already the failure, so its
    # own past is no baseline; against m-10 over the same window it is clearly worse
    # (four noise draws: read over the canary's whole life, z is 4.7 to 8.8; a single
    # draw's z is a statistic, and the point is that it is far from 0)
    for seed in range(4):
        records = parse_objects(a_canary_born_at_the_deploy_on_15_second_scrapes(
            np.random.default_rng(seed))).records
        ev = gather(records)
        late = [dataclasses.replace(f, onset=f.onset + 600.0) for f in ev.findings]
        contrasts = [c for c in slice_contrasts(ev.data, late)
                     if c.signal == "quality/feedback.thumbs_down_ratio"
                     and c.dimension == "model_version"]
        canary = next(c for c in contrasts if c.value == "m-11")
        assert canary.delta_in / canary.se_in > 4, (seed, canary)  # vs its own past: ~0
        assert canary.delta_in > 0.04, (seed, canary)              # 0.11 against 0.04
        found = localise_slices(slice_contrasts(ev.data, late))
        assert [(s.dimension, s.value) for s in found][:1] == [("model_version", "m-11")]


def test_the_big_rest_wobbling_by_its_noise_does_not_halve_a_canary_share() -> None:
    # a two-value dimension: the stable version carries 92 % of traffic and moved by
    # two of its standard errors; counted in full, its wobble weighs more than the
    # canary's whole excess
    contrasts = [SliceContrast("model_version", "m-10", 0.0036, 0.0019, 0.032, 0.0052,
                               signal="thumbs", weight=16_600.0),
                 SliceContrast("model_version", "m-11", 0.032, 0.0052, 0.0036, 0.0019,
                               signal="thumbs", weight=1_470.0)]
    found = localise_slices(contrasts)
    assert [(s.value, round(s.share, 2)) for s in found] == [("m-11", 1.0)]
