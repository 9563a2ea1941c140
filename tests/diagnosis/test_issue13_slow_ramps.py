"""A quality loss that builds up slowly, with nothing upstream moving: a concept drift.

A fraud model's chargebacks (labels that a batch job reports every 5 minutes) climb
over two hours as the fraud it was trained on changes; the inputs, the latency and
the (idle, flat) CPU stay where they were. The rate test averages the ramp over its
horizon, half its final size, so chargebacks three quarters up by the end failed the practical
threshold on its mean and the incident read ``none`` at 0.97. The size of a ramp is
now read where it got to (``classifiers.shifts.rate_at_end``); its significance is
still the test's, so a flat rate stays quiet.
"""

from __future__ import annotations

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose
from tests.diagnosis.timed_records import Records, gauge, ratio


def _fraud_service(rng: np.random.Generator, rise: float) -> Records:
    out: Records = []
    t = np.arange(int(6 * 60 / 5)) * 300.0           # 6 h of 5-minute label batches
    on = t[-1] - 100 * 60.0
    ramp = np.clip((t - on) / (120 * 60.0), 0, 1)   # still climbing at the end
    n = rng.poisson(900, t.size).astype(float)
    ratio(out, "quality", "fraud.chargeback_ratio", t, n, 0.008 * (1 + rise * ramp), rng)
    fast = np.arange(6 * 60) * 60.0
    m = rng.poisson(3000, fast.size).astype(float)
    ratio(out, "model", "fraud.flag_ratio", fast, m, np.full(fast.size, 0.03), rng)
    ratio(out, "runtime", "http.server.request.error_ratio", fast, m,
          np.full(fast.size, 0.004), rng)
    gauge(out, "runtime", "http.server.request.duration_p95", fast,
          0.12 + rng.normal(0, 0.004, fast.size), "up")
    gauge(out, "data", "transaction.amount_mean", fast,
          52 + rng.normal(0, 1.0, fast.size), "both")
    gauge(out, "infra", "container_cpu_utilization_ratio", fast, np.zeros(fast.size), "up")
    return out


def test_chargebacks_that_climb_three_quarters_over_two_hours_are_a_model_failure() -> None:
    for seed in (11, 12, 15):
        d = diagnose(parse_objects(_fraud_service(np.random.default_rng(seed), 0.8)).records)
        assert d.behavior == "model", (seed, d.explanation, d.layers)


def test_chargebacks_that_stay_flat_are_no_failure() -> None:
    for seed in (11, 12, 13):
        d = diagnose(parse_objects(_fraud_service(np.random.default_rng(seed), 0.0)).records)
        assert d.behavior == "none", (seed, d.explanation, d.layers)
