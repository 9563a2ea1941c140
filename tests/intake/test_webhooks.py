"""Alert webhooks over real HTTP on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import httpx

from bot.core.services import Services
from store import queries
from store.db import session_scope
from store.models import Alert, Incident, TimelineEvent

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "alertmanager_webhook_v4.json").read_text())


def counts(services: Services) -> tuple[int, int, int]:
    with session_scope(services.engine) as session:
        return (queries.count_rows(session=session, table=Alert),
                queries.count_rows(session=session, table=Incident),
                queries.count_rows(session=session, table=TimelineEvent))


def test_reference_firing_payload_opens_one_incident(
        client: httpx.Client, services: Services, api: httpx.Client) -> None:
    response = client.post("/webhooks/alertmanager", json=REFERENCE["firing"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] == 2 and body["deduplicated"] == 0
    assert len(body["incidents_opened"]) == 1

    incident = api.get(f"/v1/incidents/{body['incidents_opened'][0]}").json()
    assert incident["service"] == "checkout"
    assert incident["status"] == "triggered"
    assert incident["severity"] == "critical"
    assert incident["alerts_firing"] == 2
    assert {a["fingerprint"] for a in incident["alerts"]} == {"61f7c5f680f708a8",
                                                              "f55fd2d2a2a5f7ed"}
    assert incident["created_at"].endswith("Z")
    assert incident["alerts"][0]["starts_at"] == "2026-11-26T19:41:37.166796Z"
    assert incident["alerts"][0]["ends_at"] is None  # 0001-01-01 means "not ended"


def test_repeats_deduplicate_and_resolution_is_recorded(
        client: httpx.Client, services: Services, api: httpx.Client) -> None:
    client.post("/webhooks/alertmanager", json=REFERENCE["firing"]).raise_for_status()
    again = client.post("/webhooks/alertmanager", json=REFERENCE["firing"]).json()
    assert again["stored"] == 0 and again["deduplicated"] == 2
    assert again["incidents_opened"] == []
    alerts, incidents, _ = counts(services)
    assert (alerts, incidents) == (2, 1)

    done = client.post("/webhooks/alertmanager", json=REFERENCE["resolved"]).json()
    incident = api.get(f"/v1/incidents/{done['incidents_touched'][0]}").json()
    kinds = [event["kind"] for event in incident["timeline"]]
    assert kinds.count("alerts") == 1  # the repeat changed nothing, so it is not on the timeline
    assert kinds[-1] == "alerts_resolved"
    assert incident["alerts_firing"] == 0
    assert incident["status"] == "triggered"  # a person or a rule resolves the incident itself
    assert all(alert["status"] == "resolved" for alert in incident["alerts"])


def test_services_make_separate_incidents_and_refire_reopens_group(
        client: httpx.Client, services: Services, api: httpx.Client) -> None:
    other = copy.deepcopy(REFERENCE["firing"])
    for index, alert in enumerate(other["alerts"]):
        alert["labels"]["service"] = "rag-assistant"
        alert["fingerprint"] = f"rag-{index}"
    first = client.post("/webhooks/alertmanager", json=REFERENCE["firing"]).json()
    second = client.post("/webhooks/alertmanager", json=other).json()
    assert first["incidents_opened"] != second["incidents_opened"]
    assert counts(services)[1] == 2

    # Resolve the checkout incident by hand; the same alert firing again opens a new incident.
    incident_id = first["incidents_opened"][0]
    api.post(f"/v1/incidents/{incident_id}/transition",
             json={"to": "resolved", "note": "fixed"}).raise_for_status()
    again = client.post("/webhooks/alertmanager", json=REFERENCE["firing"]).json()
    assert again["incidents_opened"] and again["incidents_opened"][0] != incident_id
    assert counts(services)[0] == 4  # fingerprints are still stored once each


def test_grafana_and_generic_webhooks(client: httpx.Client, services: Services,
                                      api: httpx.Client) -> None:
    grafana = {
        "receiver": "resilio", "status": "firing", "orgId": 1, "version": "1",
        "groupKey": "{}:{alertname=\"GroundednessLow\"}", "title": "[FIRING:1] GroundednessLow",
        "state": "alerting", "message": "groundedness below 0.8",
        "alerts": [{"status": "firing",
                    "labels": {"alertname": "GroundednessLow", "service": "rag-assistant",
                               "severity": "warning", "tenant": "acme"},
                    "annotations": {"summary": "groundedness below 0.8"},
                    "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "fingerprint": "g1", "dashboardURL": "http://grafana/d/abc",
                    "valueString": "[ var='A' value=0.71 ]"}],
        "groupLabels": {"alertname": "GroundednessLow"}, "commonLabels": {},
        "externalURL": "http://grafana/"}
    response = client.post("/webhooks/grafana", json=grafana)
    assert response.status_code == 200, response.text
    generic = {"type": "alert", "ts": "2026-11-26T10:01:00+01:00", "service": "fraud-scorer",
               "name": "PredictionDrift", "severity": "page", "labels": {"segment": "new_users"}}
    response = client.post("/webhooks/generic", json=generic)
    assert response.status_code == 200, response.text
    incidents = api.get("/v1/incidents").json()["data"]
    assert {i["service"] for i in incidents} == {"rag-assistant", "fraud-scorer"}
    fraud = next(i for i in incidents if i["service"] == "fraud-scorer")
    detail = api.get(f"/v1/incidents/{fraud['id']}").json()
    assert detail["alerts"][0]["starts_at"] == "2026-11-26T09:01:00Z"  # converted to UTC
    rag = next(i for i in incidents if i["service"] == "rag-assistant")
    detail = api.get(f"/v1/incidents/{rag['id']}").json()
    assert detail["alerts"][0]["annotations"]["dashboardURL"] == "http://grafana/d/abc"


def test_bad_input_is_refused_and_changes_nothing(client: httpx.Client,
                                                  services: Services) -> None:
    before = counts(services)
    malformed = client.post("/webhooks/alertmanager", content=b'{"status": "firing", "alerts": [')
    assert malformed.status_code == 400
    assert "malformed JSON" in malformed.json()["detail"]

    wrong = client.post("/webhooks/alertmanager", json={"status": "exploded", "alerts": []})
    assert wrong.status_code == 422
    assert "status" in json.dumps(wrong.json())

    huge = client.post("/webhooks/alertmanager", content=b"x" * (6 * 1024 * 1024))
    assert huge.status_code == 413
    assert "limit" in huge.json()["detail"]

    anonymous = httpx.post(f"{client.base_url}/webhooks/alertmanager", json=REFERENCE["firing"])
    assert anonymous.status_code == 401
    assert "bearer" in anonymous.json()["detail"]
    wrong_token = httpx.post(f"{client.base_url}/webhooks/alertmanager", json=REFERENCE["firing"],
                             headers={"Authorization": "Bearer nope"})
    assert wrong_token.status_code == 401

    not_an_alert = client.post("/webhooks/generic", json={"type": "signal"})
    assert not_an_alert.status_code == 422
    assert counts(services) == before


def test_batch_with_some_bad_alerts_keeps_the_good_ones(client: httpx.Client,
                                                        services: Services) -> None:
    payload = copy.deepcopy(REFERENCE["firing"])
    payload["alerts"].append({"status": "firing", "labels": "not a map"})
    payload["alerts"].append({"status": "burning", "labels": {"alertname": "X"}})
    response = client.post("/webhooks/alertmanager", json=payload)
    assert response.status_code == 207  # partial success, as on every intake endpoint
    body = response.json()
    assert body["stored"] == 2
    reasons = [error["reason"] for error in body["errors"]]
    assert [error["index"] for error in body["errors"]] == [2, 3]
    assert reasons[0].startswith("alerts[2]: labels")
    assert "status" in reasons[1]
    assert counts(services)[0] == 2


def test_incident_list_filters(client: httpx.Client, api: httpx.Client) -> None:
    client.post("/webhooks/alertmanager", json=REFERENCE["firing"]).raise_for_status()
    assert api.get("/v1/incidents", params={"service": "checkout"}).json()["count"] == 1
    assert api.get("/v1/incidents", params={"service": "nope"}).json()["count"] == 0
    assert api.get("/v1/incidents", params={"status": "resolved"}).json()["count"] == 0
    assert api.get("/v1/incidents",
                      params={"since": "2199-01-01T00:00:00Z"}).json()["count"] == 0
    assert api.get("/v1/incidents/999").status_code == 404


def test_changes_endpoint_stores_once_and_reports_bad_lines(client: httpx.Client) -> None:
    lines = "\n".join([
        json.dumps({"type": "change", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
                    "kind": "model", "ref": "v8", "previous": "v7", "author": "ana"}),
        json.dumps({"type": "change", "ts": "2026-11-26T10:00:00Z", "service": "rag-assistant",
                    "kind": "teleport", "ref": "x"}),
        "{not json",
    ])
    response = client.post("/v1/changes", content=lines)
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["stored"] == 1
    assert sorted(e["line"] for e in body["errors"]) == [2, 3]
    assert client.post("/v1/changes", content=lines).json()["duplicates"] == 1


def test_health_metrics_and_openapi(client: httpx.Client, api: httpx.Client) -> None:
    client.post("/webhooks/alertmanager", json=REFERENCE["firing"]).raise_for_status()
    assert client.get("/healthz").json()["checks"]["database"] == "ok"
    metrics = client.get("/metrics").text
    assert 'resilio_alerts_received_total{outcome="stored",source="alertmanager"} 2.0' in metrics
    assert "/webhooks/alertmanager" in client.get("/openapi.json").json()["paths"]
