"""Events: a reaction (the catalog's ``slack.timeline_reaction``) puts a message on the
incident's timeline; a mention gets the usage."""

from __future__ import annotations

from functools import partial

from slack_bolt import App, Say
from slack_sdk import WebClient

from bot.core.services import Services
from bot.incidents import service as incident_service
from bot.slack.listeners.common import Payload, ack_only, acked, actor
from bot.slack.listeners.dedup import first_time
from bot.views.help import INCIDENT_USAGE
from bot.views.markup import escape, plain_from_slack


def add_to_timeline(body: Payload, event: Payload, client: WebClient, *,
                    services: Services) -> None:
    if event.get("reaction") != services.catalog.slack.timeline_reaction:
        return
    item = event.get("item") or {}
    if item.get("type") != "message":
        return
    incident = incident_service.find_by_channel(services, item.get("channel", ""))
    if incident is None or incident.id is None:
        return
    if not first_time(services, f"event:{body.get('event_id')}", "event"):
        return
    history = client.conversations_history(channel=item["channel"], latest=item["ts"],
                                           inclusive=True, limit=1)
    message = next(iter(history.get("messages", [])), None)
    if message is None or message.get("ts") != item["ts"]:
        return
    # Stored as plain text (the message as its author wrote it, mentions as @name):
    # a timeline is data, and it is escaped again wherever it is shown in Slack.
    author = message.get("user") or "unknown"
    text = plain_from_slack(message.get("text")) or "(no text)"
    incident_service.add_note(
        services, incident_id=incident.id, actor=actor(event["user"]), kind="slack_message",
        text=f"@{author}: {text}")


def answer_mention(event: Payload, say: Say) -> None:
    say(text=escape(INCIDENT_USAGE), thread_ts=event.get("ts"))


def register(app: App, services: Services) -> None:
    app.event("reaction_added")(acked(services, ack_only,
                                      partial(add_to_timeline, services=services)))
    app.event("app_mention")(acked(services, ack_only, answer_mention))
