"""``parse_lines`` decodes with orjson, yet takes and refuses exactly what ``json`` would.

The reference here decodes every line with the standard library (``exchange.loads``,
the surrogate-checking ``json.loads``) and validates the values with the pydantic
models alone, so any difference orjson brings shows as a different batch.
"""

from __future__ import annotations

import json
import random

from bot.core import exchange
from bot.core.exchange import ParsedBatch, RecordError, parse_lines, parse_objects


def _reference(text: str) -> ParsedBatch:
    values, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        value, reason = exchange._decode_line(raw, exchange.loads)
        if reason is None:
            values.append((number, value))
        else:
            errors.append(RecordError(number, reason))
    batch = ParsedBatch([], [], errors)
    for number, value in values:
        one = parse_objects([value], first_line=number, fast=False)
        batch.records.extend(one.records)
        batch.lines.extend(one.lines)
        batch.errors.extend(one.errors)
    batch.errors.sort(key=lambda e: e.line)
    return batch


def _same(text: str) -> ParsedBatch:
    ours, theirs = parse_lines(text), _reference(text)
    assert [r.model_dump() for r in ours.records] == [r.model_dump() for r in theirs.records]
    assert [type(r) for r in ours.records] == [type(r) for r in theirs.records]
    assert ours.lines == theirs.lines
    assert sorted(ours.errors, key=lambda e: e.line) == theirs.errors
    return ours


_SIGNAL = '{"type":"signal","ts":"2026-11-25T06:00:00Z","service":"s","layer":"runtime",'


def test_what_orjson_reads_otherwise_is_decoded_by_json() -> None:
    lines = [
        _SIGNAL + '"name":"a","value":1e400}',  # json: inf, refused as not finite
        _SIGNAL + '"name":"a","value":NaN}',  # json only
        _SIGNAL + '"name":"a","value":123456789012345678901234567890}',  # a float for orjson
        _SIGNAL + '"name":"a","value":1,"big":18446744073709551616}',  # an extra, kept as int
        _SIGNAL + '"name":"a","value":1,"note":"\\ud800"}',  # a lone surrogate
        _SIGNAL + '"name":"caf\\u00e9 \\ud83d\\ude00","value":2}',  # a surrogate pair
        "",
        "   ",
        "[" * 5000 + "]" * 5000,  # too deep for both decoders
        '{"type":"signal",',  # truncated
        _SIGNAL + '"name":"a","value":1} trailing',
        "\ufeff" + _SIGNAL + '"name":"a","value":1}',
        _SIGNAL + '"name":"n","value":0.1,"count":3}',
        '{"type":"change","ts":"2026-11-25T06:00:00Z","service":"s","kind":"model","ref":"v2"}',
        "12",
    ]
    batch = _same("\n".join(lines) + "\n")
    assert 3 in batch.lines and 4 in batch.lines and 6 in batch.lines
    big = batch.records[batch.lines.index(4)]
    assert big.model_extra["big"] == 18446744073709551616
    assert isinstance(big.model_extra["big"], int)
    reasons = {e.line: e.reason for e in batch.errors}
    assert "value" in reasons[1] and "value" in reasons[2]
    assert "surrogate" in reasons[5]
    assert reasons[9] == "invalid JSON: JSON nested too deep"
    assert reasons[10].startswith("invalid JSON: ")


def test_random_numbers_and_text_decode_alike() -> None:
    rng = random.Random(7)
    lines = []
    for i in range(400):
        value = rng.choice([rng.uniform(-1e6, 1e6), rng.random(), rng.expovariate(1e-3),
                            rng.randint(-2**63, 2**63), 10.0 ** rng.randint(-320, 308),
                            rng.randint(-10**30, 10**30), rng.randint(2**64, 2**70)])
        record = {"type": "signal", "ts": f"2026-11-25T06:{i % 60:02d}:00.{i:06d}+01:00",
                  "service": "s", "layer": "model", "name": f"m{i % 7}",
                  "value": value, "slice": {"tenant": rng.choice(["a", "é", "日本", "x y"])}}
        lines.append(json.dumps(record, ensure_ascii=rng.random() < 0.5))
    batch = _same("\n".join(lines))
    assert len(batch.records) == 400
