"""Runbooks in Slack: Run / Dry run from the summary, the parameter form, Approve / Reject / Cancel.

Every click acks at once; the rest runs after the ack. A runbook with parameters
opens its form first thing (the trigger id lasts three seconds), prefilled with
the defaults resolved against the incident; the submission is type-checked in the
ack so a wrong value keeps the form open with the message under its field.

Who may run or approve is decided by Slack's user-group membership
(``usergroups.list``), not by anything the click claims; a person who may not gets
an ephemeral reply saying why and who may. Progress goes to a thread under one
message per run.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from slack_sdk.errors import SlackApiError

from bot import runbook_runs
from bot.core.errors import UserError
from bot.incidents import service as incident_service
from bot.slack.identity import user_groups
from bot.slack.listeners.common import acked, actor, error_reply
from bot.slack.listeners.dedup import first_time
from bot.views import runbooks as views
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
from bot.views.text import cut
from runbooks.models import Audience


def groups_for(client: Any, user: str, audience: Audience) -> list[str]:
    """``user``'s groups when ``audience`` depends on them; no Slack call when it cannot.

    ``usergroups.list`` is rate limited (tier 2), so an open runbook, or one that
    names the person directly, does not spend a call on it.
    """
    if audience.open or user in audience.users or not audience.groups:
        return []
    return user_groups(client, user)


class ProgressPoster:
    """Posts ``runbook.progress`` in a thread under one message per run, kept up to date."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.threads: dict[int, tuple[str, str]] = {}
        self.lock = threading.Lock()

    def __call__(self, services: Any, run_id: int, incident_id: int, text: str) -> None:
        incident = incident_service.get_incident(services, incident_id)
        channel = incident.slack_channel_id
        if not channel:
            return
        with self.lock:  # one parent per run; the state is read under the lock, so a late
            # event never rolls the parent message back to an older status
            view = runbook_runs.run_view(services, run_id=run_id)
            blocks = views.run_message(view)
            summary = escape(f"Runbook {view['runbook']} (run {run_id}): {view['status']}")
            known = self.threads.get(run_id)
            if known is None:
                posted = self.client.chat_postMessage(channel=channel, text=summary,
                                                      blocks=blocks)
                known = self.threads[run_id] = (channel, posted["ts"])
            else:
                self.client.chat_update(channel=known[0], ts=known[1], text=summary,
                                        blocks=blocks)
            self.client.chat_postMessage(channel=known[0], thread_ts=known[1],
                                         text=cut(escape(text), 3000))


def _requested(user: str, name: str, run: Any) -> str:
    return f"{mention(user)} asked for runbook {code(name)}: run {run.id} is {escape(run.status)}"


# One progress poster per running bot, however many Bolt apps it builds.
_POSTERS: WeakKeyDictionary[Any, ProgressPoster] = WeakKeyDictionary()


def register(app: Any, services: Any) -> None:
    if services not in _POSTERS:
        poster = _POSTERS[services] = ProgressPoster(app.client)
        services.events.subscribe("runbook.progress", poster)

    def ack_click(ack: Callable[..., None]) -> None:
        ack()

    def once(body: dict[str, Any]) -> bool:
        action = body["actions"][0]
        return first_time(services, f"action:{body['user']['id']}:{action['action_id']}:"
                                    f"{action['action_ts']}", "block_actions")

    # -- Run / Dry run on the summary ---------------------------------------------------

    def _open_form(client: Any, trigger_id: str, respond: Callable[..., Any], user: str,
                   channel: str | None, runbook: Any, incident_id: int, dry: bool) -> None:
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
                                view=runbook_refused_modal(runbook=runbook.name,
                                                           reason=str(error)))
            respond(**error_reply(error))

    def run_clicked(body: dict[str, Any], client: Any, respond: Callable[..., Any]) -> None:
        if not once(body):
            return
        action, user = body["actions"][0], body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        dry = action["action_id"].startswith(views.DRY_RUN)
        try:
            request = json.loads(action.get("value") or "{}")
            incident_id, name = int(request["incident_id"]), str(request["runbook"])
            runbook = runbook_runs.get_runbook(services, name)
            if runbook.parameters:
                _open_form(client, body["trigger_id"], respond, user, channel, runbook,
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

    app.action(re.compile(r"^runbook\.(run|dry_run):"))(
        acked(services, ack_click, run_clicked))

    # -- the parameter form ---------------------------------------------------------------

    def form_errors(view: dict[str, Any]) -> dict[str, str]:
        name = str(metadata(view).get("runbook") or "")
        try:
            runbook = runbook_runs.get_runbook(services, name)
        except UserError:
            return {}  # reported after the ack, where there is somewhere to say it
        problems = runbook_runs.parameter_errors(runbook, submitted_params(view))
        return {param_block_id(key): text for key, text in problems.items()}

    def ack_form(ack: Callable[..., None], view: dict[str, Any]) -> None:
        errors = form_errors(view)
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    def form_submitted(body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        if form_errors(view) or not first_time(services, f"view:{view['id']}",
                                               "view_submission"):
            return
        user, meta = body["user"]["id"], metadata(view)
        channel = meta.get("channel_id")
        params = {k: v for k, v in submitted_params(view).items() if v not in (None, "")}
        name = str(meta.get("runbook") or "")

        def private(text: str, blocks: list[dict[str, Any]] | None = None) -> None:
            """Only to the person who submitted: ephemeral where the form came from, else a DM."""
            if channel:
                try:
                    client.chat_postEphemeral(channel=channel, user=user, text=text,
                                              blocks=blocks)
                    return
                except SlackApiError:
                    pass  # not a member of that channel (any more): a DM still reaches them
            client.chat_postMessage(channel=user, text=text, blocks=blocks)

        try:
            incident_id = int(meta["incident_id"])
            if meta.get("dry_run"):
                plan = runbook_runs.dry_run(services, incident_id=incident_id, name=name,
                                            params=params, actor=actor(user))
                private(views.plan_text(plan), views.plan_blocks(plan, incident_id))
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
                private(text)
        except (KeyError, ValueError) as error:
            private(f":warning: this form is broken ({escape(repr(error))})")
        except UserError as error:
            private(f":warning: {markup_error(error)}")

    app.view(RUNBOOK_PARAMS)(acked(services, ack_form, form_submitted))

    # -- Approve / Reject / Cancel on a run's message ----------------------------------------

    def decide(body: dict[str, Any], client: Any, respond: Callable[..., Any]) -> None:
        if not once(body):
            return
        action, user = body["actions"][0], body["user"]["id"]
        run_id = int(action["value"])
        try:
            groups = user_groups(client, user)
            if action["action_id"] == views.APPROVE:
                runbook_runs.approve(services, run_id=run_id, actor=actor(user), groups=groups)
            elif action["action_id"] == views.REJECT:
                runbook_runs.reject(services, run_id=run_id, actor=actor(user), groups=groups)
            else:
                runbook_runs.cancel(services, run_id=run_id, actor=actor(user), groups=groups)
        except UserError as error:
            respond(**error_reply(error))

    app.action(re.compile(r"^runbook\.(approve|reject|cancel)$"))(
        acked(services, ack_click, decide))
