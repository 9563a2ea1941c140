"""Plain-JSON shapes of the stored objects, shared by the API, the CLI and the demo."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.clock import format_ts
from store.models import Alert, ChangeEvent, Incident, TimelineEvent


def _ts(value: datetime | None) -> str | None:
    return format_ts(value) if value else None


def incident_dict(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id, "service": incident.service, "title": incident.title,
        "severity": incident.severity, "status": incident.status, "source": incident.source,
        "group_key": incident.group_key, "description": incident.description,
        "behavior": incident.behavior, "confidence": incident.confidence,
        "label_source": incident.label_source, "diagnosis": incident.diagnosis,
        "onset": _ts(incident.onset), "budget_impact": incident.budget_impact,
        "roles": incident.roles, "followups": incident.followups,
        "resolution": incident.resolution, "alerts_firing": incident.alerts_firing,
        "created_at": _ts(incident.created_at), "updated_at": _ts(incident.updated_at),
        "acknowledged_at": _ts(incident.acknowledged_at),
        "mitigated_at": _ts(incident.mitigated_at), "resolved_at": _ts(incident.resolved_at),
        "slack_channel_id": incident.slack_channel_id,
        "slack_channel_name": incident.slack_channel_name,
    }


def event_dict(event: TimelineEvent) -> dict[str, Any]:
    return {"ts": _ts(event.ts), "actor": event.actor, "kind": event.kind,
            "message": event.message, "details": event.details}


def alert_dict(alert: Alert) -> dict[str, Any]:
    return {"fingerprint": alert.fingerprint, "source": alert.source, "service": alert.service,
            "name": alert.name, "severity": alert.severity, "status": alert.status,
            "labels": alert.labels, "annotations": alert.annotations,
            "starts_at": _ts(alert.starts_at), "ends_at": _ts(alert.ends_at),
            "first_seen": _ts(alert.first_seen), "last_seen": _ts(alert.last_seen),
            "receive_count": alert.receive_count}


def change_dict(change: ChangeEvent) -> dict[str, Any]:
    return {"service": change.service, "ts": _ts(change.ts), "kind": change.kind,
            "ref": change.ref, "previous": change.previous, "author": change.author,
            "description": change.description, "slice": change.slice}
