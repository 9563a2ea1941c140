"""``resilio signals check`` against the real Prometheus, and the shipped example catalog."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from bot.cli.main import main
from bot.config.catalog import load_catalog
from tests.prometheus.conftest import SLOS, signal_specs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prometheus-catalog.yml"


def _catalog_file(tmp_path: Path, url: str) -> Path:
    specs = signal_specs()
    specs.append({"name": "index_lag_seconds", "layer": "freshness",
                  "source": {"type": "prometheus", "query": "max(index_lag_seconds)",
                             "step": "1s"}})
    path = tmp_path / "resilio.yml"
    path.write_text(yaml.safe_dump({
        "prometheus": {"url": url, "timeout_seconds": 3},
        "services": [{"name": "rag-assistant", "slos": SLOS, "signals": specs}]}))
    return path


def test_check_prints_one_row_per_query_with_what_came_back(tmp_path, prometheus,
                                                            capsys) -> None:
    config = _catalog_file(tmp_path, prometheus.url)
    code = main(["--config", str(config), "signals", "check", "--window", "30s"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["service", "signal", "layer", "series", "points", "latest",
                                "error"]
    assert len(lines) == 6
    cells = re.split(r"\s{2,}", lines[1])
    assert cells[:3] == ["rag-assistant", "thumbs_down_rate by tenant", "quality"]
    series, points = int(cells[3]), int(cells[4])
    assert series == 3 and 3 * 28 <= points <= 3 * 31  # one point a second for 30 s
    assert "query returned no series: max(index_lag_seconds)" in lines[5]
    assert code == 1  # one signal failed

    code = main(["--config", str(config), "signals", "check", "--window", "30s", "--json"])
    rows = json.loads(capsys.readouterr().out)["data"]
    state = next(r for r in rows if r["signal"] == "served_model_version by route")
    assert (state["series"], state["latest"], state["ok"]) == (1, "v7", True)


def test_check_says_when_prometheus_is_down(tmp_path, capsys) -> None:
    from tests.support.prometheus import free_port

    config = _catalog_file(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert main(["--config", str(config), "signals", "check", "--service",
                 "rag-assistant"]) == 1
    out = capsys.readouterr().out
    assert out.count("is unreachable") == 5


def test_the_example_catalog_is_valid_and_maps_common_exporters() -> None:
    catalog = load_catalog(EXAMPLE)
    queries = " ".join(spec.source.query for service in catalog.services
                       for spec in service.signals if spec.pulled)
    for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED",
                   "vllm:e2e_request_latency_seconds_bucket", "vllm:num_requests_waiting",
                   "vllm:generation_tokens_total", "nv_inference_request_success",
                   "nv_inference_queue_duration_us", "http_requests_total"):
        assert metric in queries
