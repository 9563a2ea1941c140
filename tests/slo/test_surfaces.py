"""The SLO surfaces: the Slack table within Slack's limits, the JSON API, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.api.slo import build_router
from bot.cli.main import main
from bot.config.catalog import load_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from bot.devtools.slack_emulator.limits import blocks_errors
from bot.slo.compute import slo_status
from bot.views.slo import impact_lines, slo_table_blocks
from tests.slo.streams import START, rag_stream

NOW = START + timedelta(minutes=1499)


@pytest.fixture(scope="module")
def statuses() -> list:
    records = rag_stream(START, 1500,
                         lambda i: {"groundedness": 0.7} if i >= 1440 else {})
    slos = load_catalog(None).service("rag-assistant").slos
    return [slo_status(s, records, service="rag-assistant", now=NOW) for s in slos]


def test_slack_table_is_compact_and_within_limits(statuses: list) -> None:
    blocks = slo_table_blocks(statuses, title="SLOs: rag-assistant")
    assert blocks_errors(blocks) == []
    table = blocks[1]["text"]["text"]
    assert "groundedness" in table and "page" in table and "100.0x" in table
    assert "rag-assistant/groundedness" in blocks[-1]["elements"][0]["text"]


def test_slack_table_caps_blocks_and_section_text(statuses: list) -> None:
    many = []
    for n in range(80):  # 80 services of 60 objectives each
        for k in range(60):
            row = statuses[k % len(statuses)].to_dict()
            many.append({**row, "service": f"svc-{n}", "slo": f"objective-{k}"})
    blocks = slo_table_blocks(many)
    assert len(blocks) == 50
    assert blocks_errors(blocks) == []
    assert "more objectives" in blocks[1]["text"]["text"]
    assert "32 more services not shown" in blocks[-1]["elements"][0]["text"]


def test_no_slos_says_so() -> None:
    blocks = slo_table_blocks([])
    assert "No SLOs" in blocks[-1]["text"]["text"]


def test_impact_lines() -> None:
    impact = {"slos": {
        "availability": {"share": 0.0, "window": "30d", "excess_bad": 0.0, "unit": "events"},
        "groundedness": {"share": 0.1379, "window": "30d", "excess_bad": 11.92,
                         "unit": "timeslices", "slices": {"tenant=acme": {"share": 0.1389}}}}}
    lines = impact_lines(impact)
    assert lines[0] == ("groundedness: 13.8% of the 30d budget (11.92 bad timeslices beyond "
                        "baseline); by slice: tenant=acme 13.9%")


@pytest.fixture
def services(sqlite_url: str) -> Iterator[Services]:
    built = build_services(Settings(DATABASE_URL=sqlite_url, RESILIO_API_TOKEN="api-token"),
                           load_catalog(None))
    yield built
    built.close()


def test_api_lists_every_slo_and_one_service(services: Services) -> None:
    app = FastAPI()
    app.state.services = services  # as bot.app.http.create_app does: the routes' ServicesDep
    app.include_router(build_router(services))
    client = TestClient(app)
    auth = {"Authorization": "Bearer api-token"}
    assert client.get("/v1/slo").status_code == 401
    body = client.get("/v1/slo", headers=auth).json()
    names = {(row["service"], row["slo"]) for row in body["data"]}
    assert ("rag-assistant", "groundedness") in names and ("fraud-scorer", "fallback") in names
    # No signals stored: every objective says so instead of failing.
    assert {row["status"] for row in body["data"]} == {"no_data"}
    one = client.get("/v1/slo/rag-assistant", headers=auth,
                     params={"at": "2026-11-26T01:00:00Z"}).json()
    assert one["count"] == 6 and one["computed_at"] == "2026-11-26T01:00:00Z"
    assert client.get("/v1/slo/nope", headers=auth).status_code == 404


def test_cli_slo_status_table_and_json(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["slo", "status", "--service", "rag-assistant", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["data"]
    assert [row["slo"] for row in rows][:2] == ["availability", "latency"]
    assert main(["slo", "status"]) == 0
    table = capsys.readouterr().out
    assert "fraud-scorer" in table and "attain" in table
    assert main(["slo", "status", "--service", "nope"]) == 2
    assert "unknown service 'nope'" in capsys.readouterr().err


def test_check_config_fails_on_an_invalid_slo(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "resilio.yml"
    config.write_text("services:\n  - name: svc\n    slos:\n"
                      "      - {name: a, sli: {kind: availability, signal: error_rate},"
                      " target: 0.99}\n"
                      "      - {name: b, sli: {kind: availability, signal: error_rate},"
                      " target: 99.9}\n")
    assert main(["--config", str(config), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "services[0].slos[1].target" in err and "write 0.999" in err
