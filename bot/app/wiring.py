"""Who reacts to which incident event, in one list that reads top to bottom.

Each entry is a ``subscribe(services)`` function of a part of the bot; it
registers that part's handlers on ``services.events``. Called once per process
by ``serve``, the demo and the tests that want the whole bot.
"""

from __future__ import annotations

import importlib

from bot.core.services import Services

SUBSCRIBERS: list[str] = [
    # diagnosis, channel, escalation timer, summary, budget: durable rows, bot.core.outbox
    "bot.scheduling.follow_ups.install",
]


def wire(services: Services) -> Services:
    for path in SUBSCRIBERS:
        module_name, _, function = path.rpartition(".")
        getattr(importlib.import_module(module_name), function)(services)
    return services
