"""The behaviour fit's temperature choice and reliability diagram (benchmarks/calibration.py)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import calibration
from benchmarks.accuracy import expected_calibration_error


def test_one_easy_source_does_not_outvote_the_prior() -> None:
    """Two fitted sources of one author each predict the other almost perfectly, so the
    held-out log-loss alone asks for no softening (T 1.0); one observation per source
    cannot move the temperature far from the prior's centre (this fell to 1.0 before,
    and the third source, left out, had ECE 0.15)."""
    easy = {"a": lambda t: 0.04 * t ** 2, "b": lambda t: 0.01 * t ** 2}
    assert min(calibration.TEMPERATURE_GRID, key=lambda t: sum(f(t) for f in easy.values())) \
        == 1.0
    assert calibration.choose_temperature(easy) == calibration.TEMPERATURE_PRIOR


def test_many_sources_that_need_softening_move_the_temperature() -> None:
    """The data do take over: sources whose held-out loss is least at T 2.5 pull the
    choice above the prior's centre."""
    hard = {str(i): (lambda t: (t - 2.5) ** 2) for i in range(8)}
    assert calibration.choose_temperature(hard) > calibration.TEMPERATURE_PRIOR
    assert calibration.choose_temperature({}) == calibration.TEMPERATURE_PRIOR


def test_reliability_bins_match_the_calibration_error(tmp_path: Path) -> None:
    confidence = [0.95, 0.95, 0.9, 0.55, 0.52, 0.3]
    correct = [True, True, False, True, False, False]
    bins = calibration.reliability_bins(confidence, correct)
    assert [n for _, _, n in bins] == [1, 2, 1, 2]
    ece = sum(n * abs(acc - conf) for conf, acc, n in bins) / len(correct)
    assert abs(ece - expected_calibration_error(confidence, correct)) < 1e-12
    path = tmp_path / "reliability.png"
    calibration.draw_reliability({"held out": [("x", confidence, correct, ece)]}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
