"""``python -m bot classify`` as its own process: the entry point a user runs.

The in-process tests call ``main``; this one runs the process entry (``bot.cli.main.run``,
which also freezes the objects before exit), so the exit codes, the one JSON line
and the refused lines are those a shell sees, and the imports are those of a cold start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.simulator import generate


def _classify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "classify", *args], capture_output=True,
                          text=True, check=False, timeout=120)


def test_the_process_prints_one_json_line_and_names_refused_lines(tmp_path: Path) -> None:
    scenario = generate("data", 1003)
    lines = [json.dumps(r) for r in scenario.records]
    lines.insert(3, '{"type":"signal","ts":"2026-11-25T06:00:00Z","service":"x",'
                    '"layer":"data","name":"n","value":NaN}')
    lines.insert(5, "not json")
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = _classify(str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1
    result = json.loads(done.stdout)
    assert result["behavior"] == "data"
    refused = {item["line"]: item["reason"] for item in result["refused_lines"]}
    assert set(refused) == {4, 6}
    assert "value" in refused[4]
    assert refused[6].startswith("invalid JSON: ")


def test_the_process_exits_2_with_one_line_for_a_missing_file(tmp_path: Path) -> None:
    done = _classify(str(tmp_path / "absent.jsonl"), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == f"error: {tmp_path / 'absent.jsonl'}: cannot read: " \
                                  "No such file or directory"
