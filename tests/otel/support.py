"""A running ``resilio serve`` (subprocess on loopback) and the real OpenTelemetry SDK exporter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

from tests.conftest import TOKEN
from tests.support.replicas import Replica

API_TOKEN = "otel-api-token"  # reads of the JSON API need the API token

CATALOG = """
services:
  - name: rag-assistant
    slices: [tenant, model_version]
    owners: {default: {users: [U0SRE0001]}}
otel:
  attributes: {gen_ai.request.model: model_version}
  rules:
    - {prefix: "rag.quality.", layer: quality, rename: ""}
    - {prefix: "rag.feedback.", layer: quality}
  ratios:
    - {name: thumbs_down_rate, numerator: rag.feedback.thumbs_down,
       denominator: rag.feedback.total, bad: up}
"""


def write_catalog(directory: Path, text: str = CATALOG) -> Path:
    path = directory / "resilio.yml"
    path.write_text(text)
    return path


@contextmanager
def running_bot(db_url: str, catalog: Path, **env: str) -> Iterator[Replica]:
    replica = Replica({"DATABASE_URL": db_url, "RESILIO_CONFIG": str(catalog),
                       "RESILIO_WEBHOOK_TOKEN": TOKEN, "RESILIO_API_TOKEN": API_TOKEN,
                       "RESILIO_RUN_SCHEDULER": "false", **env}, "otel")
    try:
        yield replica.wait_ready()
    finally:
        replica.stop()


@contextmanager
def sdk(url: str, *, service: str = "rag-assistant", delta: bool = False,
        exponential: bool = False, token: str = TOKEN) -> Iterator[tuple[Any, MeterProvider]]:
    """A meter on a MeterProvider whose OTLP/HTTP exporter pushes to the bot on ``flush``."""
    temporality = AggregationTemporality.DELTA if delta else AggregationTemporality.CUMULATIVE
    exporter = OTLPMetricExporter(
        endpoint=f"{url}/otlp/v1/metrics", headers={"Authorization": f"Bearer {token}"},
        compression=Compression.Gzip, timeout=10,
        preferred_temporality={Counter: temporality, Histogram: temporality})
    # An interval far longer than any test: exports happen only on force_flush.
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    views = [View(instrument_type=Histogram,
                  aggregation=ExponentialBucketHistogramAggregation())] if exponential else []
    provider = MeterProvider(resource=Resource.create({"service.name": service}),
                             metric_readers=[reader], views=views)
    try:
        yield provider.get_meter("tests.otel"), provider
    finally:
        provider.shutdown()


def series(url: str, **params: Any) -> list[dict[str, Any]]:
    """Every series of GET /v1/signals, following the pages."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = httpx.get(f"{url}/v1/signals", params=query, timeout=10,
                             headers={"Authorization": f"Bearer {API_TOKEN}"})
        response.raise_for_status()
        body = response.json()
        for item in body["series"]:
            if found and (found[-1]["name"], found[-1]["layer"], found[-1]["slice"]) == (
                    item["name"], item["layer"], item["slice"]):
                found[-1]["points"].extend(item["points"])
            else:
                found.append(item)
        cursor = body["next"]
        if not cursor:
            return found


def one(found: list[dict[str, Any]], name: str, slice_: dict[str, str] | None = None
        ) -> dict[str, Any]:
    matches = [s for s in found if s["name"] == name and s["slice"] == (slice_ or {})]
    assert len(matches) == 1, (name, slice_, [(s["name"], s["slice"]) for s in found])
    return matches[0]
