"""``benchmarks/accuracy.py --misses`` lists every label miss, not the first 10 or 40."""

from __future__ import annotations

import pytest

from benchmarks.accuracy import report


def _row(i: int) -> dict:
    return {"truth": "infrastructure", "variant": "dependency_timeout", "key": ("x", i),
            "predicted": "none", "confidence": 0.6, "seconds": 0.01, "slice_truth": None,
            "slice": None, "culprit": None, "suspect": None, "b_predicted": "none",
            "b_slice": None, "b_suspect": None}


def test_every_miss_and_the_confusion_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    report("independent", [_row(i) for i in range(55)], verbose=False, misses=True)
    out = capsys.readouterr().out
    assert out.count("  miss: infrastructure/dependency_timeout") == 55
    assert "confusion (rows: truth, columns: predicted)" in out


def test_without_it_the_list_stays_short(capsys: pytest.CaptureFixture[str]) -> None:
    report("independent", [_row(i) for i in range(55)], verbose=False)
    assert capsys.readouterr().out.count("  miss:") == 10


def test_a_holdouts_misses_are_never_listed(capsys: pytest.CaptureFixture[str]) -> None:
    # the holdouts are report-only: their figures print, their misses must not,
    # with --misses or without (the first ten used to print by default)
    for misses in (False, True):
        report("holdout", [_row(i) for i in range(12)], verbose=False, misses=misses)
        assert capsys.readouterr().out.count("  miss:") == 0
