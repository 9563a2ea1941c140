"""Demo act: a model rolled back on a real MLflow registry, end to end.

Runs with ``resilio demo --mlflow`` when ``mlflow`` and the OpenTelemetry SDK are
installed (the dev extra; the bot itself only talks HTTP to both). It starts
``mlflow server`` on loopback, registers v1 and v2 of a model, and lets MLflow's
signed webhook tell the bot each alias move. The service's signals go through the
real OpenTelemetry SDK exporter to ``/otlp/v1/metrics``; pointing ``champion`` at
v2 makes quality drop, an alert opens an incident the classifier labels
``model`` with v2 as the suspect, a responder clicks Run rollback-model in the
incident channel (the Slack emulator), an ml-team member approves, and the
runbook points the alias back at v1 on MLflow and verifies recovery.

The signals need history before the change, which a demo cannot wait for: the
SDK's clock and this act's bot clock are moved forward instead (MLflow's own
timestamps stay real), as the other acts push backdated records.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot import runbook_runs
from bot.app.server import ServerThread
from bot.changes.history import ChangeRecord, load_changes  # the records it returns
from bot.config.catalog import Service
from bot.core.services import Services
from bot.demo.context import DemoContext, wait_for
from bot.demo.mlflow_telemetry import Telemetry, exporter
from bot.demo.workspace import has_button, run_message
from bot.devtools.mlflow_server import MlflowServer
from bot.devtools.slack_emulator import SlackEmulator
from store.db import session_scope
from store.models import Incident

SERVICE = "mlflow-assistant"
RESPONDER = "U0SRE0001"  # sam.sre runs the runbook
APPROVER = "U0ML00001"  # mia.ml, of the ml-team user group, approves it
MINUTE = 60 * 10**9
OTEL = {"rules": [{"prefix": f"demo.{layer}.", "layer": layer, "rename": ""}
                  for layer in ("quality", "model", "data", "freshness", "runtime")]
        + [{"prefix": "demo.feedback.", "layer": "quality"}],
        "ratios": [{"name": "thumbs_down_rate", "numerator": "demo.feedback.thumbs_down",
                    "denominator": "demo.feedback.total", "bad": "up"}]}


class MovedClock:
    """One clock for the OTel SDK (``time_ns``) and the act's bot (``services.clock``)."""

    def __init__(self) -> None:
        self.offset_ns = 0
        self.fixed_ns: int | None = None

    def time_ns(self) -> int:
        return self.fixed_ns if self.fixed_ns is not None else time.time_ns() + self.offset_ns

    def now(self) -> datetime:
        return datetime.fromtimestamp((time.time_ns() + self.offset_ns) / 1e9, tz=UTC)

    def install(self) -> None:
        from opentelemetry.sdk.metrics._internal import (
            _view_instrument_match,
            instrument,
            metric_reader_storage,
        )

        for module in (instrument, metric_reader_storage, _view_instrument_match):
            module.time_ns = self.time_ns  # type: ignore[attr-defined]


def _available() -> str | None:
    try:
        import mlflow  # noqa: F401
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
        import opentelemetry.sdk.metrics  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed (pip install -e '.[dev]')"
    return None


def act(ctx: DemoContext) -> None:
    if not ctx.mlflow:
        return
    ctx.heading("A model rolled back on a real MLflow registry")
    missing = _available()
    if missing:
        ctx.say(f"{missing}: act skipped")
        ctx.summary["mlflow"] = {"ran": False, "why": missing}
        return

    with MlflowServer() as registry_server:
        ctx.say(f"mlflow server on {registry_server.url} (SQLite backend)")
        ctx.summary["mlflow"] = _run(ctx, registry_server.url)


