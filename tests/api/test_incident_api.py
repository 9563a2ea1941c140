"""Alert pages of one incident, fingerprints per source, 207 for partial success."""

from __future__ import annotations

import httpx
from sqlmodel import select

from bot.core.services import Services
from store.db import session_scope
from store.models import Alert
from store.signal_models import RelabelCorrection


def generic_alerts(count: int, *, start: int = 0, fingerprint: str | None = None) -> list[dict]:
    return [{"type": "alert", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
             "name": "HighLatency", "labels": {"instance": f"pod-{i}"},
             **({"fingerprint": fingerprint} if fingerprint else {})}
            for i in range(start, start + count)]


def test_an_incident_pages_its_alerts_with_a_cursor(client: httpx.Client) -> None:
    for first in range(0, 250, 50):
        client.post("/webhooks/generic", json=generic_alerts(50, start=first)).raise_for_status()
    incident = client.get("/v1/incidents").json()["data"][0]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"alerts_limit": 100, **({"alerts_cursor": cursor} if cursor else {})}
        body = client.get(f"/v1/incidents/{incident['id']}", params=params).json()
        pages += 1
        assert body["alerts_page"]["count"] == 250
        assert len(body["alerts"]) <= 100
        assert body["timeline"], "the timeline comes with every page"
        seen += [alert["labels"]["instance"] for alert in body["alerts"]]
        cursor = body["alerts_page"]["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 250 and set(seen) == {f"pod-{i}" for i in range(250)}  # each once
    default = client.get(f"/v1/incidents/{incident['id']}").json()
    assert len(default["alerts"]) == 100  # never the whole storm by default

    beyond = client.get(f"/v1/incidents/{incident['id']}", params={"alerts_cursor": "9" * 10})
    assert beyond.json()["alerts"] == [] and beyond.json()["alerts_page"]["next_cursor"] is None
    for bad in ({"alerts_limit": 1001}, {"alerts_cursor": "abc"}, {"alerts_limit": -1}):
        refused = client.get(f"/v1/incidents/{incident['id']}", params=bad)
        assert refused.status_code == 422, bad
    assert client.get("/v1/incidents/2147483648").status_code == 422  # beyond any row id
    assert client.get("/v1/incidents", params={"since": "0"}).status_code == 422
    assert client.get("/v1/incidents",
                      params={"since": "9999-12-31T23:59:59-05:00"}).status_code == 422


def test_fingerprints_are_scoped_per_source(client: httpx.Client, services: Services) -> None:
    alertmanager = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "fingerprint": "abc123",
         "labels": {"alertname": "HighLatency", "service": "checkout"}}]}
    grafana = {"version": "1", "status": "firing", "alerts": [
        {"status": "firing", "fingerprint": "abc123",
         "labels": {"alertname": "GrafanaAlert", "service": "checkout"}}]}
    assert client.post("/webhooks/alertmanager", json=alertmanager).json()["stored"] == 1
    assert client.post("/webhooks/grafana", json=grafana).json()["stored"] == 1
    again = client.post("/webhooks/grafana", json=grafana).json()
    assert again["stored"] == 0 and again["deduplicated"] == 1
    with session_scope(services.engine) as session:
        rows = sorted((a.source, a.name, a.receive_count) for a in session.exec(select(Alert)))
    assert rows == [("alertmanager", "HighLatency", 1), ("grafana", "GrafanaAlert", 2)]


def test_partial_success_is_a_207_on_every_intake_endpoint(client: httpx.Client) -> None:
    change = {"type": "change", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
              "kind": "model", "ref": "v8"}
    bad_change = {**change, "kind": "teleport"}
    assert client.post("/v1/changes", json=[change]).status_code == 200
    partial = client.post("/v1/changes", json=[change, bad_change])
    assert partial.status_code == 207 and partial.json()["errors"][0]["line"] == 2
    signal = {"type": "signal", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
              "layer": "quality", "name": "groundedness", "value": 0.9}
    assert client.post("/v1/signals", json=[signal, {**signal, "layer": "x"}]).status_code == 207
    alerts = generic_alerts(1)
    assert client.post("/webhooks/generic", json=alerts + [{"type": "alert"}]).status_code == 207
    assert client.post("/webhooks/generic", json=alerts).status_code == 200


def test_the_openapi_document_describes_bodies_and_errors(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    for path in ("/webhooks/alertmanager", "/webhooks/grafana", "/webhooks/generic",
                 "/v1/signals", "/v1/changes"):
        operation = document["paths"][path]["post"]
        assert "application/json" in operation["requestBody"]["content"], path
        assert {"207", "400", "401", "413", "422"} <= set(operation["responses"]), path
        assert operation["security"] == [{"bearer": []}]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                assert "401" in operation["responses"], (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    options = client.options("/v1/incidents/1/runbooks")
    assert options.status_code == 405 and options.headers["allow"] == "GET, POST"


def test_the_documented_timestamp_pattern_is_exactly_the_calendar() -> None:
    """Every day of 1970-2199 matches, no other: a fuzzer's valid time is a valid time."""
    import calendar
    import re

    from bot.api.params import RFC3339_PATTERN

    wrong = [f"{y:04d}-{m:02d}-{d:02d}" for y in range(1970, 2200) for m in range(1, 13)
             for d in range(1, 32)
             if bool(re.match(RFC3339_PATTERN, f"{y:04d}-{m:02d}-{d:02d}T00:00:00Z"))
             != (d <= calendar.monthrange(y, m)[1])]
    assert wrong == []
    assert not re.match(RFC3339_PATTERN, "1969-12-31T23:59:59Z")
    assert re.match(RFC3339_PATTERN, "2026-11-26T10:00:00.123456+05:30")


def test_a_label_from_the_api_is_learned_and_on_the_timeline(client: httpx.Client,
                                                             services: Services) -> None:
    """The API's relabel is the same one Slack's is: a correction the priors count, the
    responder as the label's source, a timeline event by the token's owner."""
    client.post("/webhooks/generic", json=generic_alerts(1)).raise_for_status()
    incident_id = client.get("/v1/incidents").json()["data"][0]["id"]
    answer = client.post(f"/v1/incidents/{incident_id}/label", json={"label": "data"})
    assert answer.status_code == 200
    assert answer.json() == {"incident_id": incident_id, "behavior": "data",
                             "label_source": "responder"}
    body = client.get(f"/v1/incidents/{incident_id}").json()
    assert body["behavior"] == "data" and body["label_source"] == "responder"
    relabelled = [e for e in body["timeline"] if e["kind"] == "relabelled"]
    assert len(relabelled) == 1 and relabelled[0]["actor"] == "api"
    assert relabelled[0]["details"]["to"] == "data"
    with session_scope(services.engine) as session:
        corrections = session.exec(select(RelabelCorrection)).all()
    assert [(c.incident_id, c.label, c.actor) for c in corrections] == [
        (incident_id, "data", "api")]
    claimed = client.post(f"/v1/incidents/{incident_id}/label",
                          json={"label": "model", "actor": "someone-else"})
    assert claimed.status_code == 422  # who labels is the token's owner, never the body
