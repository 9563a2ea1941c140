"""Runbooks from the pinned summary through the Slack emulator (signed requests to a running bot):
the parameter form, dry runs, who may run, no self-approval, and ``/runbook list``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot import runbook_runs
from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents import service as incident_service
from store.db import session_scope
from store.models import ChangeEvent, Incident
from tests.runbooks.support import wait_for
from tests.slack.conftest import (
    DATA,
    GENERAL,
    ML,
    SRE,
    Bot,
    catalog_with_runbooks,
    running_bot,
)
from tests.slack.test_commands import declare

# The team's own runbooks, in the catalog's runbook directory and listed for rag-assistant;
# they fit a model failure after a model change, so the summary offers them.
FITS = {"classes": ["model"], "change_kinds": ["model"]}
GUARDED = {
    "name": "guarded-flag", "title": "Turn the canary flag on or off", "applies_to": FITS,
    "allowed": {"groups": ["S0INFRA01"]},
    "parameters": [{"name": "enabled", "type": "bool", "default": True},
                   {"name": "note", "default": "for #{{ incident.id }}"}],
    "steps": [{"id": "say", "kind": "notify",
               "text": "canary flag -> {{ params.enabled }} ({{ params.note }})"}]}
PAIRED = {
    "name": "paired-notify", "title": "Announce, once a second person agrees",
    "applies_to": FITS, "approval": {"required": True, "groups": ["S0INFRA01", "S0MLTEAM1"]},
    "steps": [{"id": "say", "kind": "notify", "text": "approved and done"}]}


@pytest.fixture
def bot(slack: SlackEmulator, sqlite_url: str, tmp_path: Path) -> Iterator[Bot]:
    """The running bot on a catalog with the team's two runbooks."""
    with running_bot(slack, sqlite_url, catalog_with_runbooks(tmp_path, [GUARDED, PAIRED])
                     ) as running:
        yield running


def incident_suggesting(bot: Bot, *names: str) -> Incident:
    """A declared incident (channel, pinned summary) blamed on model v8 (previous v7),
    whose summary offers ``names`` (the library's suggestions for it)."""
    incident = declare(bot)
    with session_scope(bot.services.engine) as session:
        session.add(ChangeEvent(service=incident.service, kind="model", ref="v8",
                                previous="v7", author="ci", description="new model",
                                ts=bot.services.clock() - timedelta(minutes=5)))
        session.execute(update(Incident).where(Incident.id == incident.id).values(
            behavior="model"))
    bot.services.emit("incident.changed", incident_id=incident.id)
    bot.settle()
    incident = incident_service.get_incident(bot.services, incident.id)
    summary = bot.slack.workspace.channel(incident.slack_channel_id or "").message(
        incident.slack_summary_ts or "")
    for name in names:
        assert f"runbook.run:{name}" in str(summary.blocks), name
    return incident


def click(bot: Bot, incident: Incident, action_id: str, user: str) -> None:
    reply = bot.slack.click(incident.slack_channel_id or "", incident.slack_summary_ts or "",
                            action_id, user=user)
    assert reply.status == 200 and reply.latency < 3.0  # Slack waits 3 s for an ack
    bot.settle()


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def ephemerals(bot: Bot, channel: str, user: str) -> list[str]:
    return [f"{a.text} {a.blocks}" for a in bot.slack.workspace.activity[channel]
            if a.kind == "ephemeral" and f"(only {user})" in a.text]


def runs(bot: Bot, incident: Incident) -> list[dict[str, Any]]:
    return runbook_runs.runs_of(bot.services, incident_id=incident.id or 0)


