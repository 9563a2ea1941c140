"""The engine against the real gateway and real subprocesses: timeouts, retries, failure policy."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runbooks.engine import Engine, RunResult, StepResult, base_context, resolve_params
from runbooks.loader import load_directories, parse_runbook
from runbooks.models import Runbook
from runbooks.steps import Tools
from tests.runbooks.support import gateway_reader, start_gateway

CONTEXT = base_context(incident={"id": 7, "title": "quality drop"},
                       service={"name": "rag-assistant"},
                       suspect_change={"kind": "model", "ref": "v8", "previous": "v7"})


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[StepResult] = []

    def step_started(self, path: str, index: int, step_id: str, kind: str,
                     rendered: dict[str, Any]) -> None:
        self.started.append(step_id)

    def step_finished(self, result: StepResult) -> None:
        self.finished.append(result)


def runbook(steps: list[dict[str, Any]], **extra: Any) -> Runbook:
    return parse_runbook({"name": "t", "title": "T", "steps": steps, **extra}, "<test>",
                         shell_allowlist=[sys.executable])


def run(book: Runbook, tools: Tools | None = None, params: dict[str, Any] | None = None,
        listener: Recorder | None = None, **engine: Any) -> RunResult:
    values = resolve_params(book, params or {}, CONTEXT)
    return Engine(tools=tools or Tools(), listener=listener, **engine).run(book, CONTEXT, values)


def test_step_timeout_stops_a_slow_call(gateway):  # type: ignore[no-untyped-def]
    book = runbook([{"id": "slow", "kind": "http", "method": "GET",
                     "url": f"{gateway.url}/slow?seconds=3", "timeout_seconds": 0.4},
                    {"id": "after", "kind": "wait", "seconds": 0}])
    began = time.monotonic()
    result = run(book)
    assert time.monotonic() - began < 2.0
    assert result.status == "failed"
    assert [s.step_id for s in result.steps] == ["slow"]  # on_failure: stop
    assert result.steps[0].status == "timed_out" and "timed out" in (result.steps[0].error or "")


def test_retry_with_backoff_until_a_flaky_command_succeeds(tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    script = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); "
              "n = int(p.read_text()) + 1 if p.exists() else 1; p.write_text(str(n)); "
              "sys.exit(0 if n >= 3 else 1)")
    book = runbook([{"id": "flaky", "kind": "shell", "argv": [sys.executable, "-c", script,
                                                              str(counter)],
                     "retry": {"attempts": 4, "backoff_seconds": 0.05, "factor": 2}}])
    began = time.monotonic()
    result = run(book, Tools(shell_allowlist=(sys.executable,)))
    assert result.status == "succeeded"
    assert result.steps[0].attempts == 3 and counter.read_text() == "3"
    assert time.monotonic() - began >= 0.05 + 0.1  # two back-offs: 0.05 s, then 0.1 s


def test_a_4xx_is_not_retried_and_compensation_runs(gateway):  # type: ignore[no-untyped-def]
    gateway.post("/model", {"version": "v8"})
    book = runbook([{"id": "switch", "kind": "http", "url": f"{gateway.url}/model",
                     "json": {"version": "v99"}, "retry": {"attempts": 3,
                                                           "backoff_seconds": 0.01},
                     "on_failure": "compensate",
                     "compensate": [{"id": "fallback", "kind": "http",
                                     "url": f"{gateway.url}/fallback",
                                     "json": {"mode": "cached"}}]},
                    {"id": "never", "kind": "notify", "text": "not reached"}])
    notes: list[str] = []
    listener = Recorder()
    result = run(book, Tools(notify=notes.append), listener=listener)
    assert result.status == "failed"
    assert "compensation ran" in (result.error or "")
    switch, fallback = result.steps
    assert switch.status == "failed" and switch.attempts == 1 and switch.output["status"] == 400
    assert "unknown model version 'v99'" in (switch.error or "")
    assert fallback.path == "steps[0].compensate[0]" and fallback.ok
    state = gateway.state()
    assert state["fallback_mode"] == "cached" and state["model_version"] == "v8"
    assert notes == [] and listener.started == ["switch", "fallback"]


def test_on_failure_continue_runs_the_next_step(gateway):  # type: ignore[no-untyped-def]
    book = runbook([{"id": "bad", "kind": "http", "url": f"{gateway.url}/replicas",
                     "json": {"count": 999}, "on_failure": "continue"},
                    {"id": "good", "kind": "http", "url": f"{gateway.url}/replicas",
                     "json": {"count": "{{ params.n }}"}}],
                   parameters=[{"name": "n", "type": "int", "default": 6}])
    result = run(book)
    assert [s.status for s in result.steps] == ["failed", "succeeded"]
    assert result.status == "succeeded" and gateway.state()["replicas"] == 6


def test_verify_times_out_with_a_not_recovered_verdict(gateway):  # type: ignore[no-untyped-def]
    gateway.post("/model", {"version": "v8"})
    book = runbook([{"id": "check", "kind": "verify", "timeout_seconds": 0.6,
                     "poll_seconds": 0.1, "samples": 2,
                     "checks": [{"signal": "groundedness", "min": 0.85}]}])
    result = run(book, Tools(read_signals=gateway_reader(gateway.url)))
    step = result.steps[0]
    assert result.status == "failed" and step.status == "timed_out"
    assert step.output["verdict"] == "not_recovered" and result.verdict == "not_recovered"
    assert step.output["checks"][0]["last_values"][-1] < 0.7


def test_secrets_are_sent_but_never_rendered_or_recorded(tmp_path: Path) -> None:
    secret = "s3cr3t-gateway-token"
    gateway = start_gateway("--token", secret)
    try:
        book = runbook([{"id": "flag", "kind": "flag", "service_url": gateway.url,
                         "flag": "experimental_reranker", "enabled": True,
                         "secret_env": "GATEWAY_TOKEN"},
                        {"id": "echo", "kind": "shell",
                         "argv": [sys.executable, "-c", "import os; print(os.environ['T'])"]}])
        listener = Recorder()
        tools = Tools(environ={"GATEWAY_TOKEN": secret}, shell_allowlist=(sys.executable,))
        unauthorised = run(book, Tools(environ={"GATEWAY_TOKEN": "wrong"}))
        assert unauthorised.steps[0].output["status"] == 401
        import os

        os.environ["T"] = secret  # the command prints the secret; the record must not
        try:
            result = run(book, tools, listener=listener)
        finally:
            del os.environ["T"]
        assert gateway.state()["flags"]["experimental_reranker"] is True
        assert result.status == "succeeded"
        assert secret not in repr(result) and "***" in result.steps[1].output["stdout"]
        missing = run(book, Tools(environ={}))
        assert "GATEWAY_TOKEN" in (missing.error or "") and missing.steps[0].attempts == 1
    finally:
        gateway.stop()


def test_dry_run_renders_every_step_and_changes_nothing(gateway):  # type: ignore[no-untyped-def]
    gateway.post("/model", {"version": "v8"})
    shipped = load_directories()
    book = shipped["rollback-model"]
    values = resolve_params(book, {"gateway_url": gateway.url}, CONTEXT)
    assert values["version"] == "v7"  # the suspect change's previous version
    plan = Engine(tools=Tools(), runbooks=shipped).plan(book, CONTEXT, values)
    assert plan.ok
    paths = [s.path for s in plan.steps]
    # steps[2] points an MLflow alias instead: its `when` is false for a gateway service
    assert paths == ["steps[0]", "steps[1]", "steps[1].compensate[0]", "steps[3]"]
    switch = plan.steps[1].rendered
    assert switch["url"] == f"{gateway.url}/model"
    assert switch["json_body"] == {"version": "v7", "author": "resilio:rollback-model"}
    assert plan.steps[3].rendered["checks"][0]["min"] == 0.85  # a number, not "0.85"
    assert "Rolling back rag-assistant to model v7 for incident #7" in plan.steps[0].rendered[
        "text"]
    assert gateway.state()["model_version"] == "v8"


def test_a_runbook_step_calls_another_runbook(gateway):  # type: ignore[no-untyped-def]
    shipped = load_directories()
    book = runbook([{"id": "fallback", "kind": "runbook", "runbook": "disable-flag",
                     "params": {"flag": "streaming", "gateway_url": gateway.url}}])
    notes: list[str] = []
    listener = Recorder()
    result = run(book, Tools(notify=notes.append), listener=listener, runbooks=shipped)
    assert result.status == "succeeded"
    assert gateway.state()["flags"]["streaming"] is False
    assert [r.path for r in listener.finished] == [
        "disable-flag/steps[0]", "disable-flag/steps[1]", "steps[0]"]
    assert notes == ["Feature flag streaming is off for rag-assistant."]


def test_missing_parameters_are_reported_together() -> None:
    book = load_directories()["rollback-model"]
    no_change = {**CONTEXT, "suspect_change": None}
    with pytest.raises(ValueError) as caught:
        resolve_params(book, {"min_groundedness": "high", "colour": "red"}, no_change)
    text = str(caught.value)
    assert "unknown parameter 'colour'" in text
    assert "version: no value given and its default failed" in text
    assert "min_groundedness: 'high' is not a valid float" in text
