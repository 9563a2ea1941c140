"""The watch speed benchmark runs end to end on a small catalog and prints its verdict lines."""

from __future__ import annotations

import re

import pytest

from benchmarks import watch_speed

VERDICT = re.compile(r"^(?P<what>[^:]+): ours (?P<ours>[0-9.]+) \| reference \(([^)]+)\) "
                     r"(?P<ref>[0-9.]+) \| ratio [0-9.]+ \| target < 1 \| (PASS|FAIL)$")


def test_the_benchmark_times_the_decision_and_the_store(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert watch_speed.main(["--services", "1", "--minutes", "2",
                             "--reference-services", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    verdicts = [m for m in map(VERDICT.match, lines) if m]
    assert [m["what"].split(" over ")[0] for m in verdicts] == [
        "watch decision", "watch with its SQLite store"]
    decision, whole = (float(m["ours"]) for m in verdicts)
    assert 0 < decision <= whole  # the store's time comes on top of the decision's
    assert all(float(m["ref"]) > 0 for m in verdicts)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        watch_speed.main(["--minutes", "0"])
