"""A real Prometheus on loopback, scraping a small exporter whose numbers the caller controls.

Used by ``resilio demo --prometheus`` and by the tests (tests/support/prometheus.py).

Waiting an hour for an hour of history is not a test, so the history is written
ahead with ``promtool tsdb create-blocks-from openmetrics`` from the same ledger
the live exporter serves: the counters continue across the seam, and every number
Prometheus holds is one the test can also compute by hand.

The ledger is per second and per tenant: ``n`` requests (Poisson) of which ``k``
got a thumbs-down (binomial with the tenant's probability at that second). The
exporter serves the cumulative counters up to the current second, plus an
info-style ``served_model_info`` gauge and a latency histogram.
"""

from __future__ import annotations

import math
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from bot.devtools.processes import stop_process, wait_until_ready

LATENCY_BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FeedbackLedger:
    """Requests and thumbs-down per tenant and second, from ``start`` on; deterministic."""

    def __init__(self, tenants: tuple[str, ...], start: int, *, requests_per_second: float = 40,
                 thumbs_down: float = 0.05, seed: int = 7) -> None:
        self.tenants = tenants
        self.start = start
        self.requests_per_second = requests_per_second
        self.base = {tenant: thumbs_down for tenant in tenants}
        self.injected: dict[str, list[tuple[int, float]]] = {t: [] for t in tenants}
        self.model_version: list[tuple[int, str]] = [(start, "v7")]
        self._seed = seed
        self._n: dict[str, list[int]] = {t: [] for t in tenants}
        self._k: dict[str, list[int]] = {t: [] for t in tenants}
        self._lock = threading.Lock()

    def probability(self, tenant: str, second: int) -> float:
        p = self.base[tenant]
        for since, value in self.injected[tenant]:
            if second >= since:
                p = value
        return p

    def inject(self, tenant: str, thumbs_down: float, since: int) -> None:
        """From second ``since`` on, ``tenant``'s thumbs-down probability is ``thumbs_down``."""
        with self._lock:
            self.injected[tenant].append((since, thumbs_down))
            keep = max(0, since - self.start)
            self._n[tenant] = self._n[tenant][:keep]
            self._k[tenant] = self._k[tenant][:keep]

    def _grow(self, tenant: str, upto: int) -> None:
        n, k = self._n[tenant], self._k[tenant]
        while self.start + len(n) <= upto:
            second = self.start + len(n)
            rng = np.random.default_rng([self._seed, self.tenants.index(tenant), second])
            requests = int(rng.poisson(self.requests_per_second))
            n.append(requests)
            k.append(int(rng.binomial(requests, self.probability(tenant, second))))

    def per_second(self, tenant: str, second: int) -> tuple[int, int]:
        """``(requests, thumbs_down)`` during second ``second``."""
        with self._lock:
            self._grow(tenant, second)
            index = second - self.start
            return self._n[tenant][index], self._k[tenant][index]

    def cumulative(self, tenant: str, second: int) -> tuple[int, int]:
        """Counter values after second ``second`` (what a scrape then shows)."""
        if second < self.start:
            return 0, 0
        with self._lock:
            self._grow(tenant, second)
            index = second - self.start + 1
            return sum(self._n[tenant][:index]), sum(self._k[tenant][:index])

    def served_version(self, second: int) -> str:
        version = self.model_version[0][1]
        for since, value in self.model_version:
            if second >= since:
                version = value
        return version

    def latency_buckets(self, tenant: str, second: int) -> list[tuple[str, int]]:
        """A cumulative latency histogram: a fixed share of requests per bucket."""
        requests, _ = self.cumulative(tenant, second)
        shares = (0.2, 0.5, 0.8, 0.95, 0.99)
        return [(f"{bound}", int(requests * share)) for bound, share in
                zip(LATENCY_BOUNDS, shares, strict=True)] + [("+Inf", requests)]


def _families(ledger: FeedbackLedger, second: int) -> list[Any]:
    total = CounterMetricFamily("feedback", "Answers rated", labels=["tenant"])
    down = CounterMetricFamily("feedback_thumbs_down", "Answers rated down", labels=["tenant"])
    latency = HistogramMetricFamily("answer_latency_seconds", "Answer latency",
                                    labels=["tenant"])
    for tenant in ledger.tenants:
        n, k = ledger.cumulative(tenant, second)
        total.add_metric([tenant], n)
        down.add_metric([tenant], k)
        buckets = ledger.latency_buckets(tenant, second)
        latency.add_metric([tenant], buckets, sum_value=float(n) * 0.4)
    info = GaugeMetricFamily("served_model_info", "Model version served",
                             labels=["route", "version", "expected_version"])
    info.add_metric(["primary", ledger.served_version(second), "v7"], 1.0)
    return [total, down, latency, info]


