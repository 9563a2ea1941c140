"""The signal fast path accepts and refuses exactly what the pydantic models do.

``bot.core.exchange_fast.SignalFastPath`` reads signal records without a pydantic object
per record; it must never change what is taken, the record built, or the reason
a line is refused. Every line here goes through both paths (``_collect`` with and
without it) and the results are compared field by field: good records, records
that break each rule, odd but valid spellings, and thousands of random mixes.
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest

from bot.core.exchange import _collect, loads, parse_lines, parse_objects
from bot.core.exchange_fast import SignalFastPath
from bot.core.exchange_records import SignalRecord

BASE: dict[str, Any] = {"type": "signal", "ts": "2026-11-25T06:00:00Z", "service": "rag",
                        "layer": "quality", "name": "groundedness", "value": 0.91}

# Values to try in each field; None means "leave the field out".
POOLS: dict[str, list[Any]] = {
    "type": ["signal", "Signal", "distribution", "state", "alert", "", 1, None, ["signal"]],
    "ts": ["2026-11-25T06:00:00Z", "2026-11-25T06:00:00+02:00", "2026-11-25T06:00:00-00:00",
           "2026-11-25T06:00:00.5Z", "2026-11-25T06:00:00.123456Z",
           "2026-11-25T06:00:00.1234567Z", "2026-11-25 06:00:00Z", "2026-11-25T06:00:00z",
           "2026-11-25T06:00:00", "2026-11-25", "2026-11-25T06:00Z", "2026-02-30T06:00:00Z",
           "2026-11-25T24:00:00Z", "2026-11-25T06:00:60Z", "2026-11-25T06:00:00+24:00",
           "2026-11-25T06:00:00+23:59", "2026-11-25T06:00:00+00:60", "0000-01-01T00:00:00Z",
           "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1700000000",
           1700000000, 1.7e9, "", "yesterday", "２０２６-11-25T06:00:00Z",
           "2026-11-25T06:00:00Z\n", " 2026-11-25T06:00:00Z", None, {"t": 1}],
    "service": ["rag", "r" * 200, "r" * 201, "", " ", "caf\u00e9", "\ud800", "a\x00b", 7,
                None, ["rag"], True],
    "layer": ["quality", "infra", "control", "Quality", "gpu", "", 3, None, {"a": 1}],
    "name": ["groundedness", "error_rate", "cost_share", "hit_ratio", "p99_latency_ms",
             "n" * 200, "n" * 201, "", "\ud83d\ude00", "\udfff", 1.5, None, []],
    "value": [0.91, 0, 1, -3, 1.5, 1e308, 10**400, 2**63, -0.0, float("nan"), float("inf"),
              float("-inf"), "0.5", "abc", True, False, None, [0.5], {"v": 1}],
    "count": [200, 0, -0.0, 2.5, -1, float("inf"), float("nan"), 10**400, "200", True, None,
              [1]],
    "kind": ["ratio", "gauge", "count", "Ratio", "", None, 1, ["ratio"]],
    "bad": ["up", "down", "both", "UP", "sideways", None, 0, {"x": 1}],
    "slice": [{}, {"tenant": "acme"}, {"tenant": "acme", "segment": "code"}, {"tenant": 1},
              {"tenant": None}, {"tenant": ["a"]}, {"\ud800": "a"}, {"a": "\ud800"},
              {"": ""}, [], "tenant=acme", None, 5],
}


def both(objects: list[Any]) -> tuple[Any, Any]:
    items = [(n, o, None) for n, o in enumerate(objects, start=1)]
    return _collect(iter(items), fast=True), _collect(iter(items), fast=False)


def assert_same(objects: list[Any]) -> None:
    fast, slow = both(objects)
    assert fast.lines == slow.lines
    assert [str(e) for e in fast.errors] == [str(e) for e in slow.errors]
    assert len(fast.records) == len(slow.records)
    for line, a, b in zip(fast.lines, fast.records, slow.records, strict=True):
        where = f"line {line}: {objects[line - 1]!r}"
        assert type(a) is type(b), where
        assert a == b, where
        assert a.__dict__ == b.__dict__ and list(a.__dict__) == list(b.__dict__), where
        assert a.model_fields_set == b.model_fields_set, where
        assert a.__pydantic_extra__ == b.__pydantic_extra__, where
        assert a.ts.tzinfo is b.ts.tzinfo, where
        assert a.model_dump_json() == b.model_dump_json(), where
        assert repr(a) == repr(b), where


def test_good_records_are_built_exactly_as_the_model_builds_them() -> None:
    objects = [dict(BASE),
               {**BASE, "name": "thumbs_down_rate", "value": 0.05, "count": 200,
                "slice": {"tenant": "acme"}},
               {**BASE, "name": "error_rate", "value": 0.2},  # gauge: no count, no ratio
               {**BASE, "kind": "count", "value": 12, "bad": "up"},
               {**BASE, "ts": "2026-11-25T08:30:00.25+02:30", "count": 0}]
    assert_same(objects)
    fast, _ = both(objects)
    assert len(fast.records) == 5 and not fast.errors
    assert fast.records[1].kind == "ratio" and fast.records[1].bad == "up"


@pytest.mark.parametrize("field", sorted(POOLS))
def test_each_field_alone_takes_every_odd_value_as_the_model_does(field: str) -> None:
    objects = []
    for value in POOLS[field]:
        obj = dict(BASE)
        if value is None:
            obj.pop(field, None)
        else:
            obj[field] = value
        objects.append(obj)
    assert_same(objects)


def test_random_mixes_of_odd_values_agree() -> None:
    rng = random.Random(18)
    objects = []
    for _ in range(4000):
        obj: dict[str, Any] = {}
        for field, pool in POOLS.items():
            # mostly good values, so that single and double faults are both common
            value = pool[0] if rng.random() < 0.6 else rng.choice(pool)
            if value is not None:
                obj[field] = value
        if rng.random() < 0.05:
            obj["extra_field"] = rng.choice(["x", 1, None, {"a": "b"}])
        objects.append(obj)
    assert_same(objects)
    fast, _ = both(objects)
    assert 0 < len(fast.records) < len(objects)  # the mix has both kinds of line


def test_values_that_are_not_records_and_other_types_agree() -> None:
    objects: list[Any] = [None, 1, "signal", [BASE], [], True,
                          {"type": "change", "ts": BASE["ts"], "service": "rag",
                           "kind": "model", "ref": "v8"},
                          {"type": "distribution", "ts": BASE["ts"], "service": "rag",
                           "layer": "data", "name": "q", "values": [1.0, 2.0]},
                          {"ts": BASE["ts"], "service": "rag"}, {**BASE, "Type": "signal"}]
    assert_same(objects)


def test_json_lines_with_hostile_text_agree_and_keep_line_numbers() -> None:
    good = json.dumps(BASE)
    lines = [good, "", "{", "NaN", '{"type": "signal", "value": NaN}',
             good.replace("0.91", "Infinity"), good.replace("0.91", "1e999"),
             good.replace("0.91", "-1e999"), good.replace('"rag"', '"\\ud800"'),
             good.replace('"rag"', '"\\u0000"'), good.replace('"quality"', '"quality\\u200b"'),
             '{"type":"signal","type":"distribution"}' + good[1:-1] and good, "   ",
             good.replace('"0.91"', '"x"'), json.dumps({**BASE, "slice": {"t": "a" * 5000}}),
             json.dumps({**BASE, "value": 10**30}), good]
    text = "\n".join(lines)
    decoded = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            try:
                decoded.append((number, loads(raw), None))
            except json.JSONDecodeError as error:
                decoded.append((number, None, f"invalid JSON: {error.msg} at column "
                                              f"{error.colno}"))
            except ValueError as error:  # what the decoder itself refuses (see loads)
                decoded.append((number, None, f"invalid JSON: {error}"))
    fast = parse_lines(text)
    slow = _collect(iter(decoded), fast=False)
    assert fast.lines == slow.lines and fast.records == slow.records
    assert [str(e) for e in fast.errors] == [str(e) for e in slow.errors]
    assert [e.line for e in fast.errors][:2] == [3, 4]
    assert fast.lines[0] == 1 and fast.lines[-1] == len(lines)


def test_the_fast_path_answers_for_the_common_shape_and_passes_on_the_rest() -> None:
    path = SignalFastPath()
    assert isinstance(path.read(dict(BASE)), SignalRecord)
    for odd in ({**BASE, "value": "0.91"}, {**BASE, "ts": 1700000000}, {**BASE, "x": 1},
                {**BASE, "value": 2.0, "name": "x_rate", "count": 10}):
        assert path.read(odd) is None, odd  # the models decide these


def test_a_time_before_the_first_utc_instant_is_refused_not_a_crash() -> None:
    batch = parse_lines(json.dumps({**BASE, "ts": "0001-01-01T00:00:00+01:00"}))
    assert not batch.records
    assert "outside the years 1970-2200" in batch.errors[0].reason


def test_every_pair_of_single_faults_agrees() -> None:
    faults = [(field, value) for field, pool in POOLS.items() for value in pool[1:6]]
    objects = []
    for (f1, v1), (f2, v2) in itertools.combinations(faults, 2):
        obj = dict(BASE)
        for field, value in ((f1, v1), (f2, v2)):
            if value is None:
                obj.pop(field, None)
            else:
                obj[field] = value
        objects.append(obj)
    assert_same(objects)


def test_json_nested_too_deeply_is_refused_on_its_line_and_the_rest_kept() -> None:
    good = json.dumps(BASE)
    batch = parse_lines("\n".join([good, "[" * 100_000, good]))
    assert batch.lines == [1, 3]
    assert [(e.line, e.reason) for e in batch.errors] == [(2, "invalid JSON: JSON nested too deep")]


def test_text_that_cannot_be_written_back_as_json_is_refused() -> None:
    # JSON's \ud800 escape decodes to a lone surrogate; stored or echoed it would fail.
    lines = [json.dumps({**BASE, "slice": {"tenant": "\ud800"}}),
             json.dumps({**BASE, "note": ["ok", {"deep": "\udfff"}]}),
             json.dumps({**BASE, "note": [[["fine"]]]})]
    batch = parse_lines("\n".join(lines))  # refused as they are decoded (see loads)
    assert batch.lines == [3]
    assert [e.line for e in batch.errors] == [1, 2]
    assert all("lone UTF-16 surrogate" in e.reason for e in batch.errors)
    # decoded elsewhere (a JSON body parsed by the framework), the models refuse them
    objects = parse_objects([{**BASE, "slice": {"tenant": "\ud800"}},
                             {**BASE, "note": ["ok", {"deep": "\udfff"}]}])
    assert "slice" in objects.errors[0].reason and "note" in objects.errors[1].reason
    assert all("lone surrogate" in e.reason for e in objects.errors)


def test_one_model_per_tag_answers_as_the_union_of_all_records() -> None:
    # parse_object validates with the model its tag names; the union gives the same.
    from pydantic import ValidationError

    from bot.core.exchange_records import _describe, _record_adapter, parse_object

    rng = random.Random(7)
    extra_pools = {"kind": ["model", "prompt", "bogus", 3, None], "ref": ["v8", "", None, 1],
                   "values": [[1.0, 2.0], [], [float("nan")], "x", None],
                   "counts": [{"a": 1.0}, {"a": -1}, None], "expected": ["v8", 1, None],
                   "severity": ["page", 2, None], "status": ["firing", "resolved", "x"],
                   "labels": [{"a": "b"}, {"a": 1}, None], "fingerprint": ["f", 1, None]}
    pools = {**POOLS, **extra_pools,
             "type": ["signal", "distribution", "state", "change", "alert", "other"]}
    for _ in range(3000):
        obj = {f: rng.choice(pool) for f, pool in pools.items() if rng.random() < 0.7}
        obj = {k: v for k, v in obj.items() if v is not None}
        obj["type"] = rng.choice(pools["type"])
        try:
            mine: Any = parse_object(obj)
        except ValueError as error:
            mine = str(error)
        try:
            union: Any = _record_adapter().validate_python(obj)
        except ValidationError as error:
            union = _describe(error)
        assert mine == union, obj


def test_the_fast_paths_field_names_are_the_models() -> None:
    from bot.core.exchange_fast import _SIGNAL_FIELDS

    assert frozenset(SignalRecord.model_fields) == _SIGNAL_FIELDS
