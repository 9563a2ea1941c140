"""OTLP intake throughput beside the exchange format, on the same server in the same run.

Starts ``resilio serve`` on a fresh SQLite file (or ``--database-url``), then for
``--seconds`` each:

1. posts OTLP/HTTP protobuf exports (cumulative counters and gauges, one point
   per metric, tenant and route, every export one interval later), and
2. posts the same data points as exchange-format ``signal`` records (JSON Lines)
   to ``POST /v1/signals``,

from ``--concurrency`` clients, and prints data points/s for each and the ratio.
The OTLP path does more per point (stream state read and written, all-traffic
and per-slice aggregates), so the ratio says what the mapping costs.

    python3 benchmarks/otlp.py [--seconds 8] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.intake import free_port, wait_ready  # noqa: E402

TOKEN = "bench-token"
METRICS, TENANTS, ROUTES = 10, 5, 4  # 200 data points per export
INTERVAL_NS = 10 * 10**9


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def otlp_body(client: int, step: int, start_ns: int) -> bytes:
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.extend([_kv("service.name", f"bench-{client}")])
    scope = resource.scope_metrics.add()
    at = start_ns + (step + 1) * INTERVAL_NS
    for m in range(METRICS):
        metric = scope.metrics.add(name=f"app.requests_{m}")
        if m % 2:
            metric.gauge.SetInParent()
            points = metric.gauge.data_points
        else:
            metric.sum.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
            metric.sum.is_monotonic = True
            points = metric.sum.data_points
        for t in range(TENANTS):
            for r in range(ROUTES):
                point = points.add(start_time_unix_nano=start_ns, time_unix_nano=at,
                                   as_double=float((step + 1) * (10 + t + r)))
                point.attributes.extend([_kv("tenant", f"t{t}"), _kv("route", f"r{r}")])
    return request.SerializeToString()


def exchange_body(client: int, step: int, start_ns: int) -> bytes:
    ts = datetime.fromtimestamp((start_ns + (step + 1) * INTERVAL_NS) / 1e9, tz=UTC)
    lines = []
    for m in range(METRICS):
        for t in range(TENANTS):
            for r in range(ROUTES):
                lines.append(json.dumps({
                    "type": "signal", "ts": ts.isoformat(), "service": f"bench-x{client}",
                    "layer": "runtime", "name": f"app.requests_{m}", "value": 10.0 + t + r,
                    "kind": "gauge" if m % 2 else "count",
                    "slice": {"tenant": f"t{t}", "route": f"r{r}"}}))
    return "\n".join(lines).encode()


async def drive(url: str, path: str, content_type: str, make, seconds: float,
                concurrency: int) -> tuple[int, float]:
    points_per_body = METRICS * TENANTS * ROUTES
    sent = 0
    start_ns = time.time_ns() - 10**12
    deadline = time.monotonic() + seconds

    async def client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal sent
        step = 0
        while time.monotonic() < deadline:
            response = await http.post(path, content=make(index, step, start_ns),
                                       headers={"Content-Type": content_type})
            response.raise_for_status()
            sent += points_per_body
            step += 1

    began = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=60,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        await asyncio.gather(*(client(i, http) for i in range(concurrency)))
    return sent, time.monotonic() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="resilio-otlp-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "RESILIO_WEBHOOK_TOKEN": TOKEN,
           "RESILIO_RUN_SCHEDULER": "false"}
    log = workdir / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        otlp, otlp_s = asyncio.run(drive(url, "/otlp/v1/metrics", "application/x-protobuf",
                                         otlp_body, args.seconds, args.concurrency))
        plain, plain_s = asyncio.run(drive(url, "/v1/signals", "application/x-ndjson",
                                           exchange_body, args.seconds, args.concurrency))
    finally:
        process.terminate()
        process.wait(timeout=20)
    otlp_rate, plain_rate = otlp / otlp_s, plain / plain_s
    store = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    print(f"OTLP/HTTP protobuf   {otlp_rate:9.0f} data points/s into the store ({store}, "
          f"{args.concurrency} clients, {otlp} points)")
    print(f"exchange /v1/signals {plain_rate:9.0f} data points/s (reference, same server, "
          f"{plain} points)")
    print(f"ratio OTLP / exchange format: {otlp_rate / plain_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
