"""Runbook runs in Slack: a message per run with Approve / Reject / Cancel, progress in its thread.

Clicks ack at once and do their work lazily. The approver's user groups come from
Slack (``usergroups.list``), so whether someone may approve is decided by Slack's
membership, not by what the click claims; a person who may not gets an ephemeral
reply saying who may.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from bot import incident_service, runbook_runs
from bot.errors import UserError
from bot.listeners.common import actor, error_reply
from bot.listeners.dedup import first_time

APPROVE, REJECT, CANCEL, DRY_RUN = ("runbook.approve", "runbook.reject", "runbook.cancel",
                                    "runbook.dry_run:")


def user_groups(client: Any, user: str) -> list[str]:
    """The Slack user groups ``user`` belongs to."""
    answer = client.usergroups_list(include_users=True)
    return [g["id"] for g in answer.get("usergroups", []) if user in (g.get("users") or [])]


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": text},
                              "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def run_message(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's parent message: what, who asked, its state, and the buttons that apply."""
    params = ", ".join(f"{k}={v}" for k, v in view["params"].items()) or "no parameters"
    text = (f"*Runbook `{view['runbook']}`* (run {view['id']}) — *{view['status']}*\n"
            f"asked by {view['requested_by']} · {params}")
    if view.get("verdict"):
        text += f"\nverification: *{view['verdict']}*"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn",
                                                                 "text": text[:2900]}}]
    value = str(view["id"])
    if view["status"] == "pending_approval":
        blocks.append({"type": "actions", "block_id": f"runbook.run.{value}", "elements": [
            _button("Approve", APPROVE, value, "primary"),
            _button("Reject", REJECT, value, "danger")]})
    elif view["status"] in ("approved", "running"):
        blocks.append({"type": "actions", "block_id": f"runbook.run.{value}", "elements": [
            _button("Cancel", CANCEL, value, "danger")]})
    return blocks


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
            blocks = run_message(view)
            summary = f"Runbook {view['runbook']} (run {run_id}): {view['status']}"
            known = self.threads.get(run_id)
            if known is None:
                posted = self.client.chat_postMessage(channel=channel, text=summary,
                                                      blocks=blocks)
                known = self.threads[run_id] = (channel, posted["ts"])
            else:
                self.client.chat_update(channel=known[0], ts=known[1], text=summary,
                                        blocks=blocks)
            self.client.chat_postMessage(channel=known[0], thread_ts=known[1],
                                         text=text[:3000])


def register(app: Any, services: Any) -> None:
    if not services.extras.get("runbook_progress_poster"):
        poster = ProgressPoster(app.client)
        services.extras["runbook_progress_poster"] = poster
        services.events.subscribe("runbook.progress", poster)

    def ack_click(ack: Callable[..., None]) -> None:
        ack()

    def once(body: dict[str, Any]) -> bool:
        action = body["actions"][0]
        return first_time(services, f"action:{body['user']['id']}:{action['action_id']}:"
                                    f"{action['action_ts']}", "block_actions")

    def decide(body: dict[str, Any], client: Any, respond: Callable[..., Any]) -> None:
        if not once(body):
            return
        action, user = body["actions"][0], body["user"]["id"]
        run_id = int(action["value"])
        try:
            groups = user_groups(client, user)
            if action["action_id"] == APPROVE:
                runbook_runs.approve(services, run_id=run_id, actor=actor(user), groups=groups)
            elif action["action_id"] == REJECT:
                runbook_runs.reject(services, run_id=run_id, actor=actor(user), groups=groups)
            else:
                runbook_runs.cancel(services, run_id=run_id, actor=actor(user), groups=groups)
        except UserError as error:
            respond(**error_reply(error))

    app.action(re.compile(r"^runbook\.(approve|reject|cancel)$"))(ack=ack_click, lazy=[decide])

    def dry_run(body: dict[str, Any], respond: Callable[..., Any]) -> None:
        if not once(body):
            return
        action, user = body["actions"][0], body["user"]["id"]
        request = json.loads(action.get("value") or "{}")
        try:
            plan = runbook_runs.dry_run(services, incident_id=int(request["incident_id"]),
                                        name=str(request["runbook"]), actor=actor(user))
        except (UserError, KeyError, ValueError) as error:
            respond(**error_reply(UserError(str(error))))
            return
        lines = [f"{s.path} `{s.kind}` {s.step_id}: "
                 + (f"⚠ {s.error}" if s.error else json.dumps(s.rendered)[:300])
                 for s in plan.steps]
        respond(response_type="ephemeral", replace_original=False,
                text=f"Dry run of `{plan.runbook}` (nothing was executed):\n"
                     + "\n".join(lines)[:2800])

    app.action(re.compile(r"^runbook\.dry_run:"))(ack=ack_click, lazy=[dry_run])
