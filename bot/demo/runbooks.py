"""Act: runbooks that act on a real (toy) model gateway: a rollback and a fallback, verified.

The demo model gateway (``examples/gateway``) runs on loopback and pushes its own
quality, latency and cost signals to the bot every second. Two incidents follow:

1. a bad model version (v8) drags groundedness down; the classifier blames the
   model change and the pinned summary offers ``rollback-model``. A responder
   clicks Run (a signed Slack request), someone outside the approver groups is
   refused, an ML-team member approves, the runbook switches the gateway back to
   v7 and its ``verify`` step watches groundedness come back from the gateway's
   live signals. The incident is then mitigated.
2. a bad prompt (p13) drags groundedness down again; ``fallback-mode`` serves
   cached answers (which do not use the prompt) and verifies the recovery.

The gateway's history before the demo started (a healthy hour, then the bad
version) is replayed from its own signal model at one tick a minute, so the
classifier has a baseline; everything after that is live. The act is finite:
every wait has a deadline, and the gateway is stopped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot import runbook_runs
from bot.core.clock import format_ts
from bot.demo.context import DemoContext, wait_for
from bot.demo.workspace import has_button, run_message
from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents import service as incident_service
from examples.gateway.server import GatewayServer
from examples.gateway.state import Gateway
from store.models import Incident

PROMPT_EVIDENCE_SECONDS = 15
SERVICE = "rag-assistant"
RESPONDER = "U0SRE0001"  # sam.sre clicks Run
OUTSIDER = "U0DATA001"  # dana.data is in neither approver group
APPROVER = "U0ML00001"  # mia.ml, member of S0MLTEAM1
BASELINE_MINUTES = 75  # healthy history replayed before the bad deploy
BAD_MINUTES = 12  # how long v8 has been serving when the alert fires
RUN_DEADLINE = 25.0  # seconds a run may take before the demo gives up on it
# seconds the demo waits for one reaction of the bot (a button, a form, a message); it
# goes on as soon as the reaction is there, so the margin costs nothing on a fast machine
STEP_DEADLINE = 30.0
TERMINAL = {"succeeded", "failed", "cancelled", "interrupted"}


def _lines(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)


def _replay_history(gateway: Gateway, now: datetime) -> tuple[list[dict[str, Any]],
                                                              dict[str, Any]]:
    """The gateway's last ``BASELINE_MINUTES + BAD_MINUTES`` minutes, one tick a minute.

    The signals come from the gateway's own model of its configuration (v7, then
    v8), so what the classifier sees is what the runbook later undoes.
    """
    deployed = now - timedelta(minutes=BAD_MINUTES, seconds=30)
    records: list[dict[str, Any]] = []
    for minute in range(BASELINE_MINUTES + BAD_MINUTES, 0, -1):
        moment = now - timedelta(minutes=minute)
        if moment >= deployed and gateway.model_version != "v8":
            gateway.set_model("v8", author="ci:deploy-bot")
        records.extend(gateway.tick(moment))
    change = {"type": "change", "ts": format_ts(deployed), "service": SERVICE, "kind": "model",
              "ref": "v8", "previous": "v7", "author": "ci:deploy-bot",
              "description": "deploy model v8 (new fine-tune)"}
    return records, change


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Point the runbooks' defaults at this gateway, and put everything back afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _incident(ctx: DemoContext, incident_id: int) -> Incident:
    return incident_service.get_incident(ctx.services, incident_id)


def _open_incident(ctx: DemoContext, client: httpx.Client, name: str, summary: str) -> Incident:
    alert = {"type": "alert", "ts": format_ts(ctx.services.clock()), "service": SERVICE,
             "name": name, "severity": "critical", "labels": {"team": "ml-platform"},
             "annotations": {"summary": summary}}
    opened = client.post("/webhooks/generic", json=alert)
    opened.raise_for_status()
    incident_id = int(opened.json()["incidents_opened"][0])
    ctx.settle()

    def diagnosed() -> Incident | None:
        # The pinned summary is posted and then updated once the classifier's diagnosis is in.
        incident = _incident(ctx, incident_id)
        return incident if incident.behavior and incident.slack_summary_ts else None

    return wait_for(diagnosed, STEP_DEADLINE, "the diagnosis")


def _groundedness(gateway: Gateway, last: int = 3) -> list[float]:
    values = [r["value"] for r in gateway.since(None) if r.get("type") == "signal"
              and r["name"] == "groundedness" and not r["slice"]]
    return [round(v, 3) for v in values[-last:]]


def _last_ephemeral(slack: SlackEmulator, channel: str, since: float) -> str | None:
    with slack.workspace.lock:
        entries = [a for a in slack.workspace.activity.get(channel, [])
                   if a.kind == "ephemeral" and a.at >= since]
    return entries[-1].text if entries else None


def _finished(ctx: DemoContext, run_id: int) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        view = runbook_runs.run_view(ctx.services, run_id=run_id)
        return view if view["status"] in TERMINAL else None

    return dict(wait_for(finished, RUN_DEADLINE, f"run {run_id} to finish"))


def _print_run(ctx: DemoContext, view: dict[str, Any]) -> None:
    ctx.say(f"  run {view['id']} {view['runbook']}: {view['status']}"
            + (f", verification {view['verdict']}" if view.get("verdict") else ""))
    for step in view["steps"]:
        ctx.say(f"    {step['step']:<16} {step['kind']:<7} {step['status']:<10} "
                f"{step['duration_seconds'] or 0:5.1f}s  {(step['summary'] or '')[:70]}")


def _timeline_account(ctx: DemoContext, incident_id: int) -> int:
    events = [e for e in incident_service.timeline(ctx.services, incident_id)
              if e.kind.startswith("runbook.") or e.kind in ("mitigated", "resolved")]
    ctx.say(f"  timeline of #{incident_id}: {len(events)} runbook and status events")
    for event in events:
        ctx.say(f"    {event.ts:%H:%M:%S} {event.actor:<24} {event.kind:<22} "
                f"{event.message[:70]}")
    return len(events)


def _slack_account(ctx: DemoContext, channel: str, run_ts: str, summary_ts: str) -> None:
    """What the channel shows: the run's message (state, verdict), its thread, the summary."""
    slack = ctx.slack
    with slack.workspace.lock:
        messages = list(slack.workspace.channel(channel).messages)
    parent = next((m for m in messages if m.ts == run_ts), None)
    replies = [m for m in messages if run_ts and m.thread_ts == run_ts]
    pinned = next((m for m in messages if m.ts == summary_ts), None)
    if parent is not None:
        verdict = next((line for block in parent.blocks
                        for line in str((block.get("text") or {}).get("text", "")).splitlines()
                        if line.startswith("verification")), "no verdict")
        ctx.say(f"  Slack: the run's message reads '{parent.text}' ({verdict}), "
                f"{len(replies)} progress replies in its thread")
    if pinned is not None:
        ctx.say(f"  Slack: the pinned summary reads '{pinned.text.split(' — ')[0]}'")


