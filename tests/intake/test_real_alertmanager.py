"""The real Prometheus Alertmanager posts to the bot on loopback with a bearer token."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.app.server import ServerThread
from tests.conftest import TOKEN
from tests.support.alertmanager import AlertmanagerProcess
from tests.support.binaries import require


@pytest.fixture
def alertmanager(server: ServerThread) -> Iterator[AlertmanagerProcess]:
    binary = require("prometheus-alertmanager", "prometheus-alertmanager")
    process = AlertmanagerProcess(binary, f"{server.url}/webhooks/alertmanager", TOKEN).start()
    yield process
    process.stop()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_alerts_posted_to_alertmanager_become_incidents_and_resolve(
        alertmanager: AlertmanagerProcess, client: httpx.Client, api: httpx.Client) -> None:
    start = datetime.now(UTC) - timedelta(minutes=2)
    alerts = [{"labels": {"alertname": "GroundednessLow", "service": "rag-assistant",
                          "severity": "critical", "tenant": tenant},
               "annotations": {"summary": "groundedness below 0.8"},
               "startsAt": start.isoformat()} for tenant in ("acme", "globex")]
    alertmanager.post_alerts(alerts)

    def incident_with_two_alerts() -> bool:
        data = api.get("/v1/incidents", params={"service": "rag-assistant"}).json()["data"]
        return bool(data) and data[0]["alerts_firing"] == 2

    wait_for(incident_with_two_alerts, "Alertmanager to deliver two firing alerts")
    incident = api.get("/v1/incidents", params={"service": "rag-assistant"}).json()["data"][0]
    detail = api.get(f"/v1/incidents/{incident['id']}").json()
    assert len(detail["alerts"]) == 2
    assert {a["labels"]["tenant"] for a in detail["alerts"]} == {"acme", "globex"}
    assert all(len(a["fingerprint"]) == 16 for a in detail["alerts"])  # Alertmanager's own

    now = datetime.now(UTC)
    for alert in alerts:
        alert["endsAt"] = now.isoformat()
    alertmanager.post_alerts(alerts)

    def all_resolved() -> bool:
        body = api.get(f"/v1/incidents/{incident['id']}").json()
        return body["alerts_firing"] == 0 and body["timeline"][-1]["kind"] == "alerts_resolved"

    wait_for(all_resolved, "Alertmanager to deliver the resolution")
    assert api.get("/v1/incidents").json()["count"] == 1
