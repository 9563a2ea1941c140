"""An incident with nothing measured says so instead of calling the service healthy."""

from __future__ import annotations

from bot.core.exchange import parse_lines
from bot.diagnosis.pipeline import diagnose


def test_no_signals_is_none_and_says_why() -> None:
    batch = parse_lines('{"type":"alert","ts":"2026-11-26T10:00:00Z","service":"checkout",'
                        '"name":"HighP99Latency"}')
    result = diagnose(batch.records)
    assert result.behavior == "none"
    assert result.explanation.startswith("no signals to diagnose")
    assert result.slices == [] and result.suspect_changes == []


def test_nothing_measured_claims_no_confidence() -> None:
    # an alert and nothing else: no evidence of health either (0.93 "none" before)
    batch = parse_lines('{"type":"alert","ts":"2026-11-26T10:00:00Z","service":"checkout",'
                        '"name":"HighP99Latency"}')
    result = diagnose(batch.records)
    assert result.behavior == "none"
    assert result.confidence < 0.5
    assert max(result.scores.values()) == result.scores["none"]
    assert abs(sum(result.scores.values()) - 1.0) < 1e-9
