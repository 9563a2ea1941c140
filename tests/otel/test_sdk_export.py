"""The real OpenTelemetry SDK exporter pushing to a running ``resilio serve``, on both stores."""

from __future__ import annotations

import numpy as np
import pytest

from tests.otel.support import one, sdk, series
from tests.support.replicas import Replica

TENANTS = ("acme", "globex")


def test_gauges_sums_and_histograms_arrive_as_signals(bot: Replica) -> None:
    with sdk(bot.url) as (meter, provider):
        grounded = meter.create_gauge("rag.quality.groundedness")
        total = meter.create_counter("rag.feedback.total")
        down = meter.create_counter("rag.feedback.thumbs_down")
        latency = meter.create_histogram("http.server.request.duration", unit="ms")
        rng = np.random.default_rng(7)
        observed: list[float] = []
        for _flush in range(3):
            for tenant in TENANTS:
                # http.route is no slice dimension: its streams add up within the tenant
                for route in ("/ask", "/search"):
                    attrs = {"tenant": tenant, "http.route": route}
                    total.add(50, attrs)
                    down.add(5 if tenant == "acme" else 1, attrs)
                grounded.set(0.9 if tenant == "acme" else 0.8, {"tenant": tenant})
            values = rng.gamma(4.0, 60.0, size=400)
            observed.extend(values)
            for value in values:
                latency.record(float(value), {"tenant": "acme"})
            assert provider.force_flush(10_000)

    found = series(bot.url, service="rag-assistant")
    rate = one(found, "thumbs_down_rate")
    assert rate["kind"] == "ratio" and rate["layer"] == "quality" and rate["bad"] == "up"
    # all traffic: 2 tenants x 2 routes x 50 = 200 per interval, 2 x (5 + 1) = 12 down
    assert [p["count"] for p in rate["points"]] == [200.0] * 3
    assert [round(p["value"], 6) for p in rate["points"]] == [0.06] * 3
    acme = one(found, "thumbs_down_rate", {"tenant": "acme"})
    assert [round(p["value"], 6) for p in acme["points"]] == [0.1] * 3
    counts = one(found, "rag.feedback.total", {"tenant": "globex"})
    # the provider's shutdown exports once more: an interval in which nothing was counted
    assert counts["kind"] == "count"
    assert [p["value"] for p in counts["points"]] == [100.0, 100.0, 100.0, 0.0]

    gauge = one(found, "groundedness", {"tenant": "acme"})
    assert gauge["kind"] == "gauge" and gauge["layer"] == "quality" and gauge["bad"] == "down"
    assert [p["value"] for p in gauge["points"]] == pytest.approx([0.9] * 4)
    assert one(found, "groundedness")["points"][0]["value"] == pytest.approx(0.85)

    p95 = one(found, "http.server.request.duration_p95", {"tenant": "acme"})
    assert p95["layer"] == "runtime" and p95["bad"] == "up"  # built-in rule for http.server.*
    # cumulative buckets became per-interval ones: 400 observations each, not 400, 800, 1200
    assert [p["count"] for p in p95["points"]] == [400.0] * 3
    truth = np.quantile(observed[-400:], 0.95)
    # the default buckets around p95 (~ 500 ms) are 250 wide: the documented error bound
    assert abs(p95["points"][-1]["value"] - truth) <= 250
    dist = one(series(bot.url, service="rag-assistant", type="distribution"),
               "http.server.request.duration", {"tenant": "acme"})
    assert [p["sample_size"] for p in dist["points"]] == [400] * 3


def test_delta_sums_and_exponential_histograms(bot: Replica) -> None:
    with sdk(bot.url, delta=True, exponential=True) as (meter, provider):
        tokens = meter.create_counter("gen_ai.client.token.usage")
        duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
        rng = np.random.default_rng(3)
        observed = []
        for flush in range(3):
            tokens.add(1000 * (flush + 1), {"gen_ai.request.model": "m-7"})
            values = rng.lognormal(0.0, 0.5, size=300)
            observed.append(values)
            for value in values:
                duration.record(float(value))
            assert provider.force_flush(10_000)

    found = series(bot.url, service="rag-assistant")
    usage = one(found, "gen_ai.client.token.usage", {"model_version": "m-7"})
    assert usage["layer"] == "cost" and usage["kind"] == "count"
    assert [p["value"] for p in usage["points"]][:3] == [1000.0, 2000.0, 3000.0]
    p50 = one(found, "gen_ai.client.operation.duration_p50")
    assert p50["layer"] == "runtime"
    for point, values in zip(p50["points"], observed, strict=True):
        truth = float(np.median(values))
        # exponential buckets at the SDK's scale: relative error under base - 1 (< 5 %)
        assert abs(point["value"] - truth) / truth < 0.05


def test_exporter_restart_gives_no_negative_or_spiked_count(bot: Replica) -> None:
    """A counter reset (a new process, a new start time) continues the per-interval counts."""
    for _run in range(2):
        with sdk(bot.url) as (meter, provider):
            requests = meter.create_counter("rag.feedback.total")
            for _flush in range(3):
                requests.add(100, {"tenant": "acme"})
                assert provider.force_flush(10_000)
    points = one(series(bot.url, service="rag-assistant"), "rag.feedback.total",
                 {"tenant": "acme"})["points"]
    # each run's shutdown exports an empty interval; never -200 or 300 after the restart
    assert [p["value"] for p in points] == [100.0] * 3 + [0.0] + [100.0] * 3 + [0.0]
