"""A failure localised to a slice whose layer moved nowhere else (issue 13).

A layer whose every finding is on a slice, its all-traffic series flat, is kept out
of the episode's onset: a lone slice's burst hours before the incident is no first
clear move of the service. But when the diagnosis names that very slice as where
the failure is, the slice's move is the failure's own first move, and the culprit
must come right before it, not before the latency that followed an hour later.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose
from tests.diagnosis.timed_records import Records, change, gauge, ratio_cells


def refusals_on_a_small_segment_long_before_latency(rng: np.random.Generator) -> Records:
    """A safety prompt for the free tier ships 8 min before the free segment's refusals
    step from 1 % to 20 % (its 30 requests a minute are 1 % of the traffic, so the
    all-traffic refusal ratio barely moves); 80 min later, as the free tier retries,
    latency rises on all traffic, 4 min after an unrelated config change."""
    out: Records = []
    t = np.arange(480) * 60.0
    on = 330 * 60.0
    later = on + 80 * 60.0
    volumes = {"free": 30.0, "pro": 1800.0, "enterprise": 1200.0}
    ratio_cells(out, "eval", "safety.refusal_ratio", t, "segment", volumes,
                {s: np.where((t >= on) & (s == "free"), 0.2, 0.01) for s in volumes}, rng)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.8 + rng.normal(0, 0.02, t.size) + 0.12 * (t >= later), "up")
    change(out, on - 8 * 60.0, "prompt", "safety-prompt-free-3")
    change(out, later - 4 * 60.0, "config", "gw-pool-12")
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_culprit_comes_before_the_named_slice_s_move(seed: int) -> None:
    d = diagnose(parse_objects(
        refusals_on_a_small_segment_long_before_latency(np.random.default_rng(seed))).records)
    assert d.slices and (d.slices[0]["dimension"], d.slices[0]["value"]) == ("segment", "free")
    assert d.suspect_changes[0]["ref"] == "safety-prompt-free-3", d.suspect_changes
