"""Requests that kept failing are the cause of scores that fell hours later (issue 13).

A gateway times out mid-stream: errors and latency rise and stay up, and the answers
it cuts short cross the thresholds of what scores them (an eval job's groundedness,
users' thumbs, the output-length mean) only hours later. Read as two stories the
later, larger one (outputs first) was called a model failure; requests still failing
at the end are never another story (``classifiers.behaviour_shape.starts_every_story``).
Written by hand with real exporter names, not drawn from a generator.
"""

from __future__ import annotations

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose
from tests.diagnosis.timed_records import Records, gauge, ratio


def _timeouts_then_scores(rng: np.random.Generator, recover: bool) -> Records:
    out: Records = []
    t = np.arange(720) * 60.0
    on, scored = 300 * 60.0, 480 * 60.0
    failing = (t >= on) & ((t < on + 40 * 60.0) if recover else True)
    n = rng.poisson(400, t.size).astype(float)
    ratio(out, "runtime", "gen_ai.client.error_ratio", t, n,
          np.where(failing, 0.04, 0.005), rng)
    gauge(out, "runtime", "gen_ai.client.operation.duration_p95", t,
          3.0 + rng.normal(0, 0.15, t.size) + 2.5 * failing, "up")
    gauge(out, "quality", "rag.groundedness", t,
          0.9 + rng.normal(0, 0.01, t.size) - 0.12 * (t >= scored), "down")
    ratio(out, "quality", "feedback.thumbs_down_ratio", t, n,
          np.where(t >= scored, 0.12, 0.04), rng)
    gauge(out, "model", "gen_ai.response.output_tokens", t,
          300 + rng.normal(0, 10, t.size) - 100 * (t >= scored), "both")
    return out


def test_timeouts_that_kept_failing_hours_before_the_scores_fell_read_infrastructure() -> None:
    for seed in (1, 2, 3):
        records = parse_objects(_timeouts_then_scores(np.random.default_rng(seed),
                                                      recover=False)).records
        d = diagnose(records)
        assert d.behavior == "infrastructure", (seed, d.behavior, d.scores)


def test_timeouts_that_came_back_hours_before_the_scores_fell_are_another_story() -> None:
    for seed in (1, 2, 3):
        records = parse_objects(_timeouts_then_scores(np.random.default_rng(seed),
                                                      recover=True)).records
        assert diagnose(records).behavior == "model"
