"""One real Prometheus per test session, with ten minutes of backfilled history at 1 s.

Tests that change the exporter's numbers do it from "now" on, for their own
tenant, so the history other tests compare against stays as written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config.catalog import Catalog, parse_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from tests.support.binaries import require
from tests.support.prometheus import FeedbackLedger, PrometheusProcess

HISTORY_SECONDS = 600
TENANTS = ("acme", "globex", "initech")

RATIO = ("sum by (tenant) (feedback_thumbs_down_total - feedback_thumbs_down_total offset 1s)"
         " / sum by (tenant) (feedback_total - feedback_total offset 1s)")
COUNT = "sum by (tenant) (feedback_total - feedback_total offset 1s)"
RATIO_ALL = ("sum(feedback_thumbs_down_total - feedback_thumbs_down_total offset 1s)"
             " / sum(feedback_total - feedback_total offset 1s)")
COUNT_ALL = "sum(feedback_total - feedback_total offset 1s)"
BUCKETS = ("sum by (le, tenant) (answer_latency_seconds_bucket"
           " - answer_latency_seconds_bucket offset 1s)")


def signal_specs(**overrides: Any) -> list[dict[str, Any]]:
    """The catalog's signals for the test service: per tenant, all traffic, a histogram, a state."""
    per_tenant = {"type": "prometheus", "query": RATIO, "count_query": COUNT,
                  "slice_labels": {"tenant": "tenant"}, "step": "1s", **overrides}
    return [
        {"name": "thumbs_down_rate", "layer": "quality", "bad": "up", "kind": "ratio",
         "source": per_tenant},
        {"name": "thumbs_down_rate", "layer": "quality", "bad": "up", "kind": "ratio",
         "source": {"type": "prometheus", "query": RATIO_ALL, "count_query": COUNT_ALL,
                    "step": "1s", **overrides}},
        {"name": "answer_latency_seconds", "layer": "runtime", "record": "distribution",
         "source": {"type": "prometheus", "query": BUCKETS, "step": "1s",
                    "slice_labels": {"tenant": "tenant"}, **overrides}},
        {"name": "served_model_version", "layer": "control", "record": "state",
         "source": {"type": "prometheus", "query": "served_model_info", "step": "1s",
                    "value_label": "version", "expected_label": "expected_version",
                    "slice_labels": {"route": "route"}, **overrides}},
    ]


SLOS = [
    {"name": "thumbs-down", "sli": {"kind": "quality", "signal": "thumbs_down_rate"},
     "target": 0.94, "window": "1d"},
    {"name": "acme-thumbs-down", "sli": {"kind": "quality", "signal": "thumbs_down_rate"},
     "target": 0.94, "window": "1d", "filter": {"tenant": "acme"}},
    {"name": "thumbs-down-slices", "budgeting": "timeslices", "timeslice": "1m",
     "sli": {"kind": "quality", "signal": "thumbs_down_rate", "op": "<=", "threshold": 0.06},
     "target": 0.9, "window": "1d"},
]


def make_catalog(url: str | None, signals: list[dict[str, Any]] | None = None,
                 **prometheus: Any) -> Catalog:
    service: dict[str, Any] = {"name": "rag-assistant", "slices": ["tenant", "route"],
                               "slos": SLOS, "signals": signals or []}
    data: dict[str, Any] = {"services": [service], "watch": {"window_minutes": 5}}
    if url is not None:
        data["prometheus"] = {"url": url, "timeout_seconds": 3, **prometheus}
    return parse_catalog(data, "<test catalog>")


@pytest.fixture(scope="session")
def prometheus() -> Iterator[PrometheusProcess]:
    binary = require("prometheus", "prometheus")
    promtool = require("promtool", "prometheus")  # writes the history
    now = int(time.time())
    ledger = FeedbackLedger(TENANTS, now - HISTORY_SECONDS)
    process = PrometheusProcess(binary, promtool, ledger)
    process.start(history_until=now - 1)
    try:
        process.wait_for_samples("count(up == 1)", 1)
        yield process
    finally:
        process.stop()


def services_for(db_url: str, catalog: Catalog) -> Services:
    settings = Settings(DATABASE_URL=db_url, RESILIO_WEBHOOK_TOKEN="test-webhook-token")
    return build_services(settings, catalog)


@pytest.fixture
def pulled(sqlite_url: str, prometheus: PrometheusProcess) -> Iterator[Services]:
    """The bot with the test service's signals read from the session's Prometheus."""
    built = services_for(sqlite_url, make_catalog(prometheus.url, signal_specs()))
    yield built
    built.close()
