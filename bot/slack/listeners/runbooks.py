"""Runbooks in Slack: ``/runbook``, Run / Dry run from the summary, the parameter form,
Approve / Reject / Cancel.

Every click acks at once; the rest runs after the ack. A runbook with parameters
opens its form first thing (the trigger id lasts three seconds), prefilled with
the defaults resolved against the incident; the submission is type-checked in the
ack so a wrong value keeps the form open with the message under its field.

Who may run or approve is decided by the domain (:mod:`bot.runbook_runs.requests`)
from Slack's user-group membership (``usergroups.list``), not by anything the click
claims; a person who may not gets an ephemeral reply saying why and who may.
Progress goes to a thread under one message per run (:mod:`bot.slack.progress`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from functools import partial
from typing import Protocol

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import runbook_runs
from bot.core.errors import UserError
from bot.core.services import Services
from bot.incidents import service as incident_service
from bot.slack.identity import groups_for, user_groups
from bot.slack.listeners.common import (
    Blocks,
    Payload,
    ack_only,
    acked,
    actor,
    error_reply,
    private,
    said,
    usage_ack,
)
from bot.slack.listeners.dedup import first_time
from bot.slack.listeners.parsing import UsageError, parse_runbook
from bot.slack.progress import post_progress_to
from bot.views import runbooks as views
from bot.views.help import RUNBOOK_USAGE
from bot.views.markup import code, escape
from bot.views.markup import error as markup_error
from bot.views.markup import user as mention
from bot.views.modals import (
    RUNBOOK_PARAMS,
    metadata,
    param_block_id,
    runbook_params_modal,
    runbook_refused_modal,
    submitted_params,
)
from runbooks.models import Runbook
from store.runbook_models import RunbookRun


def _requested(user: str, name: str, run: RunbookRun) -> str:
    return f"{mention(user)} asked for runbook {code(name)}: run {run.id} is {escape(run.status)}"


def _once(services: Services, body: Payload) -> bool:
    action = body["actions"][0]
    return first_time(services, f"action:{body['user']['id']}:{action['action_id']}:"
                                f"{action['action_ts']}", "block_actions")


# -- /runbook list | run <name> [key=value ...] ---------------------------------------------

def ack_runbook(ack: Ack, command: Payload) -> None:
    try:
        parse_runbook(command.get("text", ""))
    except UsageError as error:
        usage_ack(ack, RUNBOOK_USAGE, str(error))
        return
    ack()


def run_runbook(command: Payload, respond: Respond, client: WebClient, *,
                services: Services) -> None:
    """``list`` (with this channel's incident's suggestions) or ``run`` in an incident channel."""
    try:
        parsed = parse_runbook(command.get("text", ""))
    except UsageError:
        return  # the ack has answered with the usage
    user, channel = command["user_id"], command.get("channel_id")
    try:
        incident = incident_service.find_by_channel(services, channel) if channel else None
        incident_id = incident.id if incident is not None else None
        if parsed.name == "list":
            suggestions = None if incident_id is None else \
                runbook_runs.suggest(services, incident_id=incident_id)
            respond(**private("Runbooks", views.runbook_list_blocks(
                runbook_runs.library(services).values(), suggestions, incident_id)))
            return
        if incident_id is None:
            raise UserError("run runbooks from an incident channel")
        runbook = runbook_runs.get_runbook(services, parsed.runbook or "")
        result = runbook_runs.start(services, incident_id=incident_id, name=runbook.name,
                                    params=parsed.params, actor=actor(user),
                                    groups=groups_for(client, user, runbook.allowed),
                                    idempotency_key=f"slack-command:{command['trigger_id']}")
        respond(**said(f"{mention(user)} asked for runbook {code(parsed.runbook)} on "
                       f"#{incident_id}: run {result.run.id} is {escape(result.run.status)}"))
    except UserError as error:
        respond(**error_reply(error))


# -- Run / Dry run on the summary -------------------------------------------------------

def _open_form(services: Services, client: WebClient, trigger_id: str, respond: Respond,
               user: str, channel: str | None, runbook: Runbook, incident_id: int,
               dry: bool) -> None:
    """The form first (the trigger expires), then whether this person may run it at all."""
    defaults = runbook_runs.parameter_defaults(services, incident_id=incident_id,
                                               name=runbook.name)
    opened = client.views_open(trigger_id=trigger_id, view=runbook_params_modal(
        runbook=runbook, defaults=defaults, incident_id=incident_id, channel_id=channel,
        dry_run=dry))
    if dry or runbook.allowed.open:
        return  # a dry run changes nothing: anyone may look
    try:
        runbook_runs.ensure_may_run(runbook, actor=actor(user),
                                    groups=groups_for(client, user, runbook.allowed))
    except runbook_runs.Forbidden as error:
        client.views_update(view_id=opened["view"]["id"],
                            view=runbook_refused_modal(runbook=runbook.name, reason=str(error)))
        respond(**error_reply(error))


def run_clicked(body: Payload, client: WebClient, respond: Respond, *,
                services: Services) -> None:
    if not _once(services, body):
        return
    action, user = body["actions"][0], body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")
    dry = action["action_id"].startswith(views.DRY_RUN)
    try:
        request = json.loads(action.get("value") or "{}")
        incident_id, name = int(request["incident_id"]), str(request["runbook"])
        runbook = runbook_runs.get_runbook(services, name)
        if runbook.parameters:
            _open_form(services, client, body["trigger_id"], respond, user, channel, runbook,
                       incident_id, dry)
        elif dry:
            plan = runbook_runs.dry_run(services, incident_id=incident_id, name=name,
                                        actor=actor(user))
            respond(response_type="ephemeral", replace_original=False,
                    text=views.plan_text(plan), blocks=views.plan_blocks(plan, incident_id))
        else:
            result = runbook_runs.start(
                services, incident_id=incident_id, name=name, actor=actor(user),
                groups=groups_for(client, user, runbook.allowed),
                idempotency_key=f"slack-button:{user}:{action['action_ts']}")
            respond(response_type="in_channel", replace_original=False,
                    text=_requested(user, name, result.run))
    except (KeyError, ValueError) as error:
        respond(**error_reply(UserError(f"this button is broken ({error!r})")))
    except UserError as error:
        respond(**error_reply(error))


# -- the parameter form -------------------------------------------------------------------

def form_errors(services: Services, view: Payload) -> dict[str, str]:
    """Block id -> what is wrong with the value typed there (no I/O: the ack runs it)."""
    name = str(metadata(view).get("runbook") or "")
    try:
        runbook = runbook_runs.get_runbook(services, name)
    except UserError:
        return {}  # reported after the ack, where there is somewhere to say it
    problems = runbook_runs.parameter_errors(runbook, submitted_params(view))
    return {param_block_id(key): text for key, text in problems.items()}


def ack_form(ack: Ack, view: Payload, *, services: Services) -> None:
    errors = form_errors(services, view)
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def _tell_submitter(client: WebClient, channel: str | None, user: str, text: str,
                    blocks: Blocks | None = None) -> None:
    """Only to the person who submitted: ephemeral where the form came from, else a DM."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return
        except SlackApiError:
            pass  # not a member of that channel (any more): a DM still reaches them
    client.chat_postMessage(channel=user, text=text, blocks=blocks)


