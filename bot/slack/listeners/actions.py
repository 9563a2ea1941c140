"""The summary's buttons: Acknowledge, Mitigated, Resolve, Reopen, Relabel, Run <runbook>.

Each click is acted on once (keyed by user, action and action_ts), whatever
Slack or a double-click does; modal buttons open their modal before any other call.
"""

from __future__ import annotations

import re
from functools import partial

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.core.errors import UserError
from bot.core.services import Services
from bot.incidents import service as incident_service
from bot.slack.listeners.common import Payload, ack_only, acked, actor, error_reply
from bot.slack.listeners.dedup import first_time
from bot.views import incident as summary
from bot.views.markup import user as mention
from bot.views.modals import relabel_modal, resolve_modal
from classifiers.vocabulary import LABELS

STATUS_BUTTONS = {summary.ACK: ("acknowledged", "acknowledged"),
                  summary.MITIGATE: ("mitigated", "marked mitigated"),
                  summary.REOPEN: ("triggered", "reopened")}


def _click(body: Payload) -> tuple[Payload, str, str | None]:
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id")
    return action, body["user"]["id"], channel


def _once(services: Services, body: Payload) -> bool:
    action, user, _ = _click(body)
    return first_time(services, f"action:{user}:{action['action_id']}:{action['action_ts']}",
                      "block_actions")


def change_status(body: Payload, respond: Respond, *, services: Services) -> None:
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


def open_resolve(body: Payload, client: WebClient) -> None:
    action, _, channel = _click(body)
    client.views_open(trigger_id=body["trigger_id"],
                      view=resolve_modal(incident_id=int(action["value"]), channel_id=channel))


def open_relabel(body: Payload, client: WebClient) -> None:
    action, _, channel = _click(body)
    client.views_open(trigger_id=body["trigger_id"], view=relabel_modal(
        incident_id=int(action["value"]), labels=LABELS, current=None, channel_id=channel))


def register(app: App, services: Services) -> None:
    app.action(re.compile(r"^incident\.(ack|mitigate|reopen)$"))(
        acked(services, ack_only, partial(change_status, services=services)))
    app.action(summary.RESOLVE)(acked(services, ack_only, open_resolve))
    app.action(summary.RELABEL)(acked(services, ack_only, open_relabel))
