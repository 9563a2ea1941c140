"""The plain reader of changes and alerts takes and refuses exactly what the models do.

``bot.core.exchange_plain.read_plain`` reads ``change`` and ``alert`` records without
pydantic (``resilio classify`` imports none); it answers only when sure and leaves the
rest to the models. Every value here goes through a batch read with it and one read
with the models alone: the same lines taken, the same refusals word for word (line,
field and reason), and each plain object holding the model's field values.
"""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
from typing import Any

import pytest

from bot.core.exchange import ParsedBatch, _Taker, parse_lines
from bot.core.exchange_columns import read_columns
from bot.core.exchange_plain import ALERT_FIELDS, CHANGE_FIELDS, PlainAlert, PlainChange
from bot.core.exchange_records import AlertRecord, ChangeRecord

TS = "2026-11-25T06:00:00Z"
CHANGE: dict[str, Any] = {"type": "change", "ts": TS, "service": "rag", "kind": "model",
                          "ref": "answer-v12"}
ALERT: dict[str, Any] = {"type": "alert", "ts": TS, "service": "rag", "name": "HighErrors"}
TIMES = [TS, "2026-11-25T06:00:00+02:00", "2026-11-25T06:00:00.5Z", "2026-11-25T06:00:00",
         "2026-11-25", "1700000000", 1700000000, 1.7e9, "", "0001-01-01T00:00:00+01:00",
         "2201-01-01T00:00:00Z", "2026-02-30T06:00:00Z", None, ["x"]]
TEXTS = ["x", "r" * 200, "r" * 201, "", "caf\u00e9", "\ud800", "a\x00b", 7, True, None, [],
         {"a": "b"}]
MAPS = [{}, {"tenant": "acme"}, {"tenant": 1}, {"a": None}, {"\ud800": "a"}, {"a": "\x00"},
        {"k" * 300: "v" * 300}, [], "tenant=acme", None, 5]
# Values to try in each field; None means "leave the field out".
CHANGE_POOLS: dict[str, list[Any]] = {
    "type": ["change", "Change", "alert", "", 1, ["change"]],
    "ts": TIMES, "service": TEXTS, "ref": TEXTS, "previous": TEXTS, "author": TEXTS,
    "description": [*TEXTS, "d" * 5000],
    "kind": ["model", "prompt", "retrieval", "config", "Model", "deploy", "", 3, None],
    "slice": MAPS,
    "maintenance_minutes": [30, 30.5, 1440, 1441, 0, -5, 1e-9, float("nan"), float("inf"),
                            10**400, "30", True, False, None, [30]],
    "affects": [[], ["quality"], ["quality", "p99_latency_ms"], ["a"] * 50, ["a"] * 51, [""],
                ["\x00"], [1], "quality", None, [None], [["a"]]],
}
ALERT_POOLS: dict[str, list[Any]] = {
    "type": ["alert", "Alert", "change", 1],
    "ts": TIMES, "service": TEXTS, "name": TEXTS, "fingerprint": TEXTS,
    "severity": ["critical", "", "s" * 50, "s" * 51, "\x00", 1, None],
    "status": ["firing", "resolved", "Firing", "", 1, None],
    "labels": [*MAPS, {"source": "s" * 30}, {"source": "s" * 31}, {"source": 1}],
    "annotations": MAPS,
}


def both(objects: list[Any]) -> tuple[ParsedBatch, ParsedBatch]:
    plain, models = ParsedBatch([], [], []), ParsedBatch([], [], [])
    take_plain = _Taker(plain, fast=False, plain=True).take
    take_models = _Taker(models, fast=False).take
    for number, obj in enumerate(objects, start=1):
        take_plain(number, obj)
        take_models(number, obj)
    return plain, models


def assert_same(objects: list[Any]) -> int:
    """Both readers agree on every object; returns how many the plain reader took."""
    plain, models = both(objects)
    assert plain.lines == models.lines
    assert [str(e) for e in plain.errors] == [str(e) for e in models.errors]
    taken = 0
    for line, a, b in zip(plain.lines, plain.records, models.records, strict=True):
        where = f"line {line}: {objects[line - 1]!r}"
        if isinstance(a, PlainChange | PlainAlert):
            taken += 1
            fields = {f.name: getattr(a, f.name) for f in dataclasses.fields(a)}
            assert fields == b.model_dump(), where
            assert {k: type(v) for k, v in fields.items()} == \
                {k: type(getattr(b, k)) for k in fields}, where
            assert a.ts.tzinfo is b.ts.tzinfo, where
            assert not b.__pydantic_extra__, where
        else:
            assert type(a) is type(b) and a == b, where
    return taken


