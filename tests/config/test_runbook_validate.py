"""``resilio runbook validate`` refuses what would fail or repeat mid-run, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main
from runbooks.engine import Engine, base_context
from runbooks.loader import RunbookError, load_directories, load_file, parse_runbook
from runbooks.steps import Tools
from runbooks.templating import CONTEXT_NAMES


def runbook_file(folder: Path, name: str, steps: str, extra: str = "") -> Path:
    path = folder / f"{name}.yml"
    path.write_text(f"name: {name}\ntitle: {name}\n{extra}steps:\n{steps}")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(RunbookError) as caught:
        load_file(path)
    return caught.value.problems


@pytest.mark.parametrize(("steps", "extra", "expected"), [
    ("  - {id: a, kind: notify, text: '{{ os.environ }}'}\n", "",
     "steps[0].text: 'os' is not something a template can read"),
    ("  - {id: a, kind: notify, text: 'v{{ params.version }}'}\n", "",
     "steps[0].text: params.version is not a declared parameter (declared: none)"),
    ("  - {id: a, kind: notify, text: \"{{ params['versoin'] }}\"}\n",
     "parameters:\n  - {name: version}\n",
     "steps[0].text: params.versoin is not a declared parameter (declared: version)"),
    ("  - {id: a, kind: notify, text: hi}\n",
     "parameters:\n  - {name: a, default: '{{ params.b }}'}\n  - {name: b}\n",
     "parameters[0].default: params cannot be used here"),
    ("  - {id: a, kind: wait, seconds: 45}\n", "",
     "steps[0].seconds: waits 45s but the step times out after 30s (timeout_seconds)"),
    ("  - {id: a, kind: wait, seconds: '{{ params.pause }}', timeout_seconds: 10}\n",
     "parameters:\n  - {name: pause, type: float, default: 60}\n",
     "steps[0].seconds: waits 60s but the step times out after 10s"),
    ("  - {id: a, kind: wait, seconds: ten}\n", "",
     "steps[0].seconds: 'ten' is not a number of seconds"),
    ("  - id: a\n    kind: verify\n    for_seconds: 900\n    checks: [{signal: s, max: 1}]\n",
     "", "steps[0].for_seconds: needs readings over 900s but the step times out after 600s"),
    ("  - id: a\n    kind: http\n    url: http://gw/x\n    on_failure: compensate\n"
     "    compensate:\n      - {id: b, kind: notify, text: '{{ incident.id }} {{ secrets }}'}\n",
     "", "steps[0].compensate[0].text: 'secrets' is not something a template can read"),
])
def test_template_and_timing_mistakes(tmp_path: Path, steps: str, extra: str,
                                      expected: str) -> None:
    path = runbook_file(tmp_path, "r", steps, extra)
    problems = problems_of(path)
    assert any(p.startswith(f"{path}: ") and expected in p for p in problems), problems


def test_what_templates_may_read_is_what_the_engine_gives_them() -> None:
    context = base_context(incident={}, service={})
    assert set(context) == set(CONTEXT_NAMES)


def test_every_kind_of_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = runbook_file(tmp_path, "r", (
        "  - {id: a, kind: teleport}\n"                              # schema
        "  - {id: b, kind: notify, text: '{{ os.environ }}'}\n"      # template name
        "  - {id: c, kind: notify, text: '{{ params.nope }}'}\n"     # undeclared parameter
        "  - {id: d, kind: wait, seconds: 99}\n"                     # wait > timeout
        "  - {id: e, kind: notify, text: '{{ oops '}\n"              # syntax
        "  - {id: f, kind: shell, argv: [rm, -rf, /]}\n"))           # not on the allowlist
    with pytest.raises(RunbookError) as caught:
        load_file(path, shell_allowlist=["kubectl"])
    where = sorted(p.removeprefix(f"{path}: ").split(":")[0] for p in caught.value.problems)
    assert where == ["steps[0]", "steps[1].text", "steps[2].text", "steps[3].seconds",
                     "steps[4].text", "steps[5].argv[0]"]


def test_the_cli_validates_a_file_and_prints_every_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = runbook_file(tmp_path, "r", "  - {id: a, kind: wait, seconds: 99}\n"
                                       "  - {id: b, kind: notify, text: '{{ os.environ }}'}\n")
    assert main(["runbook", "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: steps[0].seconds" in err and f"{path}: steps[1].text" in err


def test_self_and_mutual_recursion_are_refused(tmp_path: Path) -> None:
    runbook_file(tmp_path, "loop", "  - {id: act, kind: notify, text: acted}\n"
                                   "  - {id: again, kind: runbook, runbook: loop}\n")
    runbook_file(tmp_path, "ping", "  - {id: to-pong, kind: runbook, runbook: pong}\n")
    runbook_file(tmp_path, "pong", "  - {id: act, kind: notify, text: acted}\n"
                                   "  - {id: to-ping, kind: runbook, runbook: ping}\n")
    with pytest.raises(RunbookError) as caught:
        load_directories([tmp_path], include_shipped=False)
    problems = caught.value.problems
    assert f"{tmp_path / 'loop.yml'}: steps[1].runbook: runbook 'loop' calls itself" in \
        "\n".join(problems)
    assert f"{tmp_path / 'ping.yml'}: steps[0].runbook: call cycle 'ping' -> 'pong' -> " \
           "'ping'" in "\n".join(problems)
    assert len(problems) == 2, problems


def test_a_recursive_runbook_would_repeat_its_side_effect(tmp_path: Path) -> None:
    """Why recursion is refused: the engine only stops it at the nesting limit."""
    runbook = parse_runbook({"name": "loop", "title": "loop", "steps": [
        {"id": "act", "kind": "notify", "text": "acted"},
        {"id": "again", "kind": "runbook", "runbook": "loop"}]}, "loop.yml")
    sent: list[str] = []
    engine = Engine(tools=Tools(notify=sent.append), runbooks={"loop": runbook})
    engine.run(runbook, base_context(incident={}, service={}), {})
    assert len(sent) == 5  # the depth limit, not the definition, ended it


def test_calls_with_wrong_parameters_and_too_deep_chains(tmp_path: Path) -> None:
    runbook_file(tmp_path, "child", "  - {id: a, kind: notify, text: '{{ params.who }}'}\n",
                 "parameters:\n  - {name: who}\n")
    runbook_file(tmp_path, "parent", "  - {id: a, kind: runbook, runbook: child, "
                                     "params: {whom: x}}\n")
    for level in range(6):
        callee = f"level{level + 1}" if level < 5 else "child"
        params = "" if level < 5 else ", params: {who: x}"
        runbook_file(tmp_path, f"level{level}",
                     f"  - {{id: a, kind: runbook, runbook: {callee}{params}}}\n")
    with pytest.raises(RunbookError) as caught:
        load_directories([tmp_path], include_shipped=False)
    text = "\n".join(caught.value.problems)
    assert f"{tmp_path / 'parent.yml'}: steps[0].params.whom: runbook 'child' has no " \
           "parameter 'whom' (it takes: who)" in text
    assert f"{tmp_path / 'parent.yml'}: steps[0].params: runbook 'child' needs 'who'" in text
    assert f"{tmp_path / 'level0.yml'}: steps: runbook calls nest 6 deep" in text
    assert "level2.yml" not in text  # 4 levels below it: allowed


def test_a_non_utf8_runbook_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_bytes(b"name: r\ntitle: caf\xe9\nsteps: []\n")
    assert problems_of(path) == [f"{path}: line 2: not UTF-8 text (byte 0xe9); save the file "
                                 "as UTF-8"]


def test_the_shipped_runbooks_pass_every_check() -> None:
    library = load_directories()
    assert len(library) == 9  # with promote-model and pin-prompt-version (the registry)
    assert main(["runbook", "validate"]) == 0

