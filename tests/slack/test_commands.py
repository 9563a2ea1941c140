"""Every slash command and subcommand, sent signed over HTTP to the running bot."""

from __future__ import annotations

import time

import pytest

from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents import service as incident_service
from tests.slack.conftest import ALERTS, GENERAL, ML, SRE, SRE2, Bot


def declare(bot: Bot, title: str = "Answers went wrong", service: str = "rag-assistant"):
    reply = bot.slack.slash_command("/incident", "declare", user=SRE, channel=GENERAL)
    assert reply.status == 200
    bot.settle()
    view = bot.slack.last_view()
    assert view["callback_id"] == "incident.declare"
    reply = bot.slack.submit_view(view["id"], {"title": title, "service": service,
                                               "severity": "high"}, user=SRE)
    assert reply.status == 200 and reply.body is None
    bot.settle()
    incidents = [i for i in incident_service.list_open(bot.services) if i.title == title]
    assert len(incidents) == 1
    return incidents[0]


def kinds(bot: Bot, incident_id: int) -> list[tuple[str, str]]:
    return [(e.kind, e.actor) for e in incident_service.timeline(bot.services, incident_id)]


def last_response(slack: SlackEmulator) -> dict:
    return slack.responses[-1]


def answer(bot: Bot, command: str, text: str, channel: str = GENERAL) -> dict:
    """What the bot answered (through ``response_url``) to ``command text`` typed by SRE."""
    bot.slack.slash_command(command, text, user=SRE, channel=channel)
    bot.settle()
    return last_response(bot.slack)


def test_declare_opens_a_channel_with_owners_summary_and_notice(bot: Bot) -> None:
    incident = declare(bot)
    assert incident.slack_channel_name == \
        f"inc-{incident.id}-rag-assistant-{incident.created_at:%Y%m%d}"
    channel = bot.slack.workspace.channels[incident.slack_channel_id]
    assert SRE in channel.members  # rag-assistant's default owner (no diagnosis yet)
    assert channel.pins == [incident.slack_summary_ts]
    assert channel.topic.startswith(f"#{incident.id} high rag-assistant")
    alerts = bot.slack.workspace.channels[ALERTS]
    assert incident.slack_channel_id in alerts.messages[-1].text
    assert ("opened", f"slack:{SRE}") in kinds(bot, incident.id)


@pytest.mark.parametrize("text, status", [("ack", "acknowledged"), ("mitigate", "mitigated")])
def test_status_subcommands_in_the_incident_channel(bot: Bot, text: str, status: str) -> None:
    incident = declare(bot)
    reply = bot.slack.slash_command("/incident", text, user=SRE2,
                                    channel=incident.slack_channel_id)
    assert reply.status == 200
    bot.settle()
    assert incident_service.get_incident(bot.services, incident.id).status == status
    assert (status, f"slack:{SRE2}") in kinds(bot, incident.id)
    assert last_response(bot.slack)["response_type"] == "in_channel"
    summary = bot.slack.workspace.channels[incident.slack_channel_id].message(
        incident.slack_summary_ts)
    assert summary.edits >= 1 and status in str(summary.blocks)


def test_ack_by_id_elsewhere_then_reopen_and_errors(bot: Bot) -> None:
    incident = declare(bot)
    bot.slack.slash_command("/incident", f"ack {incident.id}", user=SRE, channel=GENERAL)
    bot.settle()
    assert incident_service.get_incident(bot.services, incident.id).status == "acknowledged"
    again = answer(bot, "/incident", f"ack {incident.id}")
    assert again["response_type"] == "ephemeral" and "cannot" in again["text"]
    assert "not an incident channel" in answer(bot, "/incident", "ack")["text"]
    assert "no incident with id 999" in answer(bot, "/incident", "ack 999")["text"]
    bot.slack.slash_command("/incident", f"mitigate {incident.id}", user=SRE, channel=GENERAL)
    bot.settle()  # follow-up work runs after the ack; a person types the next command later
    bot.slack.slash_command("/incident", f"reopen {incident.id}", user=SRE, channel=GENERAL)
    bot.settle()
    assert incident_service.get_incident(bot.services, incident.id).status == "triggered"
    assert ("reopened", f"slack:{SRE}") in kinds(bot, incident.id)


def test_resolve_asks_for_a_summary(bot: Bot) -> None:
    incident = declare(bot)
    bot.slack.slash_command("/incident", "resolve", user=SRE, channel=incident.slack_channel_id)
    bot.settle()
    view = bot.slack.last_view()
    assert view["callback_id"] == "incident.resolve"
    empty = bot.slack.submit_view(view["id"], {"summary": "  "}, user=SRE)
    assert empty.body == {"response_action": "errors", "errors": {"summary": "Say what fixed it."}}
    done = bot.slack.submit_view(view["id"], {"summary": "rolled back v8"}, user=SRE)
    assert done.status == 200
    bot.settle()
    resolved = incident_service.get_incident(bot.services, incident.id)
    assert resolved.status == "resolved" and resolved.resolution == "rolled back v8"


