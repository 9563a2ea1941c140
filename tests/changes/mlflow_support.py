"""Driving a real MLflow server with MLflow's own client, and waiting for its webhooks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

MODEL_EVENTS = ["model_version.created", "model_version_alias.created",
                "model_version_alias.deleted", "model_version_tag.set"]
PROMPT_EVENTS = ["prompt_version.created", "prompt_alias.created"]


def forget_webhooks(mlflow_url: str, bot_url: str) -> None:
    """Delete the webhooks pointing at a bot about to stop: MLflow's server outlives it
    (one per session), and deliveries to a dead address are retried, holding the senders
    that the next test's deliveries wait for."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_url)
    for hook in client.list_webhooks(max_results=1000):
        if hook.url.startswith(bot_url):
            client.delete_webhook(hook.webhook_id)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def catalog_for(model: str, mlflow_url: str, prompt: str = "none") -> str:
    return f"""
services:
  - name: rag-assistant
    owners: {{default: {{users: [U0SRE0001]}}, model: {{users: [U0ML00001]}}}}
    slices: [tenant]
    registry: {{kind: mlflow, url: "{mlflow_url}", model: {model}, alias: champion,
               prompts: [{prompt}]}}
    runbooks: [rollback-model, promote-model, pin-prompt-version]
"""


def changes_of(url: str, service: str = "rag-assistant", token: str | None = None
               ) -> list[dict[str, Any]]:
    from tests.changes.conftest import SECRETS

    headers = {"Authorization": f"Bearer {token or SECRETS['RESILIO_API_TOKEN']}"}
    response = httpx.get(f"{url}/v1/changes", params={"service": service}, headers=headers)
    response.raise_for_status()
    return response.json()["data"]


def wait_for(condition: Callable[[], Any], timeout: float = 180.0, what: str = "") -> Any:
    """MLflow delivers webhooks from a background pool: poll until they have arrived."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.3)
