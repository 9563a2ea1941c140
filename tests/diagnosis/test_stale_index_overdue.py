"""A vector index whose half-hourly rebuild stopped mid-tooth is a stall.

The healthy age saw-tooths from ~0 to ~36 minutes; stalled, it had passed the usual
peak by half of it when the alert came. Read against the whole cycle's spread, that
was under two SDs above the 95th percentile and the incident read ``none``; read
against the teeth's peaks it is a refresh well overdue, still growing.
"""

from __future__ import annotations

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose
from tests.diagnosis.timed_records import Records, change, gauge

OVERDUE = 1.5  # periods since the last rebuild when the alert comes


def _stale_index(rng: np.random.Generator, stalled: bool) -> Records:
    out: Records = []
    t = np.arange(12 * 60) * 60.0
    period = 36 * 60.0
    refreshes = np.cumsum(period * rng.uniform(0.95, 1.05, 40)) - 2 * period
    stop = t[-1] - OVERDUE * period  # the last rebuild, when the rebuilds stop
    refreshes += stop - refreshes[np.argmin(np.abs(refreshes - stop))]
    last = refreshes[np.searchsorted(refreshes, t, side="right") - 1]
    if stalled:
        last = np.where(t > stop, stop, last)
        change(out, float(stop) - 120.0, "retrieval", "index-build-7")
    age = np.maximum(t - last, 0.0) + 20 + rng.normal(0, 8, t.size)
    gauge(out, "freshness", "vector_index_age_seconds", t, age, "up")
    gauge(out, "quality", "rag.retrieval.relevance", t, 0.75 + rng.normal(0, 0.01, t.size),
          "down")
    gauge(out, "infra", "DCGM_FI_DEV_GPU_UTIL", t, 60 + rng.normal(0, 1, t.size), "both")
    return out


def test_a_rebuild_half_a_period_overdue_is_a_stall_and_its_change_the_culprit() -> None:
    for seed in range(3):
        d = diagnose(parse_objects(_stale_index(np.random.default_rng(seed), True)).records)
        assert d.behavior == "control_plane", (seed, d.behavior, d.confidence)
        assert d.suspect_changes and d.suspect_changes[0]["ref"] == "index-build-7"


def test_the_same_index_rebuilt_on_time_is_no_incident() -> None:
    for seed in range(3):
        d = diagnose(parse_objects(_stale_index(np.random.default_rng(seed), False)).records)
        assert d.behavior == "none", (seed, d.behavior)
