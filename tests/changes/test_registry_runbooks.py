"""promote-model and pin-prompt-version on a real MLflow registry; refusals leave it as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient

from bot.core.exchange_records import SignalRecord
from bot.sources.pushed import load_records
from runbooks.engine import Engine, resolve_params
from runbooks.loader import load_directories
from runbooks.steps import Tools
from store.db import make_engine, session_scope
from store.signal_queries import save_records
from tests.changes.mlflow_support import unique


def _context(registry_url: str, model: str, prompt: str | None = None,
             previous: str | None = None) -> dict[str, Any]:
    registry = {"kind": "mlflow", "url": registry_url, "model": model, "alias": "champion",
                "prompts": [prompt] if prompt else [], "prompt": prompt,
                "prompt_alias": "production"}
    return {"incident": {"id": 3}, "service": {"name": "rag-assistant", "registry": registry},
            "suspect_change": {"kind": "prompt", "ref": "2", "previous": previous},
            "labels": {}, "defaults": {"gateway_url": "http://127.0.0.1:9"}, "run": {}}


def _tools(sqlite_url: str) -> Tools:
    """Good quality readings stored ahead of the verify step, read back from the store."""
    engine = make_engine(sqlite_url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        save_records(session=session, records=[SignalRecord(
            type="signal", ts=now + timedelta(seconds=s), service="rag-assistant",
            layer="quality", name=name, value=value, count=100, kind=kind)
            for s in (20, 21, 22) for name, value, kind in (
                ("groundedness", 0.93, "gauge"), ("thumbs_down_rate", 0.02, "ratio"))])

    def read(service: str, start: datetime, end: datetime) -> list[Any]:
        with session_scope(engine) as session:
            return load_records(session=session, service=service, start=start,
                                end=end + timedelta(seconds=60))

    return Tools(read_signals=read, notify=lambda text: None)


@pytest.fixture
def shipped() -> dict[str, Any]:
    return load_directories()


def test_promote_model_points_the_alias_and_the_registry_confirms(
        mlflow_server, sqlite_url: str, shipped: dict[str, Any]) -> None:
    client = MlflowClient(tracking_uri=mlflow_server.url)
    model = unique("promote")
    client.create_registered_model(model)
    for _ in range(3):
        client.create_model_version(model, source=f"s3://models/{model}")
    client.set_registered_model_alias(model, "champion", "1")
    book = shipped["promote-model"]
    context = _context(mlflow_server.url, model)
    params = resolve_params(book, {"version": "3", "verify_poll_seconds": 0.1}, context)
    plan = Engine(tools=Tools(), runbooks=shipped).plan(book, context, params)
    assert [s.step_id for s in plan.steps] == ["announce", "set-serving-alias", "verify-quality"]
    result = Engine(tools=_tools(sqlite_url), runbooks=shipped).run(book, context, params)
    assert result.status == "succeeded", result.error
    alias_step = next(s for s in result.steps if s.step_id == "set-serving-alias")
    assert (alias_step.output["before"], alias_step.output["after"]) == ("1", "3")
    assert client.get_model_version_by_alias(model, "champion").version == "3"

    missing = resolve_params(book, {"version": "42", "verify_poll_seconds": 0.1}, context)
    refused = Engine(tools=_tools(sqlite_url), runbooks=shipped).run(book, context, missing)
    assert refused.status == "failed" and "MLflow refused alias champion" in (refused.error or "")
    assert client.get_model_version_by_alias(model, "champion").version == "3"  # unchanged


def test_pin_prompt_version_moves_the_prompt_alias(mlflow_server, sqlite_url: str,
                                                   shipped: dict[str, Any]) -> None:
    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_registry_uri(mlflow_server.url)
    prompt = unique("pin-prompt")
    for text in ("Cite the context: {{q}}", "Be creative: {{q}}"):
        mlflow.genai.register_prompt(name=prompt, template=text)
    mlflow.genai.set_prompt_alias(prompt, alias="production", version=2)
    book = shipped["pin-prompt-version"]
    context = _context(mlflow_server.url, "unused", prompt=prompt, previous="1")
    params = resolve_params(book, {"verify_poll_seconds": 0.1}, context)
    assert (params["version"], params["prompt"]) == ("1", prompt)
    result = Engine(tools=_tools(sqlite_url), runbooks=shipped).run(book, context, params)
    assert result.status == "succeeded", result.error
    assert mlflow.genai.load_prompt(f"prompts:/{prompt}@production").version == 1
