"""SLO definitions in the catalog: valid ones load, invalid ones say where and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config.catalog import CatalogError, load_catalog, parse_catalog


def test_the_shipped_example_catalog_has_typed_slos() -> None:
    catalog = load_catalog(None)
    rag = catalog.service("rag-assistant")
    assert rag is not None
    kinds = {s.sli.kind for s in rag.slos}
    assert {"availability", "latency", "quality", "freshness", "cost"} <= kinds
    groundedness = next(s for s in rag.slos if s.name == "groundedness")
    assert groundedness.sli.describe() == "groundedness >= 0.85"
    assert groundedness.timeslice_length == timedelta(minutes=5)
    assert catalog.service("fraud-scorer").slos


def _error(slos: list[dict]) -> str:
    with pytest.raises(CatalogError) as raised:
        parse_catalog({"services": [{"name": "svc", "slos": slos}]}, "resilio.yml")
    return str(raised.value)


GOOD = {"name": "availability", "sli": {"kind": "availability", "signal": "error_rate"},
        "target": 0.995}


def test_target_error_names_the_path_and_reason() -> None:
    message = _error([GOOD, {**GOOD, "name": "b", "target": 99.5}])
    assert "resilio.yml: services[0].slos[1].target" in message
    assert "write 0.995" in message
    assert "no error budget" in _error([{**GOOD, "target": 1.0}])


@pytest.mark.parametrize(("change", "path", "reason"), [
    ({"window": "30x"}, "services[0].slos[0].window", "not a duration"),
    ({"window": "2h"}, "services[0].slos[0].window", "shorter than a day"),
    ({"budgeting": "timeslices"}, "services[0].slos[0]", "needs a bound"),
    ({"sli": {"kind": "quality", "signal": "groundedness", "op": ">="}},
     "services[0].slos[0].sli", "'op' and 'threshold' go together"),
    ({"sli": {"kind": "vibes", "signal": "x"}}, "services[0].slos[0].sli.kind", "availability"),
    ({"sli": {"kind": "availability", "good": "ok"}}, "services[0].slos[0].sli", "'total'"),
    ({"sli": {"kind": "latency", "signal": "p95", "op": "=<", "threshold": 1}},
     "services[0].slos[0].sli.op", "'<='"),
    ({"surprise": 1}, "services[0].slos[0].surprise", "Extra inputs"),
])
def test_invalid_definitions_fail_with_path(change: dict, path: str, reason: str) -> None:
    message = _error([{**GOOD, **change}])
    assert f"resilio.yml: {path}" in message
    assert reason in message


def test_duplicate_slo_names_are_refused() -> None:
    assert "duplicate SLO name 'availability'" in _error([GOOD, GOOD])


def test_calendar_windows() -> None:
    catalog = parse_catalog({"services": [{"name": "svc", "slos": [
        {**GOOD, "window": "calendar_month"}, {**GOOD, "name": "w", "window": "calendar_week"}]}]})
    month, week = catalog.services[0].slos
    now = datetime(2026, 2, 11, 15, 30, tzinfo=UTC)  # a Wednesday
    assert month.window_bounds(now) == (datetime(2026, 2, 1, tzinfo=UTC),
                                        datetime(2026, 3, 1, tzinfo=UTC))
    assert week.window_bounds(now) == (datetime(2026, 2, 9, tzinfo=UTC),
                                       datetime(2026, 2, 16, tzinfo=UTC))
