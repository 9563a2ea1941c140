"""``resilio demo``: the whole loop on loopback with the embedded catalog, no Slack account.

The demo is a list of acts run in order against one in-process server; each part
of the bot contributes its act. It stays finite (well under two minutes) and
writes ``summary.json`` in its output folder.
"""

from __future__ import annotations

import importlib
import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

from bot.app.server import ServerThread
from bot.app.wiring import wire
from bot.config.catalog import load_catalog
from bot.config.settings import Settings
from bot.core.services import build_services
from bot.demo.context import DemoContext
from bot.demo.workspace import populate
from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents.serialize import event_dict, incident_dict
from store import queries
from store.db import session_scope, upgrade

ACTS = [
    "bot.demo.alerts.act",
    "bot.demo.classify.act",
    "bot.demo.budget.act",
    "bot.demo.slack.act",
    "bot.demo.runbooks.act",
    "bot.demo.silent.act",
    "bot.demo.reports.act",
    "bot.demo.prometheus.act",
    "bot.demo.mlflow.act",
]


def run(out: str | None = None, prometheus: bool = False, quiet: bool = False,
        mlflow: bool = False) -> int:
    folder = Path(out) if out else Path(tempfile.mkdtemp(prefix="resilio-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "resilio-demo.db"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    token = secrets.token_urlsafe(16)
    api_token = secrets.token_urlsafe(16)  # its own: the webhook token may not read the API
    upgrade(url)
    slack = SlackEmulator().start()  # a local Slack: the bot's Web API calls go here
    populate(slack)
    settings = Settings(DATABASE_URL=url, RESILIO_WEBHOOK_TOKEN=token, RESILIO_API_TOKEN=api_token,
                        SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET=slack.signing_secret,
                        SLACK_API_URL=slack.url, RESILIO_RUN_SCHEDULER=False)
    services = wire(build_services(settings, load_catalog(None)))
    server = ServerThread(services).start()
    slack.app_url = f"{server.url}/slack/events"
    ctx = DemoContext(services=services, url=server.url, token=token, api_token=api_token,
                      out=folder, quiet=quiet, slack=slack, prometheus=prometheus,
                      mlflow=mlflow)
    ctx.say(f"Resilio demo: bot on {server.url}, database {database}")
    try:
        for path in ACTS:
            module_name, _, function = path.rpartition(".")
            getattr(importlib.import_module(module_name), function)(ctx)
        ctx.settle()
        report(ctx)
    finally:
        server.stop()
        services.close()
        slack.stop()
    print(f"\nDemo finished: output in {folder} (summary.json)")
    return 0


def report(ctx: DemoContext) -> None:
    ctx.heading("Incidents and their timelines")
    incidents: list[dict[str, Any]] = []
    with session_scope(ctx.services.engine) as session:
        for incident in reversed(queries.list_incidents(session=session, limit=1000)):
            events = queries.timeline(session=session, incident_id=incident.id or 0)
            body = incident_dict(incident)
            ctx.say(f"\n#{incident.id} [{incident.status}] {incident.service}: {incident.title}")
            if incident.behavior:
                ctx.say(f"   diagnosis: {incident.behavior} ({incident.confidence or 0:.2f})")
            for event in events:
                ctx.say(f"   {event.ts:%H:%M:%S} {event.actor:<22} {event.kind:<16} "
                        f"{event.message[:90]}")
            incidents.append({
                "id": incident.id, "service": incident.service, "status": incident.status,
                "source": incident.source, "behavior": incident.behavior,
                "confidence": incident.confidence, "timeline_length": len(events),
                "budget_impact": incident.budget_impact,
                "slices": (incident.diagnosis or {}).get("slices", []),
                "suspect_change": next(iter((incident.diagnosis or {})
                                            .get("suspect_changes", [])), None),
            })
            body["timeline"] = [event_dict(e) for e in events]
    summary = {"incidents": incidents, **ctx.summary}
    (ctx.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
