"""Approve and Reject buttons through the Slack emulator: signed clicks, group membership."""

from __future__ import annotations

from bot import runbook_runs
from store.db import session_scope
from store.models import Incident
from tests.runbooks.support import gateway_reader, open_incident, wait_for
from tests.slack.conftest import DATA, ML, SRE, bot, slack  # noqa: F401 - fixtures

INCIDENT_CHANNEL = "C0INC00001"


def test_approval_buttons_in_the_incident_channel(bot, gateway):  # type: ignore[no-untyped-def]  # noqa: F811
    services, emulator = bot.services, bot.slack
    services.runbook_signal_reader = gateway_reader(gateway.url)
    emulator.workspace.add_channel("inc-1-rag", channel_id=INCIDENT_CHANNEL)
    gateway.post("/model", {"version": "v8"})
    incident_id = open_incident(services)
    with session_scope(services.engine) as session:
        incident = session.get(Incident, incident_id)
        incident.slack_channel_id = INCIDENT_CHANNEL
        session.add(incident)
    started = runbook_runs.start(services, incident_id=incident_id, name="rollback-model",
                                 params={"gateway_url": gateway.url, "version": "v7",
                                         "verify_poll_seconds": 0.1},
                                 actor=f"slack:{SRE}")
    bot.settle()
    channel = emulator.workspace.channel(INCIDENT_CHANNEL)
    parent = next(m for m in channel.messages if "run " + str(started.run.id) in m.text)
    assert any(b.get("type") == "actions" for b in parent.blocks)

    # DATA is in neither approver group: refused with the reason, the run still waits.
    refused = emulator.click(INCIDENT_CHANNEL, parent.ts, "runbook.approve", user=DATA)
    assert refused.status == 200
    bot.settle()
    assert runbook_runs.run_view(services, run_id=started.run.id)["status"] == \
        "pending_approval"
    assert gateway.state()["model_version"] == "v8"
    refusal = next(r for r in emulator.responses if "may not approve" in r.get("text", ""))
    assert refusal["response_type"] == "ephemeral"
    assert "<!subteam^S0MLTEAM1>" in refusal["text"]

    emulator.click(INCIDENT_CHANNEL, parent.ts, "runbook.approve", user=ML)
    final = wait_for(lambda: runbook_runs.run_view(services, run_id=started.run.id)["status"]
                     in ("succeeded", "failed"), timeout=30)
    assert final
    bot.settle()
    view = runbook_runs.run_view(services, run_id=started.run.id)
    assert view["status"] == "succeeded" and view["verdict"] == "recovered"
    assert gateway.state()["model_version"] == "v7"
    thread = [m.text for m in channel.messages if m.thread_ts == parent.ts]
    assert any("approved by slack:U0ML00001" in t for t in thread)
    assert any("verify-quality succeeded" in t for t in thread)
    updated = channel.message(parent.ts)
    assert "succeeded" in updated.text
