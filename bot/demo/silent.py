"""Act: a silent degradation no alert reported, found by the watch.

``kb-assistant`` pushes its signals and has no alert rules and no SLOs: nothing
would ever page on it. Over the last ``DRIFT_MINUTES`` minutes tenant acme's
groundedness drifts down slowly, its thumbs-down rate up and the model's own
confidence on its answers down, while every other tenant, the error rate, latency,
inputs, index freshness and cost stay where they were. The demo runs the
silent-degradation watch (:func:`bot.diagnosis.watch.run_watch`, the scheduled
job's own function) once: it opens a ``detector`` incident whose diagnosis names
the slice, the incident channel opens in the (emulated) Slack, and the week's
digest counts it as a silent degradation.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bot.core.clock import format_ts
from bot.demo.context import DemoContext
from bot.devtools.slack_emulator import render_transcript
from bot.diagnosis.watch import run_watch
from store import queries
from store.db import session_scope

SERVICE = "kb-assistant"
HOURS = 6
DRIFT_MINUTES = 40
TENANTS = {"acme": 500, "globex": 300, "initech": 250, "umbrella": 150}  # requests a minute
DRIFTING = "acme"
GROUNDED, GROUNDED_AFTER = 0.91, 0.66  # acme's groundedness before and at the end of the drift
UNHAPPY, UNHAPPY_AFTER = 0.04, 0.16
CONFIDENT, CONFIDENT_AFTER = 0.78, 0.58  # the model's own mean confidence on acme's answers


def _ramp(minute: int, total: int) -> float:
    """0 before the drift, rising linearly to 1 at the last minute."""
    start = total - DRIFT_MINUTES
    return 0.0 if minute < start else (minute - start + 1) / DRIFT_MINUTES


def signals(now: datetime, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``HOURS`` hours of minutely signals ending at ``now``: all traffic and per tenant."""
    total = HOURS * 60
    start = now - timedelta(minutes=total)
    records: list[dict[str, Any]] = []

    def signal(ts: str, layer: str, name: str, value: float, **extra: Any) -> None:
        records.append({"type": "signal", "ts": ts, "service": SERVICE, "layer": layer,
                        "name": name, "value": float(value), **extra})

    for minute in range(total):
        ts = format_ts(start + timedelta(minutes=minute))
        drift = _ramp(minute, total)
        grounded_sum = unhappy_sum = confident_sum = 0.0
        for tenant, requests in TENANTS.items():
            moved = drift if tenant == DRIFTING else 0.0
            grounded = GROUNDED + (GROUNDED_AFTER - GROUNDED) * moved
            grounded = float(np.clip(rng.normal(grounded, 0.012), 0, 1))
            unhappy = int(rng.binomial(requests, UNHAPPY + (UNHAPPY_AFTER - UNHAPPY) * moved))
            where = {"tenant": tenant}
            signal(ts, "quality", "groundedness", grounded, count=requests, slice=where)
            signal(ts, "quality", "thumbs_down_rate", unhappy / requests, count=requests,
                   kind="ratio", slice=where)
            confident = rng.normal(CONFIDENT + (CONFIDENT_AFTER - CONFIDENT) * moved, 0.01)
            signal(ts, "model", "mean_confidence", confident, count=requests, slice=where)
            confident_sum += confident * requests
            grounded_sum += grounded * requests
            unhappy_sum += unhappy
        everyone = sum(TENANTS.values())
        signal(ts, "quality", "groundedness", grounded_sum / everyone, count=everyone)
        signal(ts, "quality", "thumbs_down_rate", unhappy_sum / everyone, count=everyone,
               kind="ratio")
        signal(ts, "model", "mean_confidence", confident_sum / everyone, count=everyone)
        errors = int(rng.binomial(everyone, 0.003))  # the service stays "up"
        signal(ts, "runtime", "error_rate", errors / everyone, count=everyone, kind="ratio")
        signal(ts, "runtime", "p95_latency_ms", rng.normal(640, 20))
        signal(ts, "data", "input_length_mean", rng.normal(85, 2))
        signal(ts, "freshness", "index_lag_seconds", rng.normal(120, 10))
        signal(ts, "cost", "tokens_per_request", rng.normal(900, 20))
    return records


def act(ctx: DemoContext) -> None:
    ctx.heading("Silent degradation: no alert, no SLO; the watch finds it")
    now = ctx.services.clock()
    records = signals(now.replace(second=0, microsecond=0), np.random.default_rng(21))
    with ctx.client() as client:
        client.post("/v1/signals", content="\n".join(json.dumps(r) for r in records)
                    ).raise_for_status()
    ctx.say(f"  {SERVICE}: {HOURS} h of signals for {len(TENANTS)} tenants and no alert rule; "
            f"over the last {DRIFT_MINUTES} min {DRIFTING}'s groundedness drifts "
            f"{GROUNDED:.2f} -> {GROUNDED_AFTER:.2f}, its thumbs-down {UNHAPPY:.0%} -> "
            f"{UNHAPPY_AFTER:.0%}; the other tenants hold")
    opened = run_watch(ctx.services, now=now)  # the scheduled watch's own function, run once
    ctx.settle()
    with session_scope(ctx.services.engine) as session:
        incidents = [i for i in (queries.get_incident(session=session, incident_id=n)
                                 for n in opened) if i is not None]
    found = [i for i in incidents if i.service == SERVICE]
    ctx.say(f"  the watch opened {len(opened)} incident(s): "
            + (", ".join(f"#{i.id} {i.service} (source {i.source})" for i in incidents)
               or "none"))
    ctx.summary["silent_degradation"] = {
        "service": SERVICE, "drifting_slice": {"tenant": DRIFTING},
        "watch_opened": opened, "incident_id": found[0].id if found else None,
    }
    if not found:
        return
    incident = found[0]
    d = incident.diagnosis or {}
    slices = ", ".join(f"{s['dimension']}={s['value']}" for s in d.get("slices") or [])
    ctx.say(f"  #{incident.id} {incident.title}; failing slice: {slices or 'all traffic'}; "
            f"onset {d.get('onset')}")
    if d.get("explanation"):
        ctx.say(f"    why: {d['explanation'][:300]}")
    ctx.summary["silent_degradation"]["channel"] = incident.slack_channel_name
    slack = ctx.slack
    if incident.slack_channel_id:
        ctx.say(f"  Slack: #{incident.slack_channel_name} opened by itself (emulated Slack)")
        ctx.say(render_transcript(slack, incident.slack_channel_id))
