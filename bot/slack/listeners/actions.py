"""The summary's buttons: Acknowledge, Mitigated, Resolve, Reopen, Relabel, Run <runbook>.

Each click is acted on once (keyed by user, action and action_ts), whatever
Slack or a double-click does; modal buttons open their modal before any other call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.core.errors import UserError
from bot.incidents import service as incident_service
from bot.slack.listeners.common import acked, actor, error_reply
from bot.slack.listeners.dedup import first_time
from bot.views import incident as summary
from bot.views.markup import user as mention
from bot.views.modals import relabel_modal, resolve_modal
from classifiers.vocabulary import LABELS

STATUS_BUTTONS = {summary.ACK: ("acknowledged", "acknowledged"),
                  summary.MITIGATE: ("mitigated", "marked mitigated"),
                  summary.REOPEN: ("triggered", "reopened")}


def _click(body: dict[str, Any]) -> tuple[dict[str, Any], str, str | None]:
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id")
    return action, body["user"]["id"], channel


def _once(services: Any, body: dict[str, Any]) -> bool:
    action, user, _ = _click(body)
    return first_time(services, f"action:{user}:{action['action_id']}:{action['action_ts']}",
                      "block_actions")


def register(app: Any, services: Any) -> None:
    def ack_click(ack: Callable[..., None]) -> None:
        ack()

    def change_status(body: dict[str, Any], respond: Callable[..., Any]) -> None:
        if not _once(services, body):
            return
        action, user, _ = _click(body)
        to, verb = STATUS_BUTTONS[action["action_id"]]
        try:
            incident_id = int(action["value"])
            incident_service.change_status(services, incident_id=incident_id, to=to,
                                           actor=actor(user))
            respond(response_type="in_channel", replace_original=False,
                    text=f"{mention(user)} {verb} incident #{incident_id}")
        except UserError as error:
            respond(**error_reply(error))

    app.action(re.compile(r"^incident\.(ack|mitigate|reopen)$"))(
        acked(services, ack_click, change_status))

    def open_resolve(body: dict[str, Any], client: Any) -> None:
        action, _, channel = _click(body)
        client.views_open(trigger_id=body["trigger_id"],
                          view=resolve_modal(incident_id=int(action["value"]),
                                             channel_id=channel))

    app.action(summary.RESOLVE)(acked(services, ack_click, open_resolve))

    def open_relabel(body: dict[str, Any], client: Any) -> None:
        action, _, channel = _click(body)
        client.views_open(trigger_id=body["trigger_id"], view=relabel_modal(
            incident_id=int(action["value"]), labels=LABELS, current=None,
            channel_id=channel))

    app.action(summary.RELABEL)(acked(services, ack_click, open_relabel))

