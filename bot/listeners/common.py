"""What every listener needs: the actor string, the incident a request is about, replies."""

from __future__ import annotations

import importlib
from typing import Any

from bot import incident_service
from bot.errors import UserError


def actor(user_id: str) -> str:
    return f"slack:{user_id}"


def optional_module(name: str) -> Any:
    """A part of the bot another issue fills in, or None while it is not there."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def resolve_incident_id(services: Any, incident_id: int | None, channel_id: str | None) -> int:
    """The id given, else the incident whose channel this is; UserError when neither."""
    if incident_id is not None:
        return incident_id
    incident = incident_service.find_by_channel(services, channel_id) if channel_id else None
    if incident is None or incident.id is None:
        raise UserError("this is not an incident channel: add the incident id "
                        "(e.g. `/incident ack 12`)")
    return incident.id


def error_reply(error: Exception) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False,
            "text": f":warning: {error}"}