class _LedgerCollector:
    def __init__(self, ledger: FeedbackLedger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterator[Any]:
        yield from _families(self.ledger, int(time.time()))


def openmetrics_history(ledger: FeedbackLedger, start: int, end: int, target: str) -> str:
    """The ledger's counters at every second of ``[start, end]``, as OpenMetrics text.

    Labelled as the scrape of ``target`` labels them, so live scrapes continue the same
    series instead of starting new ones beside them.
    """
    job = f'instance="{target}",job="feedback"'
    names: dict[str, list[str]] = {"feedback_total": [], "feedback_thumbs_down_total": [],
             "served_model_info": [], "answer_latency_seconds_bucket": []}
    for second in range(start, end + 1):
        for tenant in ledger.tenants:
            n, k = ledger.cumulative(tenant, second)
            names["feedback_total"].append(
                f'feedback_total{{{job},tenant="{tenant}"}} {n} {second}')
            names["feedback_thumbs_down_total"].append(
                f'feedback_thumbs_down_total{{{job},tenant="{tenant}"}} {k} {second}')
            for le, count in ledger.latency_buckets(tenant, second):
                names["answer_latency_seconds_bucket"].append(
                    f'answer_latency_seconds_bucket{{{job},le="{le}",tenant="{tenant}"}} '
                    f'{count} {second}')
        names["served_model_info"].append(
            f'served_model_info{{expected_version="v7",{job},route="primary",'
            f'version="{ledger.served_version(second)}"}} 1 {second}')
    # promtool reads counters as families named without _total, and unknown for the rest.
    lines = ["# TYPE feedback counter", *names["feedback_total"],
             "# TYPE feedback_thumbs_down counter", *names["feedback_thumbs_down_total"],
             "# TYPE served_model_info gauge", *names["served_model_info"],
             "# TYPE answer_latency_seconds_bucket gauge",
             *names["answer_latency_seconds_bucket"], "# EOF"]
    return "\n".join(lines) + "\n"


CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: feedback
    static_configs:
      - targets: ["127.0.0.1:{exporter_port}"]
"""


class PrometheusProcess:
    """``prometheus`` on a free loopback port with backfilled history and a live exporter."""

    def __init__(self, binary: str, promtool: str | None, ledger: FeedbackLedger) -> None:
        self.binary = binary
        self.promtool = promtool
        self.ledger = ledger
        self.root = Path(tempfile.mkdtemp(prefix="resilio-prom-"))
        self.port = free_port()
        self.exporter_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.history_until: int | None = None  # last second of the backfilled history
        self._exporter: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, history_until: int | None = None) -> PrometheusProcess:
        registry = CollectorRegistry()
        registry.register(_LedgerCollector(self.ledger))
        self._exporter, _ = start_http_server(self.exporter_port, addr="127.0.0.1",
                                              registry=registry)
        data = self.root / "data"
        data.mkdir()
        if history_until is not None and self.promtool:
            self.history_until = history_until
            history = self.root / "history.om"
            history.write_text(openmetrics_history(self.ledger, self.ledger.start,
                                                   history_until,
                                                   f"127.0.0.1:{self.exporter_port}"))
            subprocess.run([self.promtool, "tsdb", "create-blocks-from", "openmetrics",
                            str(history), str(data)], check=True, capture_output=True,
                           timeout=60)
        (self.root / "prometheus.yml").write_text(
            CONFIG.format(exporter_port=self.exporter_port))
        log = open(self.root / "prometheus.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.binary, f"--config.file={self.root / 'prometheus.yml'}",
             f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--storage.tsdb.retention.time=1d"],
            stdout=log, stderr=subprocess.STDOUT)
        wait_until_ready(f"{self.url}/-/ready", self.process, "Prometheus", self.log)
        return self

    def wait_for_samples(self, query: str, at_least: float, timeout: float = 20) -> None:
        """Until ``query`` (an instant query) is at least ``at_least``: scrapes have landed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = httpx.get(f"{self.url}/api/v1/query", params={"query": query},
                             timeout=5).json()
            result = body.get("data", {}).get("result", [])
            if result and float(result[0]["value"][1]) >= at_least:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{query} did not reach {at_least}: " + self.log()[-1500:])

    def log(self) -> str:
        path = self.root / "prometheus.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process)
        if self._exporter is not None:
            self._exporter.shutdown()
            self._exporter.server_close()


def next_second() -> int:
    return math.floor(time.time()) + 1
