"""In-process events, so parts react to each other without importing each other.

This bus is the fast path for what may be lost in a crash: runbook progress posted
to a Slack thread. Work that must survive one (diagnosis, the channel, escalation,
summaries, budget impact) is not subscribed here: it is written as outbox rows in
the transaction of the change (:mod:`bot.core.outbox`, whose ``FOLLOW_UPS`` lists it),
and ``Services.emit`` of such an event writes those rows. Handlers run on the
background pool after the request's transaction has committed, so a slow or failing
handler never delays an ack or loses an alert.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[..., None]

# Event names in use: "incident.opened", "incident.changed", "incident.classified" (the
# classifier's label is stored), "incident.relabelled" (a responder's label),
# "incident.escalated" (a step of the chain), "incident.alerts_resolved" (every
# alert of the incident resolved), "runbook.progress". The durable ones and their
# handlers: bot.core.outbox.FOLLOW_UPS.


class EventBus:
    """Named events to handlers; ``emit`` queues each handler on the executor given."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> None:
        self._handlers[name].append(handler)

    def handlers(self, name: str) -> list[Handler]:
        return list(self._handlers.get(name, ()))

    def emit(self, name: str, executor: Any, /, **payload: Any) -> list[Any]:
        """Run each handler on ``executor`` (or inline when it is None); returns futures."""
        futures = []
        for handler in self.handlers(name):
            if executor is None:
                _safe(handler, name, payload)
            else:
                futures.append(executor.submit(_safe, handler, name, payload))
        return futures


def _safe(handler: Handler, name: str, payload: dict[str, Any]) -> None:
    try:
        handler(**payload)
    except Exception:  # a broken subscriber must not break the others
        log.exception("handler %s for %s failed", getattr(handler, "__name__", handler), name)
