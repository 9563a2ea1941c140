"""``resilio classify FILE --json``: the public contract of DESIGN.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.simulator import generate, healthy_day
from tests.diagnosis.helpers import series, ts

KEYS = {"behavior", "confidence", "scores", "onset", "evidence", "slices", "suspect_changes",
        "suggested_runbooks", "explanation"}


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def classify(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["classify", *args, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object
    return json.loads(out)


def test_contract_on_a_sliced_data_failure(tmp_path: Path, capsys) -> None:
    scenario = generate("data", 1003)
    result = classify(capsys, str(write(tmp_path / "s.jsonl", scenario.records)))
    assert set(result) >= KEYS
    assert result["behavior"] == "data"
    assert sum(result["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    assert set(result["scores"]) == {"infrastructure", "data", "control_plane", "model",
                                     "eval_policy", "cost", "none"}
    assert result["onset"].endswith("Z")
    for item in result["evidence"]:
        assert {"layer", "name", "slice", "detector", "statistic", "p_value", "effect"} <= set(item)
    assert result["suspect_changes"][0]["ref"] == scenario.truth["culprit"]


def test_only_acme_fails(tmp_path: Path, capsys) -> None:
    records = []
    for i, tenant in enumerate(["acme", "globex", "initech"]):
        bad = tenant == "acme"
        records += series("feature_null_rate", "data", 0.01, 0, count=500, onset=150 if bad
                          else None, factor=8.0, seed=i, slice_={"tenant": tenant})
    result = classify(capsys, str(write(tmp_path / "acme.jsonl", records)))
    assert result["behavior"] == "data"
    assert [(s["dimension"], s["value"]) for s in result["slices"]] == [("tenant", "acme")]


def test_global_failure_has_no_slices(tmp_path: Path, capsys) -> None:
    records = []
    for i, tenant in enumerate(["acme", "globex", "initech"]):
        records += series("error_rate", "runtime", 0.01, 0, count=500, onset=150, factor=6.0,
                          seed=i, slice_={"tenant": tenant})
    result = classify(capsys, str(write(tmp_path / "global.jsonl", records)))
    assert result["behavior"] == "infrastructure"
    assert result["slices"] == []


def test_at_uses_only_records_up_to_the_alert(tmp_path: Path, capsys) -> None:
    records = series("p99_latency_ms", "runtime", 400, 20, onset=150, factor=3.0)
    path = write(tmp_path / "lat.jsonl", records)
    before = classify(capsys, str(path), "--at", ts(140))
    after = classify(capsys, str(path), "--at", ts(170))
    assert before["behavior"] == "none"
    assert after["behavior"] == "infrastructure"


def test_healthy_and_several_services(tmp_path: Path, capsys) -> None:
    healthy = [r for r in healthy_day(11, service="calm", minutes=240).records]
    sick = series("judge_score", "eval", 0.85, 0.01, onset=200, factor=0.6, minutes=240,
                  service="noisy")
    path = write(tmp_path / "two.jsonl", healthy + sick)
    assert classify(capsys, str(path))["behavior"] == "eval_policy"  # the anomalous one
    assert classify(capsys, str(path), "--service", "calm")["behavior"] == "none"


def test_unknown_names_without_counts_or_direction(tmp_path: Path, capsys) -> None:
    records = (series("widget_factor", "cost", 10, 0.3, onset=150, factor=2.0)
               + series("mystery", "quality", 5, 0.2, seed=3))
    result = classify(capsys, str(write(tmp_path / "u.jsonl", records)))
    assert result["behavior"] == "cost"


def test_bad_lines_are_reported_not_fatal(tmp_path: Path, capsys) -> None:
    records = series("p99_latency_ms", "runtime", 400, 20, minutes=60)
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n" + "".join(json.dumps(r) + "\n" for r in records))
    result = classify(capsys, str(path))
    assert result["behavior"] == "none"
    assert result["refused_lines"][0]["line"] == 1


def test_the_collector_paused_for_classify_is_running_again_after(tmp_path: Path,
                                                                  capsys) -> None:
    import gc

    assert gc.isenabled()
    classify(capsys, str(write(tmp_path / "s.jsonl", generate("data", 1003).records)))
    assert gc.isenabled()
    # also after a refusal that ends the command with an error
    assert main(["classify", str(tmp_path / "absent.jsonl"), "--json"]) == 2
    assert gc.isenabled()