def _services(ctx: DemoContext, registry_url: str, secret: str, clock: MovedClock
              ) -> Services:
    base = ctx.services.catalog
    owners = base.services[0].owners if base.services else {}
    service = Service.model_validate({
        "name": SERVICE, "description": "assistant whose model lives in MLflow",
        "owners": {name: owner.model_dump() for name, owner in owners.items()},
        "registry": {"kind": "mlflow", "url": registry_url, "model": SERVICE,
                     "alias": "champion"}, "runbooks": ["rollback-model"]})
    catalog = base.model_copy(update={"services": [service], "teams": [],
                                      "otel": base.otel.model_validate(OTEL)})
    settings = ctx.services.settings.model_copy(update={"mlflow_webhook_secret": secret})
    return dataclasses.replace(ctx.services, catalog=catalog, settings=settings,
                               clock=clock.now)


def _changes(services: Services) -> list[ChangeRecord]:
    now = services.clock()
    with session_scope(services.engine) as session:
        return load_changes(session=session, service=SERVICE, start=now - timedelta(days=1),
                            end=now + timedelta(days=1))


def _incident(services: Services, incident_id: int) -> Incident:
    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
    if incident is None:
        raise LookupError(f"demo: incident {incident_id} is not in the store")
    return incident


def _run(ctx: DemoContext, registry_url: str) -> dict[str, Any]:
    from mlflow import MlflowClient

    secret = secrets.token_urlsafe(16)
    clock = MovedClock()
    clock.install()
    services = _services(ctx, registry_url, secret, clock)
    registry = MlflowClient(tracking_uri=registry_url)
    slack = ctx.slack
    main_app = slack.app_url
    with ServerThread(services) as server, httpx.Client(base_url=server.url, timeout=30) as bot:
        slack.app_url = f"{server.url}/slack/events"  # this act's buttons reach this act's bot
        try:
            return _loop(ctx, services, bot, registry, secret, clock, slack, server.url,
                         Telemetry, exporter)
        finally:
            slack.app_url = main_app


def _loop(ctx: DemoContext, services: Services, bot: httpx.Client, registry: Any, secret: str,
          clock: MovedClock, slack: SlackEmulator, url: str, telemetry_type: Any,
          exporter: Any) -> dict[str, Any]:
    registry.create_webhook(name="resilio", url=f"{url}/webhooks/mlflow", secret=secret,
                            events=["model_version.created", "model_version_alias.created"])
    registry.create_registered_model(SERVICE)
    for _ in range(2):
        registry.create_model_version(SERVICE, source=f"s3://models/{SERVICE}")
    registry.set_registered_model_alias(SERVICE, "champion", "1")
    wait_for(lambda: any(c.ref == "1" and "alias" in (c.description or "")
                         for c in _changes(services)), what="MLflow's alias webhook")
    ctx.say("registered v1 and v2; champion -> v1 (MLflow's signed webhook told the bot)")

    start = time.time_ns() - 45 * MINUTE
    clock.fixed_ns = start
    with exporter(url, ctx.token) as (meter, provider):
        telemetry = telemetry_type(meter)
        for minute in range(1, 45):
            clock.fixed_ns = start + minute * MINUTE
            telemetry.minute(bad=False)
            provider.force_flush(10_000)
        ctx.say("45 minutes of v1 telemetry pushed through the OpenTelemetry SDK exporter")
        registry.set_registered_model_alias(SERVICE, "champion", "2")
        change = wait_for(lambda: [c for c in _changes(services)
                                   if c.ref == "2" and "alias" in (c.description or "")],
                          what="the champion -> v2 change")[0]
        ctx.say(f"champion -> v2: change recorded, ref {change.ref}, previous {change.previous}")
        base = int(change.ts.timestamp() * 1e9)
        for minute in range(1, 13):
            clock.fixed_ns = base + minute * MINUTE
            telemetry.minute(bad=True)
            provider.force_flush(10_000)
        clock.offset_ns, clock.fixed_ns = base + 13 * MINUTE - time.time_ns(), None
        alert = {"type": "alert", "ts": clock.now().isoformat(), "service": SERVICE,
                 "name": "GroundednessLow", "severity": "page"}
        incident_id = bot.post("/webhooks/generic", json=alert, headers={
            "Authorization": f"Bearer {ctx.token}"}).json()["incidents_opened"][0]
        incident = wait_for(lambda: found if (found := _incident(services, incident_id)).behavior
                            else None, what="the diagnosis")
        suspect = ((incident.diagnosis or {}).get("suspect_changes") or [{}])[0]
        ctx.say(f"incident #{incident_id}: {incident.behavior} ({incident.confidence or 0:.2f});"
                f" suspect {suspect.get('kind')} change {suspect.get('ref')} (previous "
                f"{suspect.get('previous')})")
        run_id = _run_from_slack(ctx, services, slack, incident_id)
        final = _rollback(services, slack, incident_id, run_id, clock, telemetry, provider,
                          registry)
    served = registry.get_model_version_by_alias(SERVICE, "champion").version
    ctx.say(f"rollback-model {final['status']} ({final.get('verdict')}); MLflow now "
            f"answers champion -> v{served}")
    return {"ran": True, "incident": incident_id, "behavior": incident.behavior,
            "suspect": suspect, "runbook": final["status"], "verdict": final.get("verdict"),
            "champion": served}


