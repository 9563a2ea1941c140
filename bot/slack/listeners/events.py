"""Events: a reaction (the catalog's ``slack.timeline_reaction``) puts a message on the
incident's timeline; a mention gets the usage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.incidents import service as incident_service
from bot.slack.listeners.common import acked, actor
from bot.slack.listeners.dedup import first_time
from bot.views.help import INCIDENT_USAGE
from bot.views.markup import escape, plain_from_slack


def register(app: Any, services: Any) -> None:
    def ack_event(ack: Callable[..., None]) -> None:
        ack()

    def add_to_timeline(body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
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

    app.event("reaction_added")(acked(services, ack_event, add_to_timeline))

    def answer_mention(event: dict[str, Any], say: Callable[..., Any]) -> None:
        say(text=escape(INCIDENT_USAGE), thread_ts=event.get("ts"))

    app.event("app_mention")(acked(services, ack_event, answer_mention))