def test_run_opens_a_typed_form_prefilled_from_the_incident(bot: Bot) -> None:
    incident = incident_suggesting(bot, "rollback-model")
    click(bot, incident, "runbook.run:rollback-model", SRE)
    assert runs(bot, incident) == []  # nothing starts before the form is submitted
    opened = [c for c in bot.slack.calls if c.method == "views.open"]
    assert opened and opened[-1].ok
    form = bot.slack.last_view()
    assert form["callback_id"] == "runbook.params" and form["submit"]["text"] == "Request run"
    fields = inputs(form)
    assert fields["param.version"]["initial_value"] == "v7"  # the suspect change's previous
    assert fields["param.min_groundedness"]["initial_value"] == "0.85"
    assert fields["param.verify_samples"]["type"] == "plain_text_input"

    # Wrong types keep the form open with the problem under each field; nothing starts.
    reply = bot.slack.submit_view(form["id"], {"param.verify_samples": "three",
                                               "param.min_groundedness": "high"}, user=SRE)
    assert reply.body["response_action"] == "errors"
    assert set(reply.body["errors"]) == {"param.verify_samples", "param.min_groundedness"}
    assert "verify_samples: 'three' is not a valid int" in reply.body["errors"][
        "param.verify_samples"]
    bot.settle()
    assert runs(bot, incident) == []

    fixed = bot.slack.submit_view(form["id"], {"param.verify_samples": "5"}, user=SRE)
    assert fixed.status == 200 and fixed.body is None
    bot.settle()
    again = bot.slack.deliver("interactive", fixed.payload)  # Slack retries the submission
    assert again.status == 200
    bot.settle()
    [run] = runs(bot, incident)
    assert run["status"] == "pending_approval" and run["requested_by"] == f"slack:{SRE}"
    assert run["params"]["version"] == "v7" and run["params"]["verify_samples"] == 5
    channel = bot.slack.workspace.channel(incident.slack_channel_id)
    assert any("asked for runbook `rollback-model`" in m.text for m in channel.messages)


def test_dry_run_form_posts_the_rendered_plan_and_executes_nothing(bot: Bot) -> None:
    incident = incident_suggesting(bot, "fallback-mode")
    click(bot, incident, "runbook.dry_run:fallback-mode", SRE)
    form = bot.slack.last_view()
    assert form["submit"]["text"] == "Dry run"
    mode = inputs(form)["param.mode"]
    assert mode["type"] == "static_select"
    assert [o["value"] for o in mode["options"]] == ["cached", "smaller-model",
                                                      "retrieval-only", "rules-based"]
    assert mode["initial_option"]["value"] == "cached"

    refused = bot.slack.submit_view(form["id"], {"param.mode": "bogus"}, user=SRE)
    assert refused.body["response_action"] == "errors"
    assert "not one of cached" in refused.body["errors"]["param.mode"]

    bot.slack.submit_view(form["id"], {"param.mode": "rules-based"}, user=SRE)
    bot.settle()
    [plan] = ephemerals(bot, incident.slack_channel_id or "", SRE)
    assert "Dry run of fallback-mode" in plan and "nothing was executed" in plan
    assert "set-fallback" in plan and "verify-quality" in plan  # every step
    assert '\\"mode\\": \\"rules-based\\"' in plan or '"mode": "rules-based"' in plan
    assert runs(bot, incident) == []
    kinds = [e.kind for e in incident_service.timeline(bot.services, incident.id or 0)]
    assert "runbook.dry_run" in kinds


def test_only_allowed_groups_may_run_and_bool_is_a_yes_no_select(bot: Bot) -> None:
    incident = incident_suggesting(bot, "guarded-flag")
    channel = incident.slack_channel_id or ""

    # DATA is not in S0INFRA01: the form opens at once, then says why, and so does a reply.
    click(bot, incident, "runbook.run:guarded-flag", DATA)
    refused_view = bot.slack.last_view()
    assert refused_view["callback_id"] == "runbook.refused"
    assert "<!subteam^S0INFRA01>" in str(refused_view["blocks"])
    refusal = bot.slack.responses[-1]
    assert refusal["response_type"] == "ephemeral"
    assert "may not run guarded-flag" in refusal["text"]
    assert "only members of <!subteam^S0INFRA01> may run it" in refusal["text"]

    bot.slack.slash_command("/runbook", "run guarded-flag enabled=no", user=DATA,
                            channel=channel)
    bot.settle()
    assert "may not run guarded-flag" in bot.slack.responses[-1]["text"]
    assert bot.slack.responses[-1]["response_type"] == "ephemeral"
    assert runs(bot, incident) == []

    # SRE is: a yes/no select prefilled from the default, a wrong value refused, then it runs.
    click(bot, incident, "runbook.run:guarded-flag", SRE)
    form = bot.slack.last_view()
    enabled = inputs(form)["param.enabled"]
    assert enabled["type"] == "static_select"
    assert [o["value"] for o in enabled["options"]] == ["yes", "no"]
    assert enabled["initial_option"]["value"] == "yes"
    assert inputs(form)["param.note"]["initial_value"] == f"for #{incident.id}"
    bad = bot.slack.submit_view(form["id"], {"param.enabled": "maybe"}, user=SRE)
    assert "param.enabled" in bad.body["errors"]
    bot.slack.submit_view(form["id"], {"param.enabled": "no"}, user=SRE)
    bot.settle()
    first = wait_for(lambda: [r for r in runs(bot, incident) if r["status"] == "succeeded"])
    assert first[0]["params"] == {"enabled": False, "note": f"for #{incident.id}"}

    bot.slack.slash_command("/runbook", "run guarded-flag enabled=yes", user=SRE,
                            channel=channel)
    bot.settle()
    assert "asked for runbook `guarded-flag`" in bot.slack.responses[-1]["text"]
    wait_for(lambda: len([r for r in runs(bot, incident) if r["status"] == "succeeded"]) == 2)


