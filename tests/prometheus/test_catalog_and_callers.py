"""Catalog validation of sources; incident classification and runbook verify on pulled data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config.catalog import CatalogError, parse_catalog
from bot.diagnosis.incidents import classify_incident
from bot.runbook_runs.execute import _signal_reader
from runbooks.steps import _judge
from store.db import session_scope
from store.models import Incident
from tests.prometheus.conftest import make_catalog, services_for, signal_specs
from tests.support.prometheus import free_port


def _service(signal: dict) -> dict:
    return {"services": [{"name": "svc", "signals": [signal]}]}


@pytest.mark.parametrize(("signal", "message"), [
    ({"name": "x", "layer": "quality", "source": {"type": "prometheus", "query": "up"}},
     "services[0].signals[0] (x): a Prometheus source needs a top-level "
     "`prometheus: {url: ...}` or source.server"),
    ({"name": "x", "layer": "quality",
      "source": {"type": "prometheus", "query": "up", "step": "1 minute",
                 "server": {"url": "http://p:9090"}}},
     "'1 minute' is not a step"),
    ({"name": "v", "layer": "control", "record": "state",
      "source": {"type": "prometheus", "query": "info", "server": {"url": "http://p:9090"}}},
     "needs source.value_label"),
    ({"name": "x", "layer": "nowhere", "source": "push"}, "services[0].signals[0].layer"),
])
def test_bad_sources_stop_the_catalog_with_where_and_why(signal, message) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(_service(signal), "resilio.yml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("resilio.yml: ")


def test_an_alert_opened_incident_is_classified_with_the_unreadable_signals_named(
        sqlite_url) -> None:
    from bot.incidents.lifecycle import new_incident

    url = f"http://127.0.0.1:{free_port()}"
    services = services_for(sqlite_url, make_catalog(url, signal_specs()))
    try:
        with session_scope(services.engine) as session:
            incident = new_incident(session=session, service="rag-assistant",
                                    title="HighThumbsDown", severity="page",
                                    source="alertmanager", actor="alert",
                                    now=datetime.now(UTC))
            incident_id = int(incident.id)
        classify_incident(services, incident_id)  # no exception: the diagnosis goes ahead
        with session_scope(services.engine) as session:
            stored = session.get(Incident, incident_id)
            diagnosis, behavior = stored.diagnosis, stored.behavior
        assert behavior == "none"
        assert len(diagnosis["unavailable"]) == 4
        assert all(f"prometheus at {url} is unreachable" in m for m in diagnosis["unavailable"])
    finally:
        services.drain(10)
        services.close()


def test_runbook_verify_reads_pulled_signals(pulled, prometheus) -> None:
    end = datetime.fromtimestamp(prometheus.history_until - 5, UTC)
    records = _signal_reader(pulled)("rag-assistant", end - timedelta(seconds=30), end)
    verdict = _judge(records, {"signal": "thumbs_down_rate", "max": 0.5,
                               "slice": {"tenant": "globex"}}, samples=5, for_seconds=4)
    assert verdict["ok"] and len(verdict["last_values"]) == 5
