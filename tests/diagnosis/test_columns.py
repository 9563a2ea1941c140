"""The columnar path (read_columns, assemble_columns) against records: the same arrays,
the same diagnosis, the same refusals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from bot.core.exchange import parse_lines
from bot.core.exchange_columns import read_columns
from bot.diagnosis.assemble import Assembled, assemble, assemble_columns
from bot.diagnosis.columns import select_and_diagnose
from bot.diagnosis.pipeline import diagnose, select_service
from bot.simulator import generate
from tests.diagnosis.helpers import series, ts

ODD_LINES = [
    "",  # blank: skipped, still counted
    "{not json",
    '{"type":"signal","ts":"2026-11-26T08:00:00Z","service":"rag-assistant",'
    '"layer":"model","name":"latency_ms","value":NaN}',
    json.dumps({"type": "signal", "ts": ts(3), "service": "rag-assistant", "layer": "model",
                "name": "error_rate", "value": 1.5, "count": 10}),  # a ratio past 1
    json.dumps({"type": "signal", "ts": ts(3), "service": "rag-assistant", "layer": "nowhere",
                "name": "latency_ms", "value": 1.0}),
    json.dumps({"type": "signal", "service": "rag-assistant", "layer": "model",
                "name": "latency_ms", "value": 1.0}),  # no time
    json.dumps({"type": "signal", "ts": ts(5), "service": "rag-assistant", "layer": "model",
                "name": "latency_ms", "value": "12"}),  # taken by the models, as 12.0
]


def _extra_lines() -> list[str]:
    """Lines the fast path leaves to the models but the models take, and odd shapes."""
    lines = [json.dumps(r) for r in series("side_ms", "runtime", 50.0, 2.0, minutes=60,
                                           service="other-svc", seed=3)]
    # kept by the models with an extra field: joins its series' columns at its place
    lines.append(json.dumps({"type": "signal", "ts": ts(7), "service": "rag-assistant",
                             "layer": "runtime", "name": "late_ms", "value": 3.0,
                             "note": "extra field"}))
    lines += [json.dumps({"type": "signal", "ts": ts(m), "service": "rag-assistant",
                          "layer": "runtime", "name": "late_ms", "value": float(m),
                          **({"count": 4} if m % 3 else {}),
                          "slice": {"b": "2", "a": "1"} if m % 2 else {"a": "1", "b": "2"}})
              for m in range(30)]
    # a duplicate minute (count-weighted mean), a +01:00 offset, an integer value
    lines.append(json.dumps({"type": "signal", "ts": "2026-11-26T09:05:00+01:00",
                             "service": "rag-assistant", "layer": "runtime",
                             "name": "late_ms", "value": 9, "count": 12,
                             "slice": {"a": "1", "b": "2"}}))
    # served state per slice that switches (a pseudo change), and an alert
    lines += [json.dumps({"type": "state", "ts": ts(m), "service": "rag-assistant",
                          "name": "model_version", "value": "v2" if m > 100 else "v1",
                          "expected": "v1", "slice": {"region": "eu"}})
              for m in range(0, 180, 5)]
    return lines


ALERT = json.dumps({"type": "alert", "ts": ts(150), "service": "other-svc",
                    "name": "HighLatency", "status": "firing"})


def _file(label: str, seed: int, **options: Any) -> str:
    records = generate(label, seed, **options).records
    lines = [json.dumps(r) for r in records]
    # odd seeds: an alert names the other service (else the most anomalous is chosen)
    extra = _extra_lines() + ODD_LINES + ([ALERT] if seed % 2 else [])
    for i, line in enumerate(extra):  # spread through the file
        lines.insert((i * 97) % (len(lines) + 1), line)
    return "\n".join(lines) + "\n"


def _same(a: Assembled, b: Assembled) -> None:
    assert list(a.series) == list(b.series)
    for key, s in a.series.items():
        t = b.series[key]
        assert (s.kind, s.bad) == (t.kind, t.bad), key
        assert np.array_equal(s.times, t.times), key
        assert np.array_equal(s.values, t.values), key
        assert np.array_equal(s.counts, t.counts, equal_nan=True), key
    assert list(a.distributions) == list(b.distributions)
    for key, d in a.distributions.items():
        e = b.distributions[key]
        assert d.times == e.times and d.categories == e.categories
        assert all(np.array_equal(x, y) for x, y in zip(d.samples, e.samples, strict=True))
    assert a.states == b.states
    assert (a.start, a.end) == (b.start, b.end)


CASES = [("none", 1, {}), ("data", 2, {"sliced": True}), ("model", 3, {"history": True}),
         ("control_plane", 4, {}), ("infrastructure", 5, {"sliced": True}),
         ("cost", 6, {})]


@pytest.mark.parametrize(("label", "seed", "options"), CASES)
def test_columns_give_the_arrays_and_diagnosis_of_the_records(
        label: str, seed: int, options: dict[str, Any]) -> None:
    text = _file(label, seed, **options)
    batch, parsed = read_columns(text), parse_lines(text)
    assert batch.errors == parsed.errors
    assert len(batch.errors) == len(ODD_LINES) - 2  # all but the blank line and "12"
    kinds = {r.type for r in parsed.records}
    assert {"signal", "change"} <= kinds
    stamps = sorted({r.ts for r in parsed.records})
    for at in (None, stamps[len(stamps) // 2]):
        records = [r for r in parsed.records if at is None or r.ts <= at]
        for service in ("rag-assistant", "other-svc"):
            mine = [r for r in records if r.service == service]
            _same(assemble_columns(batch, service, at), assemble(mine))
        service = select_service(records)
        expected = diagnose([r for r in records if r.service == service], at=at)
        got_service, got = select_and_diagnose(batch, None, at)
        assert got_service == service
        assert got.to_json() == expected.to_json()
        assert (got.service, got.layers) == (expected.service, expected.layers)
        for chosen in ("rag-assistant", "other-svc", "absent"):
            got_service, got = select_and_diagnose(batch, chosen, at)
            expected = diagnose([r for r in records if r.service == chosen], at=at)
            assert (got_service, got.to_json()) == (chosen, expected.to_json())


def test_the_kinds_present_in_the_mixed_files() -> None:
    """The cases above hold distributions and states too, not only signals and changes."""
    kinds = set()
    for label, seed, options in CASES:
        kinds |= {r.type for r in parse_lines(_file(label, seed, **options)).records}
    assert {"signal", "change", "distribution", "state"} <= kinds


def test_refusals_name_the_line_and_field_as_the_records_path_does() -> None:
    text = "\n".join(ODD_LINES) + "\n"
    batch = read_columns(text)
    assert [str(e) for e in batch.errors] == [str(e) for e in parse_lines(text).errors]
    assert [e.line for e in batch.errors] == [2, 3, 4, 5, 6]
    assert batch.errors[1].reason.startswith("value:")
    assert batch.errors[-1].reason == "ts: Field required"
    (key, column), = batch.signals.items()  # "12": the models' signal, in the columns
    assert key == ("rag-assistant", "model", "latency_ms", ())
    assert (column.values, column.lines) == ([12.0], [7])
    assert not batch.others.records


def test_a_cut_takes_kind_and_order_from_the_first_line_kept() -> None:
    """A series whose first lines fall after ``at`` comes after one that starts before
    it, and takes its kind from its first kept line (a count only on later lines)."""
    early = {"type": "signal", "service": "s", "layer": "model", "name": "error_rate"}
    lines = [json.dumps({**early, "ts": ts(50), "value": 0.5})]  # no count: a gauge
    lines += [json.dumps({"type": "signal", "service": "s", "layer": "model",
                          "name": "latency_ms", "ts": ts(m), "value": 1.0 + m})
              for m in range(10)]
    lines += [json.dumps({**early, "ts": ts(m), "value": 0.1, "count": 10})
              for m in range(10)]
    text = "\n".join(lines)
    at = datetime.fromisoformat(ts(20))
    got = assemble_columns(read_columns(text), "s", at)
    _same(got, assemble([r for r in parse_lines(text).records if r.ts <= at]))
    assert list(got.series) == [("model", "latency_ms", ()), ("model", "error_rate", ())]
    assert got.series[("model", "error_rate", ())].kind == "ratio"
