"""Incident classification, relabel learning, the watch and the signals API, on each store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.core.exchange import parse_objects
from bot.core.services import Services
from bot.diagnosis.feedback import relabel
from bot.diagnosis.incidents import classify_incident
from bot.diagnosis.watch import run_watch
from store.db import session_scope
from store.models import Incident, TimelineEvent
from store.signal_queries import save_records
from tests.conftest import API_TOKEN, TOKEN
from tests.diagnosis.helpers import T0, quality_only, series


def store(services: Services, records: list[dict]) -> None:
    batch = parse_objects(records)
    assert not batch.errors
    with session_scope(services.engine) as session:
        save_records(session=session, records=batch.records)


def open_incident(services: Services, service: str, minute: float) -> int:
    now = T0 + timedelta(minutes=minute)
    with session_scope(services.engine) as session:
        incident = Incident(service=service, title="alert", created_at=now, updated_at=now)
        session.add(incident)
        session.flush()
        return int(incident.id)


def test_relabels_teach_the_classifier(services: Services) -> None:
    labels = []
    for k in range(4):
        service = f"svc-{k}"
        store(services, quality_only(service=service, seed=10 * k))
        incident_id = open_incident(services, service, 179)
        classify_incident(services, incident_id)
        with session_scope(services.engine) as session:
            incident = session.get(Incident, incident_id)
            labels.append(incident.behavior)
            assert incident.label_source == "classifier"
            if k < 3:
                relabel(session=session, incident_id=incident_id, label="eval_policy",
                        actor="slack:U1", now=T0 + timedelta(hours=4))
    assert labels[0] == "model"          # the default reading of a lone quality drop
    assert labels[-1] == "eval_policy"   # learned from three corrections
    with session_scope(services.engine) as session:
        kinds = session.exec(select(TimelineEvent.kind)).all()
    assert kinds.count("diagnosis") == 4 and kinds.count("relabelled") == 3


def test_watch_opens_one_incident_and_none_when_healthy(services: Services) -> None:
    store(services, series("p99_latency_ms", "runtime", 400, 15, onset=150, factor=3.0,
                           service="rag-assistant"))
    store(services, series("p99_latency_ms", "runtime", 400, 15, service="fraud-scorer",
                           seed=5))
    now = T0 + timedelta(minutes=179)
    opened = run_watch(services, now=now)
    assert len(opened) == 1
    assert run_watch(services, now=now + timedelta(minutes=1)) == []  # covered by the open one
    with session_scope(services.engine) as session:
        incident = session.get(Incident, opened[0])
        assert incident.service == "rag-assistant" and incident.source == "detector"
        assert incident.behavior == "infrastructure"
        assert incident.title.startswith("Silent degradation: infrastructure")


@pytest.fixture
def client(services: Services) -> Iterator[httpx.Client]:
    from bot.app.server import ServerThread

    with ServerThread(services) as running, httpx.Client(
            base_url=running.url, timeout=30,
            headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        yield http


def test_signals_api_partly_bad_batch_and_label(services: Services,
                                                client: httpx.Client) -> None:
    good = series("p99_latency_ms", "runtime", 400, 15, minutes=3)
    lines = [json.dumps(good[0]), "{broken", json.dumps({"type": "signal", "ts": "x"}),
             json.dumps(good[1]), json.dumps(good[2])]
    response = client.post("/v1/signals", content="\n".join(lines))
    body = response.json()
    assert response.status_code == 207
    assert body["accepted"] == 3 and body["taken_lines"] == [1, 4, 5]
    assert [e["line"] for e in body["errors"]] == [2, 3]
    assert client.post("/v1/signals", content="{broken").status_code == 400
    assert httpx.post(f"{client.base_url}/v1/signals", content=lines[0]).status_code == 401
    incident_id = open_incident(services, "rag-assistant", 2)
    api = {"Authorization": f"Bearer {API_TOKEN}"}  # a label is the API's, not a webhook's
    assert client.post(f"/v1/incidents/{incident_id}/label",
                       json={"label": "data"}).status_code == 403
    answer = client.post(f"/v1/incidents/{incident_id}/label", json={"label": "data"},
                         headers=api)
    assert answer.status_code == 200 and answer.json()["behavior"] == "data"
    assert client.post(f"/v1/incidents/{incident_id}/label", headers=api,
                       json={"label": "bogus"}).status_code == 422
    assert client.post("/v1/incidents/999999/label", json={"label": "data"},
                       headers=api).status_code == 404
