"""A per-request cost that rises as the evening's traffic ebbs, beside a real failure.

A GPU pool paid by the hour and held at its cap spends the same whatever the traffic,
so its cost per request creeps up as the evening empties; when the GPUs start to
throttle hours into that ebb, the cost's slow rise crosses its threshold first and
was read as the cause (``cost``), on 5-minute billing scrapes beside 1-minute GPU and
HTTP metrics. How a cost follows the traffic is read off its own history
(:func:`classifiers.excursions.spend_elasticity`), so a cost paid per token, which a
traffic fall does not raise, stays a cost failure.
"""

from __future__ import annotations

import numpy as np

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose, gather
from tests.diagnosis.timed_records import Records, gauge, ratio

HOURS = 8.0


def _traffic(t: np.ndarray) -> np.ndarray:
    """Requests per minute: 1,400 falling smoothly to 900 over the evening."""
    return 1400.0 - 500.0 * (t / t[-1]) ** 1.3


def _pool_with_evening_traffic(rng: np.random.Generator, *, fixed_spend: bool,
                               cost_step: float = 1.0) -> tuple[Records, np.ndarray, float]:
    out: Records = []
    t = np.arange(int(HOURS * 60)) * 60.0
    on = t[-1] - 150 * 60.0
    n = rng.poisson(_traffic(t)).astype(float)
    ratio(out, "runtime", "http.server.request.error_ratio", t, n,
          np.full(t.size, 0.007), rng)
    gauge(out, "infra", "kube_deployment_status_replicas_available", t,
          np.full(t.size, 5.0), "down")
    bill = np.arange(5, int(HOURS * 60), 5) * 60.0
    per_request = (0.7 * 0.085 * 1400.0 / _traffic(bill) if fixed_spend
                   else np.full(bill.size, 0.085))
    per_request = per_request * np.where(bill >= on, cost_step, 1.0)
    gauge(out, "cost", "inference.cost_usd_per_1k", bill,
          per_request * (1 + rng.normal(0, 0.02, bill.size)), "up")
    return out, t, on


def thermal_throttling_as_the_evening_ebbs(rng: np.random.Generator) -> Records:
    """The GPUs heat up and clock down over half an hour; latency doubles and errors
    rise after them. The per-request cost has crept up a third with the ebb."""
    out, t, on = _pool_with_evening_traffic(rng, fixed_spend=True)
    ramp = np.clip((t - on) / (30 * 60.0), 0, 1)
    gauge(out, "infra", "DCGM_FI_DEV_SM_CLOCK", t,
          1980 - 800 * ramp + rng.normal(0, 5, t.size), "down")
    gauge(out, "infra", "DCGM_FI_DEV_GPU_TEMP", t,
          63 + 20 * ramp + rng.normal(0, 0.8, t.size), "up")
    late = np.clip((t - on - 10 * 60.0) / (30 * 60.0), 0, 1)
    gauge(out, "runtime", "http.server.request.duration_p95", t,
          0.16 + 0.25 * late + rng.normal(0, 0.005, t.size), "up")
    return out


def tokens_per_request_rise_as_the_evening_ebbs(rng: np.random.Generator) -> Records:
    """A hosted model paid per token: its cost per request does not follow the traffic,
    so a 60 % rise while the traffic ebbs is spend that went up."""
    out, _, _ = _pool_with_evening_traffic(rng, fixed_spend=False, cost_step=1.6)
    return out


def test_a_cost_that_follows_the_ebbing_traffic_does_not_outrank_the_throttling() -> None:
    for seed in (11, 12, 13):
        records = parse_objects(thermal_throttling_as_the_evening_ebbs(
            np.random.default_rng(seed))).records
        d = diagnose(records)
        assert d.behavior == "infrastructure", (seed, d.explanation, d.layers)
        cost = [x for x in gather(records).layers if x.layer == "cost"]
        assert not cost or cost[0].explained >= 0.5, cost


def test_a_cost_paid_per_token_is_not_explained_by_the_ebb() -> None:
    for seed in (11, 12, 13):
        records = parse_objects(tokens_per_request_rise_as_the_evening_ebbs(
            np.random.default_rng(seed))).records
        d = diagnose(records)
        assert d.behavior == "cost", (seed, d.explanation, d.layers)
