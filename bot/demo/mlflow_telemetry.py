"""The MLflow act's service telemetry, pushed through the real OpenTelemetry SDK exporter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


@contextmanager
def exporter(url: str, token: str) -> Iterator[tuple[Any, Any]]:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    from bot.demo.mlflow import SERVICE

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{url}/otlp/v1/metrics",
                           headers={"Authorization": f"Bearer {token}"}),
        export_interval_millis=3_600_000)  # exports on force_flush only
    provider = MeterProvider(resource=Resource.create({"service.name": SERVICE}),
                             metric_readers=[reader])
    try:
        yield provider.get_meter("resilio.demo"), provider
    finally:
        provider.shutdown()


class Telemetry:
    """Quality and model-layer signals; ``bad`` is how v2 behaves."""

    def __init__(self, meter: Any) -> None:
        self.rng = np.random.default_rng(11)
        self.grounded = meter.create_gauge("demo.quality.groundedness")
        self.confidence = meter.create_gauge("demo.model.mean_confidence")
        self.length = meter.create_gauge("demo.data.input_length_mean")
        self.lag = meter.create_gauge("demo.freshness.index_lag_seconds")
        self.latency = meter.create_gauge("demo.runtime.p99_latency_ms")
        self.total = meter.create_counter("demo.feedback.total")
        self.down = meter.create_counter("demo.feedback.thumbs_down")

    def minute(self, bad: bool) -> None:
        noise = self.rng.normal
        self.grounded.set((0.70 if bad else 0.91) + noise(0, 0.01))
        self.confidence.set((0.55 if bad else 0.82) + noise(0, 0.01))
        self.length.set(120 + noise(0, 2))
        self.lag.set(90 + noise(0, 4))
        self.latency.set(640 + noise(0, 15))
        self.total.add(400)
        self.down.add(int(self.rng.binomial(400, 0.16 if bad else 0.03)))
