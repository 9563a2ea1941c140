"""``resilio check-config`` refuses what would fail at the moment of a page, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli.main import main
from bot.config.catalog import CatalogError, load_catalog

GOOD_SERVICE = {"name": "svc", "alerts_channel": "C0ALERTS01",
                "owners": {"default": {"users": ["U0SRE0001"]}},
                "escalation": {"chain": ["U0SRE0001"]}}


def write_catalog(folder: Path, services: list[dict], **extra: object) -> Path:
    path = folder / "resilio.yml"
    path.write_text(yaml.safe_dump({"services": services, **extra}, sort_keys=False))
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--config", str(path), "check-config"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_good_catalog_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(write_catalog(tmp_path, [GOOD_SERVICE]), capsys)
    assert code == 0, out
    assert "OK" in out


@pytest.mark.parametrize(("change", "where", "reason"), [
    ({"owners": {}}, "services[0].owners", "'svc' has no owners"),
    ({"owners": {"data": {}}}, "services[0].owners.data", "names no user and no group"),
    ({"escalation": {"chain": ["@bob"]}}, "services[0].escalation.chain",
     "'@bob' is not a Slack user id"),
    ({"alerts_channel": "#alerts"}, "services[0].alerts_channel",
     "'#alerts' is not a Slack channel id"),
    ({"alerts_channel": "general"}, "services[0].alerts_channel",
     "'general' is not a Slack channel id"),
    ({"runbooks": ["does-not-exist"]}, "services[0].runbooks[0]",
     "unknown runbook 'does-not-exist' (known: cap-tokens"),
])
def test_each_mistake_is_refused_with_file_path_and_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, where: str,
        reason: str) -> None:
    path = write_catalog(tmp_path, [{**GOOD_SERVICE, **change}])
    code, out = check(path, capsys)
    assert code == 2
    assert "OK" not in out
    assert f"{path}: {where}: {reason}" in out


def test_team_channel_names_are_refused(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write_catalog(tmp_path, [GOOD_SERVICE],
                         teams=[{"name": "t", "channel": "general", "services": ["svc"]}])
    code, out = check(path, capsys)
    assert code == 2
    assert f"{path}: teams[0].channel: 'general' is not a Slack channel id" in out


def test_a_missing_runbook_directory_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write_catalog(tmp_path, [GOOD_SERVICE], runbooks={"directories": ["ops-runbooks"]})
    code, out = check(path, capsys)
    assert code == 2
    assert f"{path}: runbooks.directories[0]: '{tmp_path / 'ops-runbooks'}' is not a " \
           "directory" in out


def test_every_problem_of_the_file_is_reported_at_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services = [
        {**GOOD_SERVICE, "name": "a", "alerts_channel": "#alerts"},
        {**GOOD_SERVICE, "name": "b", "escalation": {"chain": ["@bob"]}},
        {**GOOD_SERVICE, "name": "a"},
    ]
    path = write_catalog(tmp_path, services,
                         teams=[{"name": "t", "channel": "C0TEAM0001", "services": ["ghost"]}])
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    # Schema problems come first; the cross-references only once the shapes are right.
    assert [p.split(": ")[1] for p in caught.value.problems] == [
        "services[0].alerts_channel", "services[1].escalation.chain"]
    fixed = [{**s, "alerts_channel": "C0ALERTS01", "escalation": {"chain": []}}
             for s in services]
    path = write_catalog(tmp_path, fixed,
                         teams=[{"name": "t", "channel": "C0TEAM0001", "services": ["ghost"]}])
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.problems == [
        f"{path}: services[2].name: duplicate service 'a'",
        f"{path}: teams[0].services[0]: unknown service 'ghost'"]

    # check-config: owners, runbook names and directories together, each on its line.
    many = [{**GOOD_SERVICE, "name": "x", "owners": {}, "runbooks": ["nope"]},
            {**GOOD_SERVICE, "name": "y", "runbooks": ["rollback-model", "also-nope"]}]
    path = write_catalog(tmp_path, many, runbooks={"directories": ["missing"]})
    code, out = check(path, capsys)
    assert code == 2
    assert "invalid configuration (4 problems)" in out
    for expected in ("services[0].owners: 'x' has no owners",
                     "services[0].runbooks[0]: unknown runbook 'nope'",
                     "services[1].runbooks[1]: unknown runbook 'also-nope'",
                     "runbooks.directories[0]:"):
        assert f"{path}: {expected}" in out


def test_a_non_utf8_catalog_is_one_clear_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "resilio.yml"
    path.write_bytes(b"services:\n  - name: caf\xe9\n")
    code, out = check(path, capsys)
    assert code == 2
    assert "Traceback" not in out
    assert f"{path}: line 2, column 14: not UTF-8 text (byte 0xe9)" in out


def test_a_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "resilio.yml"
    path.write_bytes("\ufeffservices: [{name: a}]\n".encode())
    assert load_catalog(path).service("a") is not None


def test_verify_checks_must_read_signals_the_service_reports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ops"
    folder.mkdir()
    (folder / "check-quality.yml").write_text(
        "name: check-quality\ntitle: Check quality\nsteps:\n"
        "  - id: v\n    kind: verify\n    checks:\n      - {signal: groundednes, min: 0.8}\n")
    service = {**GOOD_SERVICE, "runbooks": ["check-quality"],
               "slos": [{"name": "g", "target": 0.99,
                         "sli": {"kind": "quality", "signal": "groundedness", "op": ">=",
                                 "threshold": 0.85}}]}
    path = write_catalog(tmp_path, [service], runbooks={"directories": ["ops"]})
    code, out = check(path, capsys)
    assert code == 2
    assert (f"{folder / 'check-quality.yml'}: steps[0].checks[0].signal: 'groundednes' is not "
            "a signal svc reports (known: groundedness)") in out
    assert main(["--config", str(path), "runbook", "validate"]) == 1
    assert "'groundednes' is not a signal svc reports" in capsys.readouterr().err
    assert main(["--config", str(path), "runbook", "validate",
                 str(folder / "check-quality.yml")]) == 1
    assert "'groundednes' is not a signal svc reports" in capsys.readouterr().err
    # Declared as a pushed signal, the same name passes.
    service["signals"] = [{"name": "groundednes", "layer": "quality"}]
    code, out = check(write_catalog(tmp_path, [service], runbooks={"directories": ["ops"]}),
                      capsys)
    assert code == 0, out


def test_serve_refuses_the_same_configuration(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write_catalog(tmp_path, [{**GOOD_SERVICE, "owners": {}}])
    assert main(["--config", str(path), "serve", "--host", "127.0.0.1", "--no-migrate",
                 "--port", "1"]) == 2
    assert "'svc' has no owners" in capsys.readouterr().err


def test_the_embedded_catalog_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    assert "OK" in capsys.readouterr().out
