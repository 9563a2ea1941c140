"""A real ``mlflow server`` fires its webhooks at the bot: signed, recorded with ``previous``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from mlflow import MlflowClient
from mlflow.webhooks.delivery import _generate_hmac_signature

from bot.app.server import ServerThread
from bot.core.services import Services
from tests.changes.conftest import SECRETS, changes_services
from tests.changes.mlflow_support import (
    MODEL_EVENTS,
    PROMPT_EVENTS,
    catalog_for,
    changes_of,
    forget_webhooks,
    unique,
    wait_for,
)

SECRET = SECRETS["RESILIO_MLFLOW_WEBHOOK_SECRET"]


@pytest.fixture
def model() -> str:
    return unique("rag-llm")


@pytest.fixture
def bot(db_url: str, model: str, mlflow_server) -> Iterator[tuple[Services, str]]:
    services = changes_services(db_url, catalog_for(model, mlflow_server.url, prompt_of(model)))
    with ServerThread(services) as server:
        yield services, server.url
        forget_webhooks(mlflow_server.url, server.url)
    services.close()


def test_alias_moves_are_model_changes_with_previous(bot: tuple[Services, str], model: str,
                                                     mlflow_server) -> None:
    _, url = bot
    client = MlflowClient(tracking_uri=mlflow_server.url)
    hook = client.create_webhook(name=unique("resilio"), url=f"{url}/webhooks/mlflow",
                                 events=MODEL_EVENTS, secret=SECRET)
    client.create_registered_model(model)
    for _ in range(2):
        client.create_model_version(model, source=f"s3://models/{model}")
    wait_for(lambda: len(changes_of(url)) >= 2, what="model_version.created x2")

    client.set_registered_model_alias(model, "champion", "1")
    wait_for(lambda: any("alias champion" in c["description"] for c in changes_of(url)))
    client.set_registered_model_alias(model, "champion", "2")
    moved = wait_for(lambda: [c for c in changes_of(url) if c["description"].endswith(
        "set to version 2")], what="alias -> 2")
    assert (moved[0]["service"], moved[0]["kind"], moved[0]["ref"], moved[0]["previous"]) == (
        "rag-assistant", "model", "2", "1")
    assert moved[0]["author"] == "mlflow"

    client.set_model_version_tag(model, "2", "validation", "passed")
    client.delete_registered_model_alias(model, "champion")
    deleted = wait_for(lambda: [c for c in changes_of(url) if c["ref"] == "(deleted)"])
    assert deleted[0]["previous"] == "2"
    tagged = [c for c in changes_of(url) if "tag validation=passed" in c["description"]]
    assert tagged and tagged[0]["ref"] == "2"
    assert client.test_webhook(hook.webhook_id).response_status == 200


def test_a_wrong_signature_is_401_and_records_nothing(bot: tuple[Services, str], model: str,
                                                      mlflow_server) -> None:
    _, url = bot
    client = MlflowClient(tracking_uri=mlflow_server.url)
    wrong = client.create_webhook(name=unique("wrong"), url=f"{url}/webhooks/mlflow",
                                  events=["model_version_alias.created"], secret="not-it")
    result = client.test_webhook(wrong.webhook_id)  # MLflow's server sends it, signed
    assert result.response_status == 401 and "does not match" in (result.response_body or "")
    client.delete_webhook(wrong.webhook_id)

    # the same body MLflow would send, signed by MLflow's own signing code
    body = json.dumps({"entity": "model_version_alias", "action": "created",
                       "timestamp": "2026-12-01T10:00:00+00:00",
                       "data": {"name": model, "alias": "champion", "version": "9"}})
    delivery, stamp = str(uuid.uuid4()), str(int(time.time()))

    def send(signature: str, timestamp: str = stamp) -> httpx.Response:
        return httpx.post(f"{url}/webhooks/mlflow", content=body, headers={
            "X-MLflow-Signature": signature, "X-MLflow-Timestamp": timestamp,
            "X-MLflow-Delivery-Id": delivery, "Content-Type": "application/json"})

    assert send(_generate_hmac_signature("not-it", delivery, stamp, body)).status_code == 401
    old = str(int(time.time()) - 3600)
    replay = send(_generate_hmac_signature(SECRET, delivery, old, body), old)
    assert replay.status_code == 401 and "replay" in replay.text
    assert changes_of(url) == []
    good = send(_generate_hmac_signature(SECRET, delivery, stamp, body))
    assert good.status_code == 200 and good.json()["recorded"][0]["ref"] == "9"


def prompt_of(model: str) -> str:
    """A prompt of this test's own: the MLflow server is shared by the tests of a session,
    and a prompt, its versions and aliases would carry over from one store's run to the next."""
    return f"{model}-prompt"


def test_prompt_registry_changes_are_prompt_changes(bot: tuple[Services, str], model: str,
                                                    mlflow_server) -> None:

    _, url = bot
    prompt = prompt_of(model)
    client = MlflowClient(tracking_uri=mlflow_server.url)
    client.create_webhook(name=unique("prompts"), url=f"{url}/webhooks/mlflow",
                          events=PROMPT_EVENTS, secret=SECRET)
    _move_prompt_alias(client, url, prompt)


def _move_prompt_alias(client: MlflowClient, url: str, prompt: str) -> None:
    import mlflow

    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_registry_uri(client.tracking_uri)
    for text in ("Answer from the context: {{question}}", "Answer briefly: {{question}}"):
        mlflow.genai.register_prompt(name=prompt, template=text)
    version = max(int(v.version) for v in client.search_prompt_versions(prompt))
    mlflow.genai.set_prompt_alias(prompt, alias="production", version=version - 1)
    # MLflow delivers from a pool, in no set order: let the first move land first
    wait_for(lambda: [c for c in changes_of(url) if c["kind"] == "prompt" and
                      "alias production" in c["description"] and
                      c["ref"] == str(version - 1)], what="the first prompt alias change")
    mlflow.genai.set_prompt_alias(prompt, alias="production", version=version)
    moved = wait_for(lambda: [c for c in changes_of(url) if c["kind"] == "prompt" and
                              "alias production" in c["description"] and
                              c["ref"] == str(version)], what="prompt alias change")
    assert moved[0]["previous"] == str(version - 1)
