"""What every listener needs: the actor string, the incident a request is about, replies,
and :func:`acked`, which turns an ack function and its work into one Bolt listener."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Args

from bot.core.errors import UserError
from bot.core.services import Services
from bot.incidents import service as incident_service
from bot.slack.acks import acks_first
from bot.slack.fast_ack import ACK_STEP, AckStep
from bot.views.help import usage_blocks
from bot.views.markup import error as error_text
from bot.views.markup import escape

Payload = dict[str, Any]  # a Slack request's JSON part (command, body, view, event), as sent
Reply = dict[str, Any]  # the keyword arguments of one ``respond`` call
Blocks = list[dict[str, Any]]


def actor(user_id: str) -> str:
    return f"slack:{user_id}"


def resolve_incident_id(services: Services, incident_id: int | None,
                        channel_id: str | None) -> int:
    """The id given, else the incident whose channel this is; UserError when neither."""
    if incident_id is not None:
        return incident_id
    incident = incident_service.find_by_channel(services, channel_id) if channel_id else None
    if incident is None or incident.id is None:
        raise UserError("this is not an incident channel: add the incident id "
                        "(e.g. `/incident ack 12`)")
    return incident.id


def error_reply(error: Exception) -> Reply:
    return {"response_type": "ephemeral", "replace_original": False,
            "text": f":warning: {error_text(error)}"}


def said(text: str) -> Reply:
    """A reply everyone in the channel sees (a change)."""
    return {"response_type": "in_channel", "text": text}


def private(text: str, blocks: Blocks | None = None) -> Reply:
    """A reply only the person who asked sees (a lookup, a refusal)."""
    reply: Reply = {"response_type": "ephemeral", "text": text}
    if blocks:
        reply["blocks"] = blocks
    return reply


def usage_ack(ack: Ack, usage: str, problem: str | None = None) -> None:
    """Answer a command that cannot be taken with its usage (and what was wrong)."""
    ack(response_type="ephemeral", text=escape(problem or "usage"),
        blocks=usage_blocks(usage, problem))


def ack_only(ack: Ack) -> None:
    """The ack of a request whose answer all comes after it (a click, an event)."""
    ack()


def request_parts(fn: Callable[..., Any]) -> list[str]:
    """The parts of the request ``fn`` asks for, by name, as Bolt injects them.

    Only the positional parameters count: the keyword-only ones (``services``) are
    bound by the listener module's ``register`` with :func:`functools.partial`.
    """
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def acked(services: Services, ack_function: Callable[..., Any],
          *work: Callable[..., Any]) -> Callable[[Args], None]:
    """One Bolt listener: run the I/O-free ``ack_function``, then queue ``work`` on the
    background pool with the request's parts each function asks for by name.

    This is Bolt's ``ack=``/``lazy=`` split without its cost: a lazy listener
    deep-copies the whole request first (about 2 ms, half of a dispatch), which
    under 50 concurrent requests decides whether acks stay under 50 ms.

    The work waits until the burst of requests it came with has been acked
    (``bot.slack.app.AcksFirst``): it would otherwise compete with those acks for
    the CPU and the GIL.
    """

    gate = acks_first(services)
    wants = {fn: request_parts(fn) for fn in (ack_function, *work)}

    def listener(args: Args) -> None:  # Bolt passes its Args by this parameter's name
        ack_function(**{name: getattr(args, name) for name in wants[ack_function]})
        user = getattr(args.context, "user_id", None)
        for fn in work:
            gate.queue(services, fn, after=user,
                       **{name: getattr(args, name) for name in wants[fn]})

    named = getattr(ack_function, "func", ack_function)  # a partial names its function
    listener.__name__ = getattr(named, "__name__", "listener")
    # the route may give this ack itself, before Bolt runs (bot.slack.fast_ack)
    setattr(listener, ACK_STEP, AckStep(ack_function, tuple(wants[ack_function])))
    return listener
