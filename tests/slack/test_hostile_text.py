"""Hostile alert text through the whole flow renders inert in every message Slack shows.

An Alertmanager webhook carries the summary of issue 14 (``<!channel> <!here> <@U…>
<!subteam^…> <https://evil.example|Click to re-authenticate>``) in its alert name,
annotations and labels; signals and a change record carry more of it in slice values
and change fields. The incident opens, its channel is created with a topic, the
summary is pinned, the alerts channel gets its notice, the diagnosis lands and the
summary is updated, a person runs commands that show it all back. The emulator then
reads every text the bot sent, as Slack would, and finds none of the planted tokens
live, while the mentions the bot means to make (the owners it invites) still are.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.core.exchange import parse_objects
from bot.devtools.slack_emulator import render_transcript
from bot.diagnosis.incidents import classify_incident
from bot.incidents import service as incident_service
from store.db import session_scope
from store.models import Incident
from store.signal_queries import save_records
from tests.diagnosis.helpers import T0, series, ts
from tests.slack.conftest import ALERTS, ML, SRE, WEBHOOK_TOKEN, Bot

HOSTILE = ("<!channel> <!here> <!everyone> <@U0EVIL001> <!subteam^S0EVIL01> <#C0EVIL001> "
           "<https://evil.example|Click to re-authenticate>")
ALSO = ["&lt;!here&gt; & <", "`code` *bold* ```", "<@U0ML00001>"]  # U0ML00001: a real owner


def hostile_alert() -> dict:
    return {"version": "4", "status": "firing", "receiver": "resilio",
            "groupKey": "{}:{alertname=\"x\"}", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://am", "truncatedAlerts": 0,
            "alerts": [{"status": "firing",
                        "labels": {"alertname": f"Groundedness {HOSTILE}",
                                   "service": "rag-assistant", "severity": "page",
                                   "tenant": HOSTILE},
                        "annotations": {"summary": HOSTILE, "description": " ".join(ALSO)},
                        "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": "https://evil.example/graph", "fingerprint": "evil1"}]}


def hostile_signals() -> list[dict]:
    """A quality drop localised to a tenant whose name is hostile, after a hostile change."""
    records = (series("groundedness", "quality", 0.9, 0.01, onset=140, factor=0.7,
                      slice_={"tenant": HOSTILE}, seed=1)
               + series("groundedness", "quality", 0.9, 0.01, slice_={"tenant": "globex"},
                        seed=2)
               + series("gpu_util", "infra", 60, 1, seed=3))
    records.append({"type": "change", "ts": ts(132), "service": "rag-assistant",
                    "kind": "model", "ref": HOSTILE, "previous": "<!here>",
                    "author": "<@U0EVIL001>", "description": HOSTILE})
    return records


def test_hostile_alert_text_is_inert_in_every_message_topic_and_summary(bot: Bot) -> None:
    reply = httpx.post(f"{bot.server.url}/webhooks/alertmanager", json=hostile_alert(),
                       headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    bot.settle()
    incident = next(i for i in incident_service.list_open(bot.services)
                    if i.service == "rag-assistant")
    assert HOSTILE in incident.title  # stored as data, unchanged

    # the diagnosis lands on the open incident (signals around its creation time)
    with session_scope(bot.services.engine) as session:
        save_records(session=session, records=parse_objects(hostile_signals()).records)
        stored = session.get(Incident, incident.id)
        stored.created_at = T0 + timedelta(minutes=179)
        session.add(stored)
    classify_incident(bot.services, incident.id)
    bot.settle()
    incident = incident_service.get_incident(bot.services, incident.id)
    assert incident.behavior and incident.behavior != "none"
    assert HOSTILE in str(incident.diagnosis)  # the slice and the change carry it

    # a person's message that did @here goes on the timeline with a :pushpin: (stored as
    # plain text), then everything is read back with commands, and a note is typed
    channel = incident.slack_channel_id
    pinned = bot.slack.post_as(SRE, channel, "<!here> rolled back <https://evil.example|here>")
    assert bot.slack.react(channel, pinned, "pushpin", user=SRE).status == 200
    bot.settle()
    notes = [e.message for e in incident_service.timeline(bot.services, incident.id)
             if e.kind == "slack_message"]
    assert notes == [f"@{SRE}: @here rolled back here (https://evil.example)"]
    usage = bot.slack.slash_command("/incident", f"{HOSTILE} now", user=SRE, channel=channel)
    assert usage.status == 200 and "unknown subcommand" in usage.body["text"]  # ack body
    for text in ("status", "timeline", "list", f"note {HOSTILE}"):
        assert bot.slack.slash_command("/incident", text, user=SRE, channel=channel).status \
            == 200
    bot.settle()
    # a dry run of the suggested runbook renders its steps with the hostile defaults
    # (the suspect change's previous version is "<!here>")
    incident = incident_service.get_incident(bot.services, incident.id)
    bot.slack.click(channel, incident.slack_summary_ts, "runbook.dry_run:rollback-model",
                    user=ML)
    bot.settle()
    form = bot.slack.last_view()
    assert form["callback_id"] == "runbook.params"
    prefilled = {b["block_id"]: b["element"].get("initial_value")
                 or (b["element"].get("initial_option") or {}).get("value")
                 for b in form["blocks"] if b["type"] == "input"}
    assert prefilled["param.version"] == "<!here>"  # an input shows it as typed, unparsed
    reply = bot.slack.submit_view(form["id"], {k: v for k, v in prefilled.items() if v},
                                  user=ML)
    assert reply.status == 200 and reply.body is None, reply.body
    bot.settle()
    plans = [c for c in bot.slack.calls_to("chat.postEphemeral")
             if "Dry run of" in str(c.args.get("text"))]
    assert plans and "&lt;!here&gt;" in str(plans[-1].args.get("blocks"))

    workspace = bot.slack.workspace
    room = workspace.channels[channel]
    summary = room.message(incident.slack_summary_ts)
    assert summary.edits >= 1  # updated with the diagnosis
    notice = workspace.channels[ALERTS].messages[-1]
    for shown in (room.topic, str(summary.blocks), summary.text, notice.text,
                  str(notice.blocks)):
        assert "&lt;!channel&gt;" in shown  # the text is there, as text
    assert any("Click to re-authenticate" in str(m.blocks) for m in [summary])
    assert "&lt;https://evil.example|Click to re-authenticate&gt;" in str(summary.blocks)

    bot.slack.assert_inert([HOSTILE, *ALSO[:-1], "<!here>", "<@U0EVIL001>",
                            "<https://evil.example|here>"])
    # A real owner's id typed into the alert stays text too: the only live mention of
    # them is the bot's own invitation when the diagnosis names their class.
    owner = [t for t in bot.slack.live_markup() if t.token == f"<@{ML}>"]
    invites = [c for c in bot.slack.calls_to("chat.postMessage")
               if str(c.args.get("text", "")).startswith("Classified `model`: invited")]
    assert owner and len(owner) == len(invites) == 1
    # ... while the bot's own mentions are live: the owners it invited, its alerts link
    live = {t.token for t in bot.slack.live_markup()}
    assert f"<#{channel}>" in live and any(t.startswith("<!date^") for t in live)
    assert f"<@{ML}>" in live or f"<@{SRE}>" in live
    transcript = render_transcript(bot.slack, channel)
    assert "<!here> <!everyone> <@U0EVIL001>" in transcript and "@u0ml00001" in transcript


def test_the_emulator_check_catches_live_markup(bot: Bot) -> None:
    """The check itself: a message with a planted token, or parse=full, is reported."""
    from slack_sdk import WebClient

    client = WebClient(token=bot.slack.bot_token, base_url=bot.slack.url)
    client.chat_postMessage(channel="C0GENERAL1", text="fine &lt;!here&gt;",
                            blocks=[{"type": "section", "text": {
                                "type": "mrkdwn", "text": "hi <@U0EVIL001>"}}])
    client.conversations_setTopic(channel="C0GENERAL1", topic="<!everyone> topic")
    client.chat_postMessage(channel="C0GENERAL1", text="names", link_names=True)
    bot.slack.acks.append({"text": "usage", "blocks": [{"type": "section", "text": {
        "type": "mrkdwn", "text": "unknown subcommand `<!here>`"}}]})  # as an ack body
    found = bot.slack.untrusted_markup(["<@U0EVIL001>"])
    assert [(t.method, t.where, t.token) for t in found] == [
        ("chat.postMessage", "blocks[0].text.text", "<@U0EVIL001>"),
        ("conversations.setTopic", "topic", "<!everyone>"),
        ("ack", "blocks[0].text.text", "<!here>"),
        ("chat.postMessage", "parse", "parse=full or link_names")]