def test_the_requester_cannot_approve_their_own_run(bot: Bot) -> None:
    incident = incident_suggesting(bot, "paired-notify")
    channel_id = incident.slack_channel_id or ""
    # No parameters: Run starts it directly (here: asks for approval), no form.
    views_before = len(bot.slack.workspace.views)
    click(bot, incident, "runbook.run:paired-notify", SRE)
    assert len(bot.slack.workspace.views) == views_before
    [run] = runs(bot, incident)
    assert run["status"] == "pending_approval"
    channel = bot.slack.workspace.channel(channel_id)
    parent = next(m for m in channel.messages if f"(run {run['id']})" in m.text)
    assert "cannot" in str(parent.blocks)  # the message says a second person approves

    bot.slack.click(channel_id, parent.ts, "runbook.approve", user=SRE)  # SRE is an approver
    bot.settle()
    refusal = bot.slack.responses[-1]
    assert refusal["response_type"] == "ephemeral"
    assert "a second person must approve it" in refusal["text"]
    assert runbook_runs.run_view(bot.services, run_id=run["id"])["status"] == \
        "pending_approval"

    bot.slack.click(channel_id, parent.ts, "runbook.approve", user=ML)
    bot.settle()
    done = wait_for(lambda: runbook_runs.run_view(bot.services, run_id=run["id"])["status"]
                    == "succeeded")
    assert done
    assert runbook_runs.run_view(bot.services, run_id=run["id"])["decided_by"] == f"slack:{ML}"

    # Dry run of a runbook without parameters: the plan at once, only to the clicker.
    click(bot, incident, "runbook.dry_run:paired-notify", DATA)
    plan = bot.slack.responses[-1]
    assert plan["response_type"] == "ephemeral" and "Dry run of paired-notify" in plan["text"]
    assert "approved and done" in str(plan["blocks"])
    assert len(runs(bot, incident)) == 1


def test_self_approval_is_refused_by_the_domain_too(bot: Bot) -> None:
    """The API and the CLI call the same ``approve``: the rule cannot be skipped there."""
    incident = incident_suggesting(bot)
    started = runbook_runs.start(bot.services, incident_id=incident.id or 0,
                                 name="paired-notify", actor="U0ML00001",
                                 groups=["S0MLTEAM1"]).run
    with pytest.raises(runbook_runs.Forbidden, match="a second person must approve"):
        runbook_runs.approve(bot.services, run_id=started.id or 0, actor="U0ML00001",
                             groups=["S0MLTEAM1"])
    with pytest.raises(runbook_runs.Forbidden, match="a second person must approve"):
        runbook_runs.approve(bot.services, run_id=started.id or 0, actor="slack:U0ML00001",
                             groups=["S0MLTEAM1"])
    approved = runbook_runs.approve(bot.services, run_id=started.id or 0, actor="U0SRE0001",
                                    groups=["S0INFRA01"], wait=True)
    assert approved.decided_by == "slack:U0SRE0001"


def test_runbook_list_marks_the_ones_suggested_for_the_incident(bot: Bot) -> None:
    incident = incident_suggesting(bot, "rollback-model")
    bot.slack.slash_command("/runbook", "list", user=SRE,
                            channel=incident.slack_channel_id or "")
    bot.settle()
    listed = str(bot.slack.responses[-1]["blocks"])
    assert f"suggested for incident #{incident.id}" in listed
    assert ":star: `rollback-model`" in listed and "*suggested*" in listed
    assert "• `scale-replicas`" in listed  # the others are listed too, unmarked
    assert ":star: `scale-replicas`" not in listed

    bot.slack.slash_command("/runbook", "list", user=SRE, channel=GENERAL)
    bot.settle()
    elsewhere = str(bot.slack.responses[-1]["blocks"])
    assert ":star:" not in elsewhere and "• `rollback-model`" in elsewhere
