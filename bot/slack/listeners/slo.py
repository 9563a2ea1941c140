"""``/slo`` and ``/budget``: a service's (or every service's) levels and error budgets.

Both are lookups: the ack says nothing, the work answers ephemeral with the table
(:func:`bot.views.slo.slo_table_blocks`) under the command's own title.
"""

from __future__ import annotations

from functools import partial

from slack_bolt import App, Respond

from bot.core.errors import UserError
from bot.core.services import Services
from bot.slack.listeners.common import Payload, ack_only, acked, error_reply, private
from bot.slo.compute import all_statuses, service_status
from bot.views.markup import escape
from bot.views.slo import slo_table_blocks


def run_slo(command: Payload, respond: Respond, *, services: Services, title: str) -> None:
    """The table of the service named in the command's text, or of all of them."""
    service = command.get("text", "").strip()
    try:
        statuses = service_status(services, service) if service else all_statuses(services)
    except UserError as error:
        respond(**error_reply(error))
        return
    if not statuses:
        respond(**private(f"No SLOs defined{' for ' + escape(service) if service else ''}"
                          " in the catalog."))
        return
    respond(**private(title, slo_table_blocks(statuses, title=title)))


def register(app: App, services: Services) -> None:
    for name, title in (("/slo", "Service levels"), ("/budget", "Error budgets")):
        app.command(name)(acked(services, ack_only,
                                partial(run_slo, services=services, title=title)))
