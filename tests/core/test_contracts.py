"""Golden shapes of the public outputs, pinned so a restructure cannot change them unseen.

``resilio classify --json`` (DESIGN.md's contract) and the demo's ``summary.json`` are
read by other tools; what they hold may improve (labels, figures), but their shape
(which keys, of which JSON types, nested how) is fixed here. An empty list matches
any list, since whether a failure has slices is the classifier's call. To change a
shape on purpose, regenerate with ``RESILIO_WRITE_GOLDEN=1 pytest
tests/core/test_contracts.py`` and say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.simulator import generate

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"


# Objects keyed by data, not by the contract: a slice maps the dimensions the classifier
# found (tenant, segment, ...) to their values, so which keys it has is an answer.
SLICE_MAPS = ("slice", "drifting_slice")


def _merged(a: Any, b: Any) -> Any:
    """The union of two shapes: objects key by key (deep), else the later one."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {key: _merged(a[key], b[key]) if key in a and key in b else a.get(key, b.get(key))
                for key in sorted(set(a) | set(b))}
    return b


def shape(value: Any) -> Any:
    """The JSON type tree of ``value``: objects by key, lists by the union of their items,
    and a slice map as a map of strings whatever dimensions it names."""
    if isinstance(value, dict):
        return {key: "map of strings" if key in SLICE_MAPS and isinstance(item, dict)
                else shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        union: Any = {}
        for item in value:
            union = _merged(union, shape(item) if isinstance(item, dict)
                            else {"<item>": shape(item)})
        return [union] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


def same_shape(actual: Any, golden: Any, where: str = "$") -> list[str]:
    """Where ``actual`` differs from ``golden`` (null matches any type: optional fields)."""
    if actual == [] or golden == [] or "null" in (actual, golden):
        return []
    if isinstance(golden, dict) and isinstance(actual, dict):
        problems = [f"{where}.{key}: missing" for key in golden if key not in actual]
        problems += [f"{where}.{key}: new" for key in actual if key not in golden]
        for key in set(golden) & set(actual):
            problems += same_shape(actual[key], golden[key], f"{where}.{key}")
        return problems
    if isinstance(golden, list) and isinstance(actual, list):
        return same_shape(actual[0], golden[0], f"{where}[]")
    return [] if actual == golden else [f"{where}: {actual} instead of {golden}"]


@pytest.mark.parametrize("label,seed", [("data", 1003), ("model", 1104), ("cost", 1207)])
def test_classify_json_keeps_its_shape(label: str, seed: int, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    scenario = generate(label, seed)
    source = tmp_path / "s.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in scenario.records))
    assert main(["classify", str(source), "--json"]) == 0
    actual = shape(json.loads(capsys.readouterr().out))
    path = GOLDEN / f"classify_{label}.json"
    if os.environ.get("RESILIO_WRITE_GOLDEN"):
        path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
    problems = same_shape(actual, json.loads(path.read_text()))
    assert not problems, "the shape of `resilio classify --json` changed:\n" + "\n".join(problems)


def test_a_slice_is_a_map_whatever_it_names() -> None:
    """Which dimensions a finding is sliced by is the classifier's answer, not the shape:
    before, the last evidence item's slice stood for all of them, so a new all-traffic
    finding at the end of the list failed the check ('slice.tenant: missing')."""
    golden = shape({"evidence": [{"slice": {"tenant": "acme"}}, {"slice": {}}]})
    actual = shape({"evidence": [{"slice": {"segment": "long"}}, {"slice": {}}]})
    assert same_shape(actual, golden) == []
    assert golden == {"evidence": [{"slice": "map of strings"}]}
    nested = shape({"items": [{"a": {"x": 1}}, {"a": {"y": "s"}}]})
    assert nested == {"items": [{"a": {"x": "number", "y": "string"}}]}


def test_the_shape_check_sees_a_renamed_key() -> None:
    golden = shape({"behavior": "data", "slices": [{"dimension": "tenant", "value": "acme"}]})
    renamed = shape({"behaviour": "data", "slices": [{"dim": "tenant", "value": "acme"}]})
    assert same_shape(renamed, golden) == ["$.behavior: missing", "$.behaviour: new",
                                           "$.slices[].dimension: missing",
                                           "$.slices[].dim: new"]


@pytest.mark.slow
def test_the_demo_runs_and_its_summary_keeps_its_shape(tmp_path: Path) -> None:
    """The README's first command, end to end, on the embedded defaults (no Slack account):
    the golden was written by the demo of the code before the restructure."""
    out = tmp_path / "demo"
    done = subprocess.run([sys.executable, "-m", "bot", "demo", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    problems = same_shape(shape(summary), json.loads((GOLDEN / "demo_summary.json").read_text()))
    assert not problems, "the shape of the demo's summary.json changed:\n" + "\n".join(problems)
    detector = [i for i in summary["incidents"] if i["source"] == "detector"]
    assert detector and detector[0]["slices"], "the watch's silent degradation is shown"