def _describe(ctx: DemoContext, incident: Incident) -> None:
    diagnosis = incident.diagnosis or {}
    suspect: dict[str, Any] = next(iter(diagnosis.get("suspect_changes") or []), {})
    suggested = ", ".join(s.name for s in runbook_runs.suggest_for(ctx.services, incident)) \
        or "nothing"
    ctx.say(f"  #{incident.id} opened; classifier: {incident.behavior} "
            f"({incident.confidence or 0:.2f}), suspect {suspect.get('kind')} change "
            f"{suspect.get('ref')} (previous {suspect.get('previous')}); suggests {suggested}")


def _rollback(ctx: DemoContext, client: httpx.Client, gateway_url: str,
              gateway: Gateway) -> tuple[int, dict[str, Any]]:
    """Incident 1: the classifier blames v8, a Slack button runs rollback-model, approved."""
    slack = ctx.slack
    state = httpx.get(f"{gateway_url}/state").json()
    ctx.say(f"  GET /state -> model {state['model_version']}; groundedness "
            f"{_groundedness(gateway)}")
    incident = _open_incident(ctx, client, "GroundednessLow",
                              "groundedness below 0.85 on rag-assistant")
    _describe(ctx, incident)
    incident_id = incident.id or 0
    channel, summary_ts = incident.slack_channel_id or "", incident.slack_summary_ts or ""
    # The summary gains its runbook buttons when the diagnosis reaches Slack (after the ack).
    wait_for(lambda: has_button(slack, channel, summary_ts, "runbook.run:rollback-model"),
             STEP_DEADLINE, "the Run rollback-model button on the summary")
    click = slack.click(channel, summary_ts, "runbook.run:rollback-model", user=RESPONDER)
    ctx.say(f"  sam.sre clicks 'Run rollback-model' on the pinned summary (signed request) -> "
            f"HTTP {click.status} in {click.latency * 1000:.0f} ms")
    form = wait_for(lambda: next((v for v in reversed(list(slack.workspace.views.values()))
                                  if v.get("callback_id") == "runbook.params"), None),
                    STEP_DEADLINE, "the parameter form")
    version = next(b["element"].get("initial_value") for b in form["blocks"]
                   if b.get("block_id") == "param.version")
    slack.submit_view(form["id"], {}, user=RESPONDER)
    ctx.say(f"  the parameter form opens prefilled (version={version}); sam.sre submits it")
    run = wait_for(lambda: next(iter(runbook_runs.runs_of(ctx.services,
                                                          incident_id=incident_id)), None),
                   STEP_DEADLINE, "the run request")
    message_ts = wait_for(lambda: run_message(slack, channel, run["id"]), STEP_DEADLINE,
                          "the run's Slack message")
    ctx.say(f"  run {run['id']} is {run['status']}: version={run['params']['version']} "
            f"(the suspect change's previous), gateway_url={run['params']['gateway_url']}")
    clicked = time.time()
    slack.click(channel, message_ts, "runbook.approve", user=OUTSIDER)
    refusal = wait_for(lambda: _last_ephemeral(slack, channel, clicked), STEP_DEADLINE,
                       "the refusal")
    ctx.say(f"  dana.data clicks Approve; only she sees: {refusal[:96]}...")
    slack.click(channel, message_ts, "runbook.approve", user=APPROVER)
    ctx.say("  mia.ml (ml-team) clicks Approve; the run starts")
    view = _finished(ctx, run["id"])
    state = httpx.get(f"{gateway_url}/state").json()
    _print_run(ctx, view)
    ctx.say(f"  GET /state -> model {state['model_version']}; groundedness "
            f"{_groundedness(gateway)}")
    incident = _incident(ctx, incident_id)
    if view["status"] == "succeeded" and view["verdict"] == "recovered" \
            and incident.status in ("triggered", "acknowledged"):
        incident_service.change_status(ctx.services, incident_id=incident_id, to="mitigated",
                                       actor="runbook:rollback-model",
                                       note="rollback to v7 verified: quality recovered")
        ctx.settle()
    _timeline_account(ctx, incident_id)
    _slack_account(ctx, channel, message_ts, summary_ts)
    return incident_id, state


