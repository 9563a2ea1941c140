"""``/incident``: the ack parses, the work resolves the incident, calls the domain, replies.

A wrong command gets its usage at once, ephemeral, from the ack. The work replies
through the command's ``response_url``: in the channel for changes everyone should
see, ephemeral for lookups. ``declare`` and ``resolve`` open a modal instead
(:mod:`bot.slack.listeners.views` takes the submission).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import runbook_runs
from bot.core.errors import UserError
from bot.core.services import Services
from bot.diagnosis.feedback import relabel_incident
from bot.incidents import service as incident_service
from bot.incidents.lifecycle import SEVERITIES
from bot.slack.listeners.common import (
    Payload,
    Reply,
    acked,
    actor,
    error_reply,
    private,
    resolve_incident_id,
    said,
    usage_ack,
)
from bot.slack.listeners.parsing import (
    STATUS_COMMANDS,
    IncidentCommand,
    UsageError,
    parse_incident,
)
from bot.slack.postmortem import postmortem_for_slack
from bot.views.help import INCIDENT_USAGE
from bot.views.incident import status_blocks
from bot.views.markup import code, escape
from bot.views.markup import user as mention
from bot.views.modals import declare_modal, resolve_modal
from bot.views.timeline import incident_list_blocks, timeline_blocks


# -- /incident subcommands: (services, command, incident_id, who, slack_user) -> reply ------
def _status_change(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
                   user: str) -> Reply:
    incident = incident_service.change_status(services, incident_id=incident_id,
                                              to=STATUS_COMMANDS[cmd.name], actor=who)
    verb = {"ack": "acknowledged", "mitigate": "marked mitigated", "reopen": "reopened"}
    return said(f"{mention(user)} {verb[cmd.name]} incident #{incident.id}")


def _status(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
            user: str) -> Reply:
    incident = incident_service.get_incident(services, incident_id)
    incident_service.add_note(services, incident_id=incident_id, actor=who,
                              kind="slack_command", text="/incident status")
    return private(f"Incident #{incident.id}: {incident.status}",
                   status_blocks(incident, runbook_runs.suggest_for(services, incident)))


def _timeline(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
              user: str) -> Reply:
    incident_service.add_note(services, incident_id=incident_id, actor=who,
                              kind="slack_command", text="/incident timeline")
    incident = incident_service.get_incident(services, incident_id)
    events = incident_service.timeline(services, incident_id)
    return private(f"Timeline of #{incident_id}", timeline_blocks(incident, events))


def _assign(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
            user: str) -> Reply:
    incident_service.assign_role(services, incident_id=incident_id, role=cmd.args["role"],
                                 user=cmd.args["user"], actor=who)
    return said(f"{mention(user)} made {mention(cmd.args['user'])} {escape(cmd.args['role'])} "
                f"of #{incident_id}")


def _severity(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
              user: str) -> Reply:
    incident_service.set_severity(services, incident_id=incident_id,
                                  severity=cmd.args["severity"], actor=who)
    return said(f"{mention(user)} set the severity of #{incident_id} to "
                f"{escape(cmd.args['severity'])}")


def _note(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
          user: str) -> Reply:
    incident_service.add_note(services, incident_id=incident_id, text=cmd.args["text"],
                              actor=who)
    return said(f"{mention(user)} noted on #{incident_id}'s timeline: "
                f"{escape(cmd.args['text'][:2000])}")


def _followup(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
              user: str) -> Reply:
    incident_service.add_followup(services, incident_id=incident_id, text=cmd.args["text"],
                                  actor=who)
    return said(f"{mention(user)} added a follow-up to #{incident_id}: "
                f"{escape(cmd.args['text'][:2000])}")


def _relabel(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
             user: str) -> Reply:
    relabelled = relabel_incident(services, incident_id=incident_id, label=cmd.args["label"],
                                  actor=who)
    return said(f"{mention(user)} relabelled #{incident_id}: "
                f"{escape(relabelled.previous or 'unclassified')} → {code(cmd.args['label'])}; "
                "its owners are being invited")


def _postmortem(services: Services, cmd: IncidentCommand, incident_id: int, who: str,
                user: str) -> Reply:
    return postmortem_for_slack(services, incident_id=incident_id, actor=who)


Subcommand = Callable[[Services, IncidentCommand, int, str, str], Reply]

INCIDENT_HANDLERS: dict[str, Subcommand] = {
    "ack": _status_change, "mitigate": _status_change, "reopen": _status_change,
    "status": _status, "timeline": _timeline, "assign": _assign, "severity": _severity,
    "note": _note, "followup": _followup, "relabel": _relabel, "postmortem": _postmortem,
}


def ack_incident(ack: Ack, command: Payload) -> None:
    try:
        parsed = parse_incident(command.get("text", ""))
    except UsageError as error:
        usage_ack(ack, INCIDENT_USAGE, str(error))
        return
    if parsed.name == "help":
        usage_ack(ack, INCIDENT_USAGE)
        return
    ack()


def run_incident(command: Payload, client: WebClient, respond: Respond, *,
                 services: Services) -> None:
    try:
        parsed = parse_incident(command.get("text", ""))
    except UsageError:
        return  # the ack has answered with the usage
    user, channel = command["user_id"], command.get("channel_id")
    if parsed.name == "help":
        return
    if parsed.name == "declare":  # the trigger id expires in 3 s: open before anything
        client.views_open(trigger_id=command["trigger_id"], view=declare_modal(
            services=[s.name for s in services.catalog.services], severities=SEVERITIES,
            channel_id=channel, initial_title=parsed.args.get("title", "")))
        return
    try:
        if parsed.name == "list":
            respond(**private("Open incidents",
                              incident_list_blocks(incident_service.list_open(services))))
            return
        incident_id = resolve_incident_id(services, parsed.incident_id, channel)
        if parsed.name == "resolve":
            client.views_open(trigger_id=command["trigger_id"], view=resolve_modal(
                incident_id=incident_service.get_incident(services, incident_id).id or 0,
                channel_id=channel))
            return
        respond(**INCIDENT_HANDLERS[parsed.name](services, parsed, incident_id,
                                                 actor(user), user))
    except UserError as error:
        respond(**error_reply(error))


def register(app: App, services: Services) -> None:
    app.command("/incident")(acked(services, ack_incident,
                                   partial(run_incident, services=services)))
