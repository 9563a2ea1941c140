"""Act: silent AI failures reach the bot as signals; alerts on them get a diagnosis.

Three services fail in three different ways (simulated with the scenario generator,
moved in time so they end now). Their signals and change events are pushed over
``POST /v1/signals``; then one plain alert per service arrives, and the classifier
labels each incident with its evidence, failing slice and suspect change.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from bot import runbook_runs
from bot.core.clock import format_ts, to_utc
from bot.demo.context import DemoContext
from bot.simulator.scenarios import generate
from bot.views import format as fmt
from store import queries
from store.db import session_scope
from store.models import Incident

# (failure, service, seed, sliced): fixed seeds so every run tells the same story.
CASES = [
    ("data", "fraud-scorer", 11, True),
    ("control_plane", "doc-search", 12, None),
    ("cost", "support-bot", 13, None),
]


def _shift(records: list[dict[str, Any]], alert_at: str, now: datetime) -> list[dict[str, Any]]:
    offset = now - to_utc(datetime.fromisoformat(alert_at.replace("Z", "+00:00")))
    moved = []
    for record in records:
        ts = to_utc(datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))) + offset
        moved.append({**record, "ts": format_ts(ts)})
    return moved


def act(ctx: DemoContext) -> None:
    ctx.heading("Silent failures: signals in, alerts on top, a diagnosis for each")
    now = ctx.services.clock() - timedelta(seconds=30)
    truths: dict[str, dict[str, Any]] = {}
    with ctx.client() as client:
        for label, service, seed, sliced in CASES:
            scenario = generate(label, seed, service=service, sliced=sliced)
            records = _shift(scenario.records, scenario.truth["alert_at"], now)
            body = "\n".join(json.dumps(r, separators=(",", ":")) for r in records)
            response = client.post("/v1/signals", content=body)
            response.raise_for_status()
            taken = response.json().get("accepted", len(records))
            ctx.say(f"  {service}: {taken} signal/change records pushed "
                    f"({len(scenario.records)} in the scenario)")
            truths[service] = scenario.truth
        for _, service, _, _ in CASES:
            alert = {"type": "alert", "ts": format_ts(ctx.services.clock()), "service": service,
                     "name": "AIQualityDegraded", "severity": "warning",
                     "annotations": {"summary": f"{service} quality proxies degraded"}}
            client.post("/webhooks/generic", json=alert).raise_for_status()
    ctx.settle()
    diagnosed = []
    with session_scope(ctx.services.engine) as session:
        for _, service, _, _ in CASES:
            incidents = queries.list_incidents(session=session, service=service, limit=1)
            if not incidents:
                continue
            incident = incidents[0]
            diagnosed.append(incident.id)
            _say_diagnosis(ctx, incident, truths[service])
    ctx.summary["classified"] = diagnosed


def _say_diagnosis(ctx: DemoContext, incident: Incident, truth: dict[str, Any]) -> None:
    """The diagnosis beside the simulated truth, worded as the incident's Slack summary
    words it (effects as before -> after, p-values, minutes before the onset)."""
    d = incident.diagnosis or {}
    sliced = truth["slice"]
    where = f"{sliced['dimension']}={sliced['value']}" if sliced else "all traffic"
    ctx.say(f"\n  #{incident.id} {incident.service}: {incident.behavior} "
            f"({incident.confidence or 0:.2f} confident)   [simulated truth: "
            f"{truth['label']}, slice {where}, culprit {truth['culprit']}]")
    if d.get("explanation"):
        ctx.say(f"    why: {d['explanation'][:300]}")
    for finding in (d.get("evidence") or [])[:3]:
        where = ", ".join(f"{k}={v}" for k, v in (finding.get("slice") or {}).items())
        ctx.say(f"    evidence: {finding.get('layer')}/{finding.get('name')}"
                f"{' [' + where + ']' if where else ''}: {fmt.effect(finding)} · "
                f"{fmt.p_value(finding.get('p_value'))} · "
                f"{fmt.detector_name(finding.get('detector'))}")
    slices = d.get("slices") or []
    ctx.say("    failing slice: " + (", ".join(
        f"{s['dimension']}={s['value']}" for s in slices[:2]) or "all traffic"))
    changes = d.get("suspect_changes") or []
    if changes:
        top = changes[0]
        when = fmt.minutes_before(top.get("minutes_before_onset"))
        ctx.say(f"    suspect change: {top.get('kind')} {top.get('ref')}"
                + (f", {when}" if when else ""))
    suggested = runbook_runs.suggest_for(ctx.services, incident)
    if suggested:
        ctx.say("    suggested runbooks: " + ", ".join(s.name for s in suggested))
