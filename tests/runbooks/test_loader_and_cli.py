"""Bad runbook files are refused with file, path and problem; the CLI lists, validates, runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main as resilio
from runbooks.loader import RunbookError, load_directories, load_file
from tests.runbooks.support import build_bot, open_incident

SHIPPED = {"rollback-model", "rollback-prompt", "pin-retrieval-index", "fallback-mode",
           "disable-flag", "scale-replicas", "cap-tokens"}


def test_shipped_runbooks_are_valid_and_destructive_ones_need_approval() -> None:
    runbooks = load_directories()
    assert set(runbooks) >= SHIPPED
    needs_approval = {name for name, r in runbooks.items() if r.approval.required}
    assert needs_approval == {"rollback-model", "promote-model", "pin-retrieval-index"}
    modes = runbooks["fallback-mode"].parameter("mode")
    assert modes is not None and modes.choices == ["cached", "smaller-model", "retrieval-only",
                                                   "rules-based"]
    assert runbooks["rollback-model"].steps[-1].kind == "verify"


@pytest.mark.parametrize(("text", "expected"), [
    ("name: x\ntitle: X\nsteps:\n  - {id: a, kind: teleport}\n",
     "steps[0]: Input tag 'teleport' found using 'kind' does not match"),
    ("name: x\ntitle: X\nparameters:\n  - {name: m, type: enum, choices: [a, b], default: c}\n"
     "steps:\n  - {id: a, kind: wait, seconds: 1}\n",
     "parameters[0]: default: 'c' is not one of a, b"),
    ("name: x\ntitle: X\nsteps:\n  - {id: a, kind: wait, seconds: 1, on_failure: compensate}\n",
     "steps[0]: on_failure: compensate needs a 'compensate' list"),
    ("name: x\ntitle: X\nsteps:\n  - {id: a, kind: wait, seconds: 1}\n"
     "  - {id: a, kind: wait, seconds: 2}\n", "steps[1].id: duplicate step id 'a'"),
    ("name: x\ntitle: X\napproval: {required: true}\nsteps:\n  - {id: a, kind: wait, seconds: 1}\n",
     "approval: approval.required needs at least one approver"),
    ("name: x\ntitle: X\nsteps:\n  - {id: a, kind: notify, text: '{{ params.x '}\n",
     "steps[0].text: template syntax"),
    ("name: x\ntitle: X\nsteps:\n  - {id: a, kind: http, url: u, methd: GET}\n",
     "steps[0].methd: Extra inputs are not permitted"),
    ("name: x\ntitle: X\nsteps: [\n", "line 4, column 1: invalid YAML"),
])
def test_invalid_files_say_file_path_and_problem(tmp_path: Path, text: str,
                                                 expected: str) -> None:
    file = tmp_path / "bad.yml"
    file.write_text(text)
    with pytest.raises(RunbookError) as caught:
        load_file(file)
    assert str(file) in str(caught.value)
    assert expected in str(caught.value)


def test_directories_report_every_problem_and_dangling_calls(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("name: a\ntitle: A\nsteps:\n"
                                    "  - {id: s, kind: runbook, runbook: nowhere}\n")
    (tmp_path / "b.yml").write_text("name: b\ntitle: B\nsteps: []\n")
    with pytest.raises(RunbookError) as caught:
        load_directories([tmp_path])
    problems = caught.value.problems
    assert any("b.yml: steps: List should have at least 1 item" in p for p in problems)
    assert any("a.yml: steps[0].runbook: unknown runbook 'nowhere'" in p for p in problems)


def test_cli_list_validate_and_run(gateway, tmp_path, sqlite_url, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert resilio(["runbook", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in SHIPPED) and "[approval]" in listed

    assert resilio(["runbook", "validate"]) == 0
    assert "ok: " in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text("name: Bad Name\ntitle: X\nsteps:\n  - {id: a, kind: wait, seconds: 1}\n")
    assert resilio(["runbook", "validate", str(bad)]) == 1
    assert f"{bad}: name: String should match pattern" in capsys.readouterr().err

    services = build_bot(sqlite_url)
    incident_id = open_incident(services, behavior="control_plane")
    services.close()
    common = ["runbook", "run", "disable-flag", "--incident", str(incident_id),
              "--param", "flag=streaming", "--param", f"gateway_url={gateway.url}"]
    assert resilio([*common, "--dry-run"]) == 0
    assert '"flag": "streaming"' in capsys.readouterr().out
    assert gateway.state()["flags"]["streaming"] is True  # a dry run changes nothing
    assert resilio(common) == 0
    out = capsys.readouterr().out
    assert "succeeded" in out and "Feature flag streaming is off" in out
    assert gateway.state()["flags"]["streaming"] is False
    assert resilio(["runbook", "run", "disable-flag", "--incident", str(incident_id),
                    "--param", "nonsense"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_cli_list_for_an_incident_puts_the_librarys_suggestions_first(  # type: ignore[no-untyped-def]
        tmp_path, sqlite_url, monkeypatch, capsys):
    """``resilio runbook list --incident N``: what the summary's buttons offer, with why,
    a team runbook from the catalog's directory among them."""
    from tests.slack.conftest import catalog_with_runbooks

    team = {"name": "drain-reranker", "title": "Drain the reranker pool",
            "applies_to": {"classes": ["model"]},
            "steps": [{"id": "say", "kind": "notify", "text": "drained"}]}
    catalog_with_runbooks(tmp_path, [team])
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    services = build_bot(sqlite_url)
    incident_id = open_incident(services, behavior="model")
    services.close()
    config = ["--config", str(tmp_path / "resilio.yml")]
    assert resilio([*config, "runbook", "list", "--incident", str(incident_id)]) == 0
    lines = capsys.readouterr().out.splitlines()
    suggested = lines[0].split(": ", 1)[1].split(", ")
    assert lines[0].startswith(f"suggested for incident #{incident_id}: ")
    assert "drain-reranker" in suggested and "rollback-model" in suggested
    assert "scale-replicas" not in suggested  # infrastructure only
    assert lines[1].startswith(suggested[0]) and "* suggested: model failure" in lines[1]
    assert any(line.startswith("scale-replicas") and "suggested" not in line
               for line in lines)  # the others follow, unmarked
    assert resilio([*config, "runbook", "list", "--incident", "9999"]) == 2
    assert "no incident with id 9999" in capsys.readouterr().err
