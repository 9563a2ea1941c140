"""When every alert of an incident resolves, its channel says so and offers Resolve.

The notice is durable follow-up work (an outbox row written in the intake's own
transaction), so a crash between the commit and the post loses nothing; it runs a
moment later and reads the incident again, so an alert that fired again meanwhile
posts nothing. Alertmanager's bodies go over real HTTP to the running bot, the
channel lives in the Slack emulator, and the Resolve button opens the real modal.
"""

from __future__ import annotations

import time

import httpx

from bot.core import outbox
from bot.incidents import service as incident_service
from tests.slack.conftest import SRE, WEBHOOK_TOKEN, Bot

NOTICE = "Every alert of"


def body(status: str) -> dict:
    """One Alertmanager v4 group of a single alert on rag-assistant, firing or resolved."""
    ends = "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T10:30:00Z"
    return {"version": "4", "status": status, "receiver": "resilio",
            "groupKey": "{}:{alertname=\"GroundednessLow\"}", "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "truncatedAlerts": 0,
            "alerts": [{"status": status,
                        "labels": {"alertname": "GroundednessLow", "service": "rag-assistant",
                                   "severity": "page"},
                        "annotations": {"summary": "groundedness below 0.8"},
                        "startsAt": "2026-11-26T10:00:00Z", "endsAt": ends,
                        "generatorURL": "http://prometheus/graph", "fingerprint": "g1"}]}


def send(bot: Bot, status: str) -> dict:
    reply = httpx.post(f"{bot.server.url}/webhooks/alertmanager", json=body(status),
                       headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def run_due_follow_ups(bot: Bot) -> None:
    """What the outbox poller does once the rows' short pause has passed."""
    time.sleep(1.2)
    worker = outbox.Worker(bot.services)
    while worker.poll():
        bot.settle()
    bot.settle()


def notices(bot: Bot, channel: str) -> list:
    room = bot.slack.workspace.channels[channel]
    return [m for m in room.messages if NOTICE in (m.text or "")]


def test_all_alerts_resolved_is_said_in_the_channel_with_a_resolve_button(bot: Bot) -> None:
    incident_id = send(bot, "firing")["incidents_opened"][0]
    bot.settle()
    channel = incident_service.get_incident(bot.services, incident_id).slack_channel_id
    assert channel
    run_due_follow_ups(bot)
    assert notices(bot, channel) == []  # firing: nothing to say yet

    send(bot, "resolved")
    run_due_follow_ups(bot)
    [notice] = notices(bot, channel)
    assert f"#{incident_id}" in notice.text
    incident = incident_service.get_incident(bot.services, incident_id)
    assert incident.status == "triggered"  # a person resolves the incident, not the alert
    buttons = [e for b in notice.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["incident.resolve"]
    assert buttons[0]["value"] == str(incident_id)

    # the button asks for the resolution summary, as the pinned summary's does
    assert bot.slack.click(channel, notice.ts, "incident.resolve", user=SRE).status == 200
    bot.settle()
    assert bot.slack.last_view()["callback_id"].startswith("incident.resolve")


def test_an_alert_that_fires_again_before_the_notice_runs_posts_nothing(bot: Bot) -> None:
    incident_id = send(bot, "firing")["incidents_opened"][0]
    bot.settle()
    channel = incident_service.get_incident(bot.services, incident_id).slack_channel_id
    assert channel
    send(bot, "resolved")
    again = send(bot, "firing")  # the same alert, the same open incident, before the pause
    assert again["incidents_opened"] == []
    run_due_follow_ups(bot)
    assert incident_service.get_incident(bot.services, incident_id).alerts_firing == 1
    assert notices(bot, channel) == []
