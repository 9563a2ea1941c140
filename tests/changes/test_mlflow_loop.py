"""The loop against real servers: MLflow's alias change, OTel signals, diagnosis, rollback.

A real ``mlflow server`` registers v1 and v2 of a model; pointing ``champion`` at v2
fires MLflow's webhook at the bot, which records the change with ``previous`` v1.
The service's quality signals arrive through the real OpenTelemetry SDK exporter
and drop; an alert opens an incident the classifier labels ``model`` with v2 as
the suspect; the Run button in the incident channel (the Slack emulator) starts
``rollback-model``, an ml-team member approves, it points the alias back at v1 on the MLflow server,
the registry confirms, and verification sees the signals recover.

The signals need history before the change, which a test cannot wait
for: the SDK's clock (``time_ns`` in its metrics modules) and the bot's clock are
moved instead, and MLflow's own timestamps stay real. Everything else runs as is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
import yaml
from mlflow import MlflowClient

from bot import runbook_runs
from bot.app.server import ServerThread
from bot.app.wiring import wire
from bot.core.services import Services
from bot.demo.mlflow import OTEL, MovedClock
from bot.demo.mlflow_telemetry import Telemetry
from bot.devtools.slack_emulator import SlackEmulator
from tests.changes.conftest import SECRETS, changes_services
from tests.changes.mlflow_support import (
    MODEL_EVENTS,
    catalog_for,
    changes_of,
    forget_webhooks,
    unique,
    wait_for,
)
from tests.conftest import TOKEN
from tests.otel.support import sdk
from tests.slack.conftest import ML, SPEC, SRE, populate

API = SECRETS["RESILIO_API_TOKEN"]
MINUTE = 60 * 10**9


@pytest.fixture
def clock() -> Iterator[MovedClock]:
    from opentelemetry.sdk.metrics._internal import (
        _view_instrument_match,
        instrument,
        metric_reader_storage,
    )

    modules = (instrument, metric_reader_storage, _view_instrument_match)
    real = [module.time_ns for module in modules]
    moved = MovedClock()
    moved.install()
    yield moved
    for module, function in zip(modules, real, strict=True):
        module.time_ns = function


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator(spec_path=SPEC).start()
    populate(emulator)
    yield emulator
    emulator.stop()
    assert emulator.violations == [], "the bot broke the Web API spec"


@pytest.fixture
def loop(db_url: str, mlflow_server, clock: MovedClock,
         slack: SlackEmulator) -> Iterator[tuple[Services, str, str]]:
    model = unique("rag-llm")
    catalog = yaml.safe_load(catalog_for(model, mlflow_server.url))
    catalog["otel"] = OTEL  # the demo's metric names: demo.quality.groundedness, ...
    services = changes_services(
        db_url, yaml.safe_dump(catalog), SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=slack.signing_secret, SLACK_API_URL=slack.url)
    services.clock = clock.now
    wire(services)
    with ServerThread(services) as server:
        slack.app_url = f"{server.url}/slack/events"
        yield services, server.url, model
        forget_webhooks(mlflow_server.url, server.url)
    services.drain(30)
    services.close()


def _has_button(slack: SlackEmulator, channel: str, ts: str, action_id: str) -> bool:
    with slack.workspace.lock:
        blocks = slack.workspace.channel(channel).message(ts).blocks or []
    return any(element.get("action_id") == action_id for block in blocks
               for element in block.get("elements", []) if isinstance(element, dict))


def _run_message(slack: SlackEmulator, channel: str, run_id: int) -> str | None:
    with slack.workspace.lock:
        for message in slack.workspace.channel(channel).messages:
            if any(b.get("block_id") == f"runbook.run.{run_id}" for b in message.blocks):
                return str(message.ts)
    return None


def _slack_of(services: Services, incident_id: int) -> tuple[str, str]:
    from store.db import session_scope
    from store.models import Incident

    def found() -> tuple[str, str] | None:
        with session_scope(services.engine) as session:
            incident = session.get(Incident, incident_id)
            if incident and incident.slack_channel_id and incident.slack_summary_ts:
                return incident.slack_channel_id, incident.slack_summary_ts
        return None

    return wait_for(found, what="the incident channel and its pinned summary")


def test_alias_change_incident_and_rollback_on_mlflow(loop: tuple[Services, str, str],
                                                      mlflow_server, clock: MovedClock,
                                                      slack: SlackEmulator) -> None:
    services, url, model = loop
    registry = MlflowClient(tracking_uri=mlflow_server.url)
    registry.create_webhook(name=unique("resilio"), url=f"{url}/webhooks/mlflow",
                            events=MODEL_EVENTS, secret=SECRETS["RESILIO_MLFLOW_WEBHOOK_SECRET"])
    registry.create_registered_model(model)
    for _ in range(2):
        registry.create_model_version(model, source=f"s3://models/{model}")
    registry.set_registered_model_alias(model, "champion", "1")
    wait_for(lambda: any(c["description"].endswith("set to version 1")
                         for c in changes_of(url, token=API)))

    start = time.time_ns() - 45 * MINUTE
    clock.fixed_ns = start
    with sdk(url) as (meter, provider):
        telemetry = Telemetry(meter)
        for minute in range(1, 45):  # three quarters of an hour on v1
            clock.fixed_ns = start + minute * MINUTE
            telemetry.minute(bad=False)
            assert provider.force_flush(10_000)

        registry.set_registered_model_alias(model, "champion", "2")
        change = wait_for(lambda: [c for c in changes_of(url, token=API)
                                   if c["description"].endswith("set to version 2")])[0]
        assert (change["ref"], change["previous"]) == ("2", "1")
        changed_at = datetime.fromisoformat(change["ts"].replace("Z", "+00:00"))

        base = int(changed_at.timestamp() * 1e9)
        for minute in range(1, 13):  # v2 serves: quality drops
            clock.fixed_ns = base + minute * MINUTE
            telemetry.minute(bad=True)
            assert provider.force_flush(10_000)
        clock.offset_ns = base + 13 * MINUTE - time.time_ns()  # the bot lives 13 min on
        clock.fixed_ns = None

        alert = {"type": "alert", "ts": clock.now().isoformat(), "service": "rag-assistant",
                 "name": "GroundednessLow", "severity": "page"}
        opened = httpx.post(f"{url}/webhooks/generic", json=alert,
                            headers={"Authorization": f"Bearer {TOKEN}"})
        incident_id = opened.json()["incidents_opened"][0]
        auth = {"Authorization": f"Bearer {API}"}
        incident = wait_for(lambda: (body := httpx.get(
            f"{url}/v1/incidents/{incident_id}", headers=auth).json())["behavior"] and body,
            what="the diagnosis")
        assert incident["behavior"] == "model", incident["diagnosis"]["explanation"]
        suspect = incident["diagnosis"]["suspect_changes"][0]
        assert (suspect["kind"], suspect["ref"], suspect["previous"]) == ("model", "2", "1")

        # In the incident channel: the summary's Run button, the prefilled form, approval.
        channel, summary = _slack_of(services, incident_id)
        wait_for(lambda: _has_button(slack, channel, summary, "runbook.run:rollback-model"),
                 what="the Run rollback-model button")
        assert slack.click(channel, summary, "runbook.run:rollback-model", user=SRE).status == 200
        form = wait_for(lambda: next((v for v in reversed(list(slack.workspace.views.values()))
                                      if v.get("callback_id") == "runbook.params"), None),
                        what="the parameter form")
        version = next(b["element"].get("initial_value") for b in form["blocks"]
                       if b.get("block_id") == "param.version")
        assert version == "1"  # the suspect's previous version
        slack.submit_view(form["id"], {"param.verify_poll_seconds": "0.2"}, user=SRE)
        run = wait_for(lambda: next(iter(runbook_runs.runs_of(services, incident_id=incident_id)),
                                    None), what="the run")
        assert run["status"] == "pending_approval"
        assert registry.get_model_version_by_alias(model, "champion").version == "2"
        message = wait_for(lambda: _run_message(slack, channel, run["id"]), what="run message")

        stop = threading.Event()

        def serve_v1() -> None:  # after the rollback the service reports as v1 again
            while not stop.is_set():
                clock.offset_ns += MINUTE
                telemetry.minute(bad=registry_version() != "1")
                provider.force_flush(10_000)
                stop.wait(0.2)

        def registry_version() -> str:
            return registry.get_model_version_by_alias(model, "champion").version

        pusher = threading.Thread(target=serve_v1, daemon=True)
        assert slack.click(channel, message, "runbook.approve", user=ML).status == 200
        pusher.start()
        try:
            final = wait_for(lambda: (body := httpx.get(
                f"{url}/v1/runbook-runs/{run['id']}", headers=auth).json())["status"]
                in ("succeeded", "failed") and body, timeout=120, what="the runbook")
        finally:
            stop.set()
            pusher.join(30)

    assert final["status"] == "succeeded", final
    assert final["verdict"] == "recovered"
    assert [s["step"] for s in final["steps"]] == ["announce", "set-serving-alias",
                                                   "verify-quality"]
    alias_step = final["steps"][1]
    assert "the registry confirms" in alias_step["summary"]
    assert registry.get_model_version_by_alias(model, "champion").version == "1"
    # MLflow told the bot about the rollback too: champion 2 -> 1
    wait_for(lambda: [c for c in changes_of(url, token=API)
                      if c["ref"] == "1" and c["previous"] == "2"])

