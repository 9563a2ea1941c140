"""Act: what responders see in Slack: the incident channel's conversation, a click, the update."""

from __future__ import annotations

from bot.demo.context import DemoContext
from bot.demo.workspace import ALERTS_CHANNEL
from bot.devtools.slack_emulator import render_transcript
from store import queries
from store.db import session_scope


def act(ctx: DemoContext) -> None:
    slack = ctx.slack
    ctx.settle()
    with session_scope(ctx.services.engine) as session:
        incidents = [i for i in queries.list_incidents(session=session, limit=1000)
                     if i.slack_channel_id]
    if not incidents:
        ctx.say("  (no incident channel was opened)")
        return
    # The demo clicks Acknowledge on the newest incident nobody has acknowledged yet.
    incident = next((i for i in incidents if i.slack_summary_ts and i.status == "triggered"),
                    incidents[0])
    ctx.heading(f"Slack: incident channel #{incident.slack_channel_name} (emulated Slack)")
    channel = incident.slack_channel_id
    assert channel is not None  # only incidents with a channel were listed
    owner = "U0SRE0001"
    if incident.slack_summary_ts and incident.status == "triggered":
        delivery = slack.click(channel, incident.slack_summary_ts,
                               "incident.ack", user=owner)
        ctx.say(f"  {owner} clicks Acknowledge -> HTTP {delivery.status} "
                f"in {delivery.latency * 1000:.0f} ms")
        ctx.settle()
    ctx.say(render_transcript(slack, channel))
    ctx.say("\n  and in #ai-alerts:")
    ctx.say(render_transcript(slack, ALERTS_CHANNEL))
    channels = {i.id: i.slack_channel_name for i in incidents}
    ctx.summary["slack"] = {
        "channels": channels,
        "api_calls": len(slack.calls),
        "spec_violations": list(slack.violations),
    }
