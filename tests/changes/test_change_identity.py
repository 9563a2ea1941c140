"""Change identity: what moved (subject) is part of it, beside service, time, kind and ref.

MLflow's "version 3 created" and "alias champion set to 3" can carry one timestamp;
both are changes. A retry of either (MLflow retries, and a delivery can arrive twice)
records nothing new. Signed with MLflow's own signing code, over HTTP, on both stores.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
from mlflow.webhooks.delivery import _generate_hmac_signature

from bot.core.services import Services
from tests.changes.conftest import READ, SECRETS

SECRET = SECRETS["RESILIO_MLFLOW_WEBHOOK_SECRET"]
AT = "2026-12-01T10:00:00.123456+00:00"


def _deliver(url: str, payload: dict[str, object], delivery: str | None = None
             ) -> httpx.Response:
    body = json.dumps(payload)
    delivery, stamp = delivery or str(uuid.uuid4()), str(int(time.time()))
    return httpx.post(f"{url}/webhooks/mlflow", content=body, headers={
        "X-MLflow-Signature": _generate_hmac_signature(SECRET, delivery, stamp, body),
        "X-MLflow-Timestamp": stamp, "X-MLflow-Delivery-Id": delivery,
        "Content-Type": "application/json"})


def _changes(url: str) -> list[dict[str, object]]:
    response = httpx.get(f"{url}/v1/changes", params={"service": "rag-assistant"},
                         headers=READ)
    response.raise_for_status()
    data: list[dict[str, object]] = response.json()["data"]
    return data


def test_a_version_and_an_alias_moved_to_it_at_one_moment_are_two_changes(
        served: tuple[Services, str]) -> None:
    _, url = served
    created = {"entity": "model_version", "action": "created", "timestamp": AT,
               "data": {"name": "rag-llm", "version": "3"}}
    aliased = {"entity": "model_version_alias", "action": "created", "timestamp": AT,
               "data": {"name": "rag-llm", "alias": "champion", "version": "3"}}
    staged = {"entity": "model_version_alias", "action": "created", "timestamp": AT,
              "data": {"name": "rag-llm", "alias": "staging", "version": "3"}}
    for payload in (aliased, created, staged):  # in no set order, as MLflow delivers
        response = _deliver(url, payload)
        assert response.status_code == 200, response.text
        assert response.json()["recorded"], response.text
    # a second delivery of each (a retry) is a duplicate, the pointers untouched
    for payload in (created, aliased):
        assert _deliver(url, payload).json()["recorded"] == []
    descriptions = sorted(str(c["description"]) for c in _changes(url))
    assert descriptions == ["alias champion of registered model rag-llm set to version 3",
                            "alias staging of registered model rag-llm set to version 3",
                            "version 3 of registered model rag-llm created"]
    later = dict(aliased, timestamp="2026-12-01T10:05:00+00:00",
                 data={"name": "rag-llm", "alias": "champion", "version": "4"})
    assert _deliver(url, later).json()["recorded"][0]["previous"] == "3"
