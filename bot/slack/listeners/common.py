"""What every listener needs: the actor string, the incident a request is about, replies."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from bot.core.errors import UserError
from bot.incidents import service as incident_service
from bot.views.markup import error as error_text


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
            "text": f":warning: {error_text(error)}"}


def acked(services: Any, ack_function: Callable[..., Any],
          *work: Callable[..., Any]) -> Callable[..., None]:
    """One Bolt listener: run the I/O-free ``ack_function``, then queue ``work`` on the
    background pool with the request's parts each function asks for by name.

    This is Bolt's ``ack=``/``lazy=`` split without its cost: a lazy listener
    deep-copies the whole request first (about 2 ms, half of a dispatch), which
    under 50 concurrent requests decides whether acks stay under 50 ms.

    The work waits until the burst of requests it came with has been acked
    (``bot.slack.app.AcksFirst``): it would otherwise compete with those acks for
    the CPU and the GIL.
    """
    from bot.slack.app import acks_first

    gate = acks_first(services)
    wants = {fn: list(inspect.signature(fn).parameters) for fn in (ack_function, *work)}

    def listener(args: Any) -> None:
        ack_function(**{name: getattr(args, name) for name in wants[ack_function]})
        user = getattr(args.context, "user_id", None)
        for fn in work:
            services.submit(gate.hold(fn, after=user),
                            **{name: getattr(args, name) for name in wants[fn]})

    listener.__name__ = getattr(ack_function, "__name__", "listener")
    return listener
