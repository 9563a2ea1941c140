"""The watch and the SLO code on Prometheus data, through the same seam as pushed data.

A thumbs-down surge for tenant=acme is written into the exporter's ledger half a
minute after a model change; once Prometheus has scraped it, the silent-degradation
watch opens an incident: a model failure, only tenant=acme, change v8 suspected.
The budget over the backfilled history equals the budget over the same numbers
pushed as exchange records into the store.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime

from bot.core.exchange_records import ChangeRecord, SignalRecord
from bot.diagnosis.watch import run_watch
from bot.slo.compute import service_status
from store.db import session_scope
from store.models import Incident
from store.signal_queries import save_records
from tests.prometheus.conftest import make_catalog, services_for, signal_specs
from tests.support.prometheus import next_second

DEGRADED_SECONDS = 20


def test_a_quality_drop_for_one_tenant_is_found_classified_and_localised(
        sqlite_url, prometheus) -> None:
    specs = signal_specs() + [{
        "name": "index_lag_seconds", "layer": "freshness", "bad": "up",
        "source": {"type": "prometheus", "query": "max(index_lag_seconds", "step": "1s"}}]
    services = services_for(sqlite_url, make_catalog(prometheus.url, specs))
    try:
        since = next_second() + 1
        prometheus.ledger.inject("acme", 0.35, since)
        prometheus.wait_for_samples("min(timestamp(feedback_total))", since + DEGRADED_SECONDS,
                                    timeout=DEGRADED_SECONDS + 20)
        now = datetime.fromtimestamp(since + DEGRADED_SECONDS, UTC)
        # Changes are still pushed (deploy pipelines post them); the signals are pulled.
        with session_scope(services.engine) as session:
            save_records(session=session, records=[ChangeRecord(
                type="change", ts=datetime.fromtimestamp(since - 30, UTC),
                service="rag-assistant", kind="model", ref="v8", previous="v7")])

        opened = run_watch(services, now=now)

        assert len(opened) == 1
        with session_scope(services.engine) as session:
            incident = session.get(Incident, opened[0])
            assert incident.source == "detector"
            diagnosis = incident.diagnosis
            behavior = incident.behavior
        assert behavior == "model", diagnosis["explanation"]
        assert diagnosis["suspect_changes"][0]["ref"] == "v8"
        assert diagnosis["slices"][0]["dimension"] == "tenant"
        assert diagnosis["slices"][0]["value"] == "acme"
        moved = {(e["layer"], e["name"]) for e in diagnosis["evidence"]}
        assert ("quality", "thumbs_down_rate") in moved
        acme = [e for e in diagnosis["evidence"] if e["slice"] == {"tenant": "acme"}]
        assert acme and all(e["effect"] > 0 for e in acme)
        # The signal that could not be read is named next to the diagnosis, in Prometheus'
        # own words, and the rest of the diagnosis went ahead without it.
        assert diagnosis["unavailable"] == [
            "freshness signal index_lag_seconds unavailable: query failed: bad_data: 1:22: "
            "parse error: unclosed left parenthesis (query: max(index_lag_seconds)"]
    finally:
        services.close()


def _pushed_numbers(ledger, first: int, last: int) -> list[SignalRecord]:
    """The ledger's numbers as a service would push them: per tenant and for all traffic."""
    records = []
    for second in range(first, last + 1):
        ts = datetime.fromtimestamp(second, UTC)
        totals = [0, 0]
        for tenant in ledger.tenants:
            n, k = ledger.per_second(tenant, second)
            totals[0] += n
            totals[1] += k
            records.append(SignalRecord(type="signal", ts=ts, service="rag-assistant",
                                        layer="quality", name="thumbs_down_rate", value=k / n,
                                        count=n, kind="ratio", bad="up",
                                        slice={"tenant": tenant}))
        records.append(SignalRecord(type="signal", ts=ts, service="rag-assistant",
                                    layer="quality", name="thumbs_down_rate",
                                    value=totals[1] / totals[0], count=totals[0], kind="ratio",
                                    bad="up"))
    return records


def test_budget_from_prometheus_equals_budget_from_the_same_numbers_pushed(
        db_url, sqlite_template, tmp_path, prometheus) -> None:
    now_second = prometheus.history_until - 5
    now = datetime.fromtimestamp(now_second, UTC)
    # Its own (empty) store: ``db_url`` on SQLite is tmp_path/resilio.db, like sqlite_url.
    shutil.copy(sqlite_template, tmp_path / "pulled.db")
    pulled = services_for(f"sqlite:///{tmp_path / 'pulled.db'}",
                          make_catalog(prometheus.url, signal_specs()))
    pushed = services_for(db_url, make_catalog(None))
    try:
        with session_scope(pushed.engine) as session:
            save_records(session=session, records=_pushed_numbers(
                prometheus.ledger, prometheus.ledger.start + 1, now_second))
        started = time.monotonic()
        from_prometheus = [s.to_dict() for s in service_status(pulled, "rag-assistant", now=now)]
        assert time.monotonic() - started < 20
        from_store = [s.to_dict() for s in service_status(pushed, "rag-assistant", now=now)]
    finally:
        pulled.close()
        pushed.close()
    assert [s["status"] for s in from_store] != ["no_data"] * 3
    assert from_store[0]["total"] > 50_000  # ten minutes of three tenants at ~40/s
    for pulled_status, pushed_status in zip(from_prometheus, from_store, strict=True):
        differing = {key: (value, pushed_status[key]) for key, value in pulled_status.items()
                     if value != pushed_status[key] and key != "computed_at"}
        assert differing == {}, pulled_status["slo"]
