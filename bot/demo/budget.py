"""Act: a rollout that stays up but answers worse burns error budget.

``search-assistant`` keeps its error rate and latency, but after a model rollout its
groundedness falls and thumbs-down rises. The burn-rate evaluation pages on the
quality SLOs (availability does not move), opens a ``budget`` incident, and once it
is mitigated the incident's budget impact is priced per SLO.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bot.core.clock import format_ts
from bot.demo.context import DemoContext
from bot.incidents import service as incident_service
from bot.slo.alerts import evaluate_burn_alerts
from bot.slo.compute import service_status
from bot.views.slo import impact_lines, render_table
from store import queries
from store.db import session_scope

SERVICE = "search-assistant"
HOURS = 6
REGRESSION_MINUTES = 50


def signals(now_minute: datetime, rng: np.random.Generator) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    start = now_minute - timedelta(hours=HOURS)
    for minute in range(HOURS * 60):
        ts = format_ts(start + timedelta(minutes=minute))
        bad = minute >= HOURS * 60 - REGRESSION_MINUTES
        requests = 1200
        errors = rng.binomial(requests, 0.002)  # the same before and after: still "up"
        unhappy = rng.binomial(300, 0.15 if bad else 0.04)
        records += [
            {"type": "signal", "ts": ts, "service": SERVICE, "layer": "infra",
             "name": "error_rate", "value": errors / requests, "count": requests},
            {"type": "signal", "ts": ts, "service": SERVICE, "layer": "runtime",
             "name": "latency_p95_ms", "value": float(rng.normal(820, 25))},
            {"type": "signal", "ts": ts, "service": SERVICE, "layer": "quality",
             "name": "thumbs_down_rate", "value": unhappy / 300, "count": 300},
            {"type": "signal", "ts": ts, "service": SERVICE, "layer": "quality",
             "name": "groundedness", "value": float(rng.normal(0.74 if bad else 0.92, 0.015))},
            {"type": "signal", "ts": ts, "service": SERVICE, "layer": "model",
             "name": "answer_length_tokens", "value": float(rng.normal(310 if bad else 240, 8))},
        ]
    rollout = start + timedelta(minutes=HOURS * 60 - REGRESSION_MINUTES - 4)
    records.append({"type": "change", "ts": format_ts(rollout), "service": SERVICE,
                    "kind": "model", "ref": "answer-v12", "previous": "answer-v11",
                    "author": "mia", "description": "new answer model rolled out"})
    return records


def act(ctx: DemoContext) -> None:
    ctx.heading("Quality SLOs: a rollout that stays up but answers worse burns budget")
    now = ctx.services.clock().replace(second=0, microsecond=0)
    body = "\n".join(json.dumps(r) for r in signals(now, np.random.default_rng(5)))
    with ctx.client() as client:
        client.post("/v1/signals", content=body).raise_for_status()
    ctx.say(f"  {SERVICE}: {HOURS} h of signals; the last {REGRESSION_MINUTES} min after a "
            "model rollout: groundedness 0.92 -> 0.74, thumbs-down 4% -> 15%, errors unchanged")
    sent = evaluate_burn_alerts(ctx.services, now)
    for record in sent:
        ctx.say(f"  burn-rate alert on {record.labels.get('slo', record.name)}: "
                f"{record.severity} {record.status}")
    ctx.settle()
    statuses = service_status(ctx.services, SERVICE, now=now)
    ctx.say(render_table([status.to_dict() for status in statuses]))
    with session_scope(ctx.services.engine) as session:
        incidents = queries.list_incidents(session=session, service=SERVICE, limit=1)
    if not incidents:
        ctx.say("  (no budget incident was opened)")
        return
    incident = incidents[0]
    ctx.say(f"  incident #{incident.id} opened from the budget (source {incident.source}); "
            f"diagnosis: {incident.behavior} ({incident.confidence or 0:.2f})")
    incident_service.change_status(ctx.services, incident_id=incident.id or 0, to="mitigated",
                                   actor="slack:U0ML00001", note="rolled back to answer-v11")
    ctx.settle()
    priced = incident_service.get_incident(ctx.services, incident.id or 0)
    ctx.say("  budget impact at mitigation:")
    for line in impact_lines(priced.budget_impact or {}):
        ctx.say(f"    {line}")
    ctx.summary["budget_demo"] = {
        "incident_id": incident.id,
        "slo_status": {s.slo.name: s.to_dict()["status"] for s in statuses},
        "burn_rates": {s.slo.name: s.to_dict()["burn_rate"] for s in statuses},
    }
