"""On-call paging end to end: a ``model`` incident at 03:00 pages the on-call ML engineer
only (the other owners are listed), and while nobody acknowledges, the secondary, then
the group; against the Slack emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

import yaml

from bot.app.wiring import wire
from bot.config.catalog import Catalog, parse_catalog
from bot.core import outbox
from bot.core.scheduler import start_scheduler, stop_scheduler
from bot.core.services import Services, build_services
from bot.devtools.slack_emulator import SlackEmulator
from bot.incidents import lifecycle
from bot.incidents import service as incident_service
from bot.oncall import escalation
from store.db import session_scope
from tests.slack.conftest import slack_settings

PRIMARY, OTHER, SECOND, GROUP_MEMBER = "U0MLPRI01", "U0MLOTH02", "U0MLSEC03", "U0MLGRP04"
AT_3AM = datetime(2026, 12, 2, 2, tzinfo=UTC)  # Wednesday 03:00 in Berlin


def catalog() -> Catalog:
    data = yaml.safe_load(resources.files("bot.defaults").joinpath("resilio.yml").read_text())
    rag = next(s for s in data["services"] if s["name"] == "rag-assistant")
    rag["owners"]["model"] = {"users": [PRIMARY, OTHER], "groups": ["S0MLTEAM1"],
                              "schedules": ["ml-primary", "ml-secondary"]}
    rag["escalation"] = {"ack_timeout_minutes": 15, "chain": []}
    week = {"start": "2026-11-30T09:00", "length": "1w"}
    data["schedules"] = [
        {"name": "ml-primary", "timezone": "Europe/Berlin",
         "layers": [{"name": "w", "rotation": {"members": [PRIMARY, OTHER], **week}}]},
        {"name": "ml-secondary", "timezone": "Europe/Berlin",
         "layers": [{"name": "w", "rotation": {"members": [SECOND], **week}}]}]
    return parse_catalog(data, "<test catalog>")


def open_model_incident(services: Services) -> int:
    """An incident already labelled ``model``, opened the way intake opens one."""
    with session_scope(services.engine) as session:
        incident = lifecycle.new_incident(session=session, service="rag-assistant",
                                          title="answers drifted", severity="high",
                                          source="alert", actor="test", now=AT_3AM)
        incident.behavior = "model"
        session.add(incident)
        ids = outbox.record(session, "incident.opened", now=AT_3AM, incident_id=incident.id)
    outbox.kick(services, ids)
    assert incident.id is not None
    return incident.id


def test_a_model_incident_at_3am_pages_the_on_call_engineer_then_escalates(
        slack: SlackEmulator, sqlite_url: str) -> None:
    slack.workspace.add_usergroup("S0MLTEAM1", "ml-team", [GROUP_MEMBER])
    for user in (PRIMARY, OTHER, SECOND):
        slack.workspace.add_user(user)
    settings = slack_settings(slack, sqlite_url).model_copy(update={"run_scheduler": True})
    services = wire(build_services(settings, catalog()))
    services.clock = lambda: AT_3AM
    scheduler = start_scheduler(services)
    assert scheduler is not None
    scheduler.pause()  # timers are stored; the test steps through them itself
    try:
        incident_id = open_model_incident(services)
        services.drain(20)
        current = incident_service.get_incident(services, incident_id)
        channel = slack.workspace.channels[current.slack_channel_id]
        assert PRIMARY in channel.members
        assert OTHER not in channel.members and GROUP_MEMBER not in channel.members
        notice = next(m.text for m in channel.messages if m.text.startswith(":pager:"))
        assert f"<@{PRIMARY}> (on call (ml-primary))" in notice
        assert f"Other owners, not paged: <@{OTHER}>" in notice
        assert [e.details["user"] for e in incident_service.timeline(services, incident_id)
                if e.kind == "paged"] == [PRIMARY]

        # nobody acknowledges: the escalation timers (their persistence is tested in
        # test_escalation_socket) walk the plan, one step each
        assert escalation.escalate(services, incident_id, 0) == SECOND
        services.drain(20)  # the page is outbox work that follows the step
        assert SECOND in channel.members
        assert escalation.escalate(services, incident_id, 1) == "S0MLTEAM1"
        services.drain(20)
        assert GROUP_MEMBER in channel.members
        assert any("<!subteam^S0MLTEAM1>" in m.text for m in channel.messages)
        assert escalation.escalate(services, incident_id, 2) is None  # nothing after the group
        assert [e.details["user"] for e in incident_service.timeline(services, incident_id)
                if e.kind == "escalated"] == [SECOND, "S0MLTEAM1"]
    finally:
        stop_scheduler(services)
        services.drain(10)
        services.close()


def test_an_acknowledged_incident_pages_nobody_else(slack: SlackEmulator,
                                                    sqlite_url: str) -> None:
    services = wire(build_services(slack_settings(slack, sqlite_url), catalog()))
    services.clock = lambda: AT_3AM
    try:
        incident_id = open_model_incident(services)
        services.drain(20)
        incident_service.change_status(services, incident_id=incident_id, to="acknowledged",
                                       actor=f"slack:{PRIMARY}")
        assert escalation.escalate(services, incident_id, 0) is None
    finally:
        services.drain(10)
        services.close()