def test_assign_severity_note_followup_relabel(bot: Bot) -> None:
    incident = declare(bot)
    channel = incident.slack_channel_id
    for text in (f"assign commander <@{SRE2}|bob>", "severity critical", "note rolled back",
                 "followup add a canary", "relabel model"):
        reply = bot.slack.slash_command("/incident", text, user=SRE, channel=channel)
        assert reply.status == 200 and reply.body is None
    bot.settle()
    current = incident_service.get_incident(bot.services, incident.id)
    assert current.roles == {"commander": SRE2}
    assert current.severity == "critical"
    assert current.behavior == "model" and current.followups[0]["text"] == "add a canary"
    events = kinds(bot, incident.id)
    for kind in ("note", "followup", "relabelled"):
        assert (kind, f"slack:{SRE}") in events
    members = bot.slack.workspace.channels[channel].members
    assert {ML, "U0ML00777"} <= members  # model owners, the user group expanded
    assert "U0ML00777" in str(bot.slack.calls_to("conversations.invite")[-1].args)


def test_status_timeline_list_help_postmortem(bot: Bot) -> None:
    incident = declare(bot)
    channel = incident.slack_channel_id
    bot.slack.slash_command("/incident", "status", user=SRE, channel=channel)
    bot.settle()
    assert last_response(bot.slack)["response_type"] == "ephemeral"
    assert "Answers went wrong" in str(last_response(bot.slack)["blocks"])
    bot.slack.slash_command("/incident", "timeline", user=SRE, channel=channel)
    bot.settle()
    assert "opened" in str(last_response(bot.slack)["blocks"])
    bot.slack.slash_command("/incident", "list", user=SRE, channel=GENERAL)
    bot.settle()
    assert f"#{incident.id}" in str(last_response(bot.slack)["blocks"])
    help_reply = bot.slack.slash_command("/incident", "help", user=SRE, channel=GENERAL)
    assert help_reply.body["response_type"] == "ephemeral"
    assert "assign" in str(help_reply.body["blocks"])
    bot.slack.slash_command("/incident", "postmortem", user=SRE, channel=channel)
    bot.settle()
    assert "postmortem" in last_response(bot.slack)["text"].lower()
    assert ("slack_command", f"slack:{SRE}") in kinds(bot, incident.id)


@pytest.mark.parametrize("text, problem", [
    ("frobnicate", "unknown subcommand `frobnicate`"),
    ("ack twelve", "at most an incident id"),
    ("assign boss <@U1>", "not a role"),
    ("assign commander bob", "not a mention"),
    ("severity apocalyptic", "not a severity"),
    ("relabel gremlins", "not a failure class"),
    ("note", "needs some text"),
    ("list everything", "takes no arguments"),
])
def test_wrong_commands_get_usage_at_once(bot: Bot, text: str, problem: str) -> None:
    reply = bot.slack.slash_command("/incident", text, user=SRE, channel=GENERAL)
    assert reply.status == 200 and reply.body["response_type"] == "ephemeral"
    assert problem in reply.body["text"]
    assert "/incident" in str(reply.body["blocks"])  # the usage itself


def test_runbook_slo_budget_commands(bot: Bot) -> None:
    bad = bot.slack.slash_command("/runbook", "explode", user=SRE, channel=GENERAL)
    assert "unknown subcommand" in bad.body["text"]
    assert "Runbooks" in answer(bot, "/runbook", "list")["text"]
    assert "incident channel" in answer(bot, "/runbook", "run rollback-model")["text"]
    for command in ("/slo", "/budget"):
        reply = bot.slack.slash_command(command, "", user=SRE, channel=GENERAL)
        assert reply.status == 200
        bot.settle()
        assert last_response(bot.slack)["response_type"] == "ephemeral"
        assert last_response(bot.slack)["text"]
    assert "no-such-service" in answer(bot, "/slo", "no-such-service")["text"]


def test_bad_and_stale_signatures_get_401_and_change_nothing(bot: Bot) -> None:
    before = len(bot.slack.calls)
    from bot.devtools.slack_emulator import payloads

    payload = payloads.slash_command(command="/incident", text="declare", user=SRE,
                                     channel=GENERAL, channel_name="general",
                                     trigger_id=bot.slack.workspace.issue_trigger(),
                                     response_url=bot.slack.base + "response/x")
    assert bot.slack.deliver("slash_commands", payload, signed=False).status == 401
    stale = bot.slack.deliver("slash_commands", payload, timestamp=int(time.time()) - 600)
    assert stale.status == 401
    secret = bot.slack.signing_secret
    bot.slack.signing_secret = "not-the-secret"
    try:
        assert bot.slack.deliver("slash_commands", payload).status == 401
    finally:
        bot.slack.signing_secret = secret
    bot.settle()
    assert len(bot.slack.calls) == before and bot.slack.workspace.views == {}
