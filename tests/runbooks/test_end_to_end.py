"""A bad model version in the real gateway, rolled back through the HTTP API, verified.

Everything runs for real on loopback: the gateway subprocess serves and emits its
own signals, the bot's API server takes the request and the approval, the engine
switches the gateway over HTTP and the verify step reads the gateway's signals.
Who asks and who approves are the owners of their tokens; the approver's user
groups come from the Slack emulator (``usergroups.list``).
"""

from __future__ import annotations

import httpx

from bot import runbook_runs
from bot.app.server import ServerThread
from bot.core.exchange_records import ChangeRecord
from bot.devtools.slack_emulator import SlackEmulator
from store import queries
from store.db import session_scope
from tests.runbooks.support import Progress, build_bot, open_incident, wait_for
from tests.slack.conftest import populate

API_TOKEN = "api-token-for-tests"
SRE_TOKEN, ML_TOKEN = "token-of-the-sre", "token-of-the-ml-engineer"


def test_rollback_model_end_to_end(gateway, sqlite_url):  # type: ignore[no-untyped-def]
    # The bad deploy: v8 replaces v7 and quality falls.
    assert gateway.post("/model", {"version": "v8", "author": "ana"}).status_code == 200
    bad = wait_for(lambda: [r for r in gateway.records() if getattr(r, "name", "") ==
                            "groundedness" and r.slice.get("model_version") == "v8"])
    assert bad[-1].value < 0.7
    change = next(r for r in gateway.records() if isinstance(r, ChangeRecord))
    assert (change.ref, change.previous) == ("v8", "v7")

    slack = SlackEmulator().start()
    populate(slack)
    services = build_bot(sqlite_url, gateway_url=gateway.url, RESILIO_API_TOKEN=API_TOKEN,
                         RESILIO_USER_TOKENS=f"U0SRE0001:{SRE_TOKEN},U0ML00001:{ML_TOKEN}",
                         SLACK_BOT_TOKEN=slack.bot_token, SLACK_API_URL=slack.url)
    progress = Progress()
    services.events.subscribe("runbook.progress", progress)
    incident_id = open_incident(services, changes=[change])
    suggested = runbook_runs.suggest(services, incident_id=incident_id)
    assert suggested[0].name == "rollback-model" and suggested[0].needs_approval

    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    with ServerThread(services) as server, httpx.Client(base_url=server.url, timeout=30) as api:
        assert api.get("/v1/runbooks").status_code == 401
        listed = api.get("/v1/runbooks", headers=auth).json()
        assert {"rollback-model", "fallback-mode", "cap-tokens"} <= {
            r["name"] for r in listed["data"]}
        request = {"name": "rollback-model", "idempotency_key": "slack:action:1",
                   "params": {"gateway_url": gateway.url, "verify_poll_seconds": 0.1}}
        started = api.post(f"/v1/incidents/{incident_id}/runbooks", json=request,
                           headers={"Authorization": f"Bearer {SRE_TOKEN}"})
        assert started.status_code == 202, started.text
        run = started.json()
        assert run["status"] == "pending_approval" and run["params"]["version"] == "v7"
        assert gateway.state()["model_version"] == "v8"  # nothing happens before approval

        approved = api.post(f"/v1/runbook-runs/{run['id']}/approve", json={},
                            headers={"Authorization": f"Bearer {ML_TOKEN}"})
        assert approved.status_code == 200, approved.text
        final = wait_for(lambda: (body := api.get(f"/v1/runbook-runs/{run['id']}",
                                                  headers=auth).json())["status"]
                         in ("succeeded", "failed") and body)
    services.drain(10)
    slack.stop()

    assert final["status"] == "succeeded", final
    assert final["verdict"] == "recovered"
    assert gateway.state()["model_version"] == "v7"
    assert [s["step"] for s in final["steps"]] == ["announce", "switch-model", "verify-quality"]
    good = [r for r in gateway.records() if getattr(r, "name", "") == "groundedness"
            and r.slice.get("model_version") == "v7"]
    assert good[-1].value >= 0.85

    with session_scope(services.engine) as session:
        timeline = queries.timeline(session=session, incident_id=incident_id)
    kinds = [(e.kind, e.actor) for e in timeline]
    assert ("runbook.requested", "slack:U0SRE0001") in kinds
    assert ("runbook.approved", "slack:U0ML00001") in kinds
    step_events = [e for e in timeline if e.kind.startswith("runbook.step_")]
    assert {e.actor for e in step_events} == {"runbook:rollback-model"}
    for step in ("announce", "switch-model", "verify-quality"):
        finished = [e for e in step_events
                    if e.kind == "runbook.step_finished" and e.details["step"] == step]
        assert len(finished) == 1 and finished[0].details["status"] == "succeeded"
        assert finished[0].details["duration_seconds"] >= 0
        assert any(e.kind == "runbook.step_started" and e.details["step"] == step
                   for e in step_events)
    verify = next(e for e in step_events if e.kind == "runbook.step_finished"
                  and e.details["step"] == "verify-quality")
    assert "verdict: recovered" in verify.message
    assert timeline[-1].kind == "runbook.finished" and "recovered" in timeline[-1].message
    texts = [text for _, text in progress.texts]
    assert any("Rolling back rag-assistant to model v7" in t for t in texts)  # the notify step
    assert any("succeeded" in t for t in texts)
    services.close()
