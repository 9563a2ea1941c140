"""Text from alerts and people is data: it is never evaluated, and never split into argv."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bot import runbook_runs
from runbooks.engine import Engine, base_context, resolve_params
from runbooks.loader import RunbookError, parse_runbook
from runbooks.steps import Tools
from store import queries
from store.db import session_scope
from tests.runbooks.support import build_bot, open_incident

MRO = "{{ ''.__class__.__mro__ }}"
SHELLISH = "x; touch {marker} && echo $(id) `id` | cat > {marker}2 # ' \""
PRINT_ARGV = "import json, sys; print(json.dumps(sys.argv[1:]))"


def _echo_runbook(tmp_path: Path) -> Path:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "echo.yml").write_text(f"""
name: echo-args
title: Echo
parameters:
  - name: text
steps:
  - id: say
    kind: notify
    text: "label={{{{ labels.note }}}} param={{{{ params.text }}}}"
  - id: argv
    kind: shell
    argv: ["{sys.executable}", "-c", "{PRINT_ARGV}",
           "{{{{ params.text }}}}", "{{{{ labels.note }}}}"]
""")
    return directory


def test_alert_labels_and_parameters_stay_text(tmp_path: Path, sqlite_url: str) -> None:
    marker = tmp_path / "pwned"
    evil = SHELLISH.format(marker=marker)
    services = build_bot(sqlite_url, [_echo_runbook(tmp_path)], allowlist=[sys.executable])
    posted: list[str] = []
    services.events.subscribe("runbook.progress",
                              lambda services, run_id, incident_id, text: posted.append(text))
    incident_id = open_incident(services, labels={"note": MRO})
    started = runbook_runs.start(services, incident_id=incident_id, name="echo-args",
                                 params={"text": evil}, actor="U0SRE0001", wait=True)
    services.drain(10)
    view = runbook_runs.run_view(services, run_id=started.run.id or 0)
    assert view["status"] == "succeeded", view
    assert f"label={MRO} param={evil}" in posted  # the notify step, verbatim
    with session_scope(services.engine) as session:
        timeline = queries.timeline(session=session, incident_id=incident_id)
    argv_done = next(e for e in timeline if e.kind == "runbook.step_finished"
                     and e.details["step"] == "argv")
    assert json.loads(argv_done.details["output"]["stdout"]) == [evil, MRO]  # one element each
    assert not marker.exists() and not Path(f"{marker}2").exists()
    services.close()


def test_a_template_reaching_for_internals_fails_safely_and_is_reported() -> None:
    book = parse_runbook({"name": "sneaky", "title": "Sneaky", "steps": [
        {"id": "peek", "kind": "notify",
         "text": "{{ ().__class__.__base__.__subclasses__() }}"},
        {"id": "after", "kind": "notify", "text": "not reached"}]}, "<test>")
    context = base_context(incident={"id": 1}, service={"name": "s"})
    posted: list[str] = []
    result = Engine(tools=Tools(notify=posted.append)).run(book, context, {})
    assert result.status == "failed" and posted == []
    assert "SecurityError" in (result.steps[0].error or "")
    assert "access to attribute '__class__'" in (result.steps[0].error or "")
    plan = Engine(tools=Tools()).plan(book, context, {})
    assert not plan.ok and "steps[0] (peek)" in plan.problems[0]


def test_a_parameter_default_cannot_escape_the_sandbox() -> None:
    book = parse_runbook({"name": "sneaky", "title": "Sneaky",
                          "parameters": [{"name": "v", "default": "{{ incident.__class__ }}"}],
                          "steps": [{"id": "x", "kind": "wait", "seconds": 0}]}, "<test>")
    context = base_context(incident={"id": 1}, service={"name": "s"})
    with pytest.raises(ValueError, match="v: no value given and its default failed.*unsafe"):
        resolve_params(book, {}, context)


def test_the_executable_must_be_literal_and_allow_listed() -> None:
    with pytest.raises(RunbookError, match=r"steps\[0\]\.argv: .*must be literal"):
        parse_runbook({"name": "x", "title": "X", "steps": [
            {"id": "a", "kind": "shell", "argv": ["{{ params.cmd }}", "-c"]}]}, "<test>")
    with pytest.raises(RunbookError, match=r"'/bin/sh' is not on the catalog's"):
        parse_runbook({"name": "x", "title": "X", "steps": [
            {"id": "a", "kind": "shell", "argv": ["/bin/sh", "-c", "id"]}]}, "<test>",
                      shell_allowlist=[sys.executable])
    book = parse_runbook({"name": "x", "title": "X", "steps": [
        {"id": "a", "kind": "shell", "argv": ["/bin/sh", "-c", "id"]}]}, "<test>")
    result = Engine(tools=Tools(shell_allowlist=(sys.executable,))).run(
        book, base_context(incident={}, service={}), {})
    assert result.status == "failed" and "not on the catalog" in (result.error or "")
