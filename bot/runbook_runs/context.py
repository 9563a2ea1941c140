"""What a runbook's templates see of an incident: service, suspect change, registry, who asked."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from bot.config.change_sources import ModelRegistry
from bot.core.errors import NotFound
from bot.core.services import Services
from runbooks.engine import (
    base_context,
)
from runbooks.models import Runbook
from store import queries
from store import runbook_queries as runs_q
from store.models import Incident
from store.runbook_models import (
    RunbookRun,
)

log = logging.getLogger(__name__)


DEFAULT_GATEWAY_URL = "http://127.0.0.1:8700"


def actor_name(who: str) -> str:
    """Slack user ids become ``slack:<id>``; anything else (``cli:ana``, ``api``) stays."""
    if who and who[0] in "UW" and who.isalnum():
        return f"slack:{who}"
    return who


def user_id_of(who: str) -> str | None:
    return who.removeprefix("slack:") if who.startswith("slack:") else who


def suspect_change(session: Session, incident: Incident) -> dict[str, Any] | None:
    ranked = (incident.diagnosis or {}).get("suspect_changes") or []
    if ranked and isinstance(ranked[0], dict) and ranked[0].get("kind"):
        return dict(ranked[0])
    anchor = incident.onset or incident.created_at
    changes = queries.changes_between(session=session, service=incident.service,
                                      start=anchor - timedelta(hours=24),
                                      end=anchor + timedelta(minutes=5))
    if not changes:
        return None
    latest = changes[-1]
    return {"kind": latest.kind, "ref": latest.ref, "previous": latest.previous,
            "author": latest.author, "description": latest.description,
            "ts": latest.ts.isoformat()}


def _registry(catalog_service: Any, name: str) -> dict[str, Any]:
    """The service's model registry entry for templates (runbooks choose their target by
    ``kind``), with the registered model defaulting to the service's name."""

    registry = catalog_service.registry if catalog_service is not None else ModelRegistry()
    data = registry.model_dump()
    data["model"] = registry.model or name
    data["prompt"] = registry.prompts[0] if registry.prompts else None
    return data


def incident_context(services: Services, session: Session, incident: Incident,
                     run_id: int | None = None) -> dict[str, Any]:
    """What runbook templates may read about an incident. All of it is data."""
    labels: dict[str, Any] = {}
    for alert in queries.alerts_of(session=session, incident_id=incident.id or 0):
        labels.update({str(k): str(v) for k, v in (alert.labels or {}).items()})
    catalog_service = services.catalog.service(incident.service)
    service = {"name": incident.service,
               "description": catalog_service.description if catalog_service else "",
               "registry": _registry(catalog_service, incident.service)}
    facts = {"id": incident.id, "service": incident.service, "title": incident.title,
             "severity": incident.severity, "status": incident.status,
             "behavior": incident.behavior, "confidence": incident.confidence,
             "channel": incident.slack_channel_id,
             "created_at": incident.created_at.isoformat() if incident.created_at else None}
    defaults = {"gateway_url": os.environ.get("RESILIO_GATEWAY_URL", DEFAULT_GATEWAY_URL)}
    return base_context(incident=facts, service=service,
                        suspect_change=suspect_change(session, incident), labels=labels,
                        defaults=defaults, run={"id": run_id})


def load_incident(session: Session, incident_id: int) -> Incident:
    incident = queries.get_incident(session=session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"no incident with id {incident_id}")
    return incident


def post_progress(services: Services, run: RunbookRun, text: str) -> None:
    services.emit("runbook.progress", run_id=run.id, incident_id=run.incident_id, text=text)


def safe_params(runbook: Runbook, params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("***" if (p := runbook.parameter(k)) and p.secret else v)
            for k, v in params.items()}


def load_run(session: Session, run_id: int) -> RunbookRun:
    run = runs_q.get_run(session=session, run_id=run_id)
    if run is None:
        raise NotFound(f"no runbook run with id {run_id}")
    return run
