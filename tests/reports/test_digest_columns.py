"""The digest reads each record once into columns (``ServiceRecords``); its SLO weeks
must be what the record-by-record computation of ``bot.slo.series`` gives, for every
kind of SLI, records out of time order, records without a count and per-slice rows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from bot.config.catalog import parse_catalog
from bot.core.exchange_records import SignalRecord
from bot.reports.slos import ServiceRecords, slo_week
from bot.slo.series import slice_unit_series, unit_series
from tests.reports.fixtures import W46, WEEK

SLOS = [
    {"name": "availability", "sli": {"kind": "availability", "signal": "error_rate"},
     "target": 0.99, "window": "7d"},
    {"name": "quality", "sli": {"kind": "quality", "signal": "groundedness", "op": ">=",
                                "threshold": 0.85}, "target": 0.95,
     "budgeting": "timeslices", "timeslice": "5m", "window": "7d"},
    {"name": "latency", "sli": {"kind": "latency", "signal": "latency_ms", "op": "<=",
                                "threshold": 900}, "target": 0.99, "window": "7d"},
    {"name": "success", "sli": {"kind": "availability", "good": "ok", "total": "requests"},
     "target": 0.99, "window": "7d"},
]


def _records(seed: int) -> list[SignalRecord]:
    rng = random.Random(seed)
    found = []
    for step in range(0, 14 * 24 * 12, 7):  # every 35 minutes over two weeks
        ts = W46 + timedelta(minutes=5 * step, seconds=rng.randint(0, 59))
        bad = rng.random() < 0.05

        def add(name: str, value: float, count: float | None, kind: str = "gauge",
                bad_when: str = "up", slice_: dict[str, str] | None = None,
                ts: datetime = ts) -> None:
            found.append(SignalRecord(type="signal", ts=ts, service="svc", layer="runtime",
                                      name=name, value=value, count=count, kind=kind,
                                      bad=bad_when, slice=slice_ or {}))

        add("error_rate", 0.2 if bad else 0.01, rng.choice([100.0, None]), kind="ratio")
        for tenant in ("acme", "globex"):
            add("error_rate", 0.4 if bad and tenant == "acme" else 0.01, 50.0, kind="ratio",
                slice_={"tenant": tenant})
        add("groundedness", 0.6 if bad else 0.9, rng.choice([20.0, None]), bad_when="down")
        add("groundedness", 0.5 if bad else 0.95, 10.0, bad_when="down",
            slice_={"tenant": "acme", "region": "eu"})
        add("latency_ms", 1500.0 if bad else 400.0, 100.0)
        add("requests", 100.0, None, kind="count")
        add("ok", 80.0 if bad else 99.0, None, kind="count")
    rng.shuffle(found)  # the digest must not rely on the store's time order
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_slo_weeks_from_columns_match_the_record_computation(seed: int) -> None:
    catalog = parse_catalog({"services": [{"name": "svc", "slos": SLOS}]}, "<test>")
    records = _records(seed)
    grouped = ServiceRecords(records)
    for slo in catalog.service("svc").slos:
        week = slo_week(slo, grouped, service="svc", week=WEEK)
        for attainment, span in ((week.attainment, WEEK), (week.previous_attainment,
                                                           WEEK.previous())):
            series = unit_series(slo, records, start=span.start, end=span.end).between(
                span.start, span.end)
            assert attainment == pytest.approx(1 - series.bad.sum() / series.total.sum(),
                                               rel=1e-12), slo.name
        in_week = [r for r in records if WEEK.start <= r.ts < WEEK.end]
        expected = []
        for key, series in slice_unit_series(slo, in_week, start=WEEK.start,
                                             end=WEEK.end).items():
            part = series.between(WEEK.start, WEEK.end)
            bad, total = float(part.bad.sum()), float(part.total.sum())
            if total > 0 and bad > 0:
                expected.append((1 - bad / total, key, bad, total))
        expected.sort()
        worst = week.worst_slices
        assert [s.key for s in worst] == [key for _, key, _, _ in expected[:3]], slo.name
        assert [x for s in worst for x in (s.attainment, s.bad, s.total)] == pytest.approx(
            [x for a, _, b, t in expected[:3] for x in (a, b, t)], rel=1e-12)
    assert any(slo_week(slo, grouped, service="svc", week=WEEK).worst_slices
               for slo in catalog.service("svc").slos)  # the slices are exercised
