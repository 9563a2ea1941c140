"""Escalation timers (surviving a restart) and Socket Mode against a local websocket server."""

from __future__ import annotations

import time

from bot.app.wiring import wire
from bot.config.catalog import load_catalog
from bot.core.scheduler import start_scheduler, stop_scheduler
from bot.core.services import build_services
from bot.incidents import service as incident_service
from bot.oncall import escalation
from bot.slack.socket import start_socket_mode
from tests.slack.conftest import GENERAL, SRE, SRE2, slack_settings


def fast_catalog():  # type: ignore[no-untyped-def]
    catalog = load_catalog(None)
    services = [s.model_copy(update={"escalation": s.escalation.model_copy(
        update={"ack_timeout_minutes": 0.01})}) for s in catalog.services]  # 0.6 s
    return catalog.model_copy(update={"services": services})


def wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_unacknowledged_incident_pages_the_chain_and_survives_a_restart(slack, db_url) -> None:
    settings = slack_settings(slack, db_url).model_copy(update={"run_scheduler": True})
    first = wire(build_services(settings, fast_catalog()))
    start_scheduler(first).pause()  # timers are stored but this process never runs them
    incident = incident_service.declare_incident(first, service="rag-assistant",
                                                 title="nobody home", actor="test")
    first.drain(10)
    assert first.scheduler.get_job(escalation.job_id(incident.id, 0))
    stop_scheduler(first)  # the bot goes down before the timer fires
    first.close()
    time.sleep(0.8)

    second = wire(build_services(settings, fast_catalog()))
    start_scheduler(second)  # the stored, now overdue timer runs on start
    try:
        def paged() -> list[str]:
            return [e.details.get("user") for e in incident_service.timeline(second, incident.id)
                    if e.kind == "escalated"]
        assert wait_for(lambda: paged() == [SRE, SRE2]), paged()
        current = incident_service.get_incident(second, incident.id)
        assert current.escalation_level == 2
        channel = slack.workspace.channels[current.slack_channel_id]
        # the page follows its step as outbox work, a moment after the step's commit
        assert wait_for(lambda: SRE2 in channel.members and any(
            f"<@{SRE2}>" in m.text and "not been acknowledged" in m.text
            for m in channel.messages)), channel.members
        assert escalation.escalate(second, incident.id, 1) is None  # a repeat does nothing
    finally:
        stop_scheduler(second)
        second.drain(10)
        second.close()


def test_acknowledged_incident_is_not_escalated(slack, sqlite_url) -> None:
    services = wire(build_services(slack_settings(slack, sqlite_url), fast_catalog()))
    incident = incident_service.declare_incident(services, service="fraud-scorer", title="x",
                                                 actor="test")
    incident_service.change_status(services, incident_id=incident.id, to="acknowledged",
                                   actor="slack:U0SRE0002")
    assert escalation.escalate(services, incident.id, 0) is None
    services.drain(10)
    services.close()


def test_socket_mode_commands_buttons_and_events(slack, sqlite_url) -> None:
    services = wire(build_services(slack_settings(slack, sqlite_url), load_catalog(None)))
    slack.transport = "socket"
    handler = start_socket_mode(services)
    try:
        assert slack.socket.wait_for_client(5)
        assert slack.calls_to("apps.connections.open", ok=True)
        reply = slack.slash_command("/incident", "frobnicate", user=SRE, channel=GENERAL)
        assert reply.status == 200 and "unknown subcommand" in reply.body["text"]
        reply = slack.slash_command("/incident", "declare", user=SRE, channel=GENERAL)
        assert reply.status == 200
        services.drain(10)
        view = slack.last_view()
        slack.submit_view(view["id"], {"title": "over the socket", "service": "fraud-scorer",
                                       "severity": "page"}, user=SRE)
        services.drain(10)
        incident = incident_service.list_open(services)[0]
        reply = slack.click(incident.slack_channel_id, incident.slack_summary_ts,
                            "incident.ack", user=SRE)
        assert reply.status == 200 and reply.latency < 1.0
        ts = slack.post_as(SRE, incident.slack_channel_id, "found it")
        slack.react(incident.slack_channel_id, ts, "pushpin", user=SRE)
        services.drain(10)
        assert incident_service.get_incident(services, incident.id).status == "acknowledged"
        assert "slack_message" in [e.kind for e in incident_service.timeline(services,
                                                                              incident.id)]
        acked = [f for f in slack.socket.received if "envelope_id" in f]
        assert len(acked) >= 5
    finally:
        handler.close()
        services.drain(10)
        services.close()
