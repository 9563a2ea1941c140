"""``/incident``, ``/runbook``, ``/slo`` and ``/budget``.

The ack function only parses (a wrong command gets its usage at once, ephemeral);
the lazy function resolves the incident, calls the domain and replies through the
command's ``response_url``: in the channel for changes everyone should see,
ephemeral for lookups.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.core.errors import UserError
from bot.incidents import service as incident_service
from bot.incidents.lifecycle import SEVERITIES
from bot.slack.listeners.common import (
    acked,
    actor,
    error_reply,
    optional_module,
    resolve_incident_id,
)
from bot.slack.listeners.parsing import (
    STATUS_COMMANDS,
    IncidentCommand,
    UsageError,
    parse_incident,
    parse_runbook,
)
from bot.slack.listeners.relabel import relabel_incident
from bot.views.help import INCIDENT_USAGE, RUNBOOK_USAGE, usage_blocks
from bot.views.incident import status_blocks
from bot.views.markup import code, escape
from bot.views.markup import user as mention
from bot.views.modals import declare_modal, resolve_modal
from bot.views.runbooks import runbook_list_blocks
from bot.views.timeline import incident_list_blocks, timeline_blocks

log = logging.getLogger(__name__)

Reply = dict[str, Any]


def _usage_ack(ack: Callable[..., None], usage: str, problem: str | None = None) -> None:
    ack(response_type="ephemeral", text=escape(problem or "usage"),
        blocks=usage_blocks(usage, problem))


def _said(text: str) -> Reply:
    return {"response_type": "in_channel", "text": text}


def _private(text: str, blocks: list[dict[str, Any]] | None = None) -> Reply:
    reply: Reply = {"response_type": "ephemeral", "text": text}
    if blocks:
        reply["blocks"] = blocks
    return reply


# -- /incident subcommands: (services, command, incident_id, who, slack_user) -> reply ------
def _status_change(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
                   user: str) -> Reply:
    incident = incident_service.change_status(services, incident_id=incident_id,
                                              to=STATUS_COMMANDS[cmd.name], actor=who)
    verb = {"ack": "acknowledged", "mitigate": "marked mitigated", "reopen": "reopened"}
    return _said(f"{mention(user)} {verb[cmd.name]} incident #{incident.id}")


def _status(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
            user: str) -> Reply:
    incident = incident_service.get_incident(services, incident_id)
    incident_service.add_note(services, incident_id=incident_id, actor=who,
                              kind="slack_command", text="/incident status")
    return _private(f"Incident #{incident.id}: {incident.status}", status_blocks(incident))


def _timeline(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
              user: str) -> Reply:
    incident_service.add_note(services, incident_id=incident_id, actor=who,
                              kind="slack_command", text="/incident timeline")
    incident = incident_service.get_incident(services, incident_id)
    events = incident_service.timeline(services, incident_id)
    return _private(f"Timeline of #{incident_id}", timeline_blocks(incident, events))


def _assign(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
            user: str) -> Reply:
    incident_service.assign_role(services, incident_id=incident_id, role=cmd.args["role"],
                                 user=cmd.args["user"], actor=who)
    return _said(f"{mention(user)} made {mention(cmd.args['user'])} {escape(cmd.args['role'])} "
                 f"of #{incident_id}")


def _severity(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
              user: str) -> Reply:
    incident_service.set_severity(services, incident_id=incident_id,
                                  severity=cmd.args["severity"], actor=who)
    return _said(f"{mention(user)} set the severity of #{incident_id} to "
                 f"{escape(cmd.args['severity'])}")


def _note(services: Any, cmd: IncidentCommand, incident_id: int, who: str, user: str) -> Reply:
    incident_service.add_note(services, incident_id=incident_id, text=cmd.args["text"],
                              actor=who)
    return _said(f"{mention(user)} noted on #{incident_id}'s timeline: "
                 f"{escape(cmd.args['text'][:2000])}")


def _followup(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
              user: str) -> Reply:
    incident_service.add_followup(services, incident_id=incident_id, text=cmd.args["text"],
                                  actor=who)
    return _said(f"{mention(user)} added a follow-up to #{incident_id}: "
                 f"{escape(cmd.args['text'][:2000])}")


def _relabel(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
             user: str) -> Reply:
    previous = relabel_incident(services, incident_id=incident_id, label=cmd.args["label"],
                                actor=who)
    return _said(f"{mention(user)} relabelled #{incident_id}: "
                 f"{escape(previous or 'unclassified')} → {code(cmd.args['label'])}; "
                 "its owners are being invited")


def _postmortem(services: Any, cmd: IncidentCommand, incident_id: int, who: str,
                user: str) -> Reply:
    module = optional_module("bot.slack.postmortem")
    draft = getattr(module, "postmortem_for_slack", None) if module else None
    if draft is None:
        incident_service.add_note(services, incident_id=incident_id, actor=who,
                                  kind="slack_command", text="/incident postmortem")
        return _private("Postmortem drafts are not set up in this bot yet. Everything is on "
                        f"the record: `/incident timeline {incident_id}`.")
    return draft(services, incident_id=incident_id, actor=who)


INCIDENT_HANDLERS: dict[str, Callable[..., Reply]] = {
    "ack": _status_change, "mitigate": _status_change, "reopen": _status_change,
    "status": _status, "timeline": _timeline, "assign": _assign, "severity": _severity,
    "note": _note, "followup": _followup, "relabel": _relabel, "postmortem": _postmortem,
}


def register(app: Any, services: Any) -> None:
    def ack_incident(ack: Callable[..., None], command: dict[str, Any]) -> None:
        try:
            parsed = parse_incident(command.get("text", ""))
        except UsageError as error:
            _usage_ack(ack, INCIDENT_USAGE, str(error))
            return
        if parsed.name == "help":
            _usage_ack(ack, INCIDENT_USAGE)
            return
        ack()

    def run_incident(command: dict[str, Any], client: Any,
                     respond: Callable[..., Any]) -> None:
        try:
            parsed = parse_incident(command.get("text", ""))
        except UsageError:
            return
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
                respond(**_private("Open incidents",
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

    app.command("/incident")(acked(services, ack_incident, run_incident))

    def ack_runbook(ack: Callable[..., None], command: dict[str, Any]) -> None:
        try:
            parse_runbook(command.get("text", ""))
        except UsageError as error:
            _usage_ack(ack, RUNBOOK_USAGE, str(error))
            return
        ack()

    def run_runbook(command: dict[str, Any], respond: Callable[..., Any], client: Any) -> None:
        try:
            parsed = parse_runbook(command.get("text", ""))
        except UsageError:
            return
        runs = optional_module("bot.runbook_runs")
        if runs is None:
            respond(**_private("Runbooks are not configured in this bot yet "
                               "(no runbook engine installed)."))
            return
        user, channel = command["user_id"], command.get("channel_id")
        try:
            incident = incident_service.find_by_channel(services, channel) if channel else None
            incident_id = incident.id if incident is not None else None
            if parsed.name == "list":
                suggestions = None if incident_id is None else \
                    runs.suggest(services, incident_id=incident_id)
                respond(**_private("Runbooks", runbook_list_blocks(
                    runs.library(services).values(), suggestions, incident_id)))
                return
            if incident_id is None:
                raise UserError("run runbooks from an incident channel")
            from bot.slack.listeners.runbooks import groups_for  # only with the runbook engine

            runbook = runs.get_runbook(services, parsed.runbook or "")
            result = runs.start(services, incident_id=incident_id, name=runbook.name,
                                params=parsed.params, actor=actor(user),
                                groups=groups_for(client, user, runbook.allowed),
                                idempotency_key=f"slack-command:{command['trigger_id']}")
            respond(**_said(f"{mention(user)} asked for runbook {code(parsed.runbook)} on "
                            f"#{incident_id}: run {result.run.id} is "
                            f"{escape(result.run.status)}"))
        except UserError as error:
            respond(**error_reply(error))

    app.command("/runbook")(acked(services, ack_runbook, run_runbook))

    def ack_quietly(ack: Callable[..., None]) -> None:
        ack()

    def slo_reply(title: str) -> Callable[..., None]:
        def run(command: dict[str, Any], respond: Callable[..., Any]) -> None:
            views = optional_module("bot.views.slo")
            compute = optional_module("bot.slo.compute")
            if views is None or compute is None:
                respond(**_private("Service levels are not configured in this bot yet."))
                return
            service = command.get("text", "").strip()
            try:
                statuses = compute.service_status(services, service) if service \
                    else compute.all_statuses(services)
            except UserError as error:
                respond(**error_reply(error))
                return
            if not statuses:
                respond(**_private(f"No SLOs defined{' for ' + escape(service) if service else ''}"
                                   " in the catalog."))
                return
            respond(**_private(title, views.slo_table_blocks(statuses, title=title)))
        run.__name__ = f"run_{title.split()[-1].lower()}"
        return run

    app.command("/slo")(acked(services, ack_quietly, slo_reply("Service levels")))
    app.command("/budget")(acked(services, ack_quietly, slo_reply("Error budgets")))
