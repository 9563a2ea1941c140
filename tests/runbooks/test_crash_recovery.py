"""A run whose process is killed mid-step is marked interrupted, or resumed, on restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from bot import runbook_runs
from store import queries
from store import runbook_queries as runs_q
from store.db import session_scope
from tests.runbooks.support import ROOT, Progress, build_bot, open_incident, wait_for

RUNBOOKS = {
    "crash-interrupt": """
name: crash-interrupt
title: Scale, wait, cap
parameters: [{name: gateway_url}]
steps:
  - {id: scale, kind: http, url: "{{ params.gateway_url }}/replicas", json: {count: 6}}
  - {id: pause, kind: wait, seconds: 30, timeout_seconds: 60}
  - {id: cap, kind: http, url: "{{ params.gateway_url }}/token-cap", json: {max_tokens: 512}}
""",
    "crash-resume": """
name: crash-resume
title: Wait for latency, then cap
parameters: [{name: gateway_url}]
steps:
  - id: latency-ok
    kind: verify
    checks: [{signal: latency_p95_ms, max: 800}]
    samples: 3
    poll_seconds: 0.1
    timeout_seconds: 60
  - id: cap
    kind: http
    url: "{{ params.gateway_url }}/token-cap"
    json: {max_tokens: 512}
    idempotent: true
""",
}


def _directory(tmp_path: Path) -> Path:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    for name, text in RUNBOOKS.items():
        (directory / f"{name}.yml").write_text(text)
    return directory


def _run_and_kill(db_url: str, directory: Path, gateway_url: str, incident_id: int, name: str,
                  services, step: str) -> int:  # type: ignore[no-untyped-def]
    """Start the runbook in a child process and SIGKILL it while ``step`` is running."""
    child = subprocess.Popen([sys.executable, "-m", "tests.runbooks.crash_runner", db_url,
                              str(directory), gateway_url, str(incident_id), name], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def running_step() -> int | None:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        with session_scope(services.engine) as session:
            for run in runs_q.runs_for_incident(session=session, incident_id=incident_id):
                steps = runs_q.steps_for_run(session=session, run_id=run.id or 0)
                if any(s.step_id == step and s.status == "running" for s in steps):
                    return run.id
        return None

    run_id = wait_for(running_step, timeout=30)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    if child.stderr:
        child.stderr.close()
    with session_scope(services.engine) as session:
        assert runs_q.get_run(session=session, run_id=run_id).status == "running"
    return run_id


def test_killed_mid_wait_is_marked_interrupted(gateway, tmp_path, sqlite_url):  # type: ignore[no-untyped-def]
    directory = _directory(tmp_path)
    services = build_bot(sqlite_url, [directory], gateway_url=gateway.url)
    progress = Progress()
    services.events.subscribe("runbook.progress", progress)
    incident_id = open_incident(services, behavior="infrastructure")
    run_id = _run_and_kill(sqlite_url, directory, gateway.url, incident_id, "crash-interrupt",
                           services, "pause")
    assert gateway.state()["replicas"] == 6  # the first step really ran

    assert runbook_runs.recover_interrupted(services) == [(run_id, "interrupted")]
    services.drain(10)
    view = runbook_runs.run_view(services, run_id=run_id)
    assert view["status"] == "interrupted"
    assert [(s["step"], s["status"]) for s in view["steps"]] == [
        ("scale", "succeeded"), ("pause", "interrupted")]
    assert gateway.state()["token_cap"] is None  # the non-idempotent rest was not run
    with session_scope(services.engine) as session:
        timeline = queries.timeline(session=session, incident_id=incident_id)
        assert runs_q.get_run(session=session, run_id=run_id).active_key is None
    note = next(e for e in timeline if e.kind == "runbook.interrupted")
    assert note.actor == "runbook:crash-interrupt"
    assert "step cap is not idempotent" in note.message
    assert any("interrupted by a restart" in text for _, text in progress.texts)
    # Recovery is itself idempotent: a second start-up finds nothing to do.
    assert runbook_runs.recover_interrupted(services) == []
    services.close()


def test_killed_mid_verify_resumes_when_the_rest_is_idempotent(gateway, tmp_path, sqlite_url):  # type: ignore[no-untyped-def]
    gateway.post("/replicas", {"count": 1})  # overloaded: p95 latency far above 800 ms
    directory = _directory(tmp_path)
    services = build_bot(sqlite_url, [directory], gateway_url=gateway.url)
    incident_id = open_incident(services, behavior="infrastructure")
    run_id = _run_and_kill(sqlite_url, directory, gateway.url, incident_id, "crash-resume",
                           services, "latency-ok")
    gateway.post("/replicas", {"count": 4})  # someone scaled up while the bot was down

    assert runbook_runs.recover_interrupted(services) == [(run_id, "resumed")]
    services.drain(30)
    view = runbook_runs.run_view(services, run_id=run_id)
    assert view["status"] == "succeeded", view
    assert [(s["step"], s["status"]) for s in view["steps"]] == [
        ("latency-ok", "interrupted"), ("latency-ok", "succeeded"), ("cap", "succeeded")]
    assert gateway.state()["token_cap"] == 512
    with session_scope(services.engine) as session:
        kinds = [e.kind for e in queries.timeline(session=session, incident_id=incident_id)]
    assert kinds.count("runbook.started") == 2 and "runbook.resumed" in kinds
    services.close()
