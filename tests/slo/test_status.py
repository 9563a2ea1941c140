"""SLO status from signal records: quality and cost regressions burn budget; availability doesn't.

The stream (tests/slo/streams.py): one record per signal per minute for 25 hours from
midnight; requests carry count 200. Healthy: error_rate 0.001, latency_p95_ms 800,
thumbs_down_rate 0.05, groundedness 0.92, index lag 60 s, $1.80 per 1k requests.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slo.compute import slo_status
from bot.slo.series import slice_unit_series, unit_series
from tests.slo.streams import START, catalog_with, rag_stream, signal, slo

MINUTES = 1500  # 25 h: minute i is at START + i min
NOW = START + timedelta(minutes=MINUTES - 1)
REGRESSION = range(1440, 1500)  # the last hour


def quality_regression(i: int) -> dict[str, float]:
    # Answers get worse, nothing else moves: no errors, no latency change.
    return {"groundedness": 0.70, "thumbs_down_rate": 0.20} if i in REGRESSION else {}


@pytest.fixture(scope="module")
def quality_records() -> list:
    return rag_stream(START, MINUTES, quality_regression)


@pytest.fixture(scope="module")
def rag_slos() -> dict:
    from bot.config.catalog import load_catalog

    return {s.name: s for s in load_catalog(None).service("rag-assistant").slos}


def test_quality_regression_burns_the_groundedness_budget(quality_records, rag_slos) -> None:
    status = slo_status(rag_slos["groundedness"], quality_records, service="rag-assistant",
                        now=NOW)
    budget = status.budget
    # 5-minute slices: 1500 minutes = 300 slices with data, the last 12 bad.
    assert (budget.bad, budget.total) == (12, 300)
    assert budget.attainment == pytest.approx(288 / 300)
    # 30 d / 5 min = 8640 slices; 1% of them = 86.4 may be bad; 12 spent.
    assert budget.budget_total == pytest.approx(86.4)
    assert budget.budget_consumed == pytest.approx(12 / 86.4)
    # The last hour is 12 bad slices of 12: 100% bad / 1% allowed = 100x.
    assert status.burn_rate == pytest.approx(100.0)
    # 1h/5m: 100x > 14.4 on both; 1d/2h: 12/288 = 4.17x and 12/24 = 50x, both > 3.
    assert status.alerts == ("page", "ticket")
    assert status.status == "page"
    # (1 - 12/86.4) of the budget at 100x over 30 days: 0.86111 * 30 d / 100 = 22,320 s.
    assert status.time_to_exhaustion.total_seconds() == pytest.approx(22_320)
    thumbs = slo_status(rag_slos["thumbs-down"], quality_records, service="rag-assistant",
                        now=NOW)
    assert thumbs.budget.bad == 12 and thumbs.status == "page"


def test_quality_regression_leaves_availability_and_latency_alone(quality_records,
                                                                  rag_slos) -> None:
    before = START + timedelta(minutes=1439)
    for name in ("availability", "latency"):
        during = slo_status(rag_slos[name], quality_records, service="rag-assistant", now=NOW)
        earlier = slo_status(rag_slos[name], quality_records, service="rag-assistant",
                             now=before)
        assert during.status == "ok" and during.alerts == ()
        assert during.burn_rate == pytest.approx(earlier.burn_rate)
    availability = slo_status(rag_slos["availability"], quality_records,
                              service="rag-assistant", now=NOW)
    # 1500 minutes x 200 requests = 300,000 events, 0.1% failing = 300; 0.5% = 1500 allowed.
    assert availability.budget.total == pytest.approx(300_000)
    assert availability.budget.bad == pytest.approx(300)
    assert availability.budget.budget_consumed == pytest.approx(0.2)
    assert availability.burn_rate == pytest.approx(0.2)  # 0.1% / 0.5%


def test_cost_regression_burns_the_cost_slo(rag_slos) -> None:
    records = rag_stream(START, MINUTES,
                         lambda i: {"cost_per_1k_requests": 4.0} if i >= 1470 else {})
    status = slo_status(rag_slos["cost-per-1k"], records, service="rag-assistant", now=NOW)
    # The last 30 minutes are 6 slices over $2.50; 2% of 8640 slices = 172.8 may be bad.
    assert status.budget.bad == 6
    assert status.budget.budget_consumed == pytest.approx(6 / 172.8)
    # Last hour: 6 bad of 12 slices = 50% / 2% = 25x > 14.4 (and the last slice 50x).
    assert status.burn_rate == pytest.approx(25.0)
    assert status.status == "page"
    quality = slo_status(rag_slos["groundedness"], records, service="rag-assistant", now=NOW)
    assert quality.status == "ok" and quality.budget.bad == 0


def test_empty_store_is_no_data(rag_slos) -> None:
    for objective in rag_slos.values():
        status = slo_status(objective, [], service="rag-assistant", now=NOW)
        assert status.status == "no_data"
        assert status.to_dict()["attainment"] is None and status.burn_rate is None


def test_slice_filter_uses_only_that_slice_and_breakdowns_are_separate() -> None:
    t = START
    records = [
        signal(t, "groundedness", 0.95, layer="quality", count=100),
        signal(t, "groundedness", 0.60, layer="quality", count=10, tenant="acme"),
        signal(t, "groundedness", 0.97, layer="quality", count=90, tenant="beta"),
    ]
    spec = {"sli": {"kind": "quality", "signal": "groundedness", "op": ">=", "threshold": 0.85},
            "target": 0.99, "budgeting": "timeslices"}
    everyone = slo(name="all", **spec)
    acme = slo(name="acme", filter={"tenant": "acme"}, **spec)
    assert unit_series(everyone, records, start=t, end=t).bad.tolist() == [0.0]
    assert unit_series(acme, records, start=t, end=t).bad.tolist() == [1.0]
    breakdown = slice_unit_series(everyone, records, start=t, end=t)
    assert {k: v.bad.tolist() for k, v in breakdown.items()} == {
        "tenant=acme": [1.0], "tenant=beta": [0.0]}


def test_good_over_total_counts_and_bounded_occurrences() -> None:
    t = START
    records = [signal(t, "requests_ok", 990, layer="runtime"),
               signal(t, "requests_total", 1000, layer="runtime"),
               signal(t + timedelta(minutes=1), "requests_ok", 500, layer="runtime"),
               signal(t + timedelta(minutes=1), "requests_total", 500, layer="runtime")]
    counted = slo(name="ok", target=0.99, sli={"kind": "availability", "good": "requests_ok",
                                               "total": "requests_total"})
    series = unit_series(counted, records, start=t, end=t + timedelta(minutes=1))
    assert series.bad.tolist() == [10.0, 0.0] and series.total.tolist() == [1000.0, 500.0]
    # Bounded by occurrences: a minute's 200 answers are bad together when it misses.
    grounded = slo(name="g", target=0.99, sli={"kind": "quality", "signal": "groundedness",
                                               "op": ">=", "threshold": 0.85})
    answers = [signal(t, "groundedness", 0.9, layer="quality", count=200),
               signal(t + timedelta(minutes=1), "groundedness", 0.8, layer="quality", count=50)]
    series = unit_series(grounded, answers, start=t, end=t + timedelta(minutes=1))
    assert series.bad.tolist() == [0.0, 50.0] and series.total.tolist() == [200.0, 50.0]


def test_catalog_helper_round_trip() -> None:
    catalog = catalog_with([{"name": "a", "sli": {"kind": "fallback", "signal": "fallback_rate"},
                             "target": 0.98}])
    assert catalog.services[0].slos[0].sli.kind == "fallback"
