"""Real ``resilio serve`` processes on one database, killed with SIGKILL, and what they left.

Reuses the scale tests' :class:`~tests.support.replicas.Replica` (a subprocess of
``python -m bot serve``) and the Slack emulator the demo populates, and reads the
database directly to see what a dead process left behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml
from sqlalchemy import text
from sqlmodel import col, select

from bot.devtools.slack_emulator import SlackEmulator
from store.db import make_engine, session_scope
from store.models import Incident
from store.outbox_models import OutboxTask
from store.slack_models import SlackChannelClaim
from tests.conftest import TOKEN

T = TypeVar("T")


def catalog_of(folder: Path, services: list[str]) -> Path:
    """A catalog of ``services``, each with an owner, an alerts channel and an escalation chain."""
    entry = {"alerts_channel": "C0ALERTS01", "owners": {"default": {"users": ["U0SRE0001"]}},
             "escalation": {"ack_timeout_minutes": 15, "chain": ["U0SRE0001", "U0SRE0002"]}}
    data = {"grouping": {"window_minutes": 60, "group_by": []},
            "watch": {"enabled": False},
            "slack": {"channel_prefix": "inc"},
            "services": [{"name": name, **entry} for name in services]}
    path = folder / "resilio.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def environment(db_url: str, slack: SlackEmulator, catalog: Path, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "RESILIO_WEBHOOK_TOKEN": TOKEN, "RESILIO_CONFIG": str(catalog),
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.url, "RESILIO_LEADER_POLL_SECONDS": "1",
            "RESILIO_OUTBOX_POLL_SECONDS": "0.5", **extra}


def alert(service: str, name: str, fingerprint: str) -> dict[str, Any]:
    return {"status": "firing",
            "labels": {"alertname": name, "service": service, "severity": "page"},
            "annotations": {"summary": f"{name} on {service}"},
            "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": fingerprint}


def post_alerts(url: str, alerts: list[dict[str, Any]]) -> httpx.Response:
    body = {"receiver": "resilio", "status": "firing", "alerts": alerts, "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0}
    return httpx.post(f"{url}/webhooks/alertmanager", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {TOKEN}"})


def wait_for(probe: Callable[[], T], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


class Database:
    """What the bot stored, read the way an operator would, with plain queries."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def incidents(self) -> list[Incident]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(Incident).order_by(col(Incident.id))))

    def tasks(self) -> list[OutboxTask]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(OutboxTask).order_by(col(OutboxTask.id))))

    def claims(self) -> dict[int, SlackChannelClaim]:
        with session_scope(self.engine) as session:
            return {c.incident_id: c for c in session.exec(select(SlackChannelClaim))}

    def escalation_jobs(self) -> set[str]:
        with self.engine.connect() as connection:
            exists = connection.execute(text(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = "
                "'apscheduler_jobs'") if self.engine.dialect.name == "postgresql" else text(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'apscheduler_jobs'")).scalar()
            if not exists:
                return set()
            rows = connection.execute(text("SELECT id FROM apscheduler_jobs")).scalars()
            return {row for row in rows if row.startswith("escalation-")}

    def finished(self, incident_ids: list[int]) -> bool:
        """Every incident diagnosed, its channel set up, its first escalation timer set."""
        incidents = {i.id: i for i in self.incidents()}
        claims = self.claims()
        jobs = self.escalation_jobs()
        return all(
            incidents[i].behavior is not None and incidents[i].slack_summary_ts
            and i in claims and claims[i].state == "complete" and f"escalation-{i}-0" in jobs
            for i in incident_ids)


def channels_created(slack: SlackEmulator) -> list[str]:
    """Names of the incident channels Slack made (successful conversations.create calls)."""
    return [str(call.args.get("name")) for call in slack.calls_to("conversations.create", ok=True)]
