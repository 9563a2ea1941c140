"""The catalog's validation messages and the core CLI commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config.catalog import CatalogError, load_catalog
from store.db import current_revision


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "resilio.yml"
    path.write_text(text)
    return path


def test_embedded_catalog_is_valid() -> None:
    catalog = load_catalog(None)
    assert catalog.service("rag-assistant") is not None
    assert catalog.service("rag-assistant").owners_for("data").users == ["U0DATA001"]
    assert catalog.service("checkout").owners_for("model").users == ["U0SRE0001"]  # default


def test_error_names_file_and_path(tmp_path: Path) -> None:
    path = write(tmp_path, """
services:
  - name: a
  - name: b
  - name: c
    owners:
      data: {users: [not-an-id]}
""")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert f"{path}: services[2].owners.data.users" in str(error.value)
    assert "not a Slack user id" in str(error.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("services: [{name: a, owners: {wizardry: {}}}]", "services[0].owners.wizardry"),
    ("services: [{name: a}, {name: a}]", "duplicate service 'a'"),
    ("teams: [{name: t, channel: C1, services: [ghost]}]", "unknown service 'ghost'"),
    ("services: [{name: a, typo_field: 1}]", "services[0].typo_field: Extra inputs"),
    ("services: [{name: a\n", "invalid YAML"),
    ("teams: [{name: t, channel: C1, services: [], digest: {timezone: Mars/Base}}]",
     "unknown time zone"),
])
def test_invalid_catalogs(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(CatalogError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_catalog(write(tmp_path, text))


def test_check_config_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "7 services" in out and "rag-assistant" in out
    bad = write(tmp_path, "services: [{name: a, owners: {data: {groups: [U123]}}}]")
    assert main(["--config", str(bad), "check-config"]) == 2
    assert "services[0].owners.data.groups" in capsys.readouterr().err


def test_db_upgrade_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    assert current_revision(url) is not None


def test_python_dash_m_bot_and_demo(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "demo", "--out", str(tmp_path),
                             "--quiet"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["incidents"], summary
    for incident in summary["incidents"]:
        assert {"id", "service", "status", "behavior", "timeline_length"} <= set(incident)
        assert incident["timeline_length"] >= 1
    # Runbooks act: a rollback from a Slack button and a fallback, each verified on the
    # demo gateway's own live signals; the rolled-back incident ends mitigated (then resolved).
    runs = {run["name"]: run for run in summary["runbook_runs"]}
    assert runs["rollback-model"]["status"] == "succeeded", runs
    assert runs["rollback-model"]["verdict"] == "recovered", runs
    assert runs["fallback-mode"]["status"] == "succeeded", runs
    assert runs["fallback-mode"]["verdict"] == "recovered", runs
    assert summary["runbook_gateway_after_rollback"]["model_version"] == "v7"
    rolled_back = next(i for i in summary["incidents"]
                       if i["id"] == runs["rollback-model"]["incident_id"])
    assert rolled_back["behavior"] == "model" and rolled_back["suspect_change"]["ref"] == "v8"
    # Silent degradation: kb-assistant has no alert rule; the watch opens a detector
    # incident on acme's drift, its channel opens and the week's digest counts it.
    detector = [i for i in summary["incidents"] if i["source"] == "detector"]
    assert [i["service"] for i in detector] == ["kb-assistant"], detector
    assert detector[0]["slices"][0]["dimension"] == "tenant", detector
    assert detector[0]["slices"][0]["value"] == "acme", detector
    assert detector[0]["id"] == summary["silent_degradation"]["incident_id"]
    channel = summary["silent_degradation"]["channel"]
    assert channel and channel.startswith(f"inc-{detector[0]['id']}-kb-assistant-"), channel
    assert summary["reports"]["silent_degradations"]["ml-platform"] >= 1
    digest = Path(summary["reports"]["digests"]["ml-platform"]).read_text()
    assert re.search(r"<b>[1-9]\d*</b>silent degradations found by the detector", digest)