def _fallback(ctx: DemoContext, client: httpx.Client, gateway_url: str,
              gateway: Gateway, token: str) -> int:
    """Incident 2: a bad prompt; fallback-mode serves cached answers, which use no prompt."""
    changed = client.post("/v1/changes", content=json.dumps({
        "type": "change", "ts": format_ts(ctx.services.clock()), "service": SERVICE,
        "kind": "prompt", "ref": "p13", "previous": "p12", "author": "ui:prompt-studio",
        "description": "prompt p13 (shorter system prompt)"}))
    changed.raise_for_status()
    httpx.post(f"{gateway_url}/prompt", json={"version": "p13", "author": "ui:prompt-studio"},
               headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    bad = wait_for(lambda: (g := _groundedness(gateway))[-1] < 0.78 and g, STEP_DEADLINE,
                   "the bad prompt")
    ctx.say(f"  prompt p13 goes live on the gateway; groundedness {bad}")
    time.sleep(PROMPT_EVIDENCE_SECONDS)  # the alert fires once the drop has lasted a while
    incident = _open_incident(ctx, client, "GroundednessLow",
                              "groundedness below 0.80 after a prompt change")
    _describe(ctx, incident)
    ctx.say("    sam.sre falls back to cached answers first; the prompt rollback can follow")
    incident_id = incident.id or 0
    started = runbook_runs.start(ctx.services, incident_id=incident_id, name="fallback-mode",
                                 actor="cli:sam.sre",
                                 params={"mode": "cached", "verify_poll_seconds": 1},
                                 idempotency_key=f"demo:fallback:{incident_id}")
    ctx.say(f"  sam.sre runs fallback-mode mode=cached (needs no approval): run "
            f"{started.run.id} {started.run.status}")
    view = _finished(ctx, started.run.id or 0)
    state = httpx.get(f"{gateway_url}/state").json()
    _print_run(ctx, view)
    ctx.say(f"  GET /state -> fallback {state['fallback_mode']}, prompt "
            f"{state['prompt_version']}; groundedness {_groundedness(gateway)}")
    _timeline_account(ctx, incident_id)
    return incident_id


def act(ctx: DemoContext) -> None:
    started = time.monotonic()
    ctx.heading("Runbooks act on a live model gateway: rollback-model from a Slack button")
    token = secrets.token_urlsafe(12)
    gateway = Gateway(service=SERVICE, model_version="v7")
    history, change = _replay_history(gateway, ctx.services.clock())
    incidents: list[int] = []
    with ctx.client() as client:
        client.post("/v1/signals", content=_lines(history)).raise_for_status()
        client.post("/v1/changes", content=json.dumps(change)).raise_for_status()
        server = GatewayServer(gateway, port=0, token=token, tick_seconds=1.0,
                               push_url=f"{ctx.url}/v1/signals", push_token=ctx.token).start()
        try:
            with _environment({"RESILIO_GATEWAY_URL": server.url, "GATEWAY_TOKEN": token}):
                ctx.say(f"  demo model gateway on {server.url} (writes need a token); its last "
                        f"{BASELINE_MINUTES + BAD_MINUTES} minutes replayed "
                        f"({len(history)} records, v8 deployed {BAD_MINUTES} min ago), then "
                        f"it pushes live signals every second")
                first, state = _rollback(ctx, client, server.url, gateway)
                incidents.append(first)
                ctx.heading("Runbooks: a bad prompt, and fallback-mode to cached answers")
                # One open incident per service: the rolled-back one is closed first.
                incident_service.change_status(ctx.services, incident_id=first, to="resolved",
                                               actor=f"slack:{APPROVER}",
                                               note="v7 serves again; quality verified")
                ctx.say(f"  mia.ml resolves #{first} (v7 verified), so a new alert on {SERVICE} "
                        f"opens a new incident")
                incidents.append(_fallback(ctx, client, server.url, gateway, token))
        finally:
            server.stop()
    ctx.settle()
    runs = [{"incident_id": view["incident_id"], "name": view["runbook"],
             "status": view["status"], "verdict": view["verdict"], "run_id": view["id"]}
            for incident_id in incidents
            for view in runbook_runs.runs_of(ctx.services, incident_id=incident_id)]
    ctx.summary["runbook_runs"] = runs
    ctx.summary["runbook_gateway_after_rollback"] = {
        k: state.get(k) for k in ("model_version", "prompt_version", "fallback_mode")}
    ctx.say(f"  runbook act took {time.monotonic() - started:.1f}s: "
            + "; ".join(f"#{r['incident_id']} {r['name']} {r['status']} ({r['verdict']})"
                        for r in runs))
