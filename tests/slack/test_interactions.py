"""Buttons, modals, the reaction event, and the channel side effects under Slack errors."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta

from bot.core.exchange import parse_objects
from bot.core.outbox import RetryLater
from bot.devtools.slack_emulator import render_transcript
from bot.devtools.slack_emulator.payloads import event_callback
from bot.diagnosis.incidents import classify_incident
from bot.incidents import service as incident_service
from bot.slack import channels as slack_channels
from store.db import session_scope
from store.models import Incident
from store.signal_queries import save_records
from tests.diagnosis.helpers import T0, quality_only
from tests.slack.conftest import ML, SRE, SRE2, Bot
from tests.slack.test_commands import declare, kinds


def summary_of(bot: Bot, incident_id: int):  # type: ignore[no-untyped-def]
    incident = incident_service.get_incident(bot.services, incident_id)
    return incident, bot.slack.workspace.channels[incident.slack_channel_id].message(
        incident.slack_summary_ts)


def test_buttons_change_status_once_and_update_the_summary(bot: Bot) -> None:
    incident = declare(bot)
    channel, ts = incident.slack_channel_id, incident.slack_summary_ts
    reply = bot.slack.click(channel, ts, "incident.ack", user=SRE2)
    assert reply.status == 200 and reply.latency < 1.0
    bot.settle()
    again = bot.slack.deliver("interactive", reply.payload)  # the same click, delivered twice
    assert again.status == 200
    bot.settle()
    assert kinds(bot, incident.id).count(("acknowledged", f"slack:{SRE2}")) == 1
    _, summary = summary_of(bot, incident.id)
    assert "acknowledged" in str(summary.blocks) and "incident.ack" not in str(summary.blocks)
    bot.slack.click(channel, ts, "incident.mitigate", user=SRE2)
    bot.settle()
    assert incident_service.get_incident(bot.services, incident.id).status == "mitigated"
    transcript = render_transcript(bot.slack, channel)
    assert "clicked [Acknowledge]" in transcript and "edited their message" in transcript


def submit_modal_of(bot: Bot, incident: Incident, action_id: str,
                    values: dict[str, str]) -> None:
    """Click ``action_id`` on the summary, and submit the modal it opens (of that name)."""
    bot.slack.click(incident.slack_channel_id or "", incident.slack_summary_ts or "",
                    action_id, user=SRE)
    bot.settle()
    view = bot.slack.last_view()
    assert view["callback_id"] == action_id
    bot.slack.submit_view(view["id"], values, user=SRE)
    bot.settle()


def test_resolve_and_reopen_buttons(bot: Bot) -> None:
    incident = declare(bot)
    submit_modal_of(bot, incident, "incident.resolve", {"summary": "restored the index"})
    current, summary = summary_of(bot, incident.id)
    assert current.status == "resolved" and "incident.reopen" in str(summary.blocks)
    bot.slack.click(incident.slack_channel_id, incident.slack_summary_ts, "incident.reopen",
                    user=SRE)
    bot.settle()
    assert incident_service.get_incident(bot.services, incident.id).status == "triggered"


def test_relabel_button_modal_invites_the_new_owners(bot: Bot) -> None:
    incident = declare(bot)
    submit_modal_of(bot, incident, "incident.relabel", {"label": "model"})
    current, summary = summary_of(bot, incident.id)
    assert current.behavior == "model" and "`model`" in str(summary.blocks)
    assert {ML, "U0ML00777"} <= bot.slack.workspace.channels[incident.slack_channel_id].members


def test_declare_modal_validation_keeps_the_modal_open(bot: Bot) -> None:
    bot.slack.slash_command("/incident", "declare", user=SRE, channel="C0GENERAL1")
    bot.settle()
    view = bot.slack.last_view()
    reply = bot.slack.submit_view(view["id"], {"title": " ", "service": "nope",
                                               "severity": "high"}, user=SRE)
    assert reply.body["response_action"] == "errors"
    assert set(reply.body["errors"]) == {"title", "service"}
    bot.settle()
    assert incident_service.list_open(bot.services) == []


def test_suggested_runbook_button(bot: Bot) -> None:
    incident = declare(bot)
    from sqlalchemy import update

    from store.db import session_scope
    from store.models import Incident

    with session_scope(bot.services.engine) as session:
        session.execute(update(Incident).where(Incident.id == incident.id).values(
            behavior="model"))  # the library suggests rollback-model for it
    bot.services.emit("incident.changed", incident_id=incident.id)
    bot.settle()
    _, summary = summary_of(bot, incident.id)
    assert "runbook.dry_run:rollback-model" in str(summary.blocks)
    reply = bot.slack.click(incident.slack_channel_id, incident.slack_summary_ts,
                            "runbook.run:rollback-model", user=SRE)
    assert reply.status == 200
    bot.settle()
    form = bot.slack.last_view()  # it has parameters: a form first
    assert form["callback_id"] == "runbook.params" and "rollback-model" in form["private_metadata"]


def test_reaction_puts_the_message_on_the_timeline(bot: Bot) -> None:
    incident = declare(bot)
    ts = bot.slack.post_as(SRE2, incident.slack_channel_id, "p99 back to normal after rollback")
    other = bot.slack.post_as(SRE2, incident.slack_channel_id, "lunch?")
    reply = bot.slack.react(incident.slack_channel_id, ts, "pushpin", user=SRE)
    assert reply.status == 200
    bot.slack.react(incident.slack_channel_id, other, "tada", user=SRE)  # not the timeline emoji
    bot.settle()
    notes = [e for e in incident_service.timeline(bot.services, incident.id)
             if e.kind == "slack_message"]
    assert [(n.actor, n.message) for n in notes] == [
        (f"slack:{SRE}", f"@{SRE2}: p99 back to normal after rollback")]
    retry = dict(reply.payload)  # Slack retries an event with the same event_id
    bot.slack.deliver("events_api", retry)
    bot.settle()
    assert len([e for e in incident_service.timeline(bot.services, incident.id)
                if e.kind == "slack_message"]) == 1
    assert event_callback({"type": "x"})["event_id"] != retry["event_id"]


def test_one_channel_even_when_opened_fires_concurrently(bot: Bot) -> None:
    bot.services.runs_follow_ups = False  # no automatic follow-ups for this one
    incident = incident_service.declare_incident(
        bot.services, service="rag-assistant", title="race", actor="test")

    def attempt() -> None:
        # a loser while the winner is creating is told to come back later (the outbox does)
        with contextlib.suppress(RetryLater):
            slack_channels.open_incident_channel(bot.services, incident.id)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bot.slack.calls_to("conversations.create")) == 1
    assert incident_service.get_incident(bot.services, incident.id).slack_channel_id


def test_name_taken_gets_a_suffix_and_ratelimits_are_waited_out(bot: Bot) -> None:
    bot.slack.workspace.add_channel("inc-1-rag-assistant-" +
                                    bot.services.clock().strftime("%Y%m%d"))
    bot.slack.rate_limit("chat.postMessage", retry_after=1)
    incident = declare(bot)
    assert incident.slack_channel_name.endswith("-2")
    assert [c.status for c in bot.slack.calls_to("chat.postMessage")][:2] == [429, 200]
    assert incident.slack_summary_ts  # posted after waiting, not lost


def test_a_failed_side_effect_is_a_timeline_event_not_a_broken_incident(bot: Bot) -> None:
    bot.slack.rate_limit("conversations.create", retry_after=0, times=4)  # every retry
    incident = declare(bot, title="slack is down")
    events = incident_service.timeline(bot.services, incident.id)
    failures = [e for e in events if e.kind == "slack_error"]
    assert failures and "ratelimited" in failures[0].message
    assert incident.status == "triggered" and incident.slack_channel_id is None
    slack_channels.open_incident_channel(bot.services, incident.id)  # a failed claim may retry
    assert incident_service.get_incident(bot.services, incident.id).slack_channel_id


def test_channel_names_stay_within_slacks_rules() -> None:
    from datetime import UTC, datetime

    name = slack_channels.channel_name(prefix="inc", incident_id=12,
                                       service="RAG.Assistant v2 " + "x" * 100,
                                       opened=datetime(2026, 11, 26, tzinfo=UTC))
    assert name.startswith("inc-12-rag-assistant-v2-") and name.endswith("-20261126")
    assert len(name) <= 80 and name == name.lower() and " " not in name and "." not in name
    assert len(slack_channels.with_suffix(name, 12)) <= 80


def test_a_change_made_while_the_summary_is_posted_still_reaches_it(bot: Bot) -> None:
    # The first chat.postMessage (the summary) is held back 2 s by a rate limit; the
    # incident is acknowledged meanwhile, when there is no summary to edit yet.
    bot.slack.rate_limit("chat.postMessage", retry_after=2, times=1)
    incident = incident_service.declare_incident(
        bot.services, service="rag-assistant", title="Racing the summary", severity="high",
        actor="test")
    deadline = time.monotonic() + 10
    while not bot.slack.calls_to("chat.postMessage", ok=False):
        assert time.monotonic() < deadline, "the summary was never attempted"
        time.sleep(0.02)
    incident_service.change_status(bot.services, incident_id=incident.id, to="acknowledged",
                                   actor="test")
    bot.settle()
    current, summary = summary_of(bot, incident.id)
    assert current.slack_summary_ts and "acknowledged" in str(summary.blocks)


def test_a_diagnosis_that_lands_after_the_channel_brings_its_class_owners(bot: Bot) -> None:
    incident = incident_service.declare_incident(
        bot.services, service="rag-assistant", title="Late diagnosis", severity="high",
        actor="test")
    bot.settle()  # the channel is there; the classifier found nothing (no signals yet)
    channel = bot.slack.workspace.channels[
        incident_service.get_incident(bot.services, incident.id).slack_channel_id]
    assert ML not in channel.members
    batch = parse_objects(quality_only())  # a lone quality drop: read as `model`
    with session_scope(bot.services.engine) as session:
        save_records(session=session, records=batch.records)
        stored = session.get(Incident, incident.id)
        stored.created_at, stored.behavior = T0 + timedelta(minutes=179), None
        session.add(stored)
    classify_incident(bot.services, incident.id)
    bot.settle()
    assert incident_service.get_incident(bot.services, incident.id).behavior == "model"
    assert {ML, "U0ML00777"} <= channel.members  # model owners, the user group expanded
    assert any(m.text.startswith("Classified `model`: invited") for m in channel.messages)
    _, summary = summary_of(bot, incident.id)
    assert "`model`" in str(summary.blocks)
