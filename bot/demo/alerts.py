"""Act 1: Alertmanager posts alerts as the real one does; they become incidents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.clock import format_ts
from bot.demo.context import DemoContext


def alertmanager_body(status: str, alerts: list[dict[str, Any]], group: dict[str, str],
                      receiver: str = "resilio") -> dict[str, Any]:
    """A webhook body shaped like Alertmanager 0.25's.

    The shape is that of the bodies captured from the real Alertmanager in
    ``tests/fixtures/alertmanager_webhook_v4.json``.
    """
    common = dict(alerts[0]["labels"]) if alerts else {}
    for alert in alerts[1:]:
        common = {k: v for k, v in common.items() if alert["labels"].get(k) == v}
    group_key = "{}:{" + ", ".join(f'{k}="{v}"' for k, v in sorted(group.items())) + "}"
    return {"receiver": receiver, "status": status, "alerts": alerts, "groupLabels": group,
            "commonLabels": common, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
            "version": "4", "groupKey": group_key, "truncatedAlerts": 0}


def am_alert(name: str, service: str, instance: str, severity: str, summary: str,
             status: str, starts: str, ends: str = "0001-01-01T00:00:00Z",
             fingerprint: str | None = None) -> dict[str, Any]:
    labels = {"alertname": name, "service": service, "instance": instance, "severity": severity}
    return {"status": status, "labels": labels,
            "annotations": {"summary": summary, "description": f"{summary} on {instance}"},
            "startsAt": starts, "endsAt": ends,
            "generatorURL": f"http://prometheus:9090/graph?g0.expr={name}",
            "fingerprint": fingerprint or f"{abs(hash((name, service, instance))) % 16**16:016x}"}


def act(ctx: DemoContext) -> None:
    ctx.heading("Alertmanager delivers alerts (real v4 webhook bodies over HTTP)")
    now = ctx.services.clock()
    starts = format_ts(now - timedelta(minutes=6))
    latency = [am_alert("HighP99Latency", "checkout", f"10.0.0.{i}:8080", "critical",
                        "p99 latency above 800 ms", "firing", starts, fingerprint=f"demo-lat-{i}")
               for i in range(1, 4)]
    with ctx.client() as client:
        first = client.post("/webhooks/alertmanager",
                            json=alertmanager_body("firing", latency,
                                                   {"alertname": "HighP99Latency"}))
        first.raise_for_status()
        repeat = client.post("/webhooks/alertmanager",
                             json=alertmanager_body("firing", latency,
                                                    {"alertname": "HighP99Latency"}))
        repeat.raise_for_status()
        ctx.say(f"  3 alerts posted, then the same 3 again: {first.json()['stored']} stored, "
                f"{repeat.json()['deduplicated']} deduplicated, incident(s) "
                f"{first.json()['incidents_opened']}")
        ends = format_ts(now)
        resolved = [{**a, "status": "resolved", "endsAt": ends} for a in latency]
        done = client.post("/webhooks/alertmanager",
                           json=alertmanager_body("resolved", resolved,
                                                  {"alertname": "HighP99Latency"}))
        done.raise_for_status()
        ctx.say("  Alertmanager sends the resolution: the incident's timeline says all alerts "
                "resolved")
        bad = client.post("/webhooks/alertmanager", content=b'{"status": "firing", "alerts": [')
        ctx.say(f"  a malformed body gets {bad.status_code}: {bad.json()['detail']}")
        anon = client.post("/webhooks/alertmanager", json={}, headers={"Authorization": ""})
        ctx.say(f"  a request without the token gets {anon.status_code}: {anon.json()['detail']}")
        peek = client.get("/v1/incidents")
        ctx.say(f"  the webhook token reading the incident API gets {peek.status_code}: "
                f"{peek.json()['detail']}")
    with ctx.api() as api:
        listed = api.get("/v1/incidents").json()
        ctx.say(f"  the API token reads it: {listed['count']} incident(s)")
    ctx.settle()