def one_field_at_a_time(base: dict[str, Any], pools: dict[str, list[Any]]) -> list[Any]:
    objects = []
    for name, pool in pools.items():
        for value in pool:
            obj = dict(base)
            if value is None:
                obj.pop(name, None)
            else:
                obj[name] = value
            objects.append(obj)
            objects.append({**obj, name: None})  # an explicit null as well
    return objects


def test_the_plain_objects_have_the_models_fields() -> None:
    assert frozenset(ChangeRecord.model_fields) == CHANGE_FIELDS
    assert frozenset(AlertRecord.model_fields) == ALERT_FIELDS


def test_good_changes_and_alerts_become_plain_objects_with_the_models_values() -> None:
    objects = [dict(CHANGE), {**CHANGE, "previous": "answer-v11", "author": "mia",
                              "description": "new model", "slice": {"tenant": "acme"},
                              "maintenance_minutes": 30, "affects": ["quality"]},
               dict(ALERT), {**ALERT, "severity": "critical", "status": "resolved",
                             "labels": {"source": "prometheus"},
                             "annotations": {"summary": "errors"}, "fingerprint": "f1"}]
    assert assert_same(objects) == 4


@pytest.mark.parametrize(("base", "pools"), [(CHANGE, CHANGE_POOLS), (ALERT, ALERT_POOLS)],
                         ids=["change", "alert"])
def test_each_field_alone_takes_every_odd_value_as_the_models_do(
        base: dict[str, Any], pools: dict[str, list[Any]]) -> None:
    objects = one_field_at_a_time(base, pools)
    taken = assert_same(objects)
    plain, _ = both(objects)
    assert 0 < taken < len(plain.records)  # some sure, some left to the models
    assert plain.errors  # and many refused, with the models' words


def test_random_mixes_of_odd_values_agree() -> None:
    rng = random.Random(18)
    objects = []
    for _ in range(1500):
        base, pools = rng.choice([(CHANGE, CHANGE_POOLS), (ALERT, ALERT_POOLS)])
        obj = dict(base)
        for name, pool in pools.items():
            if rng.random() < 0.3:
                value = rng.choice(pool)
                if value is None:
                    obj.pop(name, None)
                else:
                    obj[name] = value
        if rng.random() < 0.05:
            obj["extra_field"] = rng.choice(["x", 1, None, {"a": "b"}])
        objects.append(obj)
    assert assert_same(objects) > 100


def test_a_bad_change_line_is_refused_with_the_same_line_field_and_reason() -> None:
    lines = [json.dumps(CHANGE),
             json.dumps({**CHANGE, "kind": "deploy"}),
             json.dumps({**CHANGE, "ref": ""}),
             json.dumps({**CHANGE, "ts": "2301-01-01T00:00:00Z"}),
             json.dumps({**CHANGE, "maintenance_minutes": 0}),
             json.dumps({**CHANGE, "slice": {"tenant": "a\x00"}}),
             json.dumps({**ALERT, "status": "open"}),
             json.dumps({**ALERT, "labels": {"source": "s" * 31}})]
    text = "\n".join(lines) + "\n"
    columns, records = read_columns(text), parse_lines(text)
    assert [str(e) for e in columns.errors] == [str(e) for e in records.errors]
    reasons = {e.line: e.reason for e in columns.errors}
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 8}
    assert reasons[2].startswith("kind: Input should be 'model'")
    assert reasons[3].startswith("ref: String should have at least 1 character")
    assert "outside the years 1970-2200" in reasons[4]
    assert reasons[5].startswith("maintenance_minutes: Input should be greater than 0")
    assert "slice contains a NUL character" in reasons[6]
    assert reasons[7].startswith("status: Input should be 'firing' or 'resolved'")
    assert "labels.source is longer than 30 characters" in reasons[8]
    assert [type(r) for r in columns.others.records] == [PlainChange]
    assert [type(r) for r in records.records] == [ChangeRecord]


def test_classify_of_a_file_with_a_change_and_an_alert_imports_no_pydantic(
        tmp_path: Any) -> None:
    lines = [json.dumps(CHANGE), json.dumps(ALERT)]
    lines += [json.dumps({"type": "signal", "ts": f"2026-11-25T06:{m:02d}:00Z",
                          "service": "rag", "layer": "quality", "name": "groundedness",
                          "value": 0.9}) for m in range(30)]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code = ("import sys, contextlib, io\n"
            "from bot.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = main(['classify', {str(path)!r}, '--json'])\n"
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pydantic', 'scipy', 'yaml'}), 'numpy.ma' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.split() == ["0", "[]", "False"]
