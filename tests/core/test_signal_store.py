"""Signals stored and read back as exchange records, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.changes.history import load_changes
from bot.core.exchange import parse_lines
from bot.sources.pushed import load_records
from store.db import make_engine, session_scope
from store.signal_models import SKETCH_SIZE
from store.signal_queries import prune, save_records

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def lines(records: list[dict]) -> str:
    return "\n".join(json.dumps(r) for r in records)


def test_round_trip_sketch_and_prune(db_url: str) -> None:
    batch = parse_lines(lines([
        {"type": "signal", "ts": "2026-11-26T10:00:00Z", "service": "rag", "layer": "quality",
         "name": "thumbs_down_rate", "value": 0.05, "count": 200, "slice": {"tenant": "acme"}},
        {"type": "signal", "ts": "2026-11-26T10:01:00Z", "service": "rag", "layer": "quality",
         "name": "groundedness", "value": 0.91},
        {"type": "distribution", "ts": "2026-11-26T10:00:00Z", "service": "rag",
         "layer": "data", "name": "query_length", "values": list(range(5000))},
        {"type": "distribution", "ts": "2026-11-26T10:00:00Z", "service": "rag",
         "layer": "model", "name": "top_label", "counts": {"refund": 120, "other": 880}},
        {"type": "state", "ts": "2026-11-26T10:00:00Z", "service": "rag", "layer": "control",
         "name": "served_model_version", "value": "v7", "expected": "v8",
         "slice": {"route": "primary"}},
        {"type": "change", "ts": "2026-11-26T09:55:00Z", "service": "rag", "kind": "model",
         "ref": "v8", "previous": "v7"},
        {"type": "signal", "ts": "2026-11-25T10:00:00Z", "service": "rag", "layer": "quality",
         "name": "groundedness", "value": 0.95},
    ]))
    assert not batch.errors
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        stored, alerts = save_records(session=session, records=batch.records)
        assert (stored, alerts) == (7, [])
    with session_scope(engine) as session:
        records = load_records(session=session, service="rag", start=T0 - timedelta(hours=1),
                               end=T0 + timedelta(hours=1))
        changes = load_changes(session=session, service="rag", start=T0 - timedelta(hours=1),
                               end=T0)
    by_name = {r.name: r for r in records}
    assert set(by_name) == {"thumbs_down_rate", "groundedness", "query_length", "top_label",
                            "served_model_version"}
    ratio = by_name["thumbs_down_rate"]
    assert (ratio.kind, ratio.bad, ratio.count, ratio.slice) == ("ratio", "up", 200.0,
                                                                 {"tenant": "acme"})
    assert ratio.ts == T0 and ratio.ts.tzinfo is not None
    assert len(by_name["query_length"].values) == SKETCH_SIZE
    assert by_name["top_label"].counts == {"refund": 120, "other": 880}
    assert by_name["served_model_version"].expected == "v8"
    assert [c.ref for c in changes] == ["v8"]
    with session_scope(engine) as session:
        assert prune(session=session, before=T0 - timedelta(hours=1)) == 1
    engine.dispose()


def test_signal_points_read_back_as_the_records_that_went_in(db_url: str) -> None:
    batch = parse_lines(lines([
        {"type": "signal", "ts": f"2026-11-26T10:0{m}:00Z", "service": "rag", "layer": layer,
         "name": name, "value": value, "count": count, "slice": slice_}
        for m in range(3)
        for layer, name, value, count, slice_ in [
            ("quality", "thumbs_down_rate", 0.05, 200, {"tenant": "acme", "route": "a"}),
            ("quality", "thumbs_down_rate", 0.04, 100, {"tenant": "umbrella"}),
            ("runtime", "p95_latency_ms", 812.5, None, {}),
            ("model", "answer_length", 221.0, 40, {"segment": "a=b,c"})]]))
    assert not batch.errors
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        save_records(session=session, records=batch.records)
    with session_scope(engine) as session:
        loaded = load_records(session=session, service="rag", start=T0, end=T0 + timedelta(hours=1))
    key = lambda r: (r.ts, r.layer, r.name, sorted(r.slice.items()))  # noqa: E731
    assert [r.model_dump() for r in sorted(loaded, key=key)] == \
        [r.model_dump() for r in sorted(batch.records, key=key)]
    acme = [r for r in loaded if r.slice.get("tenant") == "acme"]
    assert len(acme) == 3 and acme[0].slice is not acme[1].slice  # no shared maps
    engine.dispose()
