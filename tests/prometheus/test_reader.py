"""Pulled records equal the numbers the exporter served; every failure is a clear message.

Expected values come from the test's own ledger (tests/support/prometheus.py), the
same numbers the backfill wrote and the exporter serves: per second ``k`` of ``n``
answers rated down.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.api.health import build_router
from bot.config.source_spec import PrometheusServer
from bot.sources import load_signals
from bot.sources.prometheus import (
    EmptyResult,
    PrometheusReader,
    QueryFailed,
    TooManyPoints,
    Unreachable,
)
from bot.sources.pull import source_state
from tests.prometheus.conftest import make_catalog, services_for, signal_specs
from tests.support.prometheus import LATENCY_BOUNDS, free_port


def _window(prometheus, seconds: int = 120) -> tuple[datetime, datetime]:
    end = prometheus.history_until - 5
    return (datetime.fromtimestamp(end - seconds, UTC), datetime.fromtimestamp(end, UTC))


def test_pulled_signals_are_the_exporters_numbers(pulled, prometheus) -> None:
    start, end = _window(prometheus)
    load = load_signals(pulled, session=None, service="rag-assistant", start=start, end=end)
    assert load.errors == []
    ledger = prometheus.ledger
    signals = [r for r in load.records if r.type == "signal"]
    per_tenant = [r for r in signals if r.slice]
    assert {r.slice["tenant"] for r in per_tenant} == {"acme", "globex", "initech"}
    assert len(per_tenant) == 3 * 121  # both ends included, one point per second
    for record in per_tenant:
        n, k = ledger.per_second(record.slice["tenant"], int(record.ts.timestamp()))
        assert (record.value, record.count, record.kind, record.bad) == (k / n, n, "ratio", "up")
    everyone = [r for r in signals if not r.slice]
    second = int(everyone[0].ts.timestamp())
    totals = [ledger.per_second(t, second) for t in ledger.tenants]
    assert everyone[0].count == sum(n for n, _ in totals)
    assert everyone[0].value == pytest.approx(sum(k for _, k in totals) / everyone[0].count)


def test_histogram_buckets_become_counts_and_info_labels_become_states(pulled,
                                                                       prometheus) -> None:
    start, end = _window(prometheus, 10)
    load = load_signals(pulled, session=None, service="rag-assistant", start=start, end=end,
                        layers=["runtime", "control"])
    kinds = {r.type for r in load.records}
    assert kinds == {"distribution", "state"}, load.errors
    dist = next(r for r in load.records if r.type == "distribution"
                and r.slice == {"tenant": "globex"})
    second = int(dist.ts.timestamp())
    now_b = dict(prometheus.ledger.latency_buckets("globex", second))
    before_b = dict(prometheus.ledger.latency_buckets("globex", second - 1))
    labels = [str(b) for b in LATENCY_BOUNDS] + ["+Inf"]
    cumulative = [now_b[le] - before_b[le] for le in labels]
    expected = {le: float(c - (cumulative[i - 1] if i else 0))
                for i, (le, c) in enumerate(zip(labels, cumulative, strict=True))}
    assert dist.counts == expected
    state = next(r for r in load.records if r.type == "state")
    assert (state.value, state.expected, state.slice) == ("v7", "v7", {"route": "primary"})


def test_one_classification_queries_each_range_once(pulled, prometheus) -> None:
    start, end = _window(prometheus, 60)
    load_signals(pulled, session=None, service="rag-assistant", start=start, end=end)
    cache = source_state(pulled).cache
    misses = cache.misses
    again = load_signals(pulled, session=None, service="rag-assistant", start=start, end=end)
    assert cache.misses == misses and cache.hits >= 6
    assert again.errors == []


def test_unreachable_prometheus_is_a_message_on_healthz_not_a_crash(sqlite_url) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    services = services_for(sqlite_url, make_catalog(url, signal_specs()))
    try:
        end = datetime.now(UTC)
        load = load_signals(services, session=None, service="rag-assistant",
                            start=end - timedelta(minutes=5), end=end)
        assert load.records == []
        assert len(load.errors) == 4
        assert load.errors[0].startswith("quality signal thumbs_down_rate unavailable: "
                                         f"prometheus at {url} is unreachable")
        # One connection attempt for the whole load: the rest are skipped with its error.
        assert source_state(services).cache.misses == 1
        router = build_router(services)
        healthz = next(r for r in router.routes if r.path == "/healthz")
        from fastapi import Response

        body = healthz.endpoint(Response())
        check = body["checks"]["signal_sources"]
        assert check["status"] == "error" and check["failing"] == 4
        assert "unreachable" in check["signals"]["rag-assistant/thumbs_down_rate by tenant"]
        assert "unreachable" in check["signals"]["rag-assistant/thumbs_down_rate"]
    finally:
        services.close()


def test_a_syntax_error_reports_prometheus_own_words(sqlite_url, prometheus) -> None:
    specs = signal_specs()
    specs[0]["source"]["query"] = "sum by (tenant) (rate(feedback_total[1m])"
    services = services_for(sqlite_url, make_catalog(prometheus.url, specs))
    try:
        start, end = _window(prometheus, 30)
        load = load_signals(services, session=None, service="rag-assistant", start=start,
                            end=end)
        assert load.errors == ["quality signal thumbs_down_rate unavailable: query failed: "
                               "bad_data: 1:42: parse error: unclosed left parenthesis "
                               "(query: sum by (tenant) (rate(feedback_total[1m]))"]
        # The other signals still arrive.
        assert {r.type for r in load.records} == {"signal", "distribution", "state"}
    finally:
        services.close()


def test_a_query_matching_nothing_says_so(prometheus) -> None:
    reader = PrometheusReader(PrometheusServer(url=prometheus.url))
    try:
        with pytest.raises(EmptyResult, match=r"query returned no series: "
                                              r'feedback_total\{tenant="nobody"\}'):
            reader.query('feedback_total{tenant="nobody"}')
        with pytest.raises(QueryFailed, match="parse error"):
            reader.query_range("feedback_total{", start=0, end=10, step=1)
    finally:
        reader.close()


def test_too_many_points_is_refused_before_asking(prometheus) -> None:
    reader = PrometheusReader(PrometheusServer(url=prometheus.url, max_points=1000))
    try:
        with pytest.raises(TooManyPoints, match="3601 points per series, over the limit of "
                                                "1000"):
            reader.query_range("feedback_total", start=0, end=3600, step=1)
    finally:
        reader.close()


def test_bad_credentials_and_a_dead_port_are_told_apart(prometheus) -> None:
    dead = PrometheusReader(PrometheusServer(url=f"http://127.0.0.1:{free_port()}",
                                             timeout_seconds=1))
    with pytest.raises(Unreachable, match="unreachable"):
        dead.query("up")
    dead.close()
    # A URL that is not a Prometheus API at all (the exporter) is a clear error too.
    exporter = PrometheusReader(PrometheusServer(url=f"http://127.0.0.1:"
                                                     f"{prometheus.exporter_port}"))
    with pytest.raises(QueryFailed, match="without a Prometheus API response"):
        exporter.query("up")
    exporter.close()