def form_submitted(body: Payload, view: Payload, client: WebClient, *,
                   services: Services) -> None:
    if form_errors(services, view) or not first_time(services, f"view:{view['id']}",
                                                     "view_submission"):
        return
    user, meta = body["user"]["id"], metadata(view)
    channel = meta.get("channel_id")
    params = {k: v for k, v in submitted_params(view).items() if v not in (None, "")}
    name = str(meta.get("runbook") or "")
    tell = partial(_tell_submitter, client, channel, user)
    try:
        incident_id = int(meta["incident_id"])
        if meta.get("dry_run"):
            plan = runbook_runs.dry_run(services, incident_id=incident_id, name=name,
                                        params=params, actor=actor(user))
            tell(views.plan_text(plan), views.plan_blocks(plan, incident_id))
            return
        runbook = runbook_runs.get_runbook(services, name)
        result = runbook_runs.start(
            services, incident_id=incident_id, name=name, params=params, actor=actor(user),
            groups=groups_for(client, user, runbook.allowed),
            idempotency_key=f"slack-form:{view['id']}")
        text = _requested(user, name, result.run)
        if channel:
            client.chat_postMessage(channel=channel, text=text)
        else:
            tell(text)
    except (KeyError, ValueError) as error:
        tell(f":warning: this form is broken ({escape(repr(error))})")
    except UserError as error:
        tell(f":warning: {markup_error(error)}")


# -- Approve / Reject / Cancel on a run's message ------------------------------------------

class Decision(Protocol):
    """Approve, reject or cancel: each checks who may itself (:mod:`bot.runbook_runs`)."""

    def __call__(self, services: Services, *, run_id: int, actor: str,
                 groups: Collection[str] = ()) -> RunbookRun: ...


DECISIONS: dict[str, Decision] = {views.APPROVE: runbook_runs.approve,
                                  views.REJECT: runbook_runs.reject,
                                  views.CANCEL: runbook_runs.cancel}


def decide(body: Payload, client: WebClient, respond: Respond, *, services: Services) -> None:
    """The domain decides who may; Slack only says which groups the person is in."""
    if not _once(services, body):
        return
    action, user = body["actions"][0], body["user"]["id"]
    run_id = int(action["value"])
    try:
        DECISIONS[action["action_id"]](services, run_id=run_id, actor=actor(user),
                                       groups=user_groups(client, user))
    except UserError as error:
        respond(**error_reply(error))


def register(app: App, services: Services) -> None:
    post_progress_to(services, app.client)
    app.command("/runbook")(acked(services, ack_runbook,
                                  partial(run_runbook, services=services)))
    app.action(re.compile(r"^runbook\.(run|dry_run):"))(
        acked(services, ack_only, partial(run_clicked, services=services)))
    app.view(RUNBOOK_PARAMS)(acked(services, partial(ack_form, services=services),
                                   partial(form_submitted, services=services)))
    app.action(re.compile(r"^runbook\.(approve|reject|cancel)$"))(
        acked(services, ack_only, partial(decide, services=services)))