def _run_from_slack(ctx: DemoContext, services: Services, slack: SlackEmulator,
                    incident_id: int) -> int:
    """sam.sre clicks Run rollback-model on the pinned summary and submits the form."""

    incident = wait_for(lambda: found if (found := _incident(services, incident_id)
                                          ).slack_summary_ts else None, what="the summary")
    channel, summary = incident.slack_channel_id, incident.slack_summary_ts
    assert channel is not None and summary is not None  # waited for: the summary is posted
    wait_for(lambda: has_button(slack, channel, summary, "runbook.run:rollback-model"),
             what="the Run rollback-model button on the summary")
    earlier = set(slack.workspace.views)  # the other acts' forms
    slack.click(channel, summary, "runbook.run:rollback-model", user=RESPONDER)
    form = wait_for(lambda: next((v for key, v in list(slack.workspace.views.items())
                                  if key not in earlier
                                  and v.get("callback_id") == "runbook.params"), None),
                    what="the runbook form")
    version = next(b["element"].get("initial_value") for b in form["blocks"]
                   if b.get("block_id") == "param.version")
    slack.submit_view(form["id"], {"param.verify_poll_seconds": "0.2"}, user=RESPONDER)
    ctx.say(f"sam.sre clicks 'Run rollback-model' in the incident channel; the form is "
            f"prefilled with version={version} (the suspect's previous); submitted")
    run = wait_for(lambda: next(iter(runbook_runs.runs_of(services, incident_id=incident_id)),
                                None), what="the run")
    return int(run["id"])


def _rollback(services: Services, slack: SlackEmulator, incident_id: int, run_id: int,
              clock: MovedClock, telemetry: Any, provider: Any, registry: Any) -> dict[str, Any]:
    """mia.ml approves; meanwhile the service reports as whatever version MLflow serves."""

    channel = _incident(services, incident_id).slack_channel_id
    assert channel is not None  # the run was requested from this channel
    message = wait_for(lambda: run_message(slack, channel, run_id))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            clock.offset_ns += MINUTE
            telemetry.minute(bad=registry.get_model_version_by_alias(
                SERVICE, "champion").version != "1")
            provider.force_flush(10_000)
            stop.wait(0.2)

    pusher = threading.Thread(target=serve, name="demo-mlflow-telemetry", daemon=True)
    slack.click(channel, message, "runbook.approve", user=APPROVER)
    pusher.start()
    try:
        return wait_for(lambda: dict(view) if (view := runbook_runs.run_view(
            services, run_id=run_id))["status"] in ("succeeded", "failed") else None,
            timeout=120, what="the rollback to finish")
    finally:
        stop.set()
        pusher.join(30)
