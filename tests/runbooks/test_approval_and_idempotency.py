"""Approval (allowed, refused, rejected), one click runs once, one active run per incident."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from bot import runbook_runs
from bot.app.server import ServerThread
from bot.core.errors import Conflict
from store import queries
from store import runbook_queries as runs_q
from store.db import session_scope
from tests.runbooks.support import build_bot, open_incident

API_TOKEN = "api-token"


def _gated(tmp_path: Path) -> Path:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "gated.yml").write_text("""
name: gated-scale
title: Scale (needs approval)
allowed: {groups: [S0INFRA01, S0MLTEAM1]}
approval: {required: true, groups: [S0MLTEAM1]}
parameters:
  - {name: gateway_url}
  - {name: count, type: int, default: 6}
steps:
  - id: scale
    kind: http
    url: "{{ params.gateway_url }}/replicas"
    json: {count: "{{ params.count }}"}
""")
    return directory


def test_approval_allowed_refused_and_rejected(gateway, tmp_path, sqlite_url):  # type: ignore[no-untyped-def]
    services = build_bot(sqlite_url, [_gated(tmp_path)])
    incident_id = open_incident(services, behavior="infrastructure")
    params = {"gateway_url": gateway.url}

    with pytest.raises(runbook_runs.Forbidden, match="may not run gated-scale"):
        runbook_runs.start(services, incident_id=incident_id, name="gated-scale",
                           params=params, actor="U0DATA001", groups=["S0OTHER01"])

    first = runbook_runs.start(services, incident_id=incident_id, name="gated-scale",
                               params=params, actor="U0SRE0001", groups=["S0INFRA01"]).run
    assert first.status == "pending_approval"
    # Refused: not in the approver group; the run keeps waiting.
    with pytest.raises(runbook_runs.Forbidden) as refused:
        runbook_runs.approve(services, run_id=first.id, actor="U0SRE0001",
                             groups=["S0INFRA01"])
    assert "only members of <!subteam^S0MLTEAM1> may approve it" in str(refused.value)
    assert runbook_runs.run_view(services, run_id=first.id)["status"] == "pending_approval"
    # Rejected by an approver: cancelled, nothing ran, the slot is free again.
    rejected = runbook_runs.reject(services, run_id=first.id, actor="U0ML00001",
                                   groups=["S0MLTEAM1"], reason="not during the sale")
    assert rejected.status == "cancelled" and rejected.active_key is None
    assert gateway.state()["replicas"] == 4
    with pytest.raises(Conflict, match="is cancelled, not pending approval"):
        runbook_runs.approve(services, run_id=first.id, actor="U0ML00001",
                             groups=["S0MLTEAM1"])
    # Allowed: a second request, approved by a member of the group, really runs.
    second = runbook_runs.start(services, incident_id=incident_id, name="gated-scale",
                                params={**params, "count": "8"}, actor="U0SRE0001",
                                groups=["S0INFRA01"]).run
    runbook_runs.approve(services, run_id=second.id, actor="U0ML00001", groups=["S0MLTEAM1"],
                         wait=True)
    # The same approval again (a Slack retry) is a no-op, not an error or a second run.
    runbook_runs.approve(services, run_id=second.id, actor="U0ML00001", groups=["S0MLTEAM1"])
    services.drain(10)
    assert runbook_runs.run_view(services, run_id=second.id)["status"] == "succeeded"
    assert gateway.state()["replicas"] == 8

    with session_scope(services.engine) as session:
        timeline = queries.timeline(session=session, incident_id=incident_id)
    decisions = [(e.kind, e.actor) for e in timeline if e.kind in
                 ("runbook.rejected", "runbook.approved")]
    assert decisions == [("runbook.rejected", "slack:U0ML00001"),
                         ("runbook.approved", "slack:U0ML00001")]
    assert "not during the sale" in next(e.message for e in timeline
                                         if e.kind == "runbook.rejected")
    assert sum(e.kind == "runbook.started" for e in timeline) == 1
    services.close()


def test_double_click_runs_once(gateway, tmp_path, db_url):  # type: ignore[no-untyped-def]
    """Ten concurrent requests with one key, on each store: one run, the same id for all."""
    services = build_bot(db_url, [_gated(tmp_path)])
    incident_id = open_incident(services)
    results: list[runbook_runs.StartResult] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(10)

    def click() -> None:
        barrier.wait()
        try:
            results.append(runbook_runs.start(
                services, incident_id=incident_id, name="gated-scale",
                params={"gateway_url": gateway.url}, actor="U0SRE0001", groups=["S0INFRA01"],
                idempotency_key="block_actions:T1:U0SRE0001:1700000000.123"))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len({r.run.id for r in results}) == 1
    assert sorted(r.created for r in results) == [False] * 9 + [True]
    with session_scope(services.engine) as session:
        runs = runs_q.runs_for_incident(session=session, incident_id=incident_id)
    assert len(runs) == 1

    # A different click while that run is active: refused, one run per incident at a time.
    with pytest.raises(Conflict, match="already pending_approval .* one run of a runbook"):
        runbook_runs.start(services, incident_id=incident_id, name="gated-scale",
                           params={"gateway_url": gateway.url}, actor="U0SRE0001",
                           groups=["S0INFRA01"], idempotency_key="another-click")
    services.close()


def test_api_retry_with_the_same_key_returns_the_first_run(gateway, sqlite_url):  # type: ignore[no-untyped-def]
    services = build_bot(sqlite_url, RESILIO_API_TOKEN=API_TOKEN)
    incident_id = open_incident(services, behavior="control_plane")
    body = {"name": "disable-flag", "idempotency_key": "slack-retry-1",
            "params": {"flag": "streaming", "gateway_url": gateway.url}}
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    with ServerThread(services) as server, httpx.Client(base_url=server.url, timeout=30,
                                                         headers=auth) as api:
        first = api.post(f"/v1/incidents/{incident_id}/runbooks", json=body)
        again = api.post(f"/v1/incidents/{incident_id}/runbooks", json=body)
        assert first.status_code == again.status_code == 202
        assert first.json()["created"] is True and again.json()["created"] is False
        assert first.json()["id"] == again.json()["id"]
        services.drain(10)
        missing = api.post("/v1/incidents/999/runbooks", json={**body, "idempotency_key": "k2"})
        assert missing.status_code == 404
        bad = api.post(f"/v1/incidents/{incident_id}/runbooks",
                       json={**body, "idempotency_key": "k3", "params": {"colour": "red"}})
        assert bad.status_code == 400 and "unknown parameter 'colour'" in bad.json()["detail"]
        dry = api.post(f"/v1/incidents/{incident_id}/runbooks",
                       json={**body, "idempotency_key": "k4", "dry_run": True,
                             "params": {"flag": "experimental_reranker",
                                        "gateway_url": gateway.url}})
        assert dry.status_code == 202 and dry.json()["dry_run"] is True
        assert dry.json()["steps"][0]["rendered"]["flag"] == "experimental_reranker"
        view = api.get(f"/v1/incidents/{incident_id}/runbooks").json()
    assert [r["status"] for r in view["runs"]] == ["succeeded"]
    assert gateway.state()["flags"] == {"experimental_reranker": False, "streaming": False}
    services.close()
