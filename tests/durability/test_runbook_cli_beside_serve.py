"""``resilio runbook run`` in a terminal while ``resilio serve`` runs on the same database.

The server's recovery looks for runs whose process died. The CLI's run is alive and
heartbeats, so the server must leave it alone: every step runs once, and the run has
one ``runbook.started`` and one ``runbook.finished``. The stale period is shortened
(``RESILIO_RUNBOOK_STALE_SECONDS=2``: heartbeats every 0.5 s, recovery every 1 s) and
the run lasts three periods, so a server that judged by anything but the heartbeat
would take it over several times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bot import runbook_runs
from bot.config.catalog import load_catalog
from bot.config.settings import Settings
from bot.core.runner_identity import HOST
from bot.core.services import build_services
from bot.demo.workspace import populate
from bot.devtools.slack_emulator import SlackEmulator
from store import queries
from store import runbook_queries as runs_q
from store.db import session_scope
from store.runbook_models import RunbookRun
from tests.durability.support import Database, alert, environment, post_alerts
from tests.runbooks.support import ROOT
from tests.support.replicas import Replica

RUNBOOK = """
name: counted-steps
title: Two counted calls around a wait
parameters: [{name: target}]
steps:
  - {id: first, kind: http, method: POST, url: "{{ params.target }}/first", idempotent: true}
  - {id: pause, kind: wait, seconds: 6, timeout_seconds: 30}
  - {id: last, kind: http, method: POST, url: "{{ params.target }}/last", idempotent: true}
"""


class CountingTarget:
    """A loopback HTTP service that counts the calls a runbook makes to each path."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target.calls[self.path] += 1
                body = json.dumps({"ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target() -> Iterator[CountingTarget]:
    running = CountingTarget()
    yield running
    running.stop()


def catalog_with_runbooks(folder: Path) -> Path:
    directory = folder / "runbooks"
    directory.mkdir()
    (directory / "counted-steps.yml").write_text(RUNBOOK)
    data = {"services": [{"name": "rag-assistant", "alerts_channel": "C0ALERTS01",
                          "owners": {"default": {"users": ["U0SRE0001"]}}}],
            "watch": {"enabled": False},
            "runbooks": {"directories": [str(directory)]}}
    path = folder / "resilio.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_cli_run_beside_serve_runs_each_step_once(db_url: str, target: CountingTarget,
                                                    tmp_path: Path) -> None:
    catalog = catalog_with_runbooks(tmp_path)
    with SlackEmulator() as slack:
        populate(slack)
        env = environment(db_url, slack, catalog, RESILIO_RUNBOOK_STALE_SECONDS="2")
        server = Replica(env, "serve").wait_ready()
        try:
            response = post_alerts(server.url, [alert("rag-assistant", "Slow", "cli-1")])
            [incident_id] = response.json()["incidents_opened"]
            cli = subprocess.Popen(
                [sys.executable, "-m", "bot", "runbook", "run", "counted-steps",
                 "--incident", str(incident_id), "--param", f"target={target.url}",
                 "--actor", "cli:ana"],
                env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            cli_pid = cli.pid
            _, errors = cli.communicate(timeout=60)
            assert cli.returncode == 0, errors[-3000:]
            # a few more recovery rounds of the server after the run ended
            threading.Event().wait(3)
            log = server.log.read_text()
        finally:
            server.stop()

    assert target.calls == {"/first": 1, "/last": 1}, target.calls
    database = Database(db_url)
    try:
        with session_scope(database.engine) as session:
            [run] = runs_q.runs_for_incident(session=session, incident_id=incident_id)
            steps = [(s.step_id, s.status) for s in
                     runs_q.steps_for_run(session=session, run_id=run.id or 0)]
            kinds = Counter(e.kind for e in queries.timeline(session=session,
                                                             incident_id=incident_id))
    finally:
        database.close()
    # run to its end by the CLI process, never handed to the server
    assert run.status == "succeeded" and run.runner == f"{HOST}:{cli_pid}"
    assert steps == [("first", "succeeded"), ("pause", "succeeded"), ("last", "succeeded")]
    assert kinds["runbook.started"] == 1 and kinds["runbook.finished"] == 1
    assert kinds["runbook.resumed"] == 0 and kinds["runbook.interrupted"] == 0
    assert "resumes" not in log


def test_a_silent_runner_is_taken_over_and_a_beating_one_is_not(sqlite_url: str) -> None:
    """Runs held by another host: judged by their heartbeat alone."""
    services = build_services(Settings(DATABASE_URL=sqlite_url, RESILIO_RUNBOOK_STALE_SECONDS=20),
                              load_catalog(None))
    from tests.runbooks.support import open_incident

    incident_id = open_incident(services, behavior="infrastructure")
    now = services.clock()
    with session_scope(services.engine) as session:
        for name, beat in (("disable-flag", now - timedelta(seconds=5)),
                           ("scale-replicas", now - timedelta(seconds=25))):
            session.add(RunbookRun(incident_id=incident_id, runbook=name, status="running",
                                   params={}, requested_by="cli:ana", idempotency_key=name,
                                   runner="another-host:4242", created_at=now, updated_at=beat,
                                   started_at=now, next_step=99))
    outcomes = runbook_runs.recover_interrupted(services)
    # the taken-over run resumes on this process's pool: read once that work is done,
    # or it may be caught mid-way, running again under its new runner
    assert services.drain(10)
    with session_scope(services.engine) as session:
        held = {r.runbook: (r.status, r.runner) for r in
                runs_q.runs_for_incident(session=session, incident_id=incident_id)}
    services.close()
    assert len(outcomes) == 1  # the silent one only
    # beat 5 s ago: alive, left alone
    assert held["disable-flag"] == ("running", "another-host:4242")
    # silent for 25 s: taken over, and run to its end here
    status, runner = held["scale-replicas"]
    assert runner != "another-host:4242" and status != "running", held
